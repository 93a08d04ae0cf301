//! One example as the inspector holds it: its trace, its attention and evidence arrays (in
//! memory for the example shown, on disk for the rest), and the picture of its clip; and what
//! the header reads off it.

use std::path::PathBuf;

use super::super::spectrogram::Spectrogram;
use super::step_maps::StepMaps;
use crate::model::{AttentionRows, Evidence};
use crate::trace::Trace;
use crate::truth::Truth;

/// One trace, its attention and evidence, and the picture of its clip, as the inspector holds
/// them.
pub struct Example {
    pub trace: Trace,
    pub attention: Option<AttentionRows>,
    /// Reliance and occlusion per generated token, when the sidecar holds them (read with the
    /// attention).
    pub evidence: Option<Evidence>,
    /// Where the attention is read from when the example is shown (a traces file holds
    /// thousands of examples; only the current one's arrays are kept in memory).
    pub sidecar: Option<PathBuf>,
    /// Filled when the clip is found and decoded; the strip says why when it is not.
    pub spectrogram: Option<Spectrogram>,
    /// The clip's ground-truth events, when known (a synthetic item's, or a captions file's).
    pub truth: Option<Truth>,
    /// For each step, the truth event it names (empty without truth).
    pub named_events: Vec<Option<usize>>,
    /// The steps' maps computed so far (clear it when `attention` is replaced: `set_attention`).
    pub step_maps: StepMaps,
}

impl Example {
    /// An example; a synthetic item's trace gets its exact events.
    pub fn new(trace: Trace, attention: Option<AttentionRows>) -> Self {
        let truth = Truth::synthetic(&trace);
        let mut example = Self {
            trace,
            attention,
            evidence: None,
            sidecar: None,
            spectrogram: None,
            truth: None,
            named_events: Vec::new(),
            step_maps: StepMaps::default(),
        };
        example.set_truth(truth);
        example
    }

    /// Gives the example its ground truth (or takes it away) and finds the event each step
    /// names.
    pub fn set_truth(&mut self, truth: Option<Truth>) {
        self.truth = truth;
        self.refresh_named_events();
    }

    /// Finds again the event each step names (after the steps or labels changed).
    pub fn refresh_named_events(&mut self) {
        self.named_events = self
            .truth
            .as_ref()
            .map_or_else(Vec::new, |truth| truth.named_events(&self.trace));
    }

    /// Replaces the example's attention (and forgets the maps computed from the old one).
    pub fn set_attention(&mut self, attention: Option<AttentionRows>) {
        self.attention = attention;
        self.step_maps.clear();
    }

    /// The truth event `step` names, if any.
    pub fn named_event(&self, step: usize) -> Option<usize> {
        self.named_events.get(step).copied().flatten()
    }

    /// An example whose attention stays on disk until it is shown.
    pub fn on_disk(trace: Trace, sidecar: Option<PathBuf>) -> Self {
        Self {
            sidecar,
            ..Self::new(trace, None)
        }
    }

    /// The question asked (the prompt's text when the trace has no question).
    pub fn question(&self) -> &str {
        let prompt = &self.trace.prompt;
        prompt.question.as_deref().unwrap_or(&prompt.text)
    }

    /// The choices as the header shows them: "(A) one  (B) two".
    pub fn choices_line(&self) -> String {
        self.trace.prompt.lettered_choices("  ")
    }
}
