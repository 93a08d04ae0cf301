//! The reasoning after the count, and the answer, one function per kind of question. Each
//! works from an event list alone (sounds numbered from 1 in order), so it gives the target for
//! the clip's own events and what a model's claimed events imply; where the events do not hold
//! what the question asks about (no chirp to ask the direction of), it says so and still answers.

use super::super::events::{Direction, Event, Pitch, Sound, SoundKind};
use super::super::phrasing::{kind_name, kind_plural, loudness_word, pitch_word, sound_phrase};
use super::{tones, Question};

/// The reasoning steps after the count, and the answer, for `question` about `events` (sounds
/// are numbered from 1 in order).
pub fn reasoning(question: Question, events: &[Event]) -> (Vec<String>, String) {
    match question {
        Question::CountAll => count_all(events),
        Question::CountKind { kind } => count_kind(events, kind),
        Question::Order { first, second } => order(events, first, second),
        Question::PitchCompare => pitch_compare(events),
        Question::LoudnessCompare => loudness_compare(events),
        Question::ChirpDirection => chirp_direction(events),
        Question::Presence { kind } => presence(events, kind),
        Question::After { kind } => after(events, kind),
    }
}

/// "How many sounds are there?"
fn count_all(events: &[Event]) -> (Vec<String>, String) {
    let n = events.len();
    let noun = if n == 1 { "sound" } else { "sounds" };
    (vec![format!("So there are {n} {noun}.")], n.to_string())
}

/// "How many tones are there?": which sounds they are, then how many.
fn count_kind(events: &[Event], kind: SoundKind) -> (Vec<String>, String) {
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

/// "Which comes first, the A or the B?": the number of each, then the earlier; a kind missing
/// from the events leaves the other first (the first asked when both are missing).
fn order(events: &[Event], first: SoundKind, second: SoundKind) -> (Vec<String>, String) {
    let (a, b) = (number_of(events, first), number_of(events, second));
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

/// "Is the last tone higher or lower than the first tone?" ("lower" without two tones).
fn pitch_compare(events: &[Event]) -> (Vec<String>, String) {
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

/// "Which is louder, the first sound or the last sound?" (the first, when they are as loud).
fn loudness_compare(events: &[Event]) -> (Vec<String>, String) {
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

/// "Does the chirp rise or fall?" ("it rises" without a chirp).
fn chirp_direction(events: &[Event]) -> (Vec<String>, String) {
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

/// "Is there a click train in the clip?"
fn presence(events: &[Event], kind: SoundKind) -> (Vec<String>, String) {
    match number_of(events, kind) {
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
    }
}

/// "What comes right after the noise burst?" ("nothing" when it is last or missing).
fn after(events: &[Event], kind: SoundKind) -> (Vec<String>, String) {
    match number_of(events, kind) {
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
    }
}

/// The number (from 1) of the first sound of `kind`.
fn number_of(events: &[Event], kind: SoundKind) -> Option<usize> {
    events
        .iter()
        .position(|e| e.sound.kind() == kind)
        .map(|i| i + 1)
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

/// Pitches in order, low to high.
fn rank(pitch: Pitch) -> u8 {
    match pitch {
        Pitch::Low => 0,
        Pitch::Middle => 1,
        Pitch::High => 2,
    }
}
