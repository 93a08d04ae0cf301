//! The report's causal evidence: what each trace's evidence says per step (reliance under each
//! counterfactual, the occlusion peak), whether its answer survives without the audio, and where
//! hiding the audio changes the answer; then the aggregates (the with/without-audio table, the
//! reliance decay, answer changes against the step the audio was hidden from).

use std::collections::BTreeMap;

use super::stats::slope;
use super::summary::ExampleSummary;
use crate::model::{Counterfactual, Evidence};
use crate::trace::evidence_metrics::{EvidenceView, Reliance};
use crate::trace::{StepKind, Trace};

/// One trace's evidence, reduced per step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceSummary {
    /// Per counterfactual measured: each step's mean delta and mean KL (in step order).
    pub step_reliance: Vec<(Counterfactual, Vec<(f32, f32)>)>,
    /// The answer regenerated without the audio: its counterfactual and whether it is right.
    pub without_audio: Option<(String, Option<bool>)>,
    /// Per intervention: the step the audio was hidden from, whether the answer changed, and
    /// whether the new answer is right (benchmark items only).
    pub interventions: Vec<(usize, bool, Option<bool>)>,
    /// Per step with occlusion: where its strongest window is and how strong.
    pub occlusion_peaks: Vec<OcclusionPeak>,
}

/// A step's occlusion strip at its largest drop.
#[derive(Debug, Clone, PartialEq)]
pub struct OcclusionPeak {
    pub step: usize,
    pub kind: StepKind,
    /// The window, in seconds of the clip.
    pub window: [f64; 2],
    pub peak_delta: f32,
    /// The strip's mean over every window.
    pub mean_delta: f32,
}

/// Reduces `trace`'s evidence record and its sidecar's evidence arrays (when read).
pub fn summarize_evidence(trace: &Trace, arrays: Option<&Evidence>) -> EvidenceSummary {
    let mut summary = EvidenceSummary::default();
    if let Some(record) = &trace.evidence {
        summary.without_audio = record.counterfactual_answer.as_ref().map(|answer| {
            (
                answer.counterfactual.clone(),
                answer.regeneration.answer.as_ref().map(|a| a.correct),
            )
        });
        summary.interventions = record
            .interventions
            .iter()
            .map(|i| {
                let correct = i.regeneration.answer.as_ref().map(|a| a.correct);
                (i.from_step, i.answer_changed, correct)
            })
            .collect();
    }
    let Some(evidence) = arrays else {
        return summary;
    };
    let view = EvidenceView::new(evidence);
    for counterfactual in view.counterfactuals() {
        let steps = trace
            .steps
            .iter()
            .filter_map(|step| {
                Some((
                    view.span_value(Reliance::Delta, counterfactual, step.tokens)?,
                    view.span_value(Reliance::Kl, counterfactual, step.tokens)?,
                ))
            })
            .collect();
        summary.step_reliance.push((counterfactual, steps));
    }
    let windows = trace
        .evidence
        .as_ref()
        .and_then(|r| r.occlusion.as_ref())
        .map(|o| o.windows.clone())
        .unwrap_or_default();
    for step in &trace.steps {
        let Some(strip) = view.occlusion_strip(step.tokens) else {
            continue;
        };
        let Some((peak, &peak_delta)) = strip.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))
        else {
            continue;
        };
        let Some(&window) = windows.get(peak) else {
            continue;
        };
        summary.occlusion_peaks.push(OcclusionPeak {
            step: step.index,
            kind: step.kind,
            window,
            peak_delta,
            mean_delta: strip.iter().sum::<f32>() / strip.len() as f32,
        });
    }
    summary
}

/// Accuracy with and without the audio, over the items regenerated with one counterfactual.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioNeedRow {
    pub counterfactual: String,
    pub items: usize,
    pub correct_with_audio: usize,
    pub correct_without_audio: usize,
    /// Right with the audio and wrong without it.
    pub need_audio: usize,
}

impl AudioNeedRow {
    fn share(&self, part: usize) -> f64 {
        part as f64 / self.items.max(1) as f64
    }
    pub fn accuracy_with(&self) -> f64 {
        self.share(self.correct_with_audio)
    }
    pub fn accuracy_without(&self) -> f64 {
        self.share(self.correct_without_audio)
    }
}

/// The with/without-audio table: one row per counterfactual used for the answers.
pub fn audio_need_rows(summaries: &[ExampleSummary]) -> Vec<AudioNeedRow> {
    let mut rows: BTreeMap<String, AudioNeedRow> = BTreeMap::new();
    for summary in summaries {
        let (Some(with), Some((counterfactual, Some(without)))) =
            (summary.correct, &summary.evidence.without_audio)
        else {
            continue;
        };
        let row = rows
            .entry(counterfactual.clone())
            .or_insert_with(|| AudioNeedRow {
                counterfactual: counterfactual.clone(),
                items: 0,
                correct_with_audio: 0,
                correct_without_audio: 0,
                need_audio: 0,
            });
        row.items += 1;
        row.correct_with_audio += usize::from(with);
        row.correct_without_audio += usize::from(*without);
        row.need_audio += usize::from(with && !without);
    }
    rows.into_values().collect()
}

/// Whether an item needs the audio: `Some(true)` when its answer without the audio is wrong,
/// `Some(false)` when it is right (answerable from the text alone), `None` when not measured.
pub fn needs_audio(summary: &ExampleSummary) -> Option<bool> {
    summary
        .evidence
        .without_audio
        .as_ref()
        .and_then(|(_, correct)| correct.map(|c| !c))
}

/// Mean step reliance at one step index.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliancePoint {
    pub counterfactual: Counterfactual,
    pub split: String,
    pub step: usize,
    pub mean_delta: f64,
    pub mean_kl: f64,
    pub examples: usize,
}

/// Whether an example belongs to a split.
type Member = fn(&ExampleSummary) -> bool;

/// Mean step delta and KL against step index, per counterfactual, for all items and split by
/// whether the item needs the audio (where answers without it were made).
pub fn reliance_curve(summaries: &[ExampleSummary]) -> Vec<ReliancePoint> {
    let mut points = Vec::new();
    let counterfactuals: Vec<Counterfactual> = Counterfactual::ALL
        .into_iter()
        .filter(|c| summaries.iter().any(|s| reliance_of(s, *c).is_some()))
        .collect();
    let splits: [(&str, Member); 3] = [
        ("all", |_| true),
        ("needs_audio", |s| needs_audio(s) == Some(true)),
        ("answerable_without_audio", |s| {
            needs_audio(s) == Some(false)
        }),
    ];
    for counterfactual in counterfactuals {
        for (split, member) in splits {
            let members: Vec<&[(f32, f32)]> = summaries
                .iter()
                .filter(|s| member(s))
                .filter_map(|s| reliance_of(s, counterfactual))
                .collect();
            let longest = members.iter().map(|m| m.len()).max().unwrap_or(0);
            for step in 0..longest {
                let values: Vec<(f32, f32)> = members
                    .iter()
                    .filter_map(|m| m.get(step))
                    .copied()
                    .collect();
                let n = values.len() as f64;
                points.push(ReliancePoint {
                    counterfactual,
                    split: split.to_owned(),
                    step,
                    mean_delta: values.iter().map(|v| f64::from(v.0)).sum::<f64>() / n,
                    mean_kl: values.iter().map(|v| f64::from(v.1)).sum::<f64>() / n,
                    examples: values.len(),
                });
            }
        }
    }
    points
}

fn reliance_of(summary: &ExampleSummary, counterfactual: Counterfactual) -> Option<&[(f32, f32)]> {
    summary
        .evidence
        .step_reliance
        .iter()
        .find(|(c, _)| *c == counterfactual)
        .map(|(_, steps)| steps.as_slice())
}

/// Least-squares slope of step delta on step index, every step of every trace pooled.
pub fn reliance_slope(summaries: &[ExampleSummary], counterfactual: Counterfactual) -> Option<f64> {
    let points: Vec<(f64, f64)> = summaries
        .iter()
        .filter_map(|s| reliance_of(s, counterfactual))
        .flat_map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, &(delta, _))| (i as f64, f64::from(delta)))
        })
        .collect();
    slope(&points)
}

/// How often hiding the audio from step `step` on changed the answer, and how often the new
/// answer is still right.
#[derive(Debug, Clone, PartialEq)]
pub struct InterventionPoint {
    pub step: usize,
    pub tried: usize,
    pub changed: usize,
    /// Benchmark items among `tried`, and how many of them are answered right after it.
    pub scored: usize,
    pub correct: usize,
}

impl InterventionPoint {
    pub fn changed_share(&self) -> f64 {
        self.changed as f64 / self.tried.max(1) as f64
    }

    /// Accuracy after hiding the audio from this step on (`None` without benchmark items).
    pub fn accuracy_after(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.correct as f64 / self.scored as f64)
    }
}

/// Answer changes against the step the audio was hidden from.
pub fn intervention_curve(summaries: &[ExampleSummary]) -> Vec<InterventionPoint> {
    let mut by_step: BTreeMap<usize, InterventionPoint> = BTreeMap::new();
    for &(step, changed, correct) in summaries.iter().flat_map(|s| &s.evidence.interventions) {
        let point = by_step.entry(step).or_insert(InterventionPoint {
            step,
            tried: 0,
            changed: 0,
            scored: 0,
            correct: 0,
        });
        point.tried += 1;
        point.changed += usize::from(changed);
        point.scored += usize::from(correct.is_some());
        point.correct += usize::from(correct == Some(true));
    }
    by_step.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(correct: bool, without: Option<bool>, deltas: &[f32]) -> ExampleSummary {
        ExampleSummary {
            id: "x".into(),
            task: "t".into(),
            category: "c".into(),
            difficulty: "d".into(),
            correct: Some(correct),
            generated_tokens: 10,
            steps: Vec::new(),
            token_ratio: Vec::new(),
            token_focus: Vec::new(),
            cafe: None,
            evidence: EvidenceSummary {
                step_reliance: vec![(
                    Counterfactual::Silence,
                    deltas.iter().map(|&d| (d, d / 2.0)).collect(),
                )],
                without_audio: without.map(|w| ("silence".to_owned(), Some(w))),
                interventions: vec![(0, true, Some(false)), (1, !correct, Some(correct))],
                occlusion_peaks: Vec::new(),
            },
        }
    }

    #[test]
    fn the_audio_need_table_counts_items_answered_both_ways() {
        let summaries = [
            summary(true, Some(false), &[]),
            summary(true, Some(true), &[]),
            summary(false, Some(false), &[]),
            summary(true, None, &[]),
        ];
        let rows = audio_need_rows(&summaries);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (
                row.items,
                row.correct_with_audio,
                row.correct_without_audio,
                row.need_audio
            ),
            (3, 2, 1, 1)
        );
        assert!((row.accuracy_without() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(needs_audio(&summaries[0]), Some(true));
        assert_eq!(needs_audio(&summaries[1]), Some(false));
        assert_eq!(needs_audio(&summaries[3]), None);
    }

    #[test]
    fn reliance_decays_by_step_and_splits_by_audio_need() {
        let summaries = [
            summary(true, Some(false), &[2.0, 1.0, 0.0]),
            summary(true, Some(true), &[1.0, 0.0]),
        ];
        let curve = reliance_curve(&summaries);
        let all: Vec<_> = curve.iter().filter(|p| p.split == "all").collect();
        assert_eq!(all.len(), 3);
        assert!((all[0].mean_delta - 1.5).abs() < 1e-12 && all[0].examples == 2);
        assert!((all[0].mean_kl - 0.75).abs() < 1e-12);
        let needs: Vec<_> = curve.iter().filter(|p| p.split == "needs_audio").collect();
        assert_eq!(needs.len(), 3, "only the first item needs the audio");
        let slope = reliance_slope(&summaries, Counterfactual::Silence).unwrap();
        assert!(slope < 0.0);
        assert_eq!(reliance_slope(&summaries, Counterfactual::Masked), None);

        let interventions = intervention_curve(&summaries);
        assert_eq!(interventions.len(), 2);
        assert_eq!((interventions[0].tried, interventions[0].changed), (2, 2));
        assert_eq!((interventions[1].tried, interventions[1].changed), (2, 0));
        assert_eq!(interventions[0].accuracy_after(), Some(0.0));
        assert_eq!(interventions[1].accuracy_after(), Some(1.0));
    }
}
