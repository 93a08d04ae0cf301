//! Questions about a synthetic clip, in benchmark form (a question, 2–4 choices, the answer), and
//! the reasoning that answers them: one perception step per event, a count, then reasoning steps
//! and `<answer>…</answer>`. The reasoning is a function of the question and of an event list, so
//! the same function gives the correct target (from the clip's events) and what a model's own
//! perception implies (from the events it claimed), which is how the checker tells a misused
//! inference from a correct one.
//!
//! This file holds the questions and the item (a clip's events, a question, its choices and
//! answer) and writes the target text; which questions a clip can be asked and the choices each
//! offers are in `asking`, the reasoning for each kind of question in `reasoning`.

mod asking;
mod reasoning;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::events::{random_events, Event, Pitch, Sound, SoundKind};
use super::phrasing::{count_line, kind_name, kind_plural, perception_line};
use asking::{choices, fitting_questions};
pub use reasoning::reasoning;

/// What is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Question {
    /// How many sounds are there?
    CountAll,
    /// How many tones (chirps, …) are there?
    CountKind { kind: SoundKind },
    /// Which comes first, the A or the B?
    Order { first: SoundKind, second: SoundKind },
    /// Is the last tone higher or lower than the first tone?
    PitchCompare,
    /// Which is louder, the first sound or the last sound?
    LoudnessCompare,
    /// Does the chirp rise or fall?
    ChirpDirection,
    /// Is there a click train (…) in the clip?
    Presence { kind: SoundKind },
    /// What comes right after the noise burst (…)?
    After { kind: SoundKind },
}

impl Question {
    /// Its name in reports ("count", "order", …).
    pub fn type_name(self) -> &'static str {
        match self {
            Question::CountAll => "count",
            Question::CountKind { .. } => "count kind",
            Question::Order { .. } => "order",
            Question::PitchCompare => "pitch",
            Question::LoudnessCompare => "loudness",
            Question::ChirpDirection => "chirp direction",
            Question::Presence { .. } => "presence",
            Question::After { .. } => "after",
        }
    }

    pub fn text(self) -> String {
        match self {
            Question::CountAll => "How many sounds are there?".into(),
            Question::CountKind { kind } => format!("How many {} are there?", kind_plural(kind)),
            Question::Order { first, second } => format!(
                "Which comes first, the {} or the {}?",
                kind_name(first),
                kind_name(second)
            ),
            Question::PitchCompare => {
                "Is the last tone higher or lower than the first tone?".into()
            }
            Question::LoudnessCompare => {
                "Which is louder, the first sound or the last sound?".into()
            }
            Question::ChirpDirection => "Does the chirp rise or fall?".into(),
            Question::Presence { kind } => format!("Is there a {} in the clip?", kind_name(kind)),
            Question::After { kind } => format!("What comes right after the {}?", kind_name(kind)),
        }
    }
}

/// One synthetic benchmark item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub seed: u64,
    pub seconds: f32,
    pub events: Vec<Event>,
    pub question: Question,
    pub choices: Vec<String>,
    pub answer: String,
}

impl Item {
    /// The item of `seed`: events, then a question drawn among those that fit them (question
    /// types equally likely, then one of that type), its choices and answer.
    pub fn generate(seed: u64) -> Item {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (events, seconds) = random_events(&mut rng);
        let questions = fitting_questions(&events);
        let mut types: Vec<&str> = questions.iter().map(|q| q.type_name()).collect();
        types.dedup();
        types.sort_unstable();
        types.dedup();
        let wanted = types[rng.random_range(0..types.len())];
        let of_type: Vec<Question> = questions
            .into_iter()
            .filter(|q| q.type_name() == wanted)
            .collect();
        let question = of_type[rng.random_range(0..of_type.len())];
        let answer = answer(question, &events);
        let choices = choices(question, &answer, &mut rng);
        Item {
            seed,
            seconds,
            events,
            question,
            choices,
            answer,
        }
    }

    /// The reasoning target: perception steps, the count, reasoning, the answer.
    pub fn target_text(&self) -> String {
        target_text(self.question, &self.events)
    }
}

/// The answer `events` imply.
pub fn answer(question: Question, events: &[Event]) -> String {
    let (_, answer) = reasoning(question, events);
    answer
}

/// The whole target text for `question` about `events`.
pub fn target_text(question: Question, events: &[Event]) -> String {
    let mut lines = vec!["<think>I listen to the clip from start to end.".to_owned()];
    lines.extend(
        events
            .iter()
            .enumerate()
            .map(|(i, e)| perception_line(i + 1, e)),
    );
    lines.push(count_line(events.len()));
    let (mut reasoning, answer) = reasoning(question, events);
    if let Some(last) = reasoning.last_mut() {
        last.push_str("</think>");
    }
    lines.extend(reasoning);
    lines.push(format!("<answer>{answer}</answer>"));
    lines.join("\n")
}

/// How many of `events` are of `kind`.
fn count_of(events: &[Event], kind: SoundKind) -> usize {
    events.iter().filter(|e| e.sound.kind() == kind).count()
}

/// The tones among `events`: each one's index and pitch.
fn tones(events: &[Event]) -> Vec<(usize, Pitch)> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e.sound {
            Sound::Tone { pitch } => Some((i, pitch)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::answer::{extract_answer, is_correct};

    #[test]
    fn every_item_answers_itself_and_the_answer_is_a_choice() {
        let mut types = std::collections::BTreeMap::new();
        for seed in 0..500 {
            let item = Item::generate(seed);
            assert_eq!(item, Item::generate(seed), "deterministic");
            assert!((2..=4).contains(&item.choices.len()), "{item:?}");
            assert!(item.choices.contains(&item.answer), "{item:?}");
            let text = item.target_text();
            let extracted = extract_answer(&text);
            assert!(
                is_correct(&extracted, &item.answer, &item.choices),
                "{text}"
            );
            *types.entry(item.question.type_name()).or_insert(0) += 1;
        }
        // Every question type comes up.
        assert_eq!(types.len(), 8, "{types:?}");
        assert!(types.values().all(|&n| n >= 20), "{types:?}");
    }

    #[test]
    fn a_target_reads_as_perception_then_reasoning() {
        let events = vec![
            Event {
                sound: Sound::Tone { pitch: Pitch::Low },
                loudness: super::super::events::Loudness::Soft,
                onset: 0.3,
                duration: 0.5,
            },
            Event {
                sound: Sound::NoiseBurst,
                loudness: super::super::events::Loudness::Loud,
                onset: 1.1,
                duration: 0.4,
            },
        ];
        let text = target_text(
            Question::After {
                kind: SoundKind::Tone,
            },
            &events,
        );
        assert_eq!(
            text,
            "<think>I listen to the clip from start to end.\n\
             Sound 1 at 0.3 s: a soft low tone lasting 0.5 s.\n\
             Sound 2 at 1.1 s: a loud noise burst lasting 0.4 s.\n\
             That is all: 2 sounds.\n\
             The tone is sound 1.\n\
             Sound 2 comes right after it: a noise burst.</think>\n\
             <answer>a noise burst</answer>"
        );
    }
}
