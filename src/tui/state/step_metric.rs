//! The per-step value the step list, the decay chart and the step panel show: one of the
//! attention metrics, or the reliance on the audio (the log-probability drop Δ or the KL
//! divergence) under a counterfactual the trace measured. The metric key cycles through the ones
//! the current trace has; the decay chart pairs the chosen one with one of the other kind.

use crate::model::Counterfactual;
use crate::trace::evidence_metrics::Reliance;
use crate::trace::metrics::Metric;
use crate::trace::Trace;

/// What a step's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMetric {
    Attention(Metric),
    Reliance(Reliance, Counterfactual),
}

impl StepMetric {
    /// The attention metrics, in the order the metric key goes through them.
    const ATTENTION: [StepMetric; 3] = [
        StepMetric::Attention(Metric::Ratio),
        StepMetric::Attention(Metric::SinkCorrected),
        StepMetric::Attention(Metric::Focus),
    ];

    /// Its name on screen: "ratio", "focus", "Δ silence", "KL masked".
    pub fn name(self) -> String {
        match self {
            StepMetric::Attention(Metric::Ratio) => "ratio".into(),
            StepMetric::Attention(Metric::SinkCorrected) => "sink-corrected".into(),
            StepMetric::Attention(Metric::Focus) => "focus".into(),
            StepMetric::Reliance(Reliance::Delta, c) => format!("Δ {c}"),
            StepMetric::Reliance(Reliance::Kl, c) => format!("KL {c}"),
            StepMetric::Reliance(Reliance::Flip, c) => format!("flip {c}"),
        }
    }

    /// The metric key's cycle for a trace whose reliance was measured under `measured`: the
    /// attention metrics, then Δ and KL under each counterfactual.
    pub fn cycle(measured: &[Counterfactual]) -> Vec<StepMetric> {
        let reliance = measured.iter().flat_map(|&c| {
            [
                StepMetric::Reliance(Reliance::Delta, c),
                StepMetric::Reliance(Reliance::Kl, c),
            ]
        });
        Self::ATTENTION.into_iter().chain(reliance).collect()
    }

    /// The next metric of the cycle; the first one when this one is not in it (a counterfactual
    /// the trace did not measure).
    pub fn next_in(self, measured: &[Counterfactual]) -> StepMetric {
        let cycle = Self::cycle(measured);
        match cycle.iter().position(|&m| m == self) {
            Some(i) => cycle[(i + 1) % cycle.len()],
            None => cycle[0],
        }
    }

    /// Whether a trace that measured `measured` has this metric.
    pub fn is_in(self, measured: &[Counterfactual]) -> bool {
        match self {
            StepMetric::Attention(_) => true,
            StepMetric::Reliance(_, c) => measured.contains(&c),
        }
    }

    /// The curve the decay chart draws beside this one: for an attention metric, Δ under the
    /// first counterfactual measured; for a reliance metric, the attention ratio (when there is
    /// attention).
    pub fn companion(self, measured: &[Counterfactual], has_attention: bool) -> Option<StepMetric> {
        match self {
            StepMetric::Attention(_) => measured
                .first()
                .map(|&c| StepMetric::Reliance(Reliance::Delta, c)),
            StepMetric::Reliance(..) => {
                has_attention.then_some(StepMetric::Attention(Metric::Ratio))
            }
        }
    }
}

/// The counterfactuals whose reliance arrays the trace's record says its sidecar holds, in the
/// order recorded (names this auscult does not know are skipped).
pub fn measured_counterfactuals(trace: &Trace) -> Vec<Counterfactual> {
    trace.evidence.as_ref().map_or_else(Vec::new, |record| {
        record
            .reliance
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect()
    })
}
