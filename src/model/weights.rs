//! Finding and memory-mapping a checkpoint's safetensors files, single or sharded.
//!
//! Each file is opened and its header checked on its own first, so a truncated or corrupt shard
//! is reported by name; then all are mapped together behind one `VarBuilder`, whose prefixes
//! (`vb.pp("audio_tower")`) match the tensor names. Tensors are read only when a layer asks for
//! them, so a checkpoint holding more than the model needs costs only what is used.

use std::path::{Path, PathBuf};

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;

use super::config::read_text;
use super::error::ModelError;

const SINGLE_FILE: &str = "model.safetensors";
const SHARD_INDEX: &str = "model.safetensors.index.json";

/// The safetensors files of a checkpoint directory: `model.safetensors`, or the shards named by
/// `model.safetensors.index.json` (each once, in the index's order).
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let index_path = dir.join(SHARD_INDEX);
    if index_path.exists() {
        let index: serde_json::Value = serde_json::from_str(&read_text(&index_path)?)
            .map_err(|e| ModelError::config(&index_path, e))?;
        let map = index
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| ModelError::config(&index_path, "no \"weight_map\" object"))?;
        let mut files: Vec<PathBuf> = Vec::new();
        for shard in map.values() {
            let name = shard.as_str().ok_or_else(|| {
                ModelError::config(&index_path, "a weight_map entry is not a file name")
            })?;
            let path = dir.join(name);
            if !files.contains(&path) {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(ModelError::config(&index_path, "weight_map is empty"));
        }
        return Ok(files);
    }
    let single = dir.join(SINGLE_FILE);
    if single.exists() {
        return Ok(vec![single]);
    }
    Err(ModelError::weights(
        dir,
        format!("no {SINGLE_FILE} or {SHARD_INDEX} in the checkpoint directory"),
    ))
}

/// Maps the files and returns a builder that converts each tensor to `dtype` on `device`.
pub fn load_var_builder(
    files: &[PathBuf],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>, ModelError> {
    let weights = MappedWeights::open(files)?;
    Ok(VarBuilder::from_backend(
        Box::new(weights),
        dtype,
        device.clone(),
    ))
}

/// Where one tensor lives: which file, and its byte range within that file.
struct TensorLocation {
    file: usize,
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    bytes: std::ops::Range<usize>,
}

/// Memory-mapped safetensors files behind a `VarBuilder`.
///
/// Written here rather than using candle's `MmapedSafetensors` for one reason: once a tensor has
/// been copied out (converted to the compute dtype, or moved to the GPU), its pages of the
/// mapping are released with `madvise(MADV_DONTNEED)`. Otherwise every byte read stays resident
/// until the whole checkpoint is loaded, and loading peaks at twice the weights' size (measured:
/// 1.42 GB peak RSS for a 0.72 GB float32 checkpoint).
struct MappedWeights {
    maps: Vec<(PathBuf, memmap2::Mmap)>,
    tensors: std::collections::HashMap<String, TensorLocation>,
}

impl MappedWeights {
    fn open(files: &[PathBuf]) -> Result<Self, ModelError> {
        let mut maps = Vec::new();
        let mut tensors = std::collections::HashMap::new();
        for (index, path) in files.iter().enumerate() {
            let io_error = |error| ModelError::Io {
                path: path.clone(),
                error,
            };
            let file = std::fs::File::open(path).map_err(io_error)?;
            // SAFETY: the mapping is read-only; as with every memory-mapped checkpoint loader, a
            // file changed on disk while mapped is outside what we can guard against.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_error)?;
            let (header_len, metadata) = SafeTensors::read_metadata(&map).map_err(|e| {
                ModelError::weights(path, format!("not a valid safetensors file ({e})"))
            })?;
            let data_start = 8 + header_len;
            for (name, info) in metadata.tensors() {
                let (begin, end) = info.data_offsets;
                tensors.entry(name.clone()).or_insert(TensorLocation {
                    file: index,
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    bytes: data_start + begin..data_start + end,
                });
            }
            maps.push((path.clone(), map));
        }
        Ok(Self { maps, tensors })
    }

    /// Where the tensor the model calls `name` is: under that name, or its internal one.
    fn find(&self, name: &str) -> Option<&TensorLocation> {
        self.tensors
            .get(name)
            .or_else(|| self.tensors.get(&internal_name(name)?))
    }

    fn load(&self, name: &str, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        let location = self
            .find(name)
            .ok_or_else(|| candle_core::Error::CannotFindTensor {
                path: name.to_owned(),
            })?;
        let (path, map) = &self.maps[location.file];
        let view = TensorView::new(
            location.dtype,
            location.shape.clone(),
            &map[location.bytes.clone()],
        )
        .map_err(|e| candle_core::Error::Msg(format!("{}: tensor {name}: {e}", path.display())))?;
        let tensor = view.load(device)?.to_dtype(dtype)?;
        release_pages(map, location.bytes.clone());
        Ok(tensor)
    }
}

/// The name transformers 5 uses inside a Qwen2-Audio model for a hub name (`model.language_model.*`,
/// `model.audio_tower.*`, `model.multi_modal_projector.*`, `lm_head.*`), which some versions also
/// write to disk: where a file lacks the hub name, the tensor is looked up under this one. The
/// mapping is transformers' `conversion_mapping.py` renaming for `qwen2_audio`. (A thinker-only
/// Qwen2.5-Omni file names its head `lm_head.weight` itself, so the hub name is tried first.)
fn internal_name(hub: &str) -> Option<String> {
    const RENAMES: &[(&str, &str)] = &[
        ("language_model.model.", "model.language_model."),
        ("audio_tower.", "model.audio_tower."),
        ("multi_modal_projector.", "model.multi_modal_projector."),
        ("language_model.lm_head.", "lm_head."),
    ];
    RENAMES.iter().find_map(|(hub_prefix, internal)| {
        hub.strip_prefix(hub_prefix)
            .map(|rest| format!("{internal}{rest}"))
    })
}

/// Drops the resident pages wholly inside `bytes` from this process's memory; they are read
/// again from the file if touched later.
fn release_pages(map: &memmap2::Mmap, bytes: std::ops::Range<usize>) {
    #[cfg(unix)]
    {
        const PAGE: usize = 4096;
        let start = bytes.start.div_ceil(PAGE) * PAGE;
        let end = bytes.end / PAGE * PAGE;
        if end > start {
            // SAFETY: a read-only shared file mapping; after MADV_DONTNEED its pages read back
            // the file's contents, so no reference into the mapping sees different data.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
    #[cfg(not(unix))]
    let _ = (map, bytes);
}

impl SimpleBackend for MappedWeights {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        _: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        if let Some(location) = self.find(name) {
            if location.shape != shape.dims() {
                return Err(candle_core::Error::UnexpectedShape {
                    msg: format!("shape mismatch for {name}"),
                    expected: shape,
                    got: location.shape.clone().into(),
                });
            }
        }
        self.load(name, dtype, device)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        self.load(name, dtype, device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
}

/// The first line of a candle error, without the backtrace candle may append.
pub fn short(error: &candle_core::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::internal_name;

    #[test]
    fn hub_names_have_internal_alternatives() {
        assert_eq!(
            internal_name("language_model.model.layers.0.mlp.up_proj.weight").as_deref(),
            Some("model.language_model.layers.0.mlp.up_proj.weight")
        );
        assert_eq!(
            internal_name("language_model.lm_head.weight").as_deref(),
            Some("lm_head.weight")
        );
        assert_eq!(
            internal_name("audio_tower.conv1.bias").as_deref(),
            Some("model.audio_tower.conv1.bias")
        );
        assert_eq!(
            internal_name("multi_modal_projector.linear.weight").as_deref(),
            Some("model.multi_modal_projector.linear.weight")
        );
        // Omni names have none: they are looked up as they are.
        assert_eq!(internal_name("lm_head.weight"), None);
        assert_eq!(internal_name("thinker.model.norm.weight"), None);
    }
}
