//! A loaded checkpoint directory: configuration, processor and model, on one device and dtype.
//!
//! The directory is the Hugging Face layout (`../shared/DESIGN.md`, "Checkpoint directory").
//! Loading checks everything it can before the first prompt: the model type, the front end
//! against the encoder's window, the tokenizer's audio token, the template, every tensor's name
//! and shape.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};

use super::audio_lm::AudioLm;
use super::config::{Family, GenerationConfig, ModelConfig};
use super::error::ModelError;
use super::processor::{PreparedInput, Processor};
use super::weights::{load_var_builder, short, weight_files};

/// Weight and compute precision.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
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
}

/// Where the model runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
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

pub struct Checkpoint {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub generation: GenerationConfig,
    pub processor: Processor,
    pub model: AudioLm,
    pub device: Device,
    pub precision: Precision,
    /// Seconds spent loading.
    pub load_seconds: f64,
}

impl Checkpoint {
    pub fn load(dir: &Path, precision: Precision, device: DeviceKind) -> Result<Self, ModelError> {
        let started = Instant::now();
        if !dir.is_dir() {
            return Err(ModelError::Io {
                path: dir.to_owned(),
                error: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such checkpoint directory",
                ),
            });
        }
        let config_path = dir.join("config.json");
        let config = ModelConfig::load(&config_path)?;
        let mut generation = GenerationConfig::load(&dir.join("generation_config.json"))?;
        if generation.eos_token_id.is_empty() {
            generation.eos_token_id = config.eos_token_ids().to_vec();
        }
        let processor = Processor::load(dir, config.audio_token_index)?;
        let defaulted = processor.defaults_used();
        if config.family == Family::Qwen25Omni && !defaulted.is_empty() {
            // Qwen2-Audio's 30 s window and "Audio 1:" template would silently change an Omni
            // model's inputs.
            return Err(ModelError::config(
                &config_path,
                format!(
                    "a Qwen2.5-Omni checkpoint needs its own {}; this directory has none",
                    defaulted.join(" and ")
                ),
            ));
        }

        let mel = processor.mel_config();
        let audio = &config.audio_config;
        // Qwen2-Audio's encoder takes exactly one window; the Omni thinker's any number of
        // frames, so only its mel bins must agree.
        let window_frames = match config.family {
            Family::Qwen2Audio => 2 * audio.max_source_positions,
            Family::Qwen25Omni => mel.frames(),
        };
        if mel.feature_size != audio.num_mel_bins || mel.frames() != window_frames {
            return Err(ModelError::config(
                &dir.join("preprocessor_config.json"),
                format!(
                    "the front end gives {} mel bins x {} frames, but the audio encoder takes {} x {} (config.json)",
                    mel.feature_size,
                    mel.frames(),
                    audio.num_mel_bins,
                    window_frames
                ),
            ));
        }

        let device = device.device()?;
        let files = weight_files(dir)?;
        let vb = load_var_builder(&files, precision.dtype(), &device)?;
        let model = AudioLm::load(&config, vb).map_err(|e| ModelError::weights(dir, short(&e)))?;
        Ok(Self {
            dir: dir.to_owned(),
            config,
            generation,
            processor,
            model,
            device,
            precision,
            load_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Encodes the clip of `input` and returns the prompt's embeddings (seq, hidden).
    pub fn embed_input(&self, input: &PreparedInput) -> Result<Tensor, ModelError> {
        let mel = &input.mel;
        let features = Tensor::from_slice(&mel.features, (mel.n_mels, mel.frames), &self.device)?;
        let audio_rows = self.model.encode_audio(&features, input.valid_frames)?;
        Ok(self.model.embed_prompt(&input.input_ids, &audio_rows)?)
    }
}
