//! The sound events of synthetic clips: a small vocabulary (tones at three pitches, rising and
//! falling chirps, noise bursts, click trains), each with onset, duration and loudness; drawn
//! from a seed and rendered to 16 kHz samples. The event list is the clip's exact caption.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A tone's pitch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pitch {
    Low,
    Middle,
    High,
}

impl Pitch {
    pub const ALL: [Pitch; 3] = [Pitch::Low, Pitch::Middle, Pitch::High];

    pub fn hertz(self) -> f32 {
        match self {
            Pitch::Low => 300.0,
            Pitch::Middle => 600.0,
            Pitch::High => 1200.0,
        }
    }
}

/// Which way a chirp sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rising,
    Falling,
}

/// Soft is less than loud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loudness {
    Soft,
    Loud,
}

impl Loudness {
    fn amplitude(self) -> f32 {
        match self {
            Loudness::Soft => 0.1,
            Loudness::Loud => 0.5,
        }
    }
}

/// What sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Sound {
    Tone { pitch: Pitch },
    Chirp { direction: Direction },
    NoiseBurst,
    ClickTrain,
}

/// The kind of a sound, without its attributes (what questions name: "the chirp").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoundKind {
    Tone,
    Chirp,
    NoiseBurst,
    ClickTrain,
}

impl SoundKind {
    pub const ALL: [SoundKind; 4] = [
        SoundKind::Tone,
        SoundKind::Chirp,
        SoundKind::NoiseBurst,
        SoundKind::ClickTrain,
    ];
}

impl Sound {
    pub fn kind(self) -> SoundKind {
        match self {
            Sound::Tone { .. } => SoundKind::Tone,
            Sound::Chirp { .. } => SoundKind::Chirp,
            Sound::NoiseBurst => SoundKind::NoiseBurst,
            Sound::ClickTrain => SoundKind::ClickTrain,
        }
    }
}

/// One event of a clip. Times are in seconds, multiples of 0.1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub sound: Sound,
    pub loudness: Loudness,
    pub onset: f32,
    pub duration: f32,
}

impl Event {
    pub fn end(&self) -> f32 {
        self.onset + self.duration
    }
}

/// Longest clip, in seconds.
pub const MAX_SECONDS: f32 = 6.0;
/// Shortest clip, in seconds.
pub const MIN_SECONDS: f32 = 2.0;
/// Sample rate of rendered clips.
pub const SAMPLE_RATE: u32 = 16_000;

/// A tenth of a second drawn from `low..=high` tenths.
fn tenths(rng: &mut impl Rng, low: u32, high: u32) -> f32 {
    rng.random_range(low..=high) as f32 / 10.0
}

fn random_sound(rng: &mut impl Rng) -> Sound {
    match rng.random_range(0..10) {
        0..=3 => Sound::Tone {
            pitch: Pitch::ALL[rng.random_range(0..3)],
        },
        4..=5 => Sound::Chirp {
            direction: if rng.random_bool(0.5) {
                Direction::Rising
            } else {
                Direction::Falling
            },
        },
        6..=7 => Sound::NoiseBurst,
        _ => Sound::ClickTrain,
    }
}

/// 1 to 5 events in order, separated by silences, and the clip's length (2–6 s).
pub fn random_events(rng: &mut impl Rng) -> (Vec<Event>, f32) {
    let wanted = rng.random_range(1..=5);
    let mut events: Vec<Event> = Vec::new();
    let mut time = tenths(rng, 1, 5);
    for _ in 0..wanted {
        let duration = tenths(rng, 2, 9);
        if time + duration > MAX_SECONDS - 0.2 {
            break;
        }
        events.push(Event {
            sound: random_sound(rng),
            loudness: if rng.random_bool(0.5) {
                Loudness::Soft
            } else {
                Loudness::Loud
            },
            onset: round_tenth(time),
            duration,
        });
        time += duration + tenths(rng, 1, 6);
    }
    let last_end = events.last().map_or(0.0, Event::end);
    let seconds = round_tenth((last_end + tenths(rng, 2, 5)).clamp(MIN_SECONDS, MAX_SECONDS));
    (events, seconds)
}

fn round_tenth(seconds: f32) -> f32 {
    (seconds * 10.0).round() / 10.0
}

/// The clip's samples at [`SAMPLE_RATE`]: each event with 10 ms fades, over a faint noise floor.
pub fn render(events: &[Event], seconds: f32, rng: &mut impl Rng) -> Vec<f32> {
    let rate = SAMPLE_RATE as f32;
    let mut samples: Vec<f32> = (0..(seconds * rate) as usize)
        .map(|_| (rng.random::<f32>() - 0.5) * 0.004)
        .collect();
    for event in events {
        let start = (event.onset * rate) as usize;
        let length = (event.duration * rate) as usize;
        let amplitude = event.loudness.amplitude();
        let fade = (0.01 * rate) as usize;
        let mut phase = 0.0f32;
        for i in 0..length {
            let Some(sample) = samples.get_mut(start + i) else {
                break;
            };
            let t = i as f32 / rate;
            let envelope = (i.min(length - 1 - i) as f32 / fade as f32).min(1.0);
            let value = match event.sound {
                Sound::Tone { pitch } => (std::f32::consts::TAU * pitch.hertz() * t).sin(),
                Sound::Chirp { direction } => {
                    let progress = i as f32 / length as f32;
                    let (from, to) = match direction {
                        Direction::Rising => (300.0, 1500.0),
                        Direction::Falling => (1500.0, 300.0),
                    };
                    phase += std::f32::consts::TAU * (from + (to - from) * progress) / rate;
                    phase.sin()
                }
                Sound::NoiseBurst => rng.random::<f32>() * 2.0 - 1.0,
                // 20 clicks a second, each a 2 ms decaying burst.
                Sound::ClickTrain => {
                    let since_click = i % (rate as usize / 20);
                    if since_click < (0.002 * rate) as usize {
                        (1.0 - since_click as f32 / (0.002 * rate))
                            * if i % 2 == 0 { 1.0 } else { -1.0 }
                    } else {
                        0.0
                    }
                }
            };
            *sample += amplitude * envelope * value;
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn events_are_ordered_inside_the_clip_and_the_same_for_a_seed() {
        for seed in 0..200 {
            let (events, seconds) = random_events(&mut ChaCha8Rng::seed_from_u64(seed));
            assert!(!events.is_empty() && events.len() <= 5, "seed {seed}");
            assert!(
                (MIN_SECONDS..=MAX_SECONDS).contains(&seconds),
                "seed {seed}"
            );
            for pair in events.windows(2) {
                assert!(
                    pair[0].end() + 0.05 < pair[1].onset,
                    "seed {seed}: {pair:?}"
                );
            }
            assert!(events.last().unwrap().end() <= seconds, "seed {seed}");
            let again = random_events(&mut ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(again, (events, seconds));
        }
    }

    #[test]
    fn rendered_events_sound_where_and_how_loud_they_are() {
        let events = [
            Event {
                sound: Sound::Tone { pitch: Pitch::High },
                loudness: Loudness::Loud,
                onset: 0.5,
                duration: 0.5,
            },
            Event {
                sound: Sound::NoiseBurst,
                loudness: Loudness::Soft,
                onset: 1.5,
                duration: 0.4,
            },
        ];
        let samples = render(&events, 2.5, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(samples.len(), 40_000);
        let rms = |from: f32, to: f32| {
            let part = &samples[(from * 16_000.0) as usize..(to * 16_000.0) as usize];
            (part.iter().map(|s| s * s).sum::<f32>() / part.len() as f32).sqrt()
        };
        let (silence, tone, noise) = (rms(0.1, 0.4), rms(0.6, 0.9), rms(1.6, 1.8));
        assert!(silence < 0.01, "{silence}");
        assert!(tone > 0.3, "{tone}"); // a 0.5 sine: rms 0.35
        assert!(noise > 0.03 && noise < tone / 2.0, "{noise}");
    }
}
