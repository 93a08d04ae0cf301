//! What the report needs from each trace: its verdict, its labels of task, category and
//! difficulty, its attention reduced to per-step and per-token curves with the metrics API, and
//! its causal evidence (`evidence`).

use std::path::Path;

use super::evidence::{summarize_evidence, EvidenceSummary};
use crate::cafe::CafeCounts;
use crate::model::AttentionRows;
use crate::trace::metrics::{AttentionView, Metric, Selection};
use crate::trace::{read_sidecar, SidecarArrays, StepKind, Trace};

/// One trace, reduced.
#[derive(Debug, Clone)]
pub struct ExampleSummary {
    pub id: String,
    pub task: String,
    pub category: String,
    pub difficulty: String,
    /// `None` when the trace is not a benchmark item.
    pub correct: Option<bool>,
    pub generated_tokens: usize,
    /// Per step: kind, mean audio ratio, mean focus (attention present only).
    pub steps: Vec<(StepKind, f32, f32)>,
    /// Per generated token: audio ratio and focus (attention present only).
    pub token_ratio: Vec<f32>,
    pub token_focus: Vec<f32>,
    /// CAFE label counts, when the trace is labelled.
    pub cafe: Option<CafeCounts>,
    /// Causal evidence, where measured.
    pub evidence: EvidenceSummary,
}

/// Reduces `trace`; the sidecar is looked up relative to `base` (the traces file's folder).
/// A missing or mismatched sidecar leaves the curves empty and returns a warning.
pub fn summarize(
    trace: &Trace,
    base: &Path,
    selection: &Selection,
) -> (ExampleSummary, Option<String>) {
    summarize_read(trace, &read_arrays(trace, base), selection)
}

/// The sidecar of `trace` (looked up relative to `base`): `Ok(None)` when capture was off, the
/// warning when it cannot be read.
pub fn read_arrays(trace: &Trace, base: &Path) -> Result<Option<SidecarArrays>, String> {
    let Some(record) = &trace.attention else {
        return Ok(None);
    };
    read_sidecar(&base.join(&record.sidecar))
        .map(Some)
        .map_err(|error| format!("{}: {error:#}; its attention is left out", trace.id))
}

/// Why the generated rows `rows` do not belong to `trace` (another length, model or clip), if
/// they do not.
pub fn rows_mismatch(trace: &Trace, rows: &AttentionRows) -> Option<String> {
    let span = trace.input.audio_span[1] - trace.input.audio_span[0];
    let fits = rows.rows == trace.generation.ids.len()
        && rows.layers == trace.model.layers
        && rows.audio_tokens == span;
    let sidecar = trace.attention.as_ref().map_or("", |a| a.sidecar.as_str());
    (!fits).then(|| {
        format!(
            "{}: {sidecar} does not match its trace ({} rows, {} layers, {} audio tokens; the trace has {} tokens, {} layers, {} audio tokens); its attention is left out",
            trace.id,
            rows.rows,
            rows.layers,
            rows.audio_tokens,
            trace.generation.ids.len(),
            trace.model.layers,
            span
        )
    })
}

/// `summarize` with the sidecar already read (`read_arrays`).
pub fn summarize_read(
    trace: &Trace,
    arrays: &Result<Option<SidecarArrays>, String>,
    selection: &Selection,
) -> (ExampleSummary, Option<String>) {
    let benchmark = trace.benchmark.as_ref();
    let field = |value: Option<&String>| value.cloned().unwrap_or_else(|| "-".to_owned());
    let mut summary = ExampleSummary {
        id: trace.id.clone(),
        task: field(benchmark.and_then(|b| b.task.as_ref())),
        category: field(benchmark.and_then(|b| b.category.as_ref())),
        difficulty: field(benchmark.and_then(|b| b.difficulty.as_ref())),
        correct: trace.answer.as_ref().map(|a| a.correct),
        generated_tokens: trace.generation.ids.len(),
        steps: Vec::new(),
        token_ratio: Vec::new(),
        token_focus: Vec::new(),
        cafe: trace.labels.as_ref().map(CafeCounts::of),
        evidence: summarize_evidence(trace, None),
    };
    let arrays = match arrays {
        Ok(Some(arrays)) => arrays,
        Ok(None) => return (summary, None),
        Err(warning) => return (summary, Some(warning.clone())),
    };
    summary.evidence = summarize_evidence(trace, arrays.evidence.as_ref());
    let rows = &arrays.generated;
    if let Some(warning) = rows_mismatch(trace, rows) {
        return (summary, Some(warning));
    }
    let view = AttentionView::new(rows, trace.input.ids.len());
    let curves = (|| -> Result<_, crate::trace::metrics::MetricError> {
        let ratio = view.token_values(Metric::Ratio, selection)?;
        let focus = view.token_values(Metric::Focus, selection)?;
        let mut steps = Vec::new();
        for step in &trace.steps {
            let end = step.tokens[1].min(rows.rows);
            if let (Some(r), Some(f)) = (
                view.span_value(Metric::Ratio, [step.tokens[0], end], selection)?,
                view.span_value(Metric::Focus, [step.tokens[0], end], selection)?,
            ) {
                steps.push((step.kind, r, f));
            }
        }
        Ok((ratio, focus, steps))
    })();
    match curves {
        Ok((ratio, focus, steps)) => {
            summary.token_ratio = ratio;
            summary.token_focus = focus;
            summary.steps = steps;
            (summary, None)
        }
        Err(error) => (summary, Some(format!("{}: {error}", trace.id))),
    }
}
