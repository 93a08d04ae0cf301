//! How a checkpoint is loaded: the dtype its dense weights are kept in, the GGML format its
//! decoder may be quantized to, the device, and the run it is loaded for (`LoadOptions`).
//!
//! Each choice is named here once: `Display` and `FromStr` (strum) give its spelling (`bf16`,
//! `q4_k`, `cuda`), which messages and the command line use, and its doc comment
//! is the help the command line shows for it. The command line builds its parsers from these
//! (`cli::model_choice`); the model layer knows no argument parser, and none of these is written
//! to a file by the model (the quantization cache is keyed by the format's name).

use std::path::PathBuf;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};

use super::error::ModelError;

/// Weight and compute precision.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::EnumMessage,
)]
#[strum(serialize_all = "lowercase")]
pub enum Precision {
    F32,
    Bf16,
    F16,
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }

    /// The precision of weights stored with `bytes_per_value` bytes (f32 for anything else).
    pub(super) fn of_stored(bytes_per_value: usize, name: &str) -> Self {
        match (bytes_per_value, name) {
            (2, "F16") => Precision::F16,
            (2, _) => Precision::Bf16,
            _ => Precision::F32,
        }
    }

    /// `f32`, `bf16`, `f16`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// GGML block formats the decoder's linear layers can be quantized to at load time.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::EnumMessage,
)]
pub enum Quantization {
    /// 8-bit values in blocks of 32 with one f16 scale (8.5 bits a weight).
    #[strum(serialize = "q8_0")]
    Q8_0,
    /// 4-bit values in super-blocks of 256 with 6-bit sub-block scales and minimums (4.5 bits a
    /// weight).
    #[strum(serialize = "q4_k")]
    Q4K,
}

impl Quantization {
    pub fn ggml(self) -> GgmlDType {
        match self {
            Quantization::Q8_0 => GgmlDType::Q8_0,
            Quantization::Q4K => GgmlDType::Q4K,
        }
    }

    /// `q8_0`, `q4_k`: the name GGML gives the format (`quantized_cache::format_name`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Where the model runs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::EnumMessage,
)]
#[strum(serialize_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    /// An NVIDIA GPU (builds with the `cuda` feature).
    Cuda,
}

impl DeviceKind {
    pub fn device(self) -> Result<Device, ModelError> {
        match self {
            DeviceKind::Cpu => Ok(Device::Cpu),
            DeviceKind::Cuda if cfg!(feature = "cuda") => Ok(Device::new_cuda(0)?),
            DeviceKind::Cuda => Err(ModelError::Input(
                "--device cuda needs a build with the `cuda` feature (cargo build --release --features cuda)".into(),
            )),
        }
    }
}

/// How to load a checkpoint, and the run it is loaded for (to check memory before loading).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// dtype of the weights kept dense; `None`: as the checkpoint stores them.
    pub precision: Option<Precision>,
    pub quantize: Option<Quantization>,
    pub device: DeviceKind,
    /// Whether quantized layers are read from and written to the cache.
    pub cache: bool,
    /// Where quantized layers are cached (`None`: `quantized_cache::default_cache_dir`); the
    /// cache is off when neither gives a directory.
    pub cache_dir: Option<PathBuf>,
    /// Keep the KV cache in f16 (half the memory of f32).
    pub kv_cache_f16: bool,
    /// Load even when the estimate says it will not fit.
    pub force: bool,
    /// Seconds of audio the run will hear (`None`: the encoder's whole window).
    pub audio_seconds: Option<f64>,
    pub new_tokens: usize,
    /// Reliance or occlusion will be measured on the run (their logits count).
    pub evidence: bool,
}

impl LoadOptions {
    /// Weights as stored, nothing quantized, on `device`, for a short run.
    pub fn new(device: DeviceKind) -> Self {
        Self {
            precision: None,
            quantize: None,
            device,
            cache: true,
            cache_dir: None,
            kv_cache_f16: false,
            force: false,
            audio_seconds: None,
            new_tokens: 512,
            evidence: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;
    use crate::model::quantized_cache::format_name;

    /// The spellings the command line, messages and traces have always used, each read back by
    /// `FromStr`; a format's name is GGML's, which also keys the quantization cache.
    #[test]
    fn each_choice_has_one_spelling_that_reads_back() {
        let names = |all: Vec<String>| all.join(" ");
        assert_eq!(
            names(Precision::iter().map(|p| p.to_string()).collect()),
            "f32 bf16 f16"
        );
        assert_eq!(
            names(Quantization::iter().map(|q| q.to_string()).collect()),
            "q8_0 q4_k"
        );
        assert_eq!(
            names(DeviceKind::iter().map(|d| d.to_string()).collect()),
            "cpu cuda"
        );
        for p in Precision::iter() {
            assert_eq!(p.name().parse::<Precision>(), Ok(p));
        }
        for q in Quantization::iter() {
            assert_eq!(q.name(), format_name(q.ggml()));
            assert_eq!(q.name().parse::<Quantization>(), Ok(q));
        }
        for d in DeviceKind::iter() {
            assert_eq!(d.to_string().parse::<DeviceKind>(), Ok(d));
        }
        assert!(
            "F32".parse::<Precision>().is_err(),
            "case matters, as it did"
        );
    }
}
