//! The model types this build loads, in one table: each `model_type` a `config.json` may name,
//! with its family, where its settings are in that file and where its weights are in the
//! safetensors.
//!
//! Parsing `model_type`, the list of supported types an error gives, and the weight prefixes the
//! model is loaded under all read this table, so a new layout is one row, not a name re-typed in
//! three places. The families share the decoder code and the audio-token scatter; they differ in
//! the audio encoder (`audio_encoder`, `omni_audio_encoder`, `aut_encoder`), in the decoder's
//! options (Qwen3-Omni's QK-norm and mixture of experts, which its `text_config` names) and in
//! these layouts.

/// The model families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Qwen2-Audio: a Whisper encoder over one fixed window, and a projector.
    #[default]
    Qwen2Audio,
    /// The Qwen2.5-Omni thinker: the encoder runs chunk by chunk over the audio frames only.
    Qwen25Omni,
    /// The Qwen3-Omni thinker: the AuT encoder (convolutions over 1-s chunks, attention in 8-s
    /// windows, 13 tokens a second) and a mixture-of-experts decoder with QK-norm.
    Qwen3Omni,
}

/// One `model_type` this build loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelType {
    /// `config.json`'s `model_type`.
    pub name: &'static str,
    pub family: Family,
    /// The key of `config.json` that holds the settings the model runs (a full Omni
    /// checkpoint's `thinker_config`); `None`: they are at the top of the file.
    pub settings_key: Option<&'static str>,
    /// Where the audio tower, decoder and head are in the weights (`thinker` for a full Omni
    /// checkpoint, whose talker and vocoder stay on disk); `""`: at the top.
    pub weights_prefix: &'static str,
    /// Where the decoder is under `weights_prefix`: Qwen2-Audio nests it in `language_model`,
    /// the thinker keeps its `model.*` and `lm_head` beside the audio tower.
    pub decoder_prefix: &'static str,
}

/// Every `model_type` this build loads, in the order errors list them.
pub const MODEL_TYPES: &[ModelType] = &[
    ModelType {
        name: "qwen2_audio",
        family: Family::Qwen2Audio,
        settings_key: None,
        weights_prefix: "",
        decoder_prefix: "language_model",
    },
    ModelType {
        name: "qwen2_5_omni",
        family: Family::Qwen25Omni,
        settings_key: Some("thinker_config"),
        weights_prefix: "thinker",
        decoder_prefix: "",
    },
    ModelType {
        name: "qwen2_5_omni_thinker",
        family: Family::Qwen25Omni,
        settings_key: None,
        weights_prefix: "",
        decoder_prefix: "",
    },
    ModelType {
        name: "qwen3_omni_moe",
        family: Family::Qwen3Omni,
        settings_key: Some("thinker_config"),
        weights_prefix: "thinker",
        decoder_prefix: "",
    },
];

impl ModelType {
    /// The row for `model_type`, if this build loads it.
    pub fn find(model_type: &str) -> Option<&'static ModelType> {
        MODEL_TYPES.iter().find(|row| row.name == model_type)
    }
}

/// `qwen2_audio, qwen2_5_omni, qwen2_5_omni_thinker, qwen3_omni_moe`: the supported types, as
/// errors list them.
pub fn supported_model_types() -> String {
    MODEL_TYPES
        .iter()
        .map(|row| row.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_type_is_listed_once_and_found_by_its_name() {
        assert_eq!(
            supported_model_types(),
            "qwen2_audio, qwen2_5_omni, qwen2_5_omni_thinker, qwen3_omni_moe"
        );
        for row in MODEL_TYPES {
            assert_eq!(ModelType::find(row.name), Some(row));
        }
        assert_eq!(ModelType::find("llama"), None);
    }
}
