//! Aggregates over summaries: accuracy by group, decay curves by step index and by token
//! position, the decay slope, and the correlation of reasoning length with accuracy.

use std::collections::BTreeMap;

use super::summary::ExampleSummary;
// Pearson correlation (of reasoning length with accuracy, here) lives in the model layer, the
// lowest one that needs it (`drift` correlates audio maps with it).
pub use crate::model::drift::pearson;

/// Accuracy of one group of benchmark items.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyRow {
    pub by: &'static str,
    pub group: String,
    pub items: usize,
    pub correct: usize,
}

impl AccuracyRow {
    pub fn accuracy(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            self.correct as f64 / self.items as f64
        }
    }
}

/// Picks the group an example belongs to.
type GroupKey = fn(&ExampleSummary) -> &str;

/// Accuracy overall, then by task, category and difficulty (scored items only).
pub fn accuracy_rows(summaries: &[ExampleSummary]) -> Vec<AccuracyRow> {
    let scored: Vec<(&ExampleSummary, bool)> = summaries
        .iter()
        .filter_map(|s| s.correct.map(|c| (s, c)))
        .collect();
    let mut rows = vec![AccuracyRow {
        by: "overall",
        group: "all".into(),
        items: scored.len(),
        correct: scored.iter().filter(|(_, c)| *c).count(),
    }];
    let keys: [(&'static str, GroupKey); 3] = [
        ("task", |s| &s.task),
        ("category", |s| &s.category),
        ("difficulty", |s| &s.difficulty),
    ];
    for (by, key) in keys {
        let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (summary, correct) in &scored {
            let entry = groups.entry(key(summary).to_owned()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(*correct);
        }
        rows.extend(
            groups
                .into_iter()
                .map(|(group, (items, correct))| AccuracyRow {
                    by,
                    group,
                    items,
                    correct,
                }),
        );
    }
    rows
}

/// A point of a decay curve: the mean of a quantity over the examples that reach position `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Which examples: "all", "correct", "incorrect", "needs_audio", "answerable_without_audio"
    /// (items answered without the audio too), or "task:<name>".
    pub split: String,
    /// Step index, or the first token of the bin.
    pub x: usize,
    pub mean_ratio: f64,
    pub mean_focus: f64,
    pub examples: usize,
}

fn splits(summaries: &[ExampleSummary]) -> Vec<(String, Vec<&ExampleSummary>)> {
    let mut out = vec![
        ("all".to_owned(), summaries.iter().collect::<Vec<_>>()),
        (
            "correct".to_owned(),
            summaries
                .iter()
                .filter(|s| s.correct == Some(true))
                .collect(),
        ),
        (
            "incorrect".to_owned(),
            summaries
                .iter()
                .filter(|s| s.correct == Some(false))
                .collect(),
        ),
    ];
    // Items answered without the audio as well: the curves of those that need it, and of those
    // answerable from the text alone (the difficulty confound's control).
    for (split, needs) in [("needs_audio", true), ("answerable_without_audio", false)] {
        let members: Vec<_> = summaries
            .iter()
            .filter(|s| super::evidence::needs_audio(s) == Some(needs))
            .collect();
        if !members.is_empty() {
            out.push((split.to_owned(), members));
        }
    }
    let mut tasks: BTreeMap<&str, Vec<&ExampleSummary>> = BTreeMap::new();
    for summary in summaries {
        tasks.entry(&summary.task).or_default().push(summary);
    }
    if tasks.len() > 1 {
        out.extend(
            tasks
                .into_iter()
                .map(|(task, list)| (format!("task:{task}"), list)),
        );
    }
    out
}

/// Mean step ratio and focus against step index.
pub fn step_curve(summaries: &[ExampleSummary]) -> Vec<CurvePoint> {
    let mut points = Vec::new();
    for (split, members) in splits(summaries) {
        let longest = members.iter().map(|s| s.steps.len()).max().unwrap_or(0);
        for index in 0..longest {
            let values: Vec<(f32, f32)> = members
                .iter()
                .filter_map(|s| s.steps.get(index))
                .map(|&(_, r, f)| (r, f))
                .collect();
            points.push(mean_point(&split, index, &values));
        }
    }
    points
}

/// Mean token ratio and focus against generated-token position, in bins of `bin` tokens.
pub fn token_curve(summaries: &[ExampleSummary], bin: usize) -> Vec<CurvePoint> {
    let bin = bin.max(1);
    let mut points = Vec::new();
    for (split, members) in splits(summaries) {
        let longest = members
            .iter()
            .map(|s| s.token_ratio.len())
            .max()
            .unwrap_or(0);
        for start in (0..longest).step_by(bin) {
            // Each example contributes its mean over the bin, so long bins do not weigh more.
            let values: Vec<(f32, f32)> = members
                .iter()
                .filter(|s| s.token_ratio.len() > start)
                .map(|s| {
                    let end = (start + bin).min(s.token_ratio.len());
                    let n = (end - start) as f32;
                    (
                        s.token_ratio[start..end].iter().sum::<f32>() / n,
                        s.token_focus[start..end].iter().sum::<f32>() / n,
                    )
                })
                .collect();
            points.push(mean_point(&split, start, &values));
        }
    }
    points
}

fn mean_point(split: &str, x: usize, values: &[(f32, f32)]) -> CurvePoint {
    let n = values.len().max(1) as f64;
    CurvePoint {
        split: split.to_owned(),
        x,
        mean_ratio: values.iter().map(|v| f64::from(v.0)).sum::<f64>() / n,
        mean_focus: values.iter().map(|v| f64::from(v.1)).sum::<f64>() / n,
        examples: values.len(),
    }
}

/// Least-squares slope of `y` on `x`; `None` with fewer than two distinct `x`.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Every (step index, step ratio) point, pooled over examples: what the decay slope fits.
pub fn step_points(summaries: &[ExampleSummary]) -> Vec<(f64, f64)> {
    summaries
        .iter()
        .flat_map(|s| {
            s.steps
                .iter()
                .enumerate()
                .map(|(i, &(_, r, _))| (i as f64, f64::from(r)))
        })
        .collect()
}

/// (generated tokens, 1 if correct else 0) for scored examples.
pub fn length_correct_pairs(summaries: &[ExampleSummary]) -> Vec<(f64, f64)> {
    summaries
        .iter()
        .filter_map(|s| {
            s.correct
                .map(|c| (s.generated_tokens as f64, f64::from(u8::from(c))))
        })
        .collect()
}

/// (generated tokens, perception accuracy) for labelled examples with at least one claim.
pub fn length_perception_pairs(summaries: &[ExampleSummary]) -> Vec<(f64, f64)> {
    summaries
        .iter()
        .filter_map(|s| Some((s.generated_tokens as f64, s.cafe?.acc_per()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::StepKind;

    fn summary(
        id: &str,
        task: &str,
        correct: bool,
        steps: &[f32],
        tokens: &[f32],
    ) -> ExampleSummary {
        ExampleSummary {
            id: id.into(),
            task: task.into(),
            category: "c".into(),
            difficulty: "easy".into(),
            correct: Some(correct),
            generated_tokens: tokens.len(),
            steps: steps
                .iter()
                .map(|&r| (StepKind::Other, r, r * 10.0))
                .collect(),
            token_ratio: tokens.to_vec(),
            token_focus: tokens.iter().map(|r| r * 10.0).collect(),
            cafe: None,
            evidence: Default::default(),
        }
    }

    #[test]
    fn accuracy_by_group() {
        let s = vec![
            summary("a", "sound", true, &[], &[]),
            summary("b", "sound", false, &[], &[]),
            summary("c", "music", true, &[], &[]),
        ];
        let rows = accuracy_rows(&s);
        assert_eq!((rows[0].items, rows[0].correct), (3, 2));
        let music = rows
            .iter()
            .find(|r| r.by == "task" && r.group == "music")
            .unwrap();
        assert_eq!((music.items, music.correct), (1, 1));
        assert!((rows[0].accuracy() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn curves_average_over_the_examples_that_reach_each_point() {
        let s = vec![
            summary("a", "sound", true, &[0.4, 0.2], &[0.4, 0.4, 0.2]),
            summary("b", "sound", false, &[0.2], &[0.2]),
        ];
        let steps = step_curve(&s);
        let all: Vec<_> = steps.iter().filter(|p| p.split == "all").collect();
        assert_eq!(all.len(), 2);
        assert!((all[0].mean_ratio - 0.3).abs() < 1e-6 && all[0].examples == 2);
        assert!((all[1].mean_ratio - 0.2).abs() < 1e-6 && all[1].examples == 1);
        assert!((all[0].mean_focus - 3.0).abs() < 1e-5);
        let tokens = token_curve(&s, 2);
        let all: Vec<_> = tokens.iter().filter(|p| p.split == "all").collect();
        // Bin 0: a's mean 0.4, b's 0.2 → 0.3; bin 2: a alone, 0.2.
        assert!((all[0].mean_ratio - 0.3).abs() < 1e-6);
        assert_eq!((all[1].x, all[1].examples), (2, 1));
        let incorrect: Vec<_> = tokens.iter().filter(|p| p.split == "incorrect").collect();
        assert_eq!(incorrect.len(), 1);
    }

    #[test]
    fn slope_and_correlation() {
        assert!((slope(&[(0.0, 1.0), (1.0, 0.5), (2.0, 0.0)]).unwrap() + 0.5).abs() < 1e-12);
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 2.0)]), None);
        let r = pearson(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)]).unwrap();
        assert!(r > 0.99);
        assert!(
            (pearson(&[(1.0, 1.0), (2.0, 0.0), (3.0, 1.0), (4.0, 0.0)]).unwrap() + 0.4472136).abs()
                < 1e-6
        );
        assert_eq!(pearson(&[(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)]), None);
    }
}
