//! The trace's record of the causal evidence measured for it (`model::reliance` and the
//! regenerations without the audio): which arrays the attention sidecar holds, the answers
//! regenerated without the audio, and what each measurement cost.
//!
//! The per-token arrays themselves are in the sidecar (`sidecar::evidence`); everything a person
//! reads is here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::generation::StopReason;
use super::AnswerRecord;

/// Causal evidence about a trace; every part is optional and measured on request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceRecord {
    /// Counterfactuals (`silence`, `masked`) whose per-token arrays, `reliance.<name>.*`, the
    /// attention sidecar holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reliance: Vec<String>,
    /// The occlusion windows whose `[tokens, windows]` arrays (`occlusion.*`) the sidecar holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occlusion: Option<OcclusionRecord>,
    /// The answer regenerated from the prompt without the audio (greedy, the run's limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual_answer: Option<CounterfactualAnswer>,
    /// Regenerations with the audio hidden from the start of a step on, one per step tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interventions: Vec<Intervention>,
    /// Seconds each measurement took: `actual` (the teacher-forced pass the others compare
    /// with), `silence`, `masked`, `occlusion`, `counterfactual_answer`, `interventions`.
    #[serde(default)]
    pub seconds: BTreeMap<String, f64>,
}

impl EvidenceRecord {
    /// Whether nothing was measured.
    pub fn is_empty(&self) -> bool {
        self.reliance.is_empty()
            && self.occlusion.is_none()
            && self.counterfactual_answer.is_none()
            && self.interventions.is_empty()
    }
}

/// Sliding windows of zeroed audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OcclusionRecord {
    pub window_seconds: f64,
    pub hop_seconds: f64,
    /// `[start, end)` of each window in seconds of the clip: the columns of `occlusion.*`.
    pub windows: Vec<[f64; 2]>,
}

/// A generation made without (part of) the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Regeneration {
    /// Generated ids (for an intervention: from its first new token on).
    pub ids: Vec<u32>,
    /// The whole generated text (for an intervention: the kept text, then the new).
    pub text: String,
    pub stop_reason: StopReason,
    /// The extracted answer, scored against the benchmark item when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerRecord>,
}

/// The answer without the audio: the prompt's clip replaced by the counterfactual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CounterfactualAnswer {
    /// `silence` or `masked`.
    pub counterfactual: String,
    #[serde(flatten)]
    pub regeneration: Regeneration,
}

/// The generation regenerated from the start of one step with the audio keys hidden from every
/// new token (the prompt and the tokens before the step kept, with what they heard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Intervention {
    /// The step whose start the audio is hidden from.
    pub from_step: usize,
    /// Its first generated token.
    pub from_token: usize,
    #[serde(flatten)]
    pub regeneration: Regeneration,
    /// Whether the extracted answer differs from the original's.
    pub answer_changed: bool,
}
