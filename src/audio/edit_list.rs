//! MP4 edit lists: the encoder priming and padding of AAC in M4A/MP4.
//!
//! An AAC encoder prepends priming samples (1024 for most encoders) and pads the last frame; the
//! MP4 container records which span of the decoded track is the real audio in the edit list
//! (`moov/trak/edts/elst`). symphonia parses that box but does not apply it, so the decoded clip
//! starts about 23 ms late. We read the edit list with mp4parse and cut the decoded samples to it,
//! as ffmpeg and Apple's players do.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The span of decoded samples that the edit list keeps, at the track's sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EditSpan {
    /// Samples to drop at the start (encoder priming).
    pub skip: usize,
    /// Samples to keep after that, if the edit list says.
    pub keep: Option<usize>,
}

impl EditSpan {
    /// Cuts `samples` (mono, at the rate the span was computed for) to the span.
    pub fn apply(&self, samples: &mut Vec<f32>) {
        let skip = self.skip.min(samples.len());
        samples.drain(..skip);
        if let Some(keep) = self.keep {
            samples.truncate(keep);
        }
    }
}

/// The edit span of the first audio track, if `path` is an MP4 file that has an edit list.
/// Anything unreadable gives `None`: the audio then plays as decoded.
pub fn mp4_audio_edit_span(path: &Path, sample_rate: u32) -> Option<EditSpan> {
    let mut file = BufReader::new(File::open(path).ok()?);
    let mut head = [0u8; 8];
    file.read_exact(&mut head).ok()?;
    if &head[4..8] != b"ftyp" {
        return None;
    }
    let mut file = BufReader::new(File::open(path).ok()?);
    let context = mp4parse::read_mp4(&mut file).ok()?;
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Audio)?;
    let track_timescale = track.timescale?.0;
    let media_time = track.media_time?.0;
    if track_timescale == 0 {
        return None;
    }
    let rate = u128::from(sample_rate);
    let skip = (u128::from(media_time) * rate / u128::from(track_timescale)) as usize;
    let keep = match (track.edited_duration, context.timescale) {
        (Some(duration), Some(movie_timescale)) if movie_timescale.0 > 0 => {
            Some((u128::from(duration.0) * rate / u128::from(movie_timescale.0)) as usize)
        }
        _ => None,
    };
    Some(EditSpan { skip, keep })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_cuts_priming_and_padding() {
        let mut samples: Vec<f32> = (0..10).map(|i| i as f32).collect();
        EditSpan {
            skip: 2,
            keep: Some(5),
        }
        .apply(&mut samples);
        assert_eq!(samples, vec![2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut short = vec![1.0];
        EditSpan {
            skip: 4,
            keep: None,
        }
        .apply(&mut short);
        assert!(short.is_empty());
    }

    #[test]
    fn non_mp4_files_have_no_span() {
        let wav = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio/mel/short.wav");
        assert_eq!(mp4_audio_edit_span(&wav, 16_000), None);
    }
}
