//! The numbers the views draw for a `StepMetric`: each step's value (the step list, the decay
//! chart, the step panel's title) and each token's (the step panel's tints), computed through
//! `trace::metrics` for attention and `trace::evidence_metrics` for reliance; and the occlusion
//! strips the evidence heatmap and the strip under the heatmap draw on the time axis. Step values
//! are remembered per example (`Example::step_maps`) between frames.

use std::rc::Rc;

use crate::trace::evidence_metrics::{strip_at, EvidenceView};
use crate::trace::metrics::AttentionView;
use crate::tui::state::{Example, Inspector, StepMetric};

/// Every step's value under `metric` (`None`: nothing measured or captured for it), computed
/// once for the steps, metric and selection shown (`Example::step_maps`).
pub(super) fn step_values(state: &Inspector, metric: StepMetric) -> Rc<Vec<Option<f32>>> {
    let Some(example) = state.example() else {
        return Rc::default();
    };
    let steps = &example.trace.steps;
    let rows = example.attention.as_ref().map_or(0, |a| a.rows);
    example
        .step_maps
        .values(metric, &state.selection(), steps, rows, || {
            steps
                .iter()
                .map(|step| span_value(state, example, metric, step.tokens))
                .collect()
        })
}

/// The mean of `metric` over tokens `[start, end)`.
fn span_value(
    state: &Inspector,
    example: &Example,
    metric: StepMetric,
    tokens: [usize; 2],
) -> Option<f32> {
    match metric {
        StepMetric::Attention(metric) => {
            let rows = example.attention.as_ref()?;
            let view = AttentionView::new(rows, example.trace.input.ids.len());
            view.span_value(metric, tokens, &state.selection())
                .ok()
                .flatten()
        }
        StepMetric::Reliance(quantity, counterfactual) => EvidenceView::new(
            example.evidence.as_ref()?,
        )
        .span_value(quantity, counterfactual, tokens),
    }
}

/// The value of each token of the selected step under `metric` (`None` when any is missing).
pub(super) fn token_values(state: &Inspector, metric: StepMetric) -> Option<Vec<f32>> {
    let example = state.example()?;
    let [start, end] = example.trace.steps.get(state.step)?.tokens;
    match metric {
        StepMetric::Attention(metric) => {
            let rows = example.attention.as_ref()?;
            let view = AttentionView::new(rows, example.trace.input.ids.len());
            let selection = state.selection();
            (start..end)
                .map(|t| view.token_value(metric, t, &selection).ok())
                .collect()
        }
        StepMetric::Reliance(quantity, counterfactual) => {
            let values = EvidenceView::new(example.evidence.as_ref()?)
                .token_values(quantity, counterfactual)?;
            values.get(start..end).map(<[f32]>::to_vec)
        }
    }
}

/// A step's occlusion strip: for each occlusion window, the mean drop in the log-probability of
/// the step's tokens when that window of the clip is zeroed.
pub(super) struct OcclusionStrip<'a> {
    values: Vec<f32>,
    /// `[start, end)` of each window, in seconds of the clip.
    windows: &'a [[f64; 2]],
}

impl OcclusionStrip<'_> {
    /// The strip at `seconds` of the clip (the mean of the windows covering it; `None` where
    /// none does).
    pub(super) fn at(&self, seconds: f64) -> Option<f32> {
        strip_at(&self.values, self.windows, seconds)
    }

    /// The largest drop of any window (0 when none is positive).
    pub(super) fn max(&self) -> f32 {
        self.values.iter().copied().fold(0f32, f32::max)
    }
}

/// Step `step`'s occlusion strip; `None` without occlusion in the trace or its arrays loaded.
pub(super) fn occlusion_strip(example: &Example, step: usize) -> Option<OcclusionStrip<'_>> {
    let windows = &example.trace.evidence.as_ref()?.occlusion.as_ref()?.windows;
    let tokens = example.trace.steps.get(step)?.tokens;
    let values = EvidenceView::new(example.evidence.as_ref()?).occlusion_strip(tokens)?;
    Some(OcclusionStrip { values, windows })
}
