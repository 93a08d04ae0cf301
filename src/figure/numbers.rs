//! The numbers a panel draws, computed through `trace::metrics` exactly as the inspector
//! computes them: each step's map over the audio tokens (the heatmap row: the mean over the
//! step's tokens of where they look, layers and heads as selected, the head mean where the trace
//! has no per-head maps), each step's value under the metric (the left column and the decay
//! curve), the CAFE label that counts for each step and the truth event each step names.

use anyhow::{anyhow, Result};

use super::spec::{Panel, View};
use crate::cafe::claims_of_step;
use crate::trace::metrics::{AttentionView, Heads, Selection};
use crate::trace::{CafeLabel, Trace};

/// A panel's numbers, one entry per step.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelNumbers {
    /// The step's map: one value per audio token (zeros for a step without tokens).
    pub maps: Vec<Vec<f32>>,
    /// The step's value under the view's metric (`None` for a step without tokens).
    pub values: Vec<Option<f32>>,
    /// The worst label among the claims that count for the step (an error outranks a match).
    pub labels: Vec<Option<CafeLabel>>,
    /// The truth event the step names (an index into the panel's truth events).
    pub named: Vec<Option<usize>>,
    /// The heads the maps combine (the head mean where per-head maps were not captured).
    pub map_heads: Heads,
}

impl PanelNumbers {
    /// The numbers of `panel` under `view`; an error names the trace when it has no attention or
    /// the selection asks for a layer or head its model does not have.
    pub fn compute(panel: &Panel, view: &View) -> Result<PanelNumbers> {
        let trace = panel.trace;
        let rows = panel.attention.ok_or_else(|| {
            anyhow!(
                "trace {}: no attention was captured (its sidecar is missing or capture was off), \
                 so there is nothing to draw",
                trace.id
            )
        })?;
        let attention = AttentionView::new(rows, trace.input.ids.len());
        let map_heads = match rows.head_maps {
            Some(_) => view.selection.heads,
            None => Heads::Mean,
        };
        let map_selection = Selection {
            heads: map_heads,
            ..view.selection.clone()
        };
        let failed = |e: crate::trace::metrics::MetricError| anyhow!("trace {}: {e}", trace.id);
        let mut maps = Vec::with_capacity(trace.steps.len());
        let mut values = Vec::with_capacity(trace.steps.len());
        for step in &trace.steps {
            maps.push(
                attention
                    .span_map(step.tokens, &map_selection)
                    .map_err(failed)?,
            );
            values.push(
                attention
                    .span_value(view.metric, step.tokens, &view.selection)
                    .map_err(failed)?,
            );
        }
        let named = panel
            .truth
            .map_or_else(|| vec![None; trace.steps.len()], |t| t.named_events(trace));
        Ok(PanelNumbers {
            maps,
            values,
            labels: (0..trace.steps.len())
                .map(|step| step_label(trace, step))
                .collect(),
            named,
            map_heads,
        })
    }

    /// The largest map value over the audio tokens inside the clip (`tokens_in_clip` of them),
    /// over every step: the top of the colour scale.
    pub fn cell_max(&self, tokens_in_clip: usize) -> f32 {
        self.maps
            .iter()
            .flat_map(|map| map.iter().take(tokens_in_clip))
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f32::max)
    }
}

/// How many audio tokens of `trace` lie inside its clip (the encoder may pad past its end).
pub fn tokens_in_clip(trace: &Trace) -> usize {
    let per_token = trace.audio.seconds_per_audio_token;
    if per_token <= 0.0 {
        return 0;
    }
    (trace.audio.duration_seconds / per_token - 1e-9)
        .ceil()
        .max(0.0) as usize
}

/// The label shown for a step, as the inspector's step list shows it: among the labels that
/// count for its claims (human over judge over auto), the worst.
fn step_label(trace: &Trace, step: usize) -> Option<CafeLabel> {
    let labels = trace.labels.as_ref()?;
    let severity = |label: CafeLabel| match label {
        CafeLabel::Hallucinated => 3,
        CafeLabel::Misused => 2,
        CafeLabel::Matched => 1,
        CafeLabel::Neutral => 0,
    };
    claims_of_step(labels, step)
        .iter()
        .map(|claim| claim.winner().label)
        .max_by_key(|&label| severity(label))
}
