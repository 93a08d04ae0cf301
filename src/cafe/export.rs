//! Merged labels as rows: one per claim (the label that counts, or with `all` every source's)
//! and one per missed event, with the trace id, the step's text, the source and who gave it. The
//! rows are what `auscult label export` writes as JSON Lines or CSV, and a JSON Lines export
//! reads back as a label file (`label_files`), so `report` can take it.

use serde::{Deserialize, Serialize};

use super::claims;

use crate::trace::{CafeLabel, LabelSource, SourceKind, Trace, TraceLabels};

/// One exported label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    /// The trace's id.
    pub trace: String,
    /// The step (empty for a missed event, which belongs to the trace).
    pub step: Option<usize>,
    /// The step's text.
    pub step_text: String,
    pub event: String,
    /// `matched`, `hallucinated`, `misused`, `neutral`, or `missed`.
    pub label: String,
    /// `human`, `judge` or `auto`.
    pub source: String,
    /// The annotator's name, or the judge's model (empty for `auto`).
    pub annotator: String,
    pub note: Option<String>,
    /// Whether this label is the one that counts (always true without `all`).
    pub counts: bool,
    /// Ground-truth events of the trace (`N_tgt`), when known.
    pub targets: Option<usize>,
}

/// The label name `missed` rows carry.
pub const MISSED: &str = "missed";

/// The rows of one trace, whose labels hold every source already.
pub fn export_rows(trace: &Trace, all: bool) -> Vec<ExportRow> {
    let Some(labels) = &trace.labels else {
        return Vec::new();
    };
    let step_text = |step: usize| {
        trace
            .steps
            .get(step)
            .map_or_else(String::new, |s| s.text.clone())
    };
    let row = |step: Option<usize>,
               event: &str,
               label: &str,
               source: &LabelSource,
               note: Option<&String>| {
        ExportRow {
            trace: trace.id.clone(),
            step,
            step_text: step.map_or_else(String::new, step_text),
            event: event.to_owned(),
            label: label.to_owned(),
            source: source.kind.name().to_owned(),
            annotator: source.name.clone(),
            note: note.cloned(),
            counts: true,
            targets: labels.targets,
        }
    };
    let mut rows = Vec::new();
    let mut claims = claims(labels);
    claims.sort_by_key(|c| c.step);
    for claim in &claims {
        let winner = claim.winner();
        let chosen: Vec<_> = if all {
            claim.labels.clone()
        } else {
            vec![winner]
        };
        for label in chosen {
            let mut exported = row(
                Some(claim.step),
                claim.event,
                label.label.name(),
                &label.source,
                label.note.as_ref(),
            );
            exported.counts = std::ptr::eq(label, winner);
            rows.push(exported);
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for missed in &labels.missed {
        let first = !seen.contains(&missed.event.as_str());
        if first || all {
            let mut exported = row(None, &missed.event, MISSED, &missed.source, None);
            exported.counts = first;
            rows.push(exported);
            seen.push(&missed.event);
        }
    }
    rows
}

/// Rows read back: the labels of each trace they name (the rows that count only).
pub fn labels_from_rows(rows: &[ExportRow]) -> Result<Vec<(String, TraceLabels)>, String> {
    let mut traces: Vec<(String, TraceLabels)> = Vec::new();
    for row in rows.iter().filter(|r| r.counts) {
        let kind = SourceKind::from_name(&row.source).ok_or_else(|| {
            format!(
                "a row of trace {:?} has source {:?} (expected auto, judge or human)",
                row.trace, row.source
            )
        })?;
        let source = LabelSource {
            kind,
            name: row.annotator.clone(),
        };
        let index = match traces.iter().position(|(id, _)| *id == row.trace) {
            Some(i) => i,
            None => {
                traces.push((row.trace.clone(), TraceLabels::default()));
                traces.len() - 1
            }
        };
        let labels = &mut traces[index].1;
        labels.targets = labels.targets.or(row.targets);
        match (row.label.as_str(), row.step) {
            (MISSED, _) => labels.missed.push(crate::trace::MissedEvent {
                event: row.event.clone(),
                source,
            }),
            (name, Some(step)) => {
                let label: CafeLabel = name
                    .parse()
                    .map_err(|_| format!("unknown label {name:?}"))?;
                labels.steps.push(crate::trace::StepLabel {
                    step,
                    event: row.event.clone(),
                    label,
                    source,
                    note: row.note.clone(),
                });
            }
            (name, None) => return Err(format!("a {name:?} label without a step")),
        }
    }
    Ok(traces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::{example_trace, tones_spec};
    use crate::trace::{MissedEvent, StepLabel};

    #[test]
    fn rows_carry_the_step_text_and_read_back_to_the_same_counts() {
        let (mut trace, _) = example_trace(&tones_spec());
        let labels = trace.labels.get_or_insert_with(TraceLabels::default);
        labels.steps.push(StepLabel {
            step: 8,
            event: labels
                .steps
                .iter()
                .find(|s| s.step == 8)
                .unwrap()
                .event
                .clone(),
            label: CafeLabel::Misused,
            source: "human:ann".parse().unwrap(),
            note: Some("a bird is not in the clip".into()),
        });
        labels.missed.push(MissedEvent {
            event: "pink noise burst".into(),
            source: "human:ann".parse().unwrap(),
        });
        let before = super::super::CafeCounts::of(trace.labels.as_ref().unwrap());

        let rows = export_rows(&trace, false);
        let human = rows
            .iter()
            .find(|r| r.source == "human" && r.step.is_some())
            .unwrap();
        assert_eq!(human.annotator, "ann");
        assert_eq!(human.label, "misused");
        assert_eq!(human.step_text, trace.steps[8].text);
        assert!(rows.iter().any(|r| r.label == MISSED && r.step.is_none()));
        let all = export_rows(&trace, true);
        assert_eq!(all.len(), rows.len() + 1, "the auto label step 8 replaced");
        assert!(all
            .iter()
            .any(|r| r.source == "auto" && r.step == Some(8) && !r.counts));

        let back = labels_from_rows(&all).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(super::super::CafeCounts::of(&back[0].1), before);
    }

    /// A source the format does not know (an export edited by hand) is refused, naming the
    /// trace and the source as the file writes them.
    #[test]
    fn an_unknown_source_is_refused_with_its_trace_and_spelling() {
        let (trace, _) = example_trace(&tones_spec());
        let mut rows = export_rows(&trace, false);
        rows[0].source = "Human".into();
        let error = labels_from_rows(&rows).unwrap_err();
        assert!(
            error.contains("\"demo-tones\"") && error.contains("\"Human\""),
            "{error}"
        );
    }
}
