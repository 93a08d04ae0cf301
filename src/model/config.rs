//! Checkpoint configuration: `config.json` and `generation_config.json`, read into plain serde
//! data with the checkpoint's own field names and transformers' defaults for absent fields.
//!
//! Ports `Qwen2AudioConfig`, `Qwen2AudioEncoderConfig` and `Qwen2Config` from transformers 5.x
//! (`models/qwen2_audio/configuration_qwen2_audio.py`, `models/qwen2/configuration_qwen2.py`), and
//! the thinker part of `Qwen2_5OmniConfig` (`models/qwen2_5_omni/configuration_qwen2_5_omni.py`):
//! a full Qwen2.5-Omni checkpoint (`qwen2_5_omni`) keeps the thinker's audio and text settings
//! under `thinker_config` and its weights under `thinker.`; a thinker-only one
//! (`qwen2_5_omni_thinker`) has them at the top. Both read into the same `ModelConfig`.
//! Nothing here is sized for one checkpoint: a 7B model and a test fixture differ only in these
//! files.

use std::path::Path;

use serde::Deserialize;

use super::error::ModelError;

/// The `model_type` values this build can load.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &["qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker"];

/// The model families: they share the decoder and the audio-token scatter, and differ in the
/// audio encoder and where the weights live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Qwen2-Audio: a Whisper encoder over one fixed window, and a projector.
    #[default]
    Qwen2Audio,
    /// The Qwen2.5-Omni thinker: the encoder runs chunk by chunk over the audio frames only.
    Qwen25Omni,
}

/// `config.json` of an audio-language checkpoint, the parts auscult runs.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    /// As the file says it (a full Omni checkpoint's, not its thinker's).
    #[serde(default)]
    pub model_type: String,
    #[serde(skip)]
    pub family: Family,
    /// Where the audio tower, decoder and head are in the weights: `""` or `"thinker"`.
    #[serde(skip)]
    pub weights_prefix: String,
    #[serde(default)]
    pub audio_config: AudioEncoderConfig,
    #[serde(default)]
    pub text_config: TextConfig,
    /// Id of the `<|AUDIO|>` placeholder (`audio_token_id` in newer files).
    #[serde(default = "defaults::audio_token_index", alias = "audio_token_id")]
    pub audio_token_index: u32,
    /// Where transformers looks when `generation_config.json` names no stop ids.
    #[serde(default, deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
    /// The Omni thinker's own flag, which transformers ties the head by (its text config's is
    /// ignored); `None` outside Omni.
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

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
}

impl Default for AudioEncoderConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

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
    pub fn audio_token_index() -> u32 {
        151_646
    }
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
        let (family, weights_prefix, settings) = match model_type.as_str() {
            "qwen2_audio" => (Family::Qwen2Audio, "", value),
            "qwen2_5_omni_thinker" => (Family::Qwen25Omni, "", value),
            "qwen2_5_omni" => match value.get("thinker_config") {
                Some(thinker) => (Family::Qwen25Omni, "thinker", thinker.clone()),
                None => {
                    return Err(ModelError::config(
                        path,
                        "a qwen2_5_omni config without thinker_config",
                    ))
                }
            },
            _ => {
                return Err(ModelError::UnsupportedModelType {
                    path: path.to_owned(),
                    found: model_type,
                })
            }
        };
        let mut config: Self =
            serde_json::from_value(settings).map_err(|e| ModelError::config(path, e))?;
        config.model_type = model_type;
        config.family = family;
        config.weights_prefix = weights_prefix.to_owned();
        if family == Family::Qwen25Omni {
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
        if self.family == Family::Qwen25Omni {
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

/// `generation_config.json`: the ids that end a generation. Missing file: no stop ids from it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GenerationConfig {
    #[serde(default, deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
}

impl GenerationConfig {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = read_text(path)?;
        serde_json::from_str(&text).map_err(|e| ModelError::config(path, e))
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(u32),
        Many(Vec<u32>),
        None,
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        Some(OneOrMany::One(id)) => vec![id],
        Some(OneOrMany::Many(ids)) => ids,
        Some(OneOrMany::None) | None => Vec::new(),
    })
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

    #[test]
    fn eos_may_be_one_id_or_a_list() {
        let one: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": 7}"#).unwrap();
        assert_eq!(one.eos_token_id, vec![7]);
        let many: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": [7, 8]}"#).unwrap();
        assert_eq!(many.eos_token_id, vec![7, 8]);
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
        assert_eq!(full.family, Family::Qwen25Omni);
        assert_eq!(full.weights_prefix, "thinker");
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
            (alone.family, alone.weights_prefix.as_str()),
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
