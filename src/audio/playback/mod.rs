//! Playback: play, pause, seek and range play of a clip, with a playhead clock.
//!
//! A [`Player`] drives a [`Transport`] (the pure position logic) from one of two sources: the
//! sound device, whose callback advances it by the frames it consumed, or, when there is no
//! device (SSH, CI, a server, or a build without sound), a silent clock that advances it by the
//! time that passed on a [`Clock`] (the wall clock; a test's hand-moved clock in tests). Either
//! way the playhead moves the same, so the inspector behaves the same with or without sound. The
//! player says once, in words, why sound is off; it never panics when a device is missing or
//! disappears mid-play (it falls back to the silent clock).

#[cfg(sound_output)]
mod device;
mod transport;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

pub use transport::{PlayedSpan, Transport};

/// The audio a player plays: mono samples at their own rate.
#[derive(Debug, Clone)]
pub struct PlaybackClip {
    pub samples: Arc<Vec<f32>>,
    pub rate: u32,
}

impl PlaybackClip {
    pub fn new(samples: Vec<f32>, rate: u32) -> Self {
        PlaybackClip {
            samples: Arc::new(samples),
            rate,
        }
    }

    pub fn duration_seconds(&self) -> f64 {
        if self.rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / f64::from(self.rate)
        }
    }
}

/// Whether sound comes out, and if not, why.
#[derive(Debug, Clone, PartialEq)]
pub enum SoundStatus {
    On { device: String, rate: u32 },
    Off { reason: String },
}

impl fmt::Display for SoundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoundStatus::On { device, rate } => write!(f, "sound is on: {device} at {rate} Hz"),
            SoundStatus::Off { reason } => {
                write!(f, "sound is off: {reason}; playback runs on a silent clock")
            }
        }
    }
}

/// Where the silent clock reads the time.
pub(crate) trait Clock: Send {
    fn now(&self) -> Instant;
}

/// The wall clock: what the inspector plays on.
pub(crate) struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// What moves the playhead.
enum PlayheadSource {
    /// The time that passed on the player's clock since the last look.
    Silent { last_tick: Instant },
    /// The sound device's callback.
    #[cfg(sound_output)]
    Device(device::DeviceOutput),
}

/// A clip player with a playhead.
pub struct Player {
    transport: Arc<Mutex<Transport>>,
    source: PlayheadSource,
    /// What the silent clock reads the time from.
    clock: Box<dyn Clock>,
    status: SoundStatus,
    /// The status has changed since [`Player::take_notice`] last reported it.
    notice_pending: bool,
}

impl Player {
    /// A player on the default sound device, or on the silent clock when there is none.
    pub fn open(clip: &PlaybackClip) -> Player {
        #[cfg(sound_output)]
        {
            let transport = Arc::new(Mutex::new(Transport::new(clip.duration_seconds())));
            match device::DeviceOutput::open(clip, Arc::clone(&transport)) {
                Ok(output) => {
                    let status = SoundStatus::On {
                        device: output.name().to_string(),
                        rate: output.rate(),
                    };
                    Player {
                        transport,
                        source: PlayheadSource::Device(output),
                        clock: Box::new(WallClock),
                        status,
                        notice_pending: true,
                    }
                }
                Err(reason) => Player::silent(clip.duration_seconds(), &reason),
            }
        }
        #[cfg(not(sound_output))]
        {
            Player::silent(
                clip.duration_seconds(),
                "this build has no sound output (on Linux, build with `--features sound`)",
            )
        }
    }

    /// A player on the silent clock, for a clip `duration` seconds long.
    pub fn silent(duration: f64, reason: &str) -> Player {
        Player::silent_on(duration, reason, Box::new(WallClock))
    }

    /// A player on the silent clock reading the time from `clock`.
    pub(crate) fn silent_on(duration: f64, reason: &str, clock: Box<dyn Clock>) -> Player {
        Player {
            transport: Arc::new(Mutex::new(Transport::new(duration))),
            source: PlayheadSource::Silent {
                last_tick: clock.now(),
            },
            clock,
            status: SoundStatus::Off {
                reason: reason.to_string(),
            },
            notice_pending: true,
        }
    }

    pub fn status(&self) -> &SoundStatus {
        &self.status
    }

    /// The sound status, the first time it is asked for after it changed; `None` after that.
    pub fn take_notice(&mut self) -> Option<String> {
        self.sync();
        std::mem::take(&mut self.notice_pending).then(|| self.status.to_string())
    }

    /// Playhead in seconds.
    pub fn position(&mut self) -> f64 {
        self.sync();
        self.lock().position()
    }

    pub fn duration(&self) -> f64 {
        self.lock().duration()
    }

    pub fn is_playing(&mut self) -> bool {
        self.sync();
        self.lock().is_playing()
    }

    /// The range being played, if any.
    pub fn range(&mut self) -> Option<(f64, f64)> {
        self.sync();
        self.lock().range()
    }

    pub fn play(&mut self) {
        self.sync();
        self.lock().play();
    }

    pub fn pause(&mut self) {
        self.sync();
        self.lock().pause();
    }

    pub fn toggle(&mut self) {
        self.sync();
        self.lock().toggle();
    }

    pub fn seek(&mut self, seconds: f64) {
        self.sync();
        self.lock().seek(seconds);
    }

    pub fn seek_by(&mut self, delta: f64) {
        self.sync();
        self.lock().seek_by(delta);
    }

    /// Plays `[t0, t1)` and stops at `t1`: "play what this step listened to".
    pub fn play_range(&mut self, t0: f64, t1: f64) {
        self.sync();
        self.lock().play_range(t0, t1);
    }

    /// Brings the transport up to date: on the silent clock, lets the time since the last look
    /// pass; on a device that failed, switches to the silent clock and says why.
    // Without sound output the silent clock is the only one, and the `if let` below always matches.
    #[cfg_attr(not(sound_output), allow(irrefutable_let_patterns))]
    fn sync(&mut self) {
        #[cfg(sound_output)]
        if let PlayheadSource::Device(output) = &self.source {
            if let Some(reason) = output.failure() {
                self.source = PlayheadSource::Silent {
                    last_tick: self.clock.now(),
                };
                self.status = SoundStatus::Off {
                    reason: format!("the sound device stopped ({reason})"),
                };
                self.notice_pending = true;
            }
        }
        if let PlayheadSource::Silent { last_tick } = &mut self.source {
            let now = self.clock.now();
            let elapsed = now.duration_since(*last_tick).as_secs_f64();
            *last_tick = now;
            lock(&self.transport).advance(elapsed);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Transport> {
        lock(&self.transport)
    }
}

/// Locks the transport; a panic elsewhere while it was held leaves plain data, still usable.
fn lock(transport: &Mutex<Transport>) -> MutexGuard<'_, Transport> {
    transport
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A clock that moves only when the test moves it.
    #[derive(Clone)]
    struct HandClock(Arc<Mutex<Instant>>);

    impl HandClock {
        fn new() -> Self {
            HandClock(Arc::new(Mutex::new(Instant::now())))
        }

        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for HandClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    /// A silent player on a hand-moved clock, and the clock.
    fn silent_on_hand_clock(duration: f64) -> (Player, HandClock) {
        let clock = HandClock::new();
        let player = Player::silent_on(duration, "test", Box::new(clock.clone()));
        (player, clock)
    }

    #[test]
    fn silent_clock_moves_the_playhead_only_while_playing() {
        let (mut player, clock) = silent_on_hand_clock(10.0);
        clock.advance(Duration::from_millis(30));
        assert_eq!(player.position(), 0.0);
        player.play();
        clock.advance(Duration::from_millis(60));
        let moved = player.position();
        assert!(moved >= 0.05, "playhead at {moved}");
        assert!((moved - 0.06).abs() < 1e-12, "playhead at {moved}");
        player.pause();
        let held = player.position();
        clock.advance(Duration::from_millis(30));
        assert_eq!(player.position(), held);
    }

    #[test]
    fn silent_range_play_stops_at_its_end() {
        let (mut player, clock) = silent_on_hand_clock(10.0);
        player.play_range(2.0, 2.05);
        assert!(player.is_playing());
        clock.advance(Duration::from_millis(40));
        assert!(player.is_playing(), "40 ms into a 50 ms range");
        clock.advance(Duration::from_millis(80));
        assert!(!player.is_playing());
        assert_eq!(player.position(), 2.05);
    }

    #[test]
    fn the_wall_clock_moves_a_silent_player() {
        let mut player = Player::silent(10.0, "test");
        player.play();
        let before = Instant::now();
        while Instant::now() == before {
            std::hint::spin_loop();
        }
        assert!(player.position() > 0.0);
    }

    #[test]
    fn notice_is_given_once() {
        let mut player = Player::silent(1.0, "no audio output device");
        let notice = player.take_notice().unwrap();
        assert_eq!(
            notice,
            "sound is off: no audio output device; playback runs on a silent clock"
        );
        assert_eq!(player.take_notice(), None);
    }

    #[test]
    fn open_never_panics_and_reports_a_status() {
        let clip = PlaybackClip::new(vec![0.0; 1600], 16_000);
        let mut player = Player::open(&clip);
        assert!(player.take_notice().is_some());
        assert_eq!(player.duration(), 0.1);
        player.seek(0.05);
        assert_eq!(player.position(), 0.05);
    }
}
