//! The exact CAFE checker for synthetic items: each step's claim is read back (the phrasing is
//! controlled) and labelled against the clip's event list, with source `auto`.
//!
//! - A perception step ("Sound 2 at 1.1 s: a loud rising chirp lasting 0.5 s.") is matched to
//!   the nearest unclaimed event of the same kind: *matched* when sound, loudness, onset and
//!   duration agree (times within 0.25 s), *misused* when a detail is wrong, *hallucinated*
//!   when the clip has no (unclaimed) event of that kind.
//! - The count step ("That is all: 3 sounds.") is matched or misused.
//! - A reasoning step is *matched* when it is a step of the correct reasoning (the same function
//!   that writes the targets, run on the true events); *hallucinated* when it names a kind of
//!   sound the clip does not have; *misused* otherwise; *neutral* when it names no sound at all.
//! - Events that no perception step claims are *missed*.
//!
//! The answer step carries no label: answers are scored on their own.

use super::events::Event;
use super::phrasing::{
    kinds_named, loudness_word, parse_count, parse_perception, perception_line, sound_phrase,
};
use super::question::{reasoning, Item};
use crate::trace::{CafeLabel, LabelSource, MissedEvent, StepLabel, TraceLabels};

/// How far a claimed onset or duration may be from the event's, in seconds.
const TIME_TOLERANCE: f32 = 0.25;

/// Labels for the steps `texts` (one claim per step) of a trace about `item`.
pub fn label_steps(item: &Item, texts: &[&str]) -> TraceLabels {
    label_steps_with_events(item, texts).0
}

/// `label_steps`, and for each step the event (an index into `item.events`) its perception claim
/// was matched with: the event a matched or misused claim names (`None` for other steps and
/// for hallucinated claims, which name no event of the clip).
pub fn label_steps_with_events(item: &Item, texts: &[&str]) -> (TraceLabels, Vec<Option<usize>>) {
    let truth = &item.events;
    let mut named = vec![None; texts.len()];
    let (correct_reasoning, _) = reasoning(item.question, truth);
    let mut claimed = vec![false; truth.len()];
    let mut steps = Vec::new();
    for (step, raw) in texts.iter().enumerate() {
        let text = raw
            .trim()
            .trim_start_matches("<think>")
            .trim_end_matches("</think>")
            .trim();
        if text.is_empty() || text.starts_with("<answer>") {
            continue;
        }
        let mut note = None;
        let (label, event) = if let Some((_, claim)) = parse_perception(text) {
            let (label, wrong, matched) = claim_label(&claim, truth, &mut claimed);
            named[step] = matched;
            if !wrong.is_empty() {
                note = Some(format!("{WRONG_PREFIX}{}", wrong.join(", ")));
            }
            (label, text.to_owned())
        } else if let Some(count) = parse_count(text) {
            let label = if count == truth.len() {
                CafeLabel::Matched
            } else {
                CafeLabel::Misused
            };
            (label, format!("{count} sounds"))
        } else {
            let named = kinds_named(text);
            let mentions_audio = !named.is_empty() || text.to_lowercase().contains("sound");
            let label = if correct_reasoning.iter().any(|line| line == text) {
                CafeLabel::Matched
            } else if named
                .iter()
                .any(|&kind| truth.iter().all(|e| e.sound.kind() != kind))
                && !text.starts_with("No sound is")
            {
                CafeLabel::Hallucinated
            } else if mentions_audio {
                CafeLabel::Misused
            } else {
                CafeLabel::Neutral
            };
            (label, text.to_owned())
        };
        steps.push(StepLabel {
            step,
            event,
            label,
            source: LabelSource::auto(),
            note,
        });
    }
    let missed = truth
        .iter()
        .zip(&claimed)
        .enumerate()
        .filter(|(_, (_, &was))| !was)
        .map(|(i, (event, _))| MissedEvent {
            event: perception_line(i + 1, event),
            source: LabelSource::auto(),
        })
        .collect();
    let labels = TraceLabels {
        steps,
        missed,
        targets: Some(truth.len()),
    };
    (labels, named)
}

/// How a misused perception claim's note starts; then what it got wrong, with the true value:
/// "wrong: loudness (loud), onset (1.2 s)". The details are `sound`, `loudness`, `onset` and
/// `duration`.
pub const WRONG_PREFIX: &str = "wrong: ";

/// The label of one perceived event, what it got wrong (when misused) about the event it was
/// matched with, and that event's index; marks that event as claimed.
fn claim_label(
    claim: &Event,
    truth: &[Event],
    claimed: &mut [bool],
) -> (CafeLabel, Vec<String>, Option<usize>) {
    let nearest = truth
        .iter()
        .enumerate()
        .filter(|(i, e)| !claimed[*i] && e.sound.kind() == claim.sound.kind())
        .min_by(|a, b| {
            let distance = |e: &Event| (e.onset - claim.onset).abs();
            distance(a.1).total_cmp(&distance(b.1))
        });
    let Some((index, event)) = nearest else {
        return (CafeLabel::Hallucinated, Vec::new(), None);
    };
    claimed[index] = true;
    let close = |a: f32, b: f32| (a - b).abs() <= TIME_TOLERANCE + 1e-4;
    let mut wrong = Vec::new();
    if event.sound != claim.sound {
        wrong.push(format!("sound ({})", sound_phrase(event.sound)));
    }
    if event.loudness != claim.loudness {
        wrong.push(format!("loudness ({})", loudness_word(event.loudness)));
    }
    if !close(event.onset, claim.onset) {
        wrong.push(format!("onset ({:.1} s)", event.onset));
    }
    if !close(event.duration, claim.duration) {
        wrong.push(format!("duration ({:.1} s)", event.duration));
    }
    let label = if wrong.is_empty() {
        CafeLabel::Matched
    } else {
        CafeLabel::Misused
    };
    (label, wrong, Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::events::{Direction, Loudness, Pitch, Sound, SoundKind};
    use crate::synth::question::{target_text, Question};

    fn item() -> Item {
        let events = vec![
            Event {
                sound: Sound::Tone { pitch: Pitch::Low },
                loudness: Loudness::Soft,
                onset: 0.3,
                duration: 0.5,
            },
            Event {
                sound: Sound::NoiseBurst,
                loudness: Loudness::Loud,
                onset: 1.1,
                duration: 0.4,
            },
            Event {
                sound: Sound::Chirp {
                    direction: Direction::Rising,
                },
                loudness: Loudness::Loud,
                onset: 2.0,
                duration: 0.6,
            },
        ];
        Item {
            seed: 0,
            seconds: 3.0,
            events,
            question: Question::After {
                kind: SoundKind::NoiseBurst,
            },
            choices: vec!["a rising chirp".into(), "a high tone".into()],
            answer: "a rising chirp".into(),
        }
    }

    fn labels(texts: &[&str]) -> Vec<CafeLabel> {
        label_steps(&item(), texts)
            .steps
            .iter()
            .map(|s| s.label)
            .collect()
    }

    #[test]
    fn the_correct_target_is_all_matched_or_neutral() {
        for seed in 0..300 {
            let item = Item::generate(seed);
            let text = item.target_text();
            let lines: Vec<&str> = text.lines().collect();
            let result = label_steps(&item, &lines);
            assert!(result.missed.is_empty(), "{text}");
            for label in &result.steps {
                assert!(
                    matches!(label.label, CafeLabel::Matched | CafeLabel::Neutral),
                    "seed {seed}: {label:?}\n{text}"
                );
            }
            let neutral = result
                .steps
                .iter()
                .filter(|s| s.label == CafeLabel::Neutral)
                .count();
            assert_eq!(neutral, 1, "only the opening line is neutral\n{text}");
        }
    }

    /// A misused claim's note says what it got wrong, with the true values.
    #[test]
    fn misused_claims_say_what_is_wrong() {
        let item = item();
        let result = label_steps(
            &item,
            &[
                "Sound 1 at 1.0 s: a loud high tone lasting 0.5 s.",
                "Sound 2 at 1.1 s: a loud noise burst lasting 0.4 s.",
                "Sound 3 at 2.0 s: a loud falling chirp lasting 1.2 s.",
            ],
        );
        let notes: Vec<Option<&str>> = result.steps.iter().map(|s| s.note.as_deref()).collect();
        assert_eq!(
            notes,
            vec![
                Some("wrong: sound (low tone), loudness (soft), onset (0.3 s)"),
                None,
                Some("wrong: sound (rising chirp), duration (0.6 s)"),
            ]
        );
    }

    #[test]
    fn hand_written_claims_get_each_label() {
        use CafeLabel::*;
        // Perception: right; wrong pitch; wrong time; a kind the clip lacks; a second noise.
        assert_eq!(
            labels(&[
                "Sound 1 at 0.3 s: a soft low tone lasting 0.5 s.",
                "Sound 2 at 1.2 s: a loud noise burst lasting 0.3 s.",
                "Sound 3 at 2.0 s: a loud falling chirp lasting 0.6 s.",
                "Sound 4 at 2.8 s: a soft click train lasting 0.3 s.",
            ]),
            vec![Matched, Matched, Misused, Hallucinated]
        );
        assert_eq!(
            labels(&[
                "Sound 1 at 1.0 s: a soft low tone lasting 0.5 s.",
                "Sound 2 at 1.1 s: a soft noise burst lasting 0.4 s.",
                "Sound 3 at 1.6 s: a loud noise burst lasting 0.4 s.",
            ]),
            vec![Misused, Misused, Hallucinated],
            "a tone 0.7 s late, a noise of the wrong loudness, a second noise that is not there"
        );
        // Count, reasoning, neutral lines; the answer carries no label.
        assert_eq!(
            labels(&[
                "<think>I listen to the clip from start to end.",
                "That is all: 3 sounds.",
                "That is all: 2 sounds.",
                "The noise burst is sound 2.",
                "Sound 3 comes right after it: a rising chirp.</think>",
                "Sound 3 comes right after it: a high tone.",
                "A click train follows the noise.",
                "The noise burst is sound 1.",
                "<answer>a rising chirp</answer>",
            ]),
            vec![
                Neutral,
                Matched,
                Misused,
                Matched,
                Matched,
                Misused,
                Hallucinated,
                Misused
            ]
        );
    }

    #[test]
    fn events_no_step_claims_are_missed() {
        let text = target_text(
            Question::CountAll,
            &item().events[..2], // the model heard only the first two
        );
        let lines: Vec<&str> = text.lines().collect();
        let result = label_steps(&item(), &lines);
        assert_eq!(result.targets, Some(3));
        assert_eq!(result.missed.len(), 1);
        assert!(
            result.missed[0].event.contains("rising chirp"),
            "{result:?}"
        );
        // Its count ("2 sounds") is misused; the reasoning from it is not the true reasoning.
        let count = result.steps.iter().find(|s| s.event == "2 sounds").unwrap();
        assert_eq!(count.label, CafeLabel::Misused);
    }
}
