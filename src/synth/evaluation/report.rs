//! The evaluation's results: answer accuracy, pooled CAFE counts and metrics, accuracy per
//! question type, perception accuracy per sound position, and the step-ratio decay (through the
//! same reductions `report` uses).

use std::collections::BTreeMap;

use serde::Serialize;

use super::eval_item_seed;
use super::EvalOptions;
use crate::cafe::CafeCounts;
use crate::report::stats::{slope, step_curve, step_points};
use crate::report::summary::summarize;
use crate::synth::checker::WRONG_PREFIX;
use crate::synth::phrasing::parse_perception;
use crate::synth::prompts::PromptStyle;
use crate::synth::question::Item;
use crate::trace::metrics::Selection;
use crate::trace::CafeLabel;
use crate::trace::Trace;

/// Accuracy over one question type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeAccuracy {
    pub question_type: String,
    pub n: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// How often the k-th perception step of a trace is right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionAccuracy {
    /// The sound's number in the chain ("Sound k at ...").
    pub sound: usize,
    pub claims: usize,
    pub acc_per: f64,
}

/// Mean audio ratio of the steps at one index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRatio {
    pub step: usize,
    pub mean_ratio: f64,
    pub examples: usize,
}

/// The evaluation's results (`--json` prints this object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub model: String,
    /// How the items were asked.
    pub prompt: PromptStyle,
    pub seed: u64,
    /// Item seeds evaluated: `seed << 32 | i` for i in 0..n.
    pub item_seeds: [u64; 2],
    pub n: usize,
    pub correct: usize,
    pub answer_accuracy: f64,
    /// Items whose run failed (counted as wrong).
    pub failed: usize,
    pub acc_per: Option<f64>,
    pub err_per: Option<f64>,
    pub err_use: Option<f64>,
    pub err_omit: Option<f64>,
    pub matched: usize,
    pub hallucinated: usize,
    pub misused: usize,
    pub neutral: usize,
    pub missed: usize,
    pub targets: usize,
    /// Items whose every perception and count claim is matched and no event is missed.
    pub perfect_perception: usize,
    pub per_type: Vec<TypeAccuracy>,
    pub per_sound: Vec<PositionAccuracy>,
    /// Among misused perception claims: how many got each detail wrong (`sound`, `loudness`,
    /// `onset`, `duration`; a claim can get several wrong).
    pub misused_details: BTreeMap<String, usize>,
    pub step_ratio: Vec<StepRatio>,
    /// Least-squares slope of step ratio against step index (negative: decay).
    pub step_ratio_slope: Option<f64>,
    pub mean_generated_tokens: f64,
    pub seconds: f64,
    /// The causal evidence checked against the truth (`--evidence`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::EvidenceTables>,
}

/// The report over the finished traces.
pub(super) fn reduce(
    options: &EvalOptions,
    traces: &[(&Item, Trace)],
    failed: usize,
    seconds: f64,
) -> EvalReport {
    let n = traces.len() + failed;
    let correct = traces
        .iter()
        .filter(|(_, t)| t.answer.as_ref().is_some_and(|a| a.correct))
        .count();
    let mut counts = CafeCounts::default();
    let mut perfect = 0;
    let mut types: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut positions: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    let mut details: BTreeMap<String, usize> = BTreeMap::new();
    for (item, trace) in traces {
        let labels = trace.labels.as_ref().expect("labelled by run_item");
        let trace_counts = CafeCounts::of(labels);
        counts.add(&trace_counts);
        let perception_ok = labels
            .steps
            .iter()
            .filter(|l| parse_perception(&l.event).is_some() || l.event.ends_with(" sounds"))
            .all(|l| l.label == CafeLabel::Matched);
        if perception_ok && labels.missed.is_empty() {
            perfect += 1;
        }
        for label in &labels.steps {
            if let Some((sound, _)) = parse_perception(&label.event) {
                let entry = positions.entry(sound).or_default();
                entry.0 += 1;
                entry.1 += usize::from(label.label == CafeLabel::Matched);
            }
            let wrong = label
                .note
                .as_deref()
                .and_then(|n| n.strip_prefix(WRONG_PREFIX));
            for detail in wrong.into_iter().flat_map(|w| w.split(", ")) {
                let name = detail.split(" (").next().unwrap_or(detail);
                *details.entry(name.to_owned()).or_default() += 1;
            }
        }
        let entry = types
            .entry(item.question.type_name().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(trace.answer.as_ref().is_some_and(|a| a.correct));
    }
    let summaries: Vec<_> = traces
        .iter()
        .map(|(_, trace)| summarize(trace, &options.out, &Selection::default()).0)
        .collect();
    let step_ratio = step_curve(&summaries)
        .into_iter()
        .filter(|p| p.split == "all")
        .map(|p| StepRatio {
            step: p.x,
            mean_ratio: p.mean_ratio,
            examples: p.examples,
        })
        .collect();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    EvalReport {
        model: options.model.display().to_string(),
        prompt: options.prompt,
        seed: options.seed,
        item_seeds: [
            eval_item_seed(options.seed, 0),
            eval_item_seed(options.seed, options.n.saturating_sub(1)),
        ],
        n,
        correct,
        answer_accuracy: ratio(correct, n),
        failed,
        acc_per: counts.acc_per(),
        err_per: counts.err_per(),
        err_use: counts.err_use(),
        err_omit: counts.err_omit(),
        matched: counts.matched,
        hallucinated: counts.hallucinated,
        misused: counts.misused,
        neutral: counts.neutral,
        missed: counts.missed,
        targets: counts.targets,
        perfect_perception: perfect,
        per_type: types
            .into_iter()
            .map(|(question_type, (n, correct))| TypeAccuracy {
                question_type,
                n,
                correct,
                accuracy: ratio(correct, n),
            })
            .collect(),
        per_sound: positions
            .into_iter()
            .map(|(sound, (claims, matched))| PositionAccuracy {
                sound,
                claims,
                acc_per: ratio(matched, claims),
            })
            .collect(),
        misused_details: details,
        step_ratio,
        step_ratio_slope: slope(&step_points(&summaries)),
        mean_generated_tokens: traces
            .iter()
            .map(|(_, t)| t.generation.ids.len() as f64)
            .sum::<f64>()
            / traces.len().max(1) as f64,
        seconds,
        evidence: None,
    }
}
