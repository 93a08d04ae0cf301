//! Tensor dumps: named arrays written to (and read from) safetensors files, so that other
//! implementations (transformers, numpy) can check auscult's numbers, and ours can check theirs.
//! `mel` writes one; later `forward` does too.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use safetensors::tensor::{Dtype, TensorView, View};
use safetensors::SafeTensors;

/// One array to write: its shape and its little-endian bytes.
pub struct DumpTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl DumpTensor {
    pub fn f32(shape: Vec<usize>, values: &[f32]) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        DumpTensor {
            dtype: Dtype::F32,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn i64(shape: Vec<usize>, values: &[i64]) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        DumpTensor {
            dtype: Dtype::I64,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// Small ids (a mixture of experts' choices): two bytes each.
    pub fn u16(shape: Vec<usize>, values: &[u16]) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        DumpTensor {
            dtype: Dtype::U16,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

impl View for &DumpTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Writes `tensors` to `path`, with string `metadata` in the header. The file is written to a
/// temporary file beside it, synced and renamed (`durable::write`): whole or absent after a crash.
pub fn write_dump<N: AsRef<str>>(
    path: &Path,
    tensors: &[(N, DumpTensor)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bytes = safetensors::serialize(
        tensors.iter().map(|(name, t)| (name.as_ref(), t)),
        Some(metadata),
    )
    .with_context(|| format!("{}: cannot encode tensors", path.display()))?;
    crate::durable::write(path, &bytes)
}

/// A dump read back: tensors by name.
pub struct Dump {
    bytes: Vec<u8>,
    path: String,
}

impl Dump {
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        SafeTensors::deserialize(&bytes)
            .with_context(|| format!("{}: not a safetensors file", path.display()))?;
        Ok(Dump {
            bytes,
            path: path.display().to_string(),
        })
    }

    fn view(&self, name: &str) -> Result<TensorView<'_>> {
        let tensors = SafeTensors::deserialize(&self.bytes)?;
        tensors
            .tensor(name)
            .with_context(|| format!("{}: no tensor named {name}", self.path))
    }

    pub fn has(&self, name: &str) -> bool {
        self.view(name).is_ok()
    }

    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        Ok(self.view(name)?.shape().to_vec())
    }

    pub fn f32(&self, name: &str) -> Result<Vec<f32>> {
        let view = self.view(name)?;
        if view.dtype() != Dtype::F32 {
            bail!(
                "{}: tensor {name} is {:?}, not F32",
                self.path,
                view.dtype()
            );
        }
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    pub fn i64(&self, name: &str) -> Result<Vec<i64>> {
        let view = self.view(name)?;
        if view.dtype() != Dtype::I64 {
            bail!(
                "{}: tensor {name} is {:?}, not I64",
                self.path,
                view.dtype()
            );
        }
        Ok(view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect())
    }

    pub fn u16(&self, name: &str) -> Result<Vec<u16>> {
        let view = self.view(name)?;
        if view.dtype() != Dtype::U16 {
            bail!(
                "{}: tensor {name} is {:?}, not U16",
                self.path,
                view.dtype()
            );
        }
        Ok(view
            .data()
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        let tensors = [
            ("a", DumpTensor::f32(vec![2, 2], &[1.0, 2.0, 3.0, 4.5])),
            ("m", DumpTensor::i64(vec![3], &[1, 0, -7])),
            ("e", DumpTensor::u16(vec![1, 3], &[17, 0, u16::MAX])),
        ];
        write_dump(&path, &tensors, HashMap::new()).unwrap();
        let dump = Dump::read(&path).unwrap();
        assert_eq!(dump.shape("a").unwrap(), vec![2, 2]);
        assert_eq!(dump.f32("a").unwrap(), vec![1.0, 2.0, 3.0, 4.5]);
        assert_eq!(dump.i64("m").unwrap(), vec![1, 0, -7]);
        assert_eq!(dump.u16("e").unwrap(), vec![17, 0, u16::MAX]);
        assert!(dump.f32("m").is_err());
        assert!(dump.u16("m").is_err());
        assert!(dump.f32("nope").is_err());
        assert!(!dir.path().join("x.safetensors.partial").exists());
    }
}
