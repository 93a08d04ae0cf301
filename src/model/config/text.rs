//! The decoder's settings (`text_config`), with `Qwen2Config`'s defaults, and where RoPE's base
//! is read from in either generation of the file format.
//!
//! Ports `Qwen2Config` (`models/qwen2/configuration_qwen2.py`). Older files (transformers 4.x)
//! put `rope_theta` at the top of the text config, newer ones in `rope_parameters`;
//! Qwen2.5-Omni's M-RoPE sections are read and, for audio and text, equal to plain RoPE.

use serde::Deserialize;

use super::one_or_many;

/// RoPE settings as transformers 5 writes them (`rope_parameters`).
#[derive(Debug, Clone, Deserialize)]
pub struct RopeParameters {
    pub rope_theta: Option<f64>,
    #[serde(default = "defaults::rope_type")]
    pub rope_type: String,
    /// Qwen2.5-Omni's M-RoPE sections. With audio and text only the three position streams are
    /// equal (transformers' `get_rope_index` gives 0..seq to each), so M-RoPE is plain RoPE.
    #[serde(default)]
    pub mrope_section: Option<Vec<usize>>,
}

/// The Qwen2 decoder (`text_config`), with `Qwen2Config`'s defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct TextConfig {
    #[serde(default = "defaults::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "defaults::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "defaults::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "defaults::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: usize,
    /// `None` means as many as `num_attention_heads` (no grouping).
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Absent in Qwen2 checkpoints: `hidden_size / num_attention_heads`.
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "defaults::silu")]
    pub hidden_act: String,
    #[serde(default = "defaults::rms_norm_eps")]
    pub rms_norm_eps: f64,
    /// Older files (transformers 4.x) put `rope_theta` here; newer ones in `rope_parameters`.
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    #[serde(default)]
    pub rope_scaling: Option<serde_json::Value>,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default, deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
    #[serde(default)]
    pub use_sliding_window: bool,
    #[serde(default = "defaults::max_position_embeddings")]
    pub max_position_embeddings: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

impl TextConfig {
    pub fn num_key_value_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }

    pub fn rope_theta(&self) -> f64 {
        self.rope_parameters
            .as_ref()
            .and_then(|p| p.rope_theta)
            .or(self.rope_theta)
            .unwrap_or(defaults::ROPE_THETA)
    }
}

mod defaults {
    pub const ROPE_THETA: f64 = 10_000.0;
    pub fn silu() -> String {
        "silu".into()
    }
    pub fn rope_type() -> String {
        "default".into()
    }
    pub fn vocab_size() -> usize {
        151_936
    }
    pub fn hidden_size() -> usize {
        4096
    }
    pub fn intermediate_size() -> usize {
        22_016
    }
    pub fn num_hidden_layers() -> usize {
        32
    }
    pub fn num_attention_heads() -> usize {
        32
    }
    pub fn rms_norm_eps() -> f64 {
        1e-6
    }
    pub fn max_position_embeddings() -> usize {
        32_768
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rope_theta_is_read_from_either_place() {
        let old: TextConfig = serde_json::from_str(r#"{"rope_theta": 1000000.0}"#).unwrap();
        assert_eq!(old.rope_theta(), 1e6);
        let new: TextConfig = serde_json::from_str(
            r#"{"rope_parameters": {"rope_theta": 5.0, "rope_type": "default"}}"#,
        )
        .unwrap();
        assert_eq!(new.rope_theta(), 5.0);
    }
}
