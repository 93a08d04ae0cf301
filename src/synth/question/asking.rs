//! Which questions a clip can be asked, and the choices each offers. A question is asked only
//! where it has one clear answer (an order question needs one sound of each kind, a pitch
//! question two tones of different pitch, …); the choices put the right answer among plausible
//! wrong ones.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::super::events::{Event, SoundKind};
use super::super::phrasing::{all_sounds, kind_name, sound_phrase};
use super::{count_of, tones, Question};

/// The questions that have one clear answer for `events`.
pub(super) fn fitting_questions(events: &[Event]) -> Vec<Question> {
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

/// The choices: the answer among plausible others, in a fixed order for numbers and pairs.
pub(super) fn choices(question: Question, answer: &str, rng: &mut ChaCha8Rng) -> Vec<String> {
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
