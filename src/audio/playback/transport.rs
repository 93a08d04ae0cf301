//! The player's transport: position, play/pause, seek and range play, as plain data.
//!
//! Time only moves when someone calls [`Transport::advance`]: the sound device's callback with
//! the frames it consumed, or the silent clock with the wall time that passed. Keeping the logic
//! free of clocks and threads is what lets it be tested exactly.

/// A span of the clip that was just played, in seconds, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayedSpan {
    pub from: f64,
    pub to: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transport {
    duration: f64,
    position: f64,
    playing: bool,
    /// The `[t0, t1)` range being played; `None` plays to the end of the clip.
    range: Option<(f64, f64)>,
}

impl Transport {
    /// A paused transport at the start of a clip `duration` seconds long.
    pub fn new(duration: f64) -> Self {
        Transport {
            duration: duration.max(0.0),
            position: 0.0,
            playing: false,
            range: None,
        }
    }

    pub fn duration(&self) -> f64 {
        self.duration
    }

    /// Playhead, in seconds from the start of the clip.
    pub fn position(&self) -> f64 {
        self.position
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    /// The `[t0, t1)` range being played, if a range play is under way.
    pub fn range(&self) -> Option<(f64, f64)> {
        self.range
    }

    /// Plays from the playhead; at the end of the clip, plays again from the start.
    pub fn play(&mut self) {
        if self.position >= self.duration {
            self.position = 0.0;
            self.range = None;
        }
        self.playing = self.duration > 0.0;
    }

    pub fn pause(&mut self) {
        self.playing = false;
    }

    pub fn toggle(&mut self) {
        if self.playing {
            self.pause()
        } else {
            self.play()
        }
    }

    /// Moves the playhead to `seconds` (clamped to the clip) and ends any range play; playing
    /// or paused stays as it was.
    pub fn seek(&mut self, seconds: f64) {
        self.position = clamp_time(seconds, self.duration);
        self.range = None;
        if self.position >= self.duration {
            self.playing = false;
        }
    }

    /// Moves the playhead by `delta` seconds (negative moves back).
    pub fn seek_by(&mut self, delta: f64) {
        self.seek(self.position + delta);
    }

    /// Plays `[t0, t1)` (clamped to the clip; swapped if reversed) and stops at `t1`.
    pub fn play_range(&mut self, t0: f64, t1: f64) {
        let (a, b) = (clamp_time(t0, self.duration), clamp_time(t1, self.duration));
        let (start, end) = if a <= b { (a, b) } else { (b, a) };
        self.position = start;
        self.range = Some((start, end));
        self.playing = end > start;
    }

    /// Lets `seconds` of playback pass. Returns the span that played (empty when paused); stops
    /// at the end of the range or clip, leaving the playhead there.
    pub fn advance(&mut self, seconds: f64) -> PlayedSpan {
        let from = self.position;
        if !self.playing || seconds <= 0.0 {
            return PlayedSpan { from, to: from };
        }
        let stop = self.range.map_or(self.duration, |(_, end)| end);
        let to = (from + seconds).min(stop);
        self.position = to;
        if to >= stop {
            self.playing = false;
            self.range = None;
        }
        PlayedSpan { from, to }
    }
}

fn clamp_time(seconds: f64, duration: f64) -> f64 {
    if seconds.is_nan() {
        0.0
    } else {
        seconds.clamp(0.0, duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_transport_does_not_move() {
        let mut t = Transport::new(10.0);
        let span = t.advance(1.0);
        assert_eq!(span, PlayedSpan { from: 0.0, to: 0.0 });
        assert_eq!(t.position(), 0.0);
    }

    #[test]
    fn play_advances_and_pause_holds() {
        let mut t = Transport::new(10.0);
        t.play();
        assert_eq!(t.advance(1.5), PlayedSpan { from: 0.0, to: 1.5 });
        t.pause();
        t.advance(3.0);
        assert_eq!(t.position(), 1.5);
        t.toggle();
        assert!(t.is_playing());
        t.advance(0.5);
        assert_eq!(t.position(), 2.0);
    }

    #[test]
    fn playback_stops_at_the_end_and_replays_from_the_start() {
        let mut t = Transport::new(2.0);
        t.play();
        assert_eq!(t.advance(5.0), PlayedSpan { from: 0.0, to: 2.0 });
        assert!(!t.is_playing());
        t.play();
        assert_eq!(t.position(), 0.0);
        assert!(t.is_playing());
    }

    #[test]
    fn seek_clamps_keeps_play_state_and_ends_ranges() {
        let mut t = Transport::new(10.0);
        t.play();
        t.seek(-3.0);
        assert_eq!(t.position(), 0.0);
        t.seek(4.0);
        assert!(t.is_playing());
        t.seek_by(-1.0);
        assert_eq!(t.position(), 3.0);
        t.play_range(5.0, 6.0);
        t.seek(1.0);
        assert_eq!(t.range(), None);
        t.advance(3.0);
        assert_eq!(t.position(), 4.0);
        t.seek(f64::NAN);
        assert_eq!(t.position(), 0.0);
        t.seek(99.0);
        assert_eq!(t.position(), 10.0);
        assert!(!t.is_playing());
    }

    #[test]
    fn range_play_stops_at_its_end() {
        let mut t = Transport::new(10.0);
        t.play_range(6.0, 4.0); // reversed: plays [4, 6)
        assert_eq!(t.position(), 4.0);
        assert_eq!(t.range(), Some((4.0, 6.0)));
        assert!(t.is_playing());
        assert_eq!(t.advance(1.5), PlayedSpan { from: 4.0, to: 5.5 });
        assert_eq!(t.advance(1.5), PlayedSpan { from: 5.5, to: 6.0 });
        assert!(!t.is_playing());
        assert_eq!(t.range(), None);
        // Playing again after a range plays on from where it stopped, to the clip's end.
        t.play();
        t.advance(100.0);
        assert_eq!(t.position(), 10.0);
    }

    #[test]
    fn empty_range_and_empty_clip_do_not_play() {
        let mut t = Transport::new(10.0);
        t.play_range(3.0, 3.0);
        assert!(!t.is_playing());
        let mut empty = Transport::new(0.0);
        empty.play();
        assert!(!empty.is_playing());
    }
}
