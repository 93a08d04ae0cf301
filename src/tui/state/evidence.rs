//! What the inspector shows of a trace's causal evidence: the metric key's reliance metrics
//! (only those the trace measured; without any, a one-time hint says how to measure them), the
//! heatmap's second mode (occlusion, "evidence"; only with occlusion in the trace), and the
//! selected step's intervention. A new example keeps a choice only when it has it.

use super::step_metric::{measured_counterfactuals, StepMetric};
use super::Inspector;
use crate::model::Counterfactual;
use crate::trace::metrics::Metric;
use crate::trace::Intervention;

/// What the heatmap's cells show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatmapMode {
    /// How much each step attends to each moment of the clip.
    Attention,
    /// How much each step's tokens lose when each moment of the clip is zeroed (occlusion).
    Evidence,
}

impl Inspector {
    /// The counterfactuals the current example's reliance was measured under.
    pub fn measured(&self) -> Vec<Counterfactual> {
        self.example()
            .map_or_else(Vec::new, |e| measured_counterfactuals(&e.trace))
    }

    /// Whether the current example's trace holds occlusion.
    pub fn has_occlusion(&self) -> bool {
        self.example()
            .and_then(|e| e.trace.evidence.as_ref())
            .is_some_and(|record| record.occlusion.is_some())
    }

    /// The intervention the current example holds for its step `step`.
    pub fn intervention(&self, step: usize) -> Option<&Intervention> {
        self.example()?
            .trace
            .evidence
            .as_ref()?
            .interventions
            .iter()
            .find(|i| i.from_step == step)
    }

    /// The metric key: the next metric the current example has. Wrapping round without any
    /// reliance says once how to measure it.
    pub(super) fn next_metric(&mut self) {
        let measured = self.measured();
        self.metric = self.metric.next_in(&measured);
        if measured.is_empty()
            && self.metric == StepMetric::Attention(Metric::Ratio)
            && !self.reliance_hint_shown
        {
            self.reliance_hint_shown = true;
            self.message = Some(format!(
                "the metrics cycle through reliance too when a trace has it: {}",
                self.how_to_measure("reliance")
            ));
        }
    }

    /// The heatmap key: attention ↔ evidence; without occlusion it says how to get it.
    pub(super) fn toggle_heatmap(&mut self) {
        self.heatmap = match self.heatmap {
            HeatmapMode::Evidence => HeatmapMode::Attention,
            HeatmapMode::Attention if self.has_occlusion() => HeatmapMode::Evidence,
            HeatmapMode::Attention => {
                let how = if self.live.is_some() {
                    "start the live run with --occlusion-window 0.5s".to_owned()
                } else {
                    "`auscult reliance FILE --model DIR --occlusion-window 0.5s` measures it"
                        .to_owned()
                };
                self.message = Some(format!("no occlusion in this trace: {how}"));
                HeatmapMode::Attention
            }
        }
    }

    /// How the user can measure `what` for this trace, in words.
    pub(super) fn how_to_measure(&self, what: &str) -> String {
        match &self.model {
            super::ModelStatus::Ready(_) => format!("R measures {what} with the loaded model"),
            _ if self.live.is_some() => format!("R measures {what} once the run ends"),
            _ => format!("`auscult reliance FILE --model DIR` measures {what}"),
        }
    }

    /// After a change of example: a reliance metric or the evidence heatmap the new example
    /// lacks falls back to the attention ratio and heatmap; the intervention view closes.
    pub(super) fn fit_evidence(&mut self) {
        if !self.metric.is_in(&self.measured()) {
            self.metric = StepMetric::Attention(Metric::Ratio);
        }
        if self.heatmap == HeatmapMode::Evidence && !self.has_occlusion() {
            self.heatmap = HeatmapMode::Attention;
        }
        self.comparing = false;
    }
}
