//! The decoder's settings (`text_config`), with `Qwen2Config`'s defaults, and where RoPE's base
//! is read from in either generation of the file format.
//!
//! Ports `Qwen2Config` (`models/qwen2/configuration_qwen2.py`) and the fields of
//! `Qwen3OmniMoeTextConfig` (`models/qwen3_omni_moe/configuration_qwen3_omni_moe.py`): the mixture
//! of experts and the attention bias. Older files (transformers 4.x) put `rope_theta` at the top of
//! the text config, newer ones in `rope_parameters`; the Omni M-RoPE sections are read and, for
//! audio and text, equal to plain RoPE.

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
    /// Biases on q/k/v/o (Qwen3's flag). `None`: Qwen2's layout, biases on q, k and v only.
    #[serde(default)]
    pub attention_bias: Option<bool>,
    /// Experts of a mixture-of-experts MLP; 0: every MLP is dense.
    #[serde(default)]
    pub num_experts: usize,
    /// Experts the router picks for each token.
    #[serde(default)]
    pub num_experts_per_tok: usize,
    /// Width of one expert's SwiGLU.
    #[serde(default)]
    pub moe_intermediate_size: usize,
    /// Whether the picked experts' weights are renormalised to sum to 1.
    #[serde(default)]
    pub norm_topk_prob: bool,
    /// Every `decoder_sparse_step`-th layer is sparse (1: all).
    #[serde(default = "defaults::decoder_sparse_step")]
    pub decoder_sparse_step: usize,
    /// Layers that keep a dense MLP in a mixture-of-experts model.
    #[serde(default)]
    pub mlp_only_layers: Vec<usize>,
    /// RMSNorm of each query and key head before RoPE (Qwen3's attention): set by the family,
    /// not read from the file.
    #[serde(skip)]
    pub qk_norm: bool,
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

    /// Whether layer `index`'s MLP is a mixture of experts (`Qwen3OmniMoeThinkerTextDecoderLayer`'s
    /// rule).
    pub fn is_sparse_layer(&self, index: usize) -> bool {
        self.num_experts > 0
            && !self.mlp_only_layers.contains(&index)
            && (index + 1).is_multiple_of(self.decoder_sparse_step.max(1))
    }

    /// Whether q, k and v carry a bias, and whether o does.
    pub fn attention_biases(&self) -> (bool, bool) {
        match self.attention_bias {
            None => (true, false),
            Some(bias) => (bias, bias),
        }
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
    pub fn decoder_sparse_step() -> usize {
        1
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
