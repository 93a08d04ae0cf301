//! `demo eval --evidence`: the causal evidence of every evaluated item checked against the truth
//! the synthetic items know. Each perception claim names an event with an exact onset and
//! duration, so we can ask how often a step's attention peak and its occlusion peak fall inside
//! the event it names (against the chance of a peak placed at random), how much matched,
//! misused and hallucinated claims rely on the audio, and whether reliance decays along the chain
//! as attention does.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::checker::label_steps_with_events;
use super::super::phrasing::parse_perception;
use super::super::question::Item;
use crate::model::Counterfactual;
use crate::report::stats::{pearson, slope};
use crate::runner::{EvidenceOptions, OcclusionSettings};
use crate::trace::evidence_metrics::{EvidenceView, Reliance};
use crate::trace::metrics::{AttentionView, Metric, Selection};
use crate::trace::{CafeLabel, SidecarArrays, Trace};

/// What `--evidence` measures for each item: reliance under both counterfactuals, occlusion in
/// windows of a quarter second every eighth, the answer with silence, and the interventions.
pub fn evidence_options() -> EvidenceOptions {
    EvidenceOptions {
        reliance: Counterfactual::ALL.to_vec(),
        occlusion: Some(OcclusionSettings {
            window_seconds: OCCLUSION_WINDOW,
            hop_seconds: OCCLUSION_WINDOW / 2.0,
        }),
        counterfactual_answer: Some(Counterfactual::Silence),
        hide_audio_from_steps: true,
    }
}

/// The occlusion window of `--evidence`, seconds: the shortest events last 0.2 s.
pub const OCCLUSION_WINDOW: f64 = 0.25;

/// One labelled step of one item.
#[derive(Debug, Clone)]
pub(super) struct ClaimEvidence {
    label: CafeLabel,
    perception: bool,
    /// Whether the step's attention peak and occlusion peak fall inside the event it names, and
    /// the chance of that for a peak placed at random (perception claims naming an event only).
    localisation: Option<Localisation>,
    /// Step means: delta under silence and masked, KL and flip share under silence.
    reliance: [Option<f32>; 4],
}

#[derive(Debug, Clone, Copy)]
struct Localisation {
    attention_inside: bool,
    occlusion_inside: Option<bool>,
    attention_chance: f64,
    occlusion_chance: f64,
}

/// One step's audio ratio, delta under silence and delta under masked.
type StepValues = (f32, Option<f32>, Option<f32>);

/// What one item's evidence says.
#[derive(Debug, Clone, Default)]
pub(super) struct ItemEvidence {
    claims: Vec<ClaimEvidence>,
    /// Per step index: audio ratio, delta under silence, delta under masked.
    steps: Vec<StepValues>,
    without_audio_correct: Option<bool>,
    /// Per intervention: the step hidden from, whether the answer changed, whether it is right.
    interventions: Vec<(usize, bool, bool)>,
    /// Seconds of the plain run and of each measurement.
    seconds: BTreeMap<String, f64>,
}

/// Reduces one item's trace and arrays (with evidence measured) against its truth.
pub(super) fn item_evidence(item: &Item, trace: &Trace, arrays: &SidecarArrays) -> ItemEvidence {
    let mut out = ItemEvidence::default();
    let record = trace.evidence.clone().unwrap_or_default();
    out.seconds = record.seconds.clone();
    out.seconds.insert(
        "run".into(),
        trace.timings.prefill_seconds + trace.timings.decode_seconds,
    );
    out.without_audio_correct = record
        .counterfactual_answer
        .as_ref()
        .and_then(|a| a.regeneration.answer.as_ref())
        .map(|a| a.correct);
    out.interventions = record
        .interventions
        .iter()
        .map(|i| {
            let right = i.regeneration.answer.as_ref().is_some_and(|a| a.correct);
            (i.from_step, i.answer_changed, right)
        })
        .collect();
    let Some(evidence) = &arrays.evidence else {
        return out;
    };
    let attention = AttentionView::new(&arrays.generated, trace.input.ids.len());
    let causal = EvidenceView::new(evidence);
    let all = Selection::default();
    let texts: Vec<&str> = trace.steps.iter().map(|s| s.text.as_str()).collect();
    let (labels, named) = label_steps_with_events(item, &texts);
    let windows = record.occlusion.map(|o| o.windows).unwrap_or_default();
    let per_token = trace.audio.seconds_per_audio_token;
    let silence = Counterfactual::Silence;
    let masked = Counterfactual::Masked;
    for step in &trace.steps {
        let ratio = attention
            .span_value(Metric::Ratio, step.tokens, &all)
            .ok()
            .flatten();
        if let Some(ratio) = ratio {
            out.steps.push((
                ratio,
                causal.span_value(Reliance::Delta, silence, step.tokens),
                causal.span_value(Reliance::Delta, masked, step.tokens),
            ));
        }
    }
    for label in &labels.steps {
        let Some(step) = trace.steps.get(label.step) else {
            continue;
        };
        let localisation = named.get(label.step).copied().flatten().and_then(|event| {
            let event = &item.events[event];
            let span = (f64::from(event.onset), f64::from(event.end()));
            let inside = |t: f64| span.0 <= t && t < span.1;
            let map = attention.span_map(step.tokens, &all).ok()?;
            let peak = argmax(&map)?;
            let centres: Vec<f64> = (0..map.len())
                .map(|j| (j as f64 + 0.5) * per_token)
                .collect();
            let strip = causal.occlusion_strip(step.tokens);
            let window_centres: Vec<f64> = windows.iter().map(|w| (w[0] + w[1]) / 2.0).collect();
            let share_inside = |centres: &[f64]| {
                centres.iter().filter(|&&t| inside(t)).count() as f64 / centres.len().max(1) as f64
            };
            Some(Localisation {
                attention_inside: inside(centres[peak]),
                occlusion_inside: strip
                    .as_deref()
                    .and_then(argmax)
                    .and_then(|w| window_centres.get(w))
                    .map(|&t| inside(t)),
                attention_chance: share_inside(&centres),
                occlusion_chance: share_inside(&window_centres),
            })
        });
        out.claims.push(ClaimEvidence {
            label: label.label,
            perception: parse_perception(&step.text).is_some(),
            localisation,
            reliance: [
                causal.span_value(Reliance::Delta, silence, step.tokens),
                causal.span_value(Reliance::Delta, masked, step.tokens),
                causal.span_value(Reliance::Kl, silence, step.tokens),
                causal.span_value(Reliance::Flip, silence, step.tokens),
            ],
        });
    }
    out
}

fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// How often the peaks fall inside the named event, per CAFE label of the claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalisationRow {
    pub label: String,
    pub claims: usize,
    pub attention_peak_inside: f64,
    pub occlusion_peak_inside: Option<f64>,
    /// The share a peak placed at random would get (the event's share of the clip).
    pub attention_chance: f64,
    pub occlusion_chance: f64,
}

/// Mean step reliance of the claims with one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelianceRow {
    pub label: String,
    /// "perception" (a claim about one sound) or "other" (counts and reasoning).
    pub kind: String,
    pub steps: usize,
    pub delta_silence: Option<f64>,
    pub delta_masked: Option<f64>,
    pub kl_silence: Option<f64>,
    pub flip_share_silence: Option<f64>,
}

/// Mean attention ratio and reliance of the steps at one index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecayRow {
    pub step: usize,
    pub items: usize,
    pub ratio: f64,
    pub delta_silence: Option<f64>,
    pub delta_masked: Option<f64>,
}

/// Seconds of each measurement as a multiple of the plain run's (means over items).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    pub measurement: String,
    pub mean_seconds: f64,
    pub times_the_run: f64,
}

/// The evidence tables of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceTables {
    pub items: usize,
    pub accuracy_without_audio: Option<f64>,
    pub localisation: Vec<LocalisationRow>,
    pub reliance_by_label: Vec<RelianceRow>,
    pub decay: Vec<DecayRow>,
    pub ratio_slope: Option<f64>,
    pub delta_silence_slope: Option<f64>,
    pub delta_masked_slope: Option<f64>,
    /// Pearson correlation of step audio ratio with step delta under silence, steps pooled.
    pub ratio_delta_r: Option<f64>,
    /// By k: interventions (the audio hidden from step k on) tried, the share whose answer
    /// changed, and the share still answered right.
    pub answer_changed_by_step: Vec<(usize, usize, f64, f64)>,
    pub costs: Vec<CostRow>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The tables over every item's evidence.
pub(super) fn evidence_tables(items: &[ItemEvidence]) -> EvidenceTables {
    let labels = [
        CafeLabel::Matched,
        CafeLabel::Misused,
        CafeLabel::Hallucinated,
    ];
    let claims: Vec<&ClaimEvidence> = items.iter().flat_map(|i| &i.claims).collect();
    let localisation = labels
        .iter()
        .filter_map(|&label| {
            let located: Vec<Localisation> = claims
                .iter()
                .filter(|c| c.label == label)
                .filter_map(|c| c.localisation)
                .collect();
            let n = located.len();
            (n > 0).then(|| LocalisationRow {
                label: label.to_string(),
                claims: n,
                attention_peak_inside: located.iter().filter(|l| l.attention_inside).count() as f64
                    / n as f64,
                occlusion_peak_inside: mean(
                    located
                        .iter()
                        .filter_map(|l| l.occlusion_inside)
                        .map(|inside| f64::from(u8::from(inside))),
                ),
                attention_chance: mean(located.iter().map(|l| l.attention_chance)).unwrap_or(0.0),
                occlusion_chance: mean(located.iter().map(|l| l.occlusion_chance)).unwrap_or(0.0),
            })
        })
        .collect();
    let mut reliance_by_label = Vec::new();
    for perception in [true, false] {
        for &label in &labels {
            let group: Vec<&&ClaimEvidence> = claims
                .iter()
                .filter(|c| c.label == label && c.perception == perception)
                .collect();
            if group.is_empty() {
                continue;
            }
            let column = |k: usize| mean(group.iter().filter_map(|c| c.reliance[k]).map(f64::from));
            reliance_by_label.push(RelianceRow {
                label: label.to_string(),
                kind: if perception { "perception" } else { "other" }.to_owned(),
                steps: group.len(),
                delta_silence: column(0),
                delta_masked: column(1),
                kl_silence: column(2),
                flip_share_silence: column(3),
            });
        }
    }
    let longest = items.iter().map(|i| i.steps.len()).max().unwrap_or(0);
    let decay = (0..longest)
        .map(|step| {
            let at: Vec<_> = items.iter().filter_map(|i| i.steps.get(step)).collect();
            DecayRow {
                step,
                items: at.len(),
                ratio: mean(at.iter().map(|s| f64::from(s.0))).unwrap_or(0.0),
                delta_silence: mean(at.iter().filter_map(|s| s.1).map(f64::from)),
                delta_masked: mean(at.iter().filter_map(|s| s.2).map(f64::from)),
            }
        })
        .collect();
    let pooled = |value: fn(&StepValues) -> Option<f32>| -> Vec<(f64, f64)> {
        items
            .iter()
            .flat_map(|i| {
                i.steps
                    .iter()
                    .enumerate()
                    .filter_map(move |(k, s)| value(s).map(|v| (k as f64, f64::from(v))))
            })
            .collect()
    };
    let ratio_delta: Vec<(f64, f64)> = items
        .iter()
        .flat_map(|i| &i.steps)
        .filter_map(|s| s.1.map(|d| (f64::from(s.0), f64::from(d))))
        .collect();
    let mut changed: BTreeMap<usize, (usize, usize, usize)> = BTreeMap::new();
    for &(step, did, right) in items.iter().flat_map(|i| &i.interventions) {
        let entry = changed.entry(step).or_default();
        entry.0 += 1;
        entry.1 += usize::from(did);
        entry.2 += usize::from(right);
    }
    let run = mean(items.iter().filter_map(|i| i.seconds.get("run").copied())).unwrap_or(0.0);
    let costs = [
        (
            "reliance (actual + silence + masked)",
            &["actual", "silence", "masked"][..],
        ),
        (
            "counterfactual answer (silence)",
            &["counterfactual_answer"][..],
        ),
        ("interventions (every step)", &["interventions"][..]),
        (
            "occlusion (0.25 s windows every 0.125 s)",
            &["occlusion"][..],
        ),
    ]
    .into_iter()
    .filter_map(|(name, parts)| {
        let seconds = mean(items.iter().filter_map(|i| {
            let found: Vec<f64> = parts
                .iter()
                .filter_map(|p| i.seconds.get(*p).copied())
                .collect();
            (found.len() == parts.len()).then(|| found.iter().sum())
        }))?;
        Some(CostRow {
            measurement: name.to_owned(),
            mean_seconds: seconds,
            times_the_run: if run > 0.0 { seconds / run } else { 0.0 },
        })
    })
    .collect();
    EvidenceTables {
        items: items.len(),
        accuracy_without_audio: mean(
            items
                .iter()
                .filter_map(|i| i.without_audio_correct)
                .map(|c| f64::from(u8::from(c))),
        ),
        localisation,
        reliance_by_label,
        decay,
        ratio_slope: slope(&pooled(|s| Some(s.0))),
        delta_silence_slope: slope(&pooled(|s| s.1)),
        delta_masked_slope: slope(&pooled(|s| s.2)),
        ratio_delta_r: pearson(&ratio_delta),
        answer_changed_by_step: changed
            .into_iter()
            .map(|(k, (tried, did, right))| {
                (
                    k,
                    tried,
                    did as f64 / tried as f64,
                    right as f64 / tried as f64,
                )
            })
            .collect(),
        costs,
    }
}
