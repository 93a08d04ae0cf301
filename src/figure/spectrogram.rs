//! The clip's log-mel spectrogram for the figure's strip: `audio::MelPicture`, as the
//! inspector's strip uses it, with more bands than the terminal's two pixels a row can show;
//! each band is drawn on its own, and the median sets the background.

use crate::audio::MelPicture;

use super::spec::ClipSamples;

/// Mel bands of the strip.
pub const BANDS: usize = 48;

/// A log-mel picture, `[band][frame]`, band 0 the lowest, values in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMelPicture {
    pub bands: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    picture: MelPicture,
}

impl LogMelPicture {
    /// The picture of `clip`; `None` for an empty clip.
    pub fn new(clip: &ClipSamples) -> Option<Self> {
        if clip.samples.is_empty() {
            return None;
        }
        let picture = MelPicture::new(&clip.samples, clip.rate, BANDS);
        Some(LogMelPicture {
            bands: picture.bands,
            frames: picture.frames,
            seconds_per_frame: picture.seconds_per_frame,
            picture,
        })
    }

    /// Band `band`'s mean over `[from, to)` seconds (at least one frame; 0 past the clip's end).
    pub fn level(&self, band: usize, from: f64, to: f64) -> f32 {
        let frame = |t: f64| (t.max(0.0) / self.seconds_per_frame) as usize;
        let first = frame(from);
        if first >= self.frames || band >= self.bands {
            return 0.0;
        }
        let last = frame(to).clamp(first + 1, self.frames);
        self.picture.band_mean(band, first, last)
    }

    /// The median value over the picture: the level of the clip's background.
    pub fn median(&self) -> f32 {
        let mut sorted = self.picture.values().to_vec();
        sorted.sort_by(f32::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
    }

    /// The clip's length the picture covers, in seconds.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 * self.seconds_per_frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_its_band_only_while_it_sounds() {
        let rate: u32 = 16_000;
        let samples: Vec<f32> = (0..2 * rate)
            .map(|i| match i < rate {
                true => 0.0,
                false => (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() * 0.5,
            })
            .collect();
        let picture = LogMelPicture::new(&ClipSamples { samples, rate }).unwrap();
        assert_eq!(picture.frames, 200);
        let loudest = (0..BANDS)
            .max_by(|&a, &b| {
                picture
                    .level(a, 1.1, 1.9)
                    .total_cmp(&picture.level(b, 1.1, 1.9))
            })
            .unwrap();
        assert!(loudest < BANDS / 2, "440 Hz is low: band {loudest}");
        assert!(picture.level(loudest, 1.1, 1.9) > picture.level(loudest, 0.1, 0.9) + 0.3);
        assert_eq!(picture.level(loudest, 5.0, 6.0), 0.0);
        assert!(LogMelPicture::new(&ClipSamples {
            samples: vec![],
            rate
        })
        .is_none());
    }
}
