//! Causal evidence for the tones example, for the inspector's tests: made up, but with a story
//! whose every number is known. A step that reports an event it heard relies on that event's
//! part of the clip (occlusion of the windows covering it costs its tokens log-probability),
//! less so further down the chain; a step about no event, or one that hallucinates (step 8's
//! bird), relies on nothing; `masked` is half of `silence`. Hiding the audio from step 3 on
//! changes the answer.

use crate::benchmark::answer::score;
use crate::example_traces::{tones_spec, ExampleSpec};
use crate::model::{ActualRows, ComparedRows, Counterfactual, Evidence, OcclusionRows};
use crate::trace::{
    CafeLabel, EvidenceRecord, Intervention, OcclusionRecord, Regeneration, StopReason, Trace,
};
use crate::tui::state::Example;

/// The step whose intervention the fixture holds.
pub const INTERVENED_STEP: usize = 3;

/// The occlusion windows: 0.5 s tiling the 3.5 s clip.
pub fn windows() -> Vec<[f64; 2]> {
    (0..7)
        .map(|w| [f64::from(w) * 0.5, f64::from(w + 1) * 0.5])
        .collect()
}

/// `example` (the tones example) with the fixture's evidence: reliance under `measured`,
/// occlusion when `occlusion`, and the intervention from step `INTERVENED_STEP`.
pub fn with_evidence(
    mut example: Example,
    measured: &[Counterfactual],
    occlusion: bool,
) -> Example {
    let spec = tones_spec();
    let trace = &example.trace;
    assert_eq!(trace.steps.len(), spec.lines.len(), "one step per line");
    let tokens = trace.generation.ids.len();
    let windows = windows();
    let mut silence = vec![0f32; tokens];
    let mut occluded = vec![0f32; tokens * windows.len()];
    for (index, step) in trace.steps.iter().enumerate() {
        let strength = step_strength(&spec, index);
        let event = spec.lines[index].1.map(|e| &spec.events[e]);
        for t in step.tokens[0]..step.tokens[1] {
            // A little variation along the step, so token tints differ.
            let along = (t - step.tokens[0]) as f32 / (step.tokens[1] - step.tokens[0]) as f32;
            silence[t] = strength * (0.7 + 0.6 * along) + 0.02;
            for (w, window) in windows.iter().enumerate() {
                let overlap = event.map_or(0.0, |e| {
                    ((window[1].min(e.end) - window[0].max(e.start)).max(0.0) / 0.5) as f32
                });
                occluded[t * windows.len() + w] = strength * overlap * (0.8 + 0.4 * along);
            }
        }
    }
    let compared = |scale: f32| ComparedRows {
        delta: silence.iter().map(|d| d * scale).collect(),
        kl: silence.iter().map(|d| d * scale * 0.6).collect(),
        // Every token that lost more than one nat chose another top token without the audio.
        top1: trace
            .generation
            .ids
            .iter()
            .zip(&silence)
            .map(|(&id, &d)| if d * scale > 1.0 { id + 1 } else { id })
            .collect(),
    };
    let evidence = Evidence {
        actual: ActualRows {
            log_prob: vec![-0.5; tokens],
            top1: trace.generation.ids.clone(),
        },
        counterfactuals: measured
            .iter()
            .map(|&c| {
                let scale = if c == Counterfactual::Masked {
                    0.5
                } else {
                    1.0
                };
                (c, compared(scale))
            })
            .collect(),
        occlusion: occlusion.then(|| OcclusionRows {
            tokens,
            windows: windows.len(),
            kl: occluded.iter().map(|d| d * 0.6).collect(),
            delta: occluded,
        }),
    };
    let record = EvidenceRecord {
        reliance: measured.iter().map(ToString::to_string).collect(),
        occlusion: occlusion.then_some(OcclusionRecord {
            window_seconds: 0.5,
            hop_seconds: 0.5,
            windows,
        }),
        interventions: vec![intervention(trace)],
        ..EvidenceRecord::default()
    };
    example.trace.evidence = Some(record);
    example.evidence = Some(evidence);
    example
}

/// How much step `index` relies on the audio: a heard event's step much, fading along the chain;
/// a hallucinated or misused claim, or no claim, little.
fn step_strength(spec: &ExampleSpec, index: usize) -> f32 {
    let (_, event, label) = spec.lines[index];
    let fade = 1.0 - index as f32 / 16.0;
    match (event, label) {
        (Some(_), Some(CafeLabel::Matched)) => 2.4 * fade,
        (Some(_), Some(CafeLabel::Misused)) => 0.3,
        _ => 0.05,
    }
}

/// The generation regenerated from step `INTERVENED_STEP` without the audio: it loses the third
/// tone and answers two.
pub fn intervention(trace: &Trace) -> Intervention {
    let step = &trace.steps[INTERVENED_STEP];
    let kept = &trace.generation.text[..step.bytes[0]];
    let new = "\nAt 1.2 s the noise begins.\nSo two tones come before the noise.\nThe sweep falls \
               at the end.</think>\n<answer>Two, falling</answer>";
    let text = format!("{kept}{new}");
    let answer = trace.benchmark.as_ref().map(|item| score(&text, item));
    Intervention {
        from_step: INTERVENED_STEP,
        from_token: step.tokens[0],
        regeneration: Regeneration {
            ids: (0..30).collect(),
            text,
            stop_reason: StopReason::StopToken,
            answer,
        },
        answer_changed: true,
    }
}
