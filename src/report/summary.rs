//! What the report needs from each trace: its verdict, its labels of task, category and
//! difficulty, its attention reduced to per-step and per-token curves with the metrics API, and
//! its causal evidence (`evidence`).

use std::path::Path;

use super::evidence::{summarize_evidence, EvidenceSummary};
use crate::cafe::CafeCounts;
use crate::trace::metrics::{AttentionView, Metric, Selection};
use crate::trace::{read_sidecar, StepKind, Trace};

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
    let Some(record) = &trace.attention else {
        return (summary, None);
    };
    let path = base.join(&record.sidecar);
    let arrays = match read_sidecar(&path) {
        Ok(arrays) => arrays,
        Err(error) => {
            return (
                summary,
                Some(format!(
                    "{}: {error:#}; its attention is left out",
                    trace.id
                )),
            )
        }
    };
    summary.evidence = summarize_evidence(trace, arrays.evidence.as_ref());
    let rows = &arrays.generated;
    let span = trace.input.audio_span[1] - trace.input.audio_span[0];
    if rows.rows != trace.generation.ids.len()
        || rows.layers != trace.model.layers
        || rows.audio_tokens != span
    {
        return (
            summary,
            Some(format!(
                "{}: {} does not match its trace ({} rows, {} layers, {} audio tokens; the trace has {} tokens, {} layers, {} audio tokens); its attention is left out",
                trace.id,
                path.display(),
                rows.rows,
                rows.layers,
                rows.audio_tokens,
                trace.generation.ids.len(),
                trace.model.layers,
                span
            )),
        );
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
