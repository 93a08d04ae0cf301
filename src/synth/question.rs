//! Questions about a synthetic clip, in benchmark form (a question, 2–4 choices, the answer), and
//! the reasoning that answers them: one perception step per event, a count, then reasoning steps
//! and `<answer>…</answer>`. The reasoning is a function of the question and of an event list, so
//! the same function gives the correct target (from the clip's events) and what a model's own
//! perception implies (from the events it claimed), which is how the checker tells a misused
//! inference from a correct one.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::events::{random_events, Direction, Event, Pitch, Sound, SoundKind};
use super::phrasing::{
    all_sounds, count_line, kind_name, kind_plural, loudness_word, perception_line, pitch_word,
    sound_phrase,
};

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

fn count_of(events: &[Event], kind: SoundKind) -> usize {
    events.iter().filter(|e| e.sound.kind() == kind).count()
}

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

/// The questions that have one clear answer for `events`.
fn fitting_questions(events: &[Event]) -> Vec<Question> {
    let mut questions = vec![Question::CountAll];
    for kind in SoundKind::ALL {
        questions.push(Question::CountKind { kind });
        questions.push(Question::Presence { kind });
        let single = count_of(events, kind) == 1;
        let not_last = events.last().is_some_and(|e| e.sound.kind() != kind);
        if single && not_last {
            questions.push(Question::After { kind });
        }
        for second in SoundKind::ALL {
            if second != kind && single && count_of(events, second) == 1 {
                questions.push(Question::Order {
                    first: kind,
                    second,
                });
            }
        }
    }
    let tones = tones(events);
    if tones.len() >= 2 && tones[0].1 != tones[tones.len() - 1].1 {
        questions.push(Question::PitchCompare);
    }
    if events.len() >= 2 && events[0].loudness != events[events.len() - 1].loudness {
        questions.push(Question::LoudnessCompare);
    }
    if count_of(events, SoundKind::Chirp) == 1 {
        questions.push(Question::ChirpDirection);
    }
    questions
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

/// The choices: the answer among plausible others, in a fixed order for numbers and pairs.
fn choices(question: Question, answer: &str, rng: &mut ChaCha8Rng) -> Vec<String> {
    let numbers = |low: usize, high: usize, rng: &mut ChaCha8Rng| {
        // Count questions' answers are the counts `reasoning` writes.
        let right: usize = answer.parse().expect("a count");
        let mut others: Vec<usize> = (low..=high).filter(|&n| n != right).collect();
        others.shuffle(rng);
        let mut picked: Vec<usize> = others.into_iter().take(3).chain([right]).collect();
        picked.sort_unstable();
        picked.iter().map(usize::to_string).collect()
    };
    match question {
        Question::CountAll => numbers(1, 6, rng),
        Question::CountKind { .. } => numbers(0, 5, rng),
        Question::Order { first, second } => vec![
            format!("the {}", kind_name(first)),
            format!("the {}", kind_name(second)),
        ],
        Question::PitchCompare => vec!["higher".into(), "lower".into()],
        Question::LoudnessCompare => vec!["the first sound".into(), "the last sound".into()],
        Question::ChirpDirection => vec!["it rises".into(), "it falls".into()],
        Question::Presence { .. } => vec!["yes".into(), "no".into()],
        Question::After { .. } => {
            let mut others: Vec<String> = all_sounds()
                .into_iter()
                .map(|s| format!("a {}", sound_phrase(s)))
                .filter(|s| s != answer)
                .collect();
            others.shuffle(rng);
            let mut picked: Vec<String> = others
                .into_iter()
                .take(2)
                .chain([answer.to_owned()])
                .collect();
            picked.shuffle(rng);
            picked
        }
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

/// "sound 1", "sound 1 and sound 3", "sound 1, sound 2 and sound 4".
fn sound_list(numbers: &[usize]) -> String {
    let names: Vec<String> = numbers.iter().map(|n| format!("sound {n}")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The reasoning steps after the count, and the answer, for `question` about `events` (sounds
/// are numbered from 1 in order).
pub fn reasoning(question: Question, events: &[Event]) -> (Vec<String>, String) {
    let number_of = |kind: SoundKind| {
        events
            .iter()
            .position(|e| e.sound.kind() == kind)
            .map(|i| i + 1)
    };
    match question {
        Question::CountAll => {
            let n = events.len();
            let noun = if n == 1 { "sound" } else { "sounds" };
            (vec![format!("So there are {n} {noun}.")], n.to_string())
        }
        Question::CountKind { kind } => {
            let numbers: Vec<usize> = events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.sound.kind() == kind)
                .map(|(i, _)| i + 1)
                .collect();
            let n = numbers.len();
            let first = match n {
                0 => format!("No sound is a {}.", kind_name(kind)),
                1 => format!("The {} is {}.", kind_name(kind), sound_list(&numbers)),
                _ => format!("The {} are {}.", kind_plural(kind), sound_list(&numbers)),
            };
            let noun = if n == 1 {
                kind_name(kind)
            } else {
                kind_plural(kind)
            };
            let verb = if n == 1 { "is" } else { "are" };
            (
                vec![first, format!("So there {verb} {n} {noun}.")],
                n.to_string(),
            )
        }
        Question::Order { first, second } => {
            let (a, b) = (number_of(first), number_of(second));
            let (one, two) = (kind_name(first), kind_name(second));
            let (lines, winner) = match (a, b) {
                (Some(a), Some(b)) => {
                    let winner = if a < b { first } else { second };
                    let (early, late) = (a.min(b), a.max(b));
                    (
                        vec![
                            format!("The {one} is sound {a} and the {two} is sound {b}."),
                            format!(
                                "Sound {early} comes before sound {late}, so the {} comes first.",
                                kind_name(winner)
                            ),
                        ],
                        winner,
                    )
                }
                (Some(_), None) | (None, None) => (
                    vec![
                        format!("No sound is a {two}."),
                        format!("So the {one} comes first."),
                    ],
                    first,
                ),
                (None, Some(_)) => (
                    vec![
                        format!("No sound is a {one}."),
                        format!("So the {two} comes first."),
                    ],
                    second,
                ),
            };
            (lines, format!("the {}", kind_name(winner)))
        }
        Question::PitchCompare => {
            let tones = tones(events);
            match (tones.first(), tones.last()) {
                (Some(&(i, p)), Some(&(j, q))) if i != j => {
                    let higher = rank(q) > rank(p);
                    let word = if higher { "higher" } else { "lower" };
                    (
                        vec![
                            format!(
                                "The first tone is sound {}, a {} tone, and the last tone is sound {}, a {} tone.",
                                i + 1,
                                pitch_word(p),
                                j + 1,
                                pitch_word(q)
                            ),
                            format!("So the last tone is {word}."),
                        ],
                        word.to_owned(),
                    )
                }
                _ => (
                    vec![
                        "There are not two tones to compare.".into(),
                        "So the last tone is lower.".into(),
                    ],
                    "lower".into(),
                ),
            }
        }
        Question::LoudnessCompare => {
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                return (
                    vec!["So the first sound is louder.".into()],
                    "the first sound".into(),
                );
            };
            let which = if last.loudness > first.loudness {
                "last"
            } else {
                "first"
            };
            (
                vec![
                    format!(
                        "Sound 1 is {} and sound {} is {}.",
                        loudness_word(first.loudness),
                        events.len(),
                        loudness_word(last.loudness)
                    ),
                    format!("So the {which} sound is louder."),
                ],
                format!("the {which} sound"),
            )
        }
        Question::ChirpDirection => {
            let chirp = events.iter().enumerate().find_map(|(i, e)| match e.sound {
                Sound::Chirp { direction } => Some((i + 1, direction)),
                _ => None,
            });
            match chirp {
                Some((n, direction)) => {
                    let (adjective, verb) = match direction {
                        Direction::Rising => ("rising", "rises"),
                        Direction::Falling => ("falling", "falls"),
                    };
                    (
                        vec![
                            format!("The chirp is sound {n} and it is {adjective}."),
                            format!("So it {verb}."),
                        ],
                        format!("it {verb}"),
                    )
                }
                None => (
                    vec!["No sound is a chirp.".into(), "So it rises.".into()],
                    "it rises".into(),
                ),
            }
        }
        Question::Presence { kind } => match number_of(kind) {
            Some(n) => (
                vec![
                    format!("Sound {n} is a {}.", kind_name(kind)),
                    "So the answer is yes.".into(),
                ],
                "yes".into(),
            ),
            None => (
                vec![
                    format!("No sound is a {}.", kind_name(kind)),
                    "So the answer is no.".into(),
                ],
                "no".into(),
            ),
        },
        Question::After { kind } => match number_of(kind) {
            Some(n) if n < events.len() => {
                let next = format!("a {}", sound_phrase(events[n].sound));
                (
                    vec![
                        format!("The {} is sound {n}.", kind_name(kind)),
                        format!("Sound {} comes right after it: {next}.", n + 1),
                    ],
                    next,
                )
            }
            Some(n) => (
                vec![
                    format!("The {} is sound {n}, the last sound.", kind_name(kind)),
                    "So nothing comes after it.".into(),
                ],
                "nothing".into(),
            ),
            None => (
                vec![
                    format!("No sound is a {}.", kind_name(kind)),
                    "So nothing comes after it.".into(),
                ],
                "nothing".into(),
            ),
        },
    }
}

fn rank(pitch: Pitch) -> u8 {
    match pitch {
        Pitch::Low => 0,
        Pitch::Middle => 1,
        Pitch::High => 2,
    }
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
