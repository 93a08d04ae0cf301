//! Checkpoint configuration: `config.json`, read into plain serde data with the checkpoint's own
//! field names and transformers' defaults for absent fields, then checked.
//!
//! Ports `Qwen2AudioConfig` from transformers 5.x
//! (`models/qwen2_audio/configuration_qwen2_audio.py`) and the thinker parts of
//! `Qwen2_5OmniConfig` (`models/qwen2_5_omni/configuration_qwen2_5_omni.py`) and
//! `Qwen3OmniMoeConfig` (`models/qwen3_omni_moe/configuration_qwen3_omni_moe.py`). The file's
//! `model_type` is looked up in the family table (`family::MODEL_TYPES`), which says where the
//! settings are: a full Omni checkpoint (`qwen2_5_omni`, `qwen3_omni_moe`) keeps the thinker's
//! audio and text settings under `thinker_config`, a thinker-only one (`qwen2_5_omni_thinker`)
//! and Qwen2-Audio at the top. Each family's class defaults fill the fields a file leaves out. All read into the same `ModelConfig`. The encoder's settings are in
//! `audio`, the decoder's in `text`, and `generation_config.json` in `generation`.
//! Nothing here is sized for one checkpoint: a 7B model and a test fixture differ only in these
//! files.

mod audio;
mod generation;
mod text;

use std::path::Path;

use serde::Deserialize;

pub use audio::AudioEncoderConfig;
use generation::one_or_many;
pub use generation::GenerationConfig;
pub use text::{RopeParameters, TextConfig};

use super::audio_tokens::AudioTokenRate;
use super::error::ModelError;
use super::family::{Family, ModelType, MODEL_TYPES};

/// `config.json` of an audio-language checkpoint, the parts auscult runs.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    /// As the file says it (a full Omni checkpoint's, not its thinker's).
    #[serde(default)]
    pub model_type: String,
    /// `model_type`'s row of the family table: the family, and where the settings and weights
    /// are.
    #[serde(skip, default = "qwen2_audio")]
    pub kind: &'static ModelType,
    #[serde(default)]
    pub audio_config: AudioEncoderConfig,
    #[serde(default)]
    pub text_config: TextConfig,
    /// Id of the `<|AUDIO|>` placeholder (`audio_token_id` in newer files).
    #[serde(default = "audio_token_index", alias = "audio_token_id")]
    pub audio_token_index: u32,
    /// Where transformers looks when `generation_config.json` names no stop ids.
    #[serde(default, deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
    /// The Omni thinker's own flag, which transformers ties the head by (its text config's is
    /// ignored); `None` outside Omni.
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

impl ModelConfig {
    /// Reads and checks `config.json`.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = read_text(path)?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::config(path, e))?;
        let model_type = value
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or("(none)")
            .to_owned();
        let Some(kind) = ModelType::find(&model_type) else {
            return Err(ModelError::UnsupportedModelType {
                path: path.to_owned(),
                found: model_type,
            });
        };
        let mut settings = match kind.settings_key {
            None => value,
            Some(key) => match value.get(key) {
                Some(nested) => nested.clone(),
                None => {
                    return Err(ModelError::config(
                        path,
                        format!("a {model_type} config without {key}"),
                    ))
                }
            },
        };
        if kind.family == Family::Qwen3Omni {
            qwen3_omni_defaults(&mut settings);
        }
        let mut config: Self =
            serde_json::from_value(settings).map_err(|e| ModelError::config(path, e))?;
        config.model_type = model_type;
        config.kind = kind;
        if kind.family != Family::Qwen3Omni {
            // transformers' Qwen2 attention has biases on q, k and v whatever the file says, and
            // its MLP is dense: these fields mean nothing to these families.
            let text = &mut config.text_config;
            text.attention_bias = None;
            text.num_experts = 0;
        }
        if kind.family == Family::Qwen3Omni {
            config.text_config.qk_norm = true;
            config
                .audio_config
                .output_dim
                .get_or_insert(config.text_config.hidden_size);
            config.text_config.tie_word_embeddings = config.tie_word_embeddings.unwrap_or(false);
        }
        if kind.family == Family::Qwen25Omni {
            // transformers' Qwen2_5OmniAudioEncoderConfig and Qwen2_5OmniTextConfig defaults.
            config.audio_config.n_window.get_or_insert(100);
            config
                .audio_config
                .output_dim
                .get_or_insert(config.text_config.hidden_size);
            let text = &mut config.text_config;
            if text
                .rope_parameters
                .as_ref()
                .and_then(|p| p.rope_theta)
                .is_none()
            {
                text.rope_theta.get_or_insert(1_000_000.0);
            }
            text.tie_word_embeddings = config.tie_word_embeddings.unwrap_or(false);
        }
        config.validate().map_err(|e| ModelError::config(path, e))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let audio = &self.audio_config;
        let text = &self.text_config;
        if audio.activation_function != "gelu" {
            return Err(format!(
                "audio_config.activation_function {:?} is not supported (only \"gelu\")",
                audio.activation_function
            ));
        }
        if text.hidden_act != "silu" {
            return Err(format!(
                "text_config.hidden_act {:?} is not supported (only \"silu\")",
                text.hidden_act
            ));
        }
        if audio.encoder_attention_heads == 0
            || !audio.d_model.is_multiple_of(audio.encoder_attention_heads)
        {
            return Err(format!(
                "audio_config.d_model {} is not a multiple of encoder_attention_heads {}",
                audio.d_model, audio.encoder_attention_heads
            ));
        }
        let heads = text.num_attention_heads;
        let kv_heads = text.num_key_value_heads();
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(format!(
                "text_config.num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}"
            ));
        }
        if text.head_dim.is_none() && !text.hidden_size.is_multiple_of(heads) {
            return Err(format!(
                "text_config.hidden_size {} is not a multiple of num_attention_heads {heads}",
                text.hidden_size
            ));
        }
        if !text.head_dim().is_multiple_of(2) {
            return Err(format!(
                "head dimension {} is odd; RoPE needs it even",
                text.head_dim()
            ));
        }
        if let Some(p) = &text.rope_parameters {
            if p.rope_type != "default" {
                return Err(format!(
                    "rope_type {:?} is not supported (only \"default\")",
                    p.rope_type
                ));
            }
        }
        if let Some(scaling) = text.rope_scaling.as_ref().filter(|v| !v.is_null()) {
            // Older Omni files put M-RoPE here: {"mrope_section": [...], "type": "default"}.
            let plain_mrope = scaling.as_object().is_some_and(|fields| {
                fields.iter().all(|(key, value)| match key.as_str() {
                    "mrope_section" => true,
                    "type" | "rope_type" => value == "default",
                    _ => false,
                })
            });
            if !plain_mrope {
                return Err(format!("rope_scaling {scaling} is not supported"));
            }
        }
        if self.kind.family == Family::Qwen25Omni {
            let n_window = audio.n_window.unwrap_or(0);
            if n_window == 0 || n_window > audio.max_source_positions {
                return Err(format!(
                    "audio_config.n_window {n_window} must be between 1 and max_source_positions {}",
                    audio.max_source_positions
                ));
            }
            if audio.d_model < 4 || !audio.d_model.is_multiple_of(2) {
                return Err(format!(
                    "audio_config.d_model {} must be even (sinusoidal positions)",
                    audio.d_model
                ));
            }
        }
        if self.kind.family == Family::Qwen3Omni {
            let n_window = audio.n_window.unwrap_or(0);
            let n_window_infer = audio.n_window_infer.unwrap_or(0);
            // transformers counts 13 tokens per chunk whatever n_window is, which only 100-frame
            // chunks give: any other n_window disagrees with its own encoder.
            if n_window != 50 {
                return Err(format!(
                    "audio_config.n_window {n_window} is not supported (only 50: transformers \
                     counts 13 audio tokens per chunk, which only 100-frame chunks give)"
                ));
            }
            if n_window_infer < 2 * n_window {
                return Err(format!(
                    "audio_config.n_window_infer {n_window_infer}: an attention window must hold \
                     at least one chunk of 2 × n_window = {} frames",
                    2 * n_window
                ));
            }
            if audio.d_model < 4 || !audio.d_model.is_multiple_of(2) {
                return Err(format!(
                    "audio_config.d_model {} must be even (sinusoidal positions)",
                    audio.d_model
                ));
            }
            if audio.max_source_positions < 13 {
                return Err(format!(
                    "audio_config.max_source_positions {} is shorter than a chunk's 13 rows",
                    audio.max_source_positions
                ));
            }
            if text.num_experts > usize::from(u16::MAX) {
                return Err(format!(
                    "text_config.num_experts {} is more than this build records (65,535)",
                    text.num_experts
                ));
            }
            if audio.downsample_hidden_size.unwrap_or(0) == 0 {
                return Err("audio_config.downsample_hidden_size must be positive".into());
            }
        }
        if text.num_experts > 0
            && (text.num_experts_per_tok == 0
                || text.num_experts_per_tok > text.num_experts
                || text.moe_intermediate_size == 0)
        {
            return Err(format!(
                "text_config: {} experts, {} per token, moe_intermediate_size {}: a mixture of \
                 experts needs 1 to num_experts experts per token and a positive width",
                text.num_experts, text.num_experts_per_tok, text.moe_intermediate_size
            ));
        }
        if text.use_sliding_window {
            return Err("use_sliding_window is not supported".into());
        }
        if self.audio_token_index as usize >= text.vocab_size {
            return Err(format!(
                "audio_token_index {} is outside the vocabulary ({} tokens)",
                self.audio_token_index, text.vocab_size
            ));
        }
        Ok(())
    }
}

impl ModelConfig {
    /// The family's audio-token rate (`audio_tokens`).
    pub fn audio_token_rate(&self) -> AudioTokenRate {
        match self.kind.family {
            Family::Qwen3Omni => AudioTokenRate::Chunked {
                chunk_frames: 2 * self.audio_config.n_window.unwrap_or(50),
            },
            Family::Qwen2Audio | Family::Qwen25Omni => AudioTokenRate::Pooled,
        }
    }

    /// The stop ids `config.json` names (the model's, then its text model's), for a checkpoint
    /// whose `generation_config.json` names none.
    pub fn eos_token_ids(&self) -> &[u32] {
        if self.eos_token_id.is_empty() {
            &self.text_config.eos_token_id
        } else {
            &self.eos_token_id
        }
    }
}

/// Fills the fields a Qwen3-Omni `thinker_config` leaves out with transformers' class defaults
/// (`Qwen3OmniMoeAudioEncoderConfig`, `Qwen3OmniMoeTextConfig`, `Qwen3OmniMoeThinkerConfig`),
/// where they differ from the Qwen2 ones this reader falls back to. The thinker's
/// `audio_token_id` default is Qwen2.5-Omni's 151646, as in transformers; the real checkpoints
/// name 151675.
fn qwen3_omni_defaults(settings: &mut serde_json::Value) {
    let Some(settings) = settings.as_object_mut() else {
        return;
    };
    let mut fill = |section: &str, defaults: serde_json::Value| {
        let entry = settings
            .entry(section)
            .or_insert_with(|| serde_json::json!({}));
        if let (Some(fields), Some(defaults)) = (entry.as_object_mut(), defaults.as_object()) {
            for (key, value) in defaults {
                let absent = fields.get(key).is_none_or(serde_json::Value::is_null);
                if absent {
                    fields.insert(key.clone(), value.clone());
                }
            }
        }
    };
    fill(
        "audio_config",
        serde_json::json!({"n_window": 50, "n_window_infer": 800, "downsample_hidden_size": 480,
            "output_dim": 3584}),
    );
    fill(
        "text_config",
        serde_json::json!({"vocab_size": 3584, "hidden_size": 2048, "intermediate_size": 18944,
            "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
            "attention_bias": false, "num_experts": 128, "num_experts_per_tok": 8,
            "moe_intermediate_size": 768, "norm_topk_prob": true, "decoder_sparse_step": 1,
            "mlp_only_layers": [], "rope_theta": 1_000_000.0}),
    );
}

/// `audio_token_index`'s default (Qwen2-Audio-7B's `<|AUDIO|>`).
fn audio_token_index() -> u32 {
    151_646
}

/// The row a `ModelConfig` read without `load` (a test's) has.
fn qwen2_audio() -> &'static ModelType {
    &MODEL_TYPES[0]
}

pub(super) fn read_text(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|error| ModelError::Io {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_take_transformers_defaults() {
        let config: ModelConfig = serde_json::from_str(r#"{"model_type": "qwen2_audio"}"#).unwrap();
        assert_eq!(config.audio_config.d_model, 1280);
        assert_eq!(config.audio_config.encoder_layers, 32);
        assert_eq!(config.text_config.num_key_value_heads(), 32);
        assert_eq!(config.text_config.head_dim(), 128);
        assert_eq!(config.text_config.rope_theta(), 10_000.0);
        assert_eq!(config.audio_token_index, 151_646);
    }

    fn load_text(text: &str) -> Result<ModelConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, text).unwrap();
        ModelConfig::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn omni_configs_read_the_thinker_and_say_where_its_weights_are() {
        let thinker = r#"{"audio_config": {"d_model": 64, "encoder_attention_heads": 2, "n_window": 16},
            "text_config": {"hidden_size": 96, "num_attention_heads": 3, "num_key_value_heads": 1,
                "vocab_size": 544,
                "rope_scaling": {"mrope_section": [4, 6, 6], "type": "default"}, "rope_theta": 1e6},
            "audio_token_index": 483}"#;
        let full = load_text(&format!(
            r#"{{"model_type": "qwen2_5_omni", "thinker_config": {thinker}, "talker_config": {{}}}}"#
        ))
        .unwrap();
        assert_eq!(full.kind.family, Family::Qwen25Omni);
        assert_eq!(full.kind.weights_prefix, "thinker");
        assert_eq!(full.model_type, "qwen2_5_omni");
        assert_eq!(full.audio_config.n_window, Some(16));
        assert_eq!(
            full.audio_config.output_dim,
            Some(96),
            "the text width by default"
        );
        assert_eq!(full.text_config.rope_theta(), 1e6);
        let alone =
            load_text(&thinker.replacen('{', r#"{"model_type": "qwen2_5_omni_thinker","#, 1))
                .unwrap();
        assert_eq!(
            (alone.kind.family, alone.kind.weights_prefix),
            (Family::Qwen25Omni, "")
        );

        let no_thinker = load_text(r#"{"model_type": "qwen2_5_omni"}"#).unwrap_err();
        assert!(
            no_thinker.contains("without thinker_config"),
            "{no_thinker}"
        );
        let zero_window = load_text(
            &thinker
                .replace(r#""n_window": 16"#, r#""n_window": 0"#)
                .replacen('{', r#"{"model_type": "qwen2_5_omni_thinker","#, 1),
        )
        .unwrap_err();
        assert!(zero_window.contains("n_window 0"), "{zero_window}");
        let yarn = load_text(
            &thinker
                .replace(r#""type": "default""#, r#""type": "yarn""#)
                .replacen('{', r#"{"model_type": "qwen2_5_omni_thinker","#, 1),
        )
        .unwrap_err();
        assert!(yarn.contains("rope_scaling"), "{yarn}");
    }

    #[test]
    fn qwen3_omni_reads_the_thinker_with_its_own_defaults_and_limits() {
        let full = |thinker: &str| {
            load_text(&format!(
                r#"{{"model_type": "qwen3_omni_moe", "thinker_config": {thinker}}}"#
            ))
        };
        // Absent fields take Qwen3OmniMoe*Config's defaults, not Qwen2's.
        let config = full(
            r#"{"audio_token_id": 151675, "text_config": {"vocab_size": 152064,
                "num_attention_heads": 32, "head_dim": 128}}"#,
        )
        .unwrap();
        assert_eq!(config.kind.family, Family::Qwen3Omni);
        let text = &config.text_config;
        assert_eq!((text.num_experts, text.num_experts_per_tok), (128, 8));
        assert!(text.norm_topk_prob && text.qk_norm && text.is_sparse_layer(0));
        assert_eq!(text.attention_biases(), (false, false));
        assert_eq!(text.rope_theta(), 1e6);
        assert_eq!(config.audio_config.n_window, Some(50));
        assert_eq!(
            config.audio_token_rate(),
            AudioTokenRate::Chunked { chunk_frames: 100 }
        );
        // transformers counts 13 tokens a chunk: any n_window but 50 disagrees with it.
        let window = full(
            r#"{"audio_token_id": 1, "audio_config": {"n_window": 100},
                "text_config": {"num_attention_heads": 32}}"#,
        );
        assert!(window.unwrap_err().contains("n_window 100"));
        let experts = full(
            r#"{"audio_token_id": 1, "text_config": {"num_experts": 4, "num_experts_per_tok": 5,
                "num_attention_heads": 32}}"#,
        );
        assert!(experts.unwrap_err().contains("4 experts, 5 per token"));
        // A Qwen2 family keeps its q/k/v biases and dense MLP whatever its file says.
        let qwen2 = load_text(
            r#"{"model_type": "qwen2_audio",
                "text_config": {"attention_bias": false, "num_experts": 8}}"#,
        )
        .unwrap();
        assert_eq!(qwen2.text_config.attention_biases(), (true, false));
        assert!(!qwen2.text_config.is_sparse_layer(0));
        assert!(!qwen2.text_config.qk_norm);
    }

    #[test]
    fn omni_defaults_follow_the_thinker_as_transformers_does() {
        // No rope_theta anywhere: Qwen2_5OmniTextConfig's 1e6, not Qwen2's 1e4. The thinker's
        // tie flag counts, not the text config's; stop ids from the thinker, else its text model.
        let config = load_text(
            r#"{"model_type": "qwen2_5_omni_thinker", "tie_word_embeddings": false,
                "eos_token_id": 482,
                "text_config": {"tie_word_embeddings": true, "eos_token_id": [7, 8]}}"#,
        )
        .unwrap();
        assert_eq!(config.text_config.rope_theta(), 1e6);
        assert!(!config.text_config.tie_word_embeddings);
        assert_eq!(config.eos_token_ids(), [482]);
        let text_only = load_text(
            r#"{"model_type": "qwen2_5_omni_thinker", "text_config": {"eos_token_id": [7, 8]}}"#,
        )
        .unwrap();
        assert_eq!(text_only.eos_token_ids(), [7, 8]);
        // Qwen2-Audio keeps Qwen2's default.
        let audio = load_text(r#"{"model_type": "qwen2_audio"}"#).unwrap();
        assert_eq!(audio.text_config.rope_theta(), 10_000.0);
    }
}
