//! The audio encoder's settings (`audio_config`), with the defaults transformers fills in.
//!
//! Ports `Qwen2AudioEncoderConfig` (`models/qwen2_audio/configuration_qwen2_audio.py`), the
//! fields `Qwen2_5OmniAudioEncoderConfig` adds (`n_window`, `output_dim`) and those
//! `Qwen3OmniMoeAudioEncoderConfig` adds for its AuT encoder (`n_window_infer`,
//! `downsample_hidden_size`); `ModelConfig::load` fills each family's defaults of them, which only
//! that family reads.

use serde::Deserialize;

/// The Whisper-style audio encoder (`audio_config`). Defaults are those transformers fills in for
/// Qwen2-Audio-7B when the field is absent.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioEncoderConfig {
    #[serde(default = "defaults::num_mel_bins")]
    pub num_mel_bins: usize,
    #[serde(default = "defaults::encoder_layers")]
    pub encoder_layers: usize,
    #[serde(default = "defaults::encoder_attention_heads")]
    pub encoder_attention_heads: usize,
    #[serde(default = "defaults::encoder_ffn_dim")]
    pub encoder_ffn_dim: usize,
    #[serde(default = "defaults::d_model")]
    pub d_model: usize,
    #[serde(default = "defaults::max_source_positions")]
    pub max_source_positions: usize,
    #[serde(default = "defaults::gelu")]
    pub activation_function: String,
    #[serde(default)]
    pub scale_embedding: bool,
    /// Qwen2.5-Omni: the encoder takes its frames in chunks of `2 * n_window`.
    #[serde(default)]
    pub n_window: Option<usize>,
    /// Qwen2.5-Omni: width of the encoder's output (`proj`); the text width when absent.
    #[serde(default)]
    pub output_dim: Option<usize>,
    /// Qwen3-Omni: mel frames of one attention window (800: 8 chunks of 1 s).
    #[serde(default)]
    pub n_window_infer: Option<usize>,
    /// Qwen3-Omni: channels of the three 2-D convolutions (480).
    #[serde(default)]
    pub downsample_hidden_size: Option<usize>,
}

impl Default for AudioEncoderConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

mod defaults {
    pub fn num_mel_bins() -> usize {
        128
    }
    pub fn encoder_layers() -> usize {
        32
    }
    pub fn encoder_attention_heads() -> usize {
        20
    }
    pub fn encoder_ffn_dim() -> usize {
        5120
    }
    pub fn d_model() -> usize {
        1280
    }
    pub fn max_source_positions() -> usize {
        1500
    }
    pub fn gelu() -> String {
        "gelu".into()
    }
}
