//! The controlled phrasing of synthetic reasoning: how an event is said ("Sound 2 at 1.1 s: a
//! loud rising chirp lasting 0.5 s."), and how such a line is read back. Writing and reading sit
//! side by side so that every claim the targets make can be parsed exactly.

use super::events::{Direction, Event, Loudness, Pitch, Sound, SoundKind};

pub fn kind_name(kind: SoundKind) -> &'static str {
    match kind {
        SoundKind::Tone => "tone",
        SoundKind::Chirp => "chirp",
        SoundKind::NoiseBurst => "noise burst",
        SoundKind::ClickTrain => "click train",
    }
}

pub fn kind_plural(kind: SoundKind) -> &'static str {
    match kind {
        SoundKind::Tone => "tones",
        SoundKind::Chirp => "chirps",
        SoundKind::NoiseBurst => "noise bursts",
        SoundKind::ClickTrain => "click trains",
    }
}

pub fn pitch_word(pitch: Pitch) -> &'static str {
    match pitch {
        Pitch::Low => "low",
        Pitch::Middle => "middle",
        Pitch::High => "high",
    }
}

pub fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Rising => "rising",
        Direction::Falling => "falling",
    }
}

pub fn loudness_word(loudness: Loudness) -> &'static str {
    match loudness {
        Loudness::Soft => "soft",
        Loudness::Loud => "loud",
    }
}

/// The sound with its attribute: "high tone", "rising chirp", "noise burst".
pub fn sound_phrase(sound: Sound) -> String {
    match sound {
        Sound::Tone { pitch } => format!("{} tone", pitch_word(pitch)),
        Sound::Chirp { direction } => format!("{} chirp", direction_word(direction)),
        Sound::NoiseBurst | Sound::ClickTrain => kind_name(sound.kind()).to_owned(),
    }
}

/// Every sound of the vocabulary.
pub fn all_sounds() -> Vec<Sound> {
    let mut sounds: Vec<Sound> = Pitch::ALL
        .iter()
        .map(|&pitch| Sound::Tone { pitch })
        .collect();
    sounds.push(Sound::Chirp {
        direction: Direction::Rising,
    });
    sounds.push(Sound::Chirp {
        direction: Direction::Falling,
    });
    sounds.push(Sound::NoiseBurst);
    sounds.push(Sound::ClickTrain);
    sounds
}

/// "Sound 2 at 1.1 s: a loud rising chirp lasting 0.5 s." (`number` counts from 1).
pub fn perception_line(number: usize, event: &Event) -> String {
    format!(
        "Sound {number} at {:.1} s: a {} {} lasting {:.1} s.",
        event.onset,
        loudness_word(event.loudness),
        sound_phrase(event.sound),
        event.duration
    )
}

/// Reads a perception line back: its number and the event it claims.
pub fn parse_perception(line: &str) -> Option<(usize, Event)> {
    let rest = line.trim().strip_prefix("Sound ")?;
    let (number, rest) = rest.split_once(" at ")?;
    let (onset, rest) = rest.split_once(" s: a ")?;
    let (description, rest) = rest.split_once(" lasting ")?;
    let duration = rest.strip_suffix(" s.")?;
    let (loudness, phrase) = description.split_once(' ')?;
    let loudness = match loudness {
        "soft" => Loudness::Soft,
        "loud" => Loudness::Loud,
        _ => return None,
    };
    let sound = all_sounds()
        .into_iter()
        .find(|&s| sound_phrase(s) == phrase)?;
    Some((
        number.parse().ok()?,
        Event {
            sound,
            loudness,
            onset: onset.parse().ok()?,
            duration: duration.parse().ok()?,
        },
    ))
}

/// "That is all: 3 sounds."
pub fn count_line(count: usize) -> String {
    let noun = if count == 1 { "sound" } else { "sounds" };
    format!("That is all: {count} {noun}.")
}

pub fn parse_count(line: &str) -> Option<usize> {
    let rest = line.trim().strip_prefix("That is all: ")?;
    let (count, noun) = rest.split_once(' ')?;
    matches!(noun, "sound." | "sounds.")
        .then(|| count.parse().ok())
        .flatten()
}

/// The kinds a line names ("noise burst", "tones", …).
pub fn kinds_named(line: &str) -> Vec<SoundKind> {
    SoundKind::ALL
        .into_iter()
        .filter(|&kind| line.contains(kind_name(kind)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perception_lines_read_back_exactly() {
        for sound in all_sounds() {
            for loudness in [Loudness::Soft, Loudness::Loud] {
                let event = Event {
                    sound,
                    loudness,
                    onset: 1.3,
                    duration: 0.6,
                };
                let line = perception_line(4, &event);
                assert_eq!(parse_perception(&line), Some((4, event)), "{line}");
            }
        }
        assert_eq!(
            perception_line(
                2,
                &Event {
                    sound: Sound::Chirp {
                        direction: Direction::Rising
                    },
                    loudness: Loudness::Loud,
                    onset: 1.1,
                    duration: 0.5
                }
            ),
            "Sound 2 at 1.1 s: a loud rising chirp lasting 0.5 s."
        );
        assert_eq!(
            parse_perception("Sound 2 at 1.1 s: a loud purple chirp lasting 0.5 s."),
            None
        );
        assert_eq!(parse_count(&count_line(1)), Some(1));
        assert_eq!(parse_count(&count_line(3)), Some(3));
        assert_eq!(parse_count("That is all."), None);
    }
}
