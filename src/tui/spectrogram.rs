//! The clip's log-mel spectrogram as the inspector draws it (`audio::MelPicture` in 32 bands,
//! made once when the clip is loaded): each strip cell shows the loudest band among those it
//! covers.

use crate::audio::MelPicture;

/// Mel bands of the picture: enough for a strip 16 rows high (two pixels per row).
const BANDS: usize = 32;

/// A log-mel picture of a clip, `[band][frame]`, band 0 the lowest, values in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub bands: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    picture: MelPicture,
}

impl Spectrogram {
    /// The picture of mono `samples` at `rate` Hz (16 kHz keeps the model's filterbank).
    pub fn new(samples: &[f32], rate: u32) -> Self {
        let picture = MelPicture::new(samples, rate, BANDS);
        Spectrogram {
            bands: picture.bands,
            frames: picture.frames,
            seconds_per_frame: picture.seconds_per_frame,
            picture,
        }
    }

    /// The loudest band's mean over the time range `[from, to)` seconds, among the bands in the
    /// fraction range `[low, high)` (0 = lowest band, 1 = highest): a narrow tone stays bright
    /// when several bands share one cell.
    pub fn level(&self, (from, to): (f64, f64), (low, high): (f64, f64)) -> f32 {
        let frame = |t: f64| ((t / self.seconds_per_frame) as usize).min(self.frames - 1);
        let (f0, f1) = (frame(from), frame(to).max(frame(from) + 1).min(self.frames));
        let band = |x: f64| ((x * self.bands as f64) as usize).min(self.bands);
        let (b0, b1) = (band(low).min(self.bands - 1), band(high).max(band(low) + 1));
        let b1 = b1.min(self.bands);
        (b0..b1)
            .map(|b| self.picture.band_mean(b, f0, f1))
            .fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_its_band_and_only_while_it_sounds() {
        // 1 s of silence, then 1 s of a 440 Hz tone.
        let rate = 16_000;
        let samples: Vec<f32> = (0..2 * rate)
            .map(|i| {
                if i < rate {
                    0.0
                } else {
                    (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() * 0.5
                }
            })
            .collect();
        let picture = Spectrogram::new(&samples, rate as u32);
        assert_eq!(picture.frames, 200);
        let silence = picture.level((0.1, 0.9), (0.0, 1.0));
        let tone_low = picture.level((1.1, 1.9), (0.1, 0.3));
        let tone_high = picture.level((1.1, 1.9), (0.75, 1.0));
        assert!(tone_low > silence + 0.2, "{tone_low} vs {silence}");
        assert!(tone_low > tone_high, "{tone_low} vs {tone_high}");
    }
}
