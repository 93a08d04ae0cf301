//! Finding and memory-mapping a checkpoint's safetensors files, single or sharded.
//!
//! Each file is opened and its header checked on its own first, so a truncated or corrupt shard
//! is reported by name; then all are mapped together behind one `VarBuilder`, whose prefixes
//! (`vb.pp("audio_tower")`) match the tensor names. Tensors are read only when a layer asks for
//! them, so a checkpoint holding more than the model needs costs only what is used.

use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device};
use candle_nn::VarBuilder;

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
    for file in files {
        if let Err(error) = std::fs::metadata(file) {
            return Err(ModelError::Io {
                path: file.clone(),
                error,
            });
        }
        // SAFETY: the mapping is read-only; as with every memory-mapped checkpoint loader, a file
        // changed on disk while mapped is outside what we can guard against.
        unsafe { MmapedSafetensors::new(file) }.map_err(|e| {
            ModelError::weights(
                file,
                format!("not a valid safetensors file ({})", short(&e)),
            )
        })?;
    }
    // SAFETY: as above.
    let tensors = unsafe { MmapedSafetensors::multi(files) }
        .map_err(|e| ModelError::weights(&files[0], short(&e)))?;
    Ok(VarBuilder::from_backend(
        Box::new(tensors),
        dtype,
        device.clone(),
    ))
}

/// The first line of a candle error, without the backtrace candle may append.
pub fn short(error: &candle_core::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().trim().to_owned()
}
