//! Each example's clip: found from the path its trace records (relative to where the trace was
//! made, so also tried beside the traces file and in the source checkout), decoded once, drawn
//! as a spectrogram and handed to a player. A missing clip is normal (traces travel without
//! their audio): the strip says so and the playhead runs silently.

use std::path::Path;

use super::spectrogram::Spectrogram;
use crate::audio::decode_file;
use crate::audio::playback::{PlaybackClip, Player};
use crate::trace::Trace;

/// The clip's picture alone (the other side of a comparison: only A's clip plays).
pub fn load_picture(trace: &Trace, trace_dir: &Path) -> Option<Spectrogram> {
    let audio = decode_file(&trace.find_clip(trace_dir)?, 16_000).ok()?;
    Some(Spectrogram::new(&audio.samples, audio.rate))
}

/// The clip's picture and a player for it; without the clip, no picture and a silent player
/// whose notice says why.
pub fn load_clip(trace: &Trace, trace_dir: &Path) -> (Option<Spectrogram>, Player) {
    let duration = trace.audio.duration_seconds;
    let Some(path) = trace.find_clip(trace_dir) else {
        let reason = format!(
            "clip {} not found: the playhead runs silently",
            trace.audio.path
        );
        return (None, Player::silent(duration, &reason));
    };
    match decode_file(&path, 16_000) {
        Ok(audio) => {
            let picture = Spectrogram::new(&audio.samples, audio.rate);
            let player = Player::open(&PlaybackClip::new(audio.source, audio.source_rate));
            (Some(picture), player)
        }
        Err(e) => (
            None,
            Player::silent(duration, &format!("{e}; silent playhead")),
        ),
    }
}
