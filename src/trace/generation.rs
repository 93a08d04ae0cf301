//! The generation as a trace stores it: the generated ids and text, why the run stopped and the
//! settings it ran with. The model has runtime counterparts (`model::GenerateOptions`,
//! `model::StoppedBy`); the runner converts them into these, so the format changes only here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GenerationRecord {
    /// Generated ids (the stop token included when one ended the run).
    pub ids: Vec<u32>,
    /// Decoded text, special tokens left out.
    pub text: String,
    /// Byte offset, in the concatenation of the generated tokens' text pieces (the text that
    /// `steps[].chars` index), where each generated token's piece starts; one per generated
    /// token, so token `k` covers `piece_offsets[k]..piece_offsets[k + 1]`, the last one up to
    /// the end of that text (a stop token's piece is empty). It lets the inspector tint each
    /// token of a step by its own audio ratio. Empty in traces written before this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub piece_offsets: Vec<usize>,
    pub stop_reason: StopReason,
    pub params: GenerationParams,
}

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Decoding {
    Greedy,
    Sample {
        temperature: f32,
        /// 1.0 keeps every token.
        top_p: f32,
        /// 0 keeps every token.
        top_k: usize,
        seed: u64,
    },
}

/// What attention to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaptureSettings {
    /// Record generated tokens' attention (off only to measure its cost).
    pub enabled: bool,
    /// Also keep each head's audio map, not only the head mean.
    pub per_head_maps: bool,
    /// Also record the prompt tokens' rows.
    pub prompt: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GenerationParams {
    pub decoding: Decoding,
    pub max_new_tokens: usize,
    /// Stop ids cannot end the run before this many tokens (transformers' `min_new_tokens`:
    /// their logits are set to -inf).
    #[serde(default)]
    pub min_new_tokens: usize,
    pub stop_ids: Vec<u32>,
    pub capture: CaptureSettings,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    StopToken,
    MaxNewTokens,
    Cancelled,
}
