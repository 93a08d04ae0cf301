//! The clip on screen and in the speakers: the visible window of the clip (zoom and pan, as
//! fractions of its length), the playhead the player reports, and the stretch `p` plays (the
//! selected step's window), drawn on the time axis while it plays.

use super::{Effect, Inspector};

/// Smallest visible fraction of the clip when zooming in.
pub(super) const MIN_VIEW: f64 = 1.0 / 64.0;

/// The stretch of the clip `p` plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayWindow {
    pub from: f64,
    pub to: f64,
    /// The player has reported playing it (it stops being drawn when playback then stops).
    pub started: bool,
}

impl Inspector {
    /// Halves (`zoom_in`) or doubles the visible window, about the playhead or the selected
    /// step: where it is on screen it stays; off screen, the new view centres on it.
    pub(super) fn zoom(&mut self, zoom_in: bool) {
        let (start, end) = self.view;
        let width = if zoom_in {
            ((end - start) / 2.0).max(MIN_VIEW)
        } else {
            ((end - start) * 2.0).min(1.0)
        };
        let start = match self.zoom_anchor() {
            Some(anchor) if (start..=end).contains(&anchor) => {
                anchor - (anchor - start) * width / (end - start)
            }
            Some(anchor) => anchor - width / 2.0,
            None => (start + end) / 2.0 - width / 2.0,
        }
        .clamp(0.0, 1.0 - width);
        self.view = (start, start + width);
    }

    /// Moves the visible window a quarter of its width later (`right`) or earlier.
    pub(super) fn pan(&mut self, right: bool) {
        let (start, end) = self.view;
        let width = end - start;
        let shift = if right { width / 4.0 } else { -width / 4.0 };
        let start = (start + shift).clamp(0.0, 1.0 - width);
        self.view = (start, start + width);
    }

    /// Where zooming centres, as a fraction of the clip: the playhead once the clip has played
    /// or been sought, else the middle of the selected step's window, else nothing.
    fn zoom_anchor(&self) -> Option<f64> {
        let duration = self.example()?.trace.audio.duration_seconds;
        if duration <= 0.0 {
            return None;
        }
        let seconds = if self.playing || self.playhead > 0.0 {
            self.playhead
        } else {
            let (from, to) = self.step_window()?;
            (from + to) / 2.0
        };
        Some((seconds / duration).clamp(0.0, 1.0))
    }

    /// `p`: plays the selected step's window, and marks it on the time axis.
    pub(super) fn play_step_window(&mut self) -> Effect {
        match self.step_window() {
            Some((from, to)) => {
                self.play_window = Some(PlayWindow {
                    from,
                    to,
                    started: false,
                });
                Effect::PlayRange(from, to)
            }
            None => {
                self.message = Some("no attention captured for this step".into());
                Effect::None
            }
        }
    }

    /// Sets the playhead from the player (outside input, like a key).
    pub fn set_playback(&mut self, seconds: f64, playing: bool) {
        self.playhead = seconds;
        self.playing = playing;
        self.sync_comparison();
        if let Some(window) = &mut self.play_window {
            if playing {
                window.started = true;
            } else if window.started || seconds >= window.to - 1e-6 {
                self.play_window = None;
            }
        }
    }
}
