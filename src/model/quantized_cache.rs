//! The quantization cache: the GGML blocks a checkpoint's layers were quantized to, kept in a GGUF
//! file in the user's cache directory so that the second load reads them instead of quantizing
//! again (a 7B's decoder takes minutes to quantize on two cores, seconds to read back).
//!
//! A cache file is named by a SHA-256 key over the format, this cache's version and, for each
//! weight file of the checkpoint, its name, length, modification time and safetensors header (which
//! lists every tensor's name, dtype, shape and byte range). The weights' bytes themselves are not
//! hashed: reading 17 GB to hash them would cost more than the cache saves. A file replaced by one
//! of the same length, header and modification time would be missed; anything else changes the
//! key. The key is also stored inside the file and checked when it is read.
//!
//! A cache file is written whole to a temporary name, synced and renamed, so a crash leaves either
//! no file or a complete one. A cache that cannot be read or written only costs time: the load
//! warns and quantizes.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;
use sha2::{Digest, Sha256};

use super::error::ModelError;

/// Bumped when the way layers are quantized or named changes, so old files are not reused.
const CACHE_VERSION: &str = "auscult-quantized-1";
/// The metadata key that holds the cache key inside a file.
const KEY_FIELD: &str = "auscult.cache_key";

/// The quantized layers of one checkpoint in one format: those found in the cache file and those
/// quantized during this load.
pub struct QuantizedCache {
    path: PathBuf,
    key: String,
    found: Option<Mutex<(gguf_file::Content, File)>>,
    layers: Mutex<Vec<(String, Arc<QTensor>)>>,
    quantized_now: Mutex<usize>,
}

impl QuantizedCache {
    /// The cache for `weight_files` in `format`, under `dir`; reads the existing file if there is
    /// a valid one.
    pub fn open(
        dir: &Path,
        weight_files: &[PathBuf],
        format: GgmlDType,
    ) -> Result<Self, ModelError> {
        let key = cache_key(weight_files, format)?;
        let path = dir.join(format!("{}-{}.gguf", &key[..20], format_name(format)));
        let found = match read_cache_file(&path, &key) {
            Ok(found) => found.map(Mutex::new),
            Err(reason) => {
                eprintln!(
                    "warning: {}: quantization cache not used ({reason}); quantizing again",
                    path.display()
                );
                None
            }
        };
        Ok(Self {
            path,
            key,
            found,
            layers: Mutex::new(Vec::new()),
            quantized_now: Mutex::new(0),
        })
    }

    /// Where the cache file is (or will be).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a cache file was found.
    pub fn hit(&self) -> bool {
        self.found.is_some()
    }

    /// The layer `name`'s blocks from the cache file, if it holds them at `shape` (out, in) in
    /// `format` (the requested one, or its fallback for rows that are not whole super-blocks).
    pub fn get(
        &self,
        name: &str,
        shape: (usize, usize),
        format: GgmlDType,
    ) -> Option<Arc<QTensor>> {
        let found = self.found.as_ref()?;
        let mut guard = found.lock().ok()?;
        let (content, file) = &mut *guard;
        let info = content.tensor_infos.get(name)?;
        if info.shape.dims() != [shape.0, shape.1] || info.ggml_dtype != format {
            return None;
        }
        let blocks = Arc::new(content.tensor(file, name, &Device::Cpu).ok()?);
        drop(guard);
        if let Ok(mut layers) = self.layers.lock() {
            layers.push((name.to_owned(), blocks.clone()));
        }
        Some(blocks)
    }

    /// Records blocks quantized during this load, to be saved.
    pub fn record(&self, name: &str, blocks: Arc<QTensor>) {
        if let Ok(mut layers) = self.layers.lock() {
            layers.push((name.to_owned(), blocks));
        }
        if let Ok(mut count) = self.quantized_now.lock() {
            *count += 1;
        }
    }

    /// Writes the cache file when this load quantized any layer. Returns the path written.
    pub fn save(&self) -> Result<Option<PathBuf>, ModelError> {
        if self.quantized_now.lock().map(|c| *c).unwrap_or(0) == 0 {
            return Ok(None);
        }
        let layers = self
            .layers
            .lock()
            .map_err(|_| ModelError::Input("the quantization cache's lock was poisoned".into()))?;
        let io = |error| ModelError::Io {
            path: self.path.clone(),
            error,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        {
            let mut writer = BufWriter::new(temporary.as_file_mut());
            let key = gguf_file::Value::String(self.key.clone());
            let tensors: Vec<(&str, &QTensor)> = layers
                .iter()
                .map(|(name, blocks)| (name.as_str(), blocks.as_ref()))
                .collect();
            gguf_file::write(&mut writer, &[(KEY_FIELD, &key)], &tensors)
                .map_err(|e| ModelError::Input(format!("{}: {e}", self.path.display())))?;
            writer.flush().map_err(io)?;
        }
        temporary.as_file().sync_all().map_err(io)?;
        temporary.persist(&self.path).map_err(|e| io(e.error))?;
        Ok(Some(self.path.clone()))
    }
}

/// The cache directory: `AUSCULT_CACHE_DIR`, else the platform's user cache directory
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS) + `auscult`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AUSCULT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::cache_dir().map(|dir| dir.join("auscult"))
}

/// The quantized layers' folder inside a cache directory.
pub fn quantized_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("quantized")
}

/// `q8_0`, `q4_k`: the names users type.
pub fn format_name(format: GgmlDType) -> &'static str {
    match format {
        GgmlDType::Q8_0 => "q8_0",
        GgmlDType::Q4K => "q4_k",
        GgmlDType::Q4_0 => "q4_0",
        GgmlDType::Q6K => "q6_k",
        GgmlDType::Q5_0 => "q5_0",
        _ => "other",
    }
}

fn cache_key(weight_files: &[PathBuf], format: GgmlDType) -> Result<String, ModelError> {
    let mut hasher = Sha256::new();
    hasher.update(CACHE_VERSION.as_bytes());
    hasher.update(format_name(format).as_bytes());
    for path in weight_files {
        let io = |error| ModelError::Io {
            path: path.clone(),
            error,
        };
        let mut file = File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        hasher.update(name.unwrap_or_default().as_bytes());
        hasher.update(metadata.len().to_le_bytes());
        hasher.update(modified.to_le_bytes());
        // The safetensors header: 8 bytes of length, then that many bytes of JSON.
        let mut length = [0u8; 8];
        file.read_exact(&mut length).map_err(io)?;
        let header_len = u64::from_le_bytes(length).min(metadata.len());
        let mut header = Vec::new();
        file.take(header_len).read_to_end(&mut header).map_err(io)?;
        hasher.update(&header);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The cache file's contents when it exists and carries `key`; `Ok(None)` when there is none.
fn read_cache_file(path: &Path, key: &str) -> Result<Option<(gguf_file::Content, File)>, String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let content =
        gguf_file::Content::read(&mut file).map_err(|e| format!("not a valid cache file: {e}"))?;
    let stored = content
        .metadata
        .get(KEY_FIELD)
        .and_then(|v| v.to_string().ok())
        .cloned();
    if stored.as_deref() != Some(key) {
        return Err("it was made from other files".into());
    }
    // Every tensor's data must lie inside the file (a file cut short is refused whole).
    let length = file.metadata().map_err(|e| e.to_string())?.len();
    for info in content.tensor_infos.values() {
        let bytes =
            info.shape.elem_count() / info.ggml_dtype.block_size() * info.ggml_dtype.type_size();
        if content.tensor_data_offset + info.offset + bytes as u64 > length {
            return Err("the file is cut short".into());
        }
    }
    file.rewind().map_err(|e| e.to_string())?;
    Ok(Some((content, file)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    fn weight_file(dir: &Path, values: f32) -> PathBuf {
        let path = dir.join("model.safetensors");
        let tensor = Tensor::full(values, (4, 32), &Device::Cpu).unwrap();
        candle_core::safetensors::save(
            &std::collections::HashMap::from([("w".to_string(), tensor)]),
            &path,
        )
        .unwrap();
        path
    }

    #[test]
    fn a_saved_layer_is_found_again_and_a_changed_checkpoint_misses() {
        let checkpoint = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let files = vec![weight_file(checkpoint.path(), 0.5)];
        let weight = Tensor::randn(0f32, 1.0, (4, 32), &Device::Cpu).unwrap();
        let blocks = Arc::new(QTensor::quantize(&weight, GgmlDType::Q8_0).unwrap());

        let cache = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q8_0).unwrap();
        assert!(!cache.hit());
        assert!(cache.get("w", (4, 32), GgmlDType::Q8_0).is_none());
        cache.record("w", blocks.clone());
        let written = cache.save().unwrap().expect("a file is written");
        assert!(written.exists());

        let again = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q8_0).unwrap();
        assert!(again.hit());
        let read = again
            .get("w", (4, 32), GgmlDType::Q8_0)
            .expect("the layer is in the cache");
        assert_eq!(read.data().unwrap(), blocks.data().unwrap());
        assert!(
            again.get("w", (32, 4), GgmlDType::Q8_0).is_none(),
            "another shape is not this layer"
        );
        assert!(
            again.save().unwrap().is_none(),
            "nothing new: nothing written"
        );

        // Another format, or the weights rewritten (a new header or modification time): a miss.
        let other = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q4K).unwrap();
        assert!(!other.hit());
        std::thread::sleep(std::time::Duration::from_millis(20));
        let files = vec![weight_file(checkpoint.path(), 0.25)];
        let changed = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q8_0).unwrap();
        assert!(!changed.hit());
    }

    #[test]
    fn a_cut_cache_file_is_not_used() {
        let checkpoint = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let files = vec![weight_file(checkpoint.path(), 0.5)];
        let weight = Tensor::randn(0f32, 1.0, (64, 256), &Device::Cpu).unwrap();
        let cache = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q8_0).unwrap();
        cache.record(
            "w",
            Arc::new(QTensor::quantize(&weight, GgmlDType::Q8_0).unwrap()),
        );
        let path = cache.save().unwrap().unwrap();
        let length = std::fs::metadata(&path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(length - 100).unwrap();
        let again = QuantizedCache::open(cache_dir.path(), &files, GgmlDType::Q8_0).unwrap();
        assert!(!again.hit());
    }
}
