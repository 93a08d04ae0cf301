//! The clip's log-mel spectrogram as the inspector draws it: the same front end the model uses
//! (`audio::mel`), over the whole clip rather than the model's window, scaled to 0..=1 once when
//! the clip is loaded so that drawing only averages cells.

use crate::audio::{MelConfig, MelExtractor};

/// Mel bands of the picture: enough for a strip 16 rows high (two pixels per row).
const BANDS: usize = 32;

/// A log-mel picture of a clip, `[band][frame]`, band 0 the lowest, values in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub bands: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    values: Vec<f32>,
}

impl Spectrogram {
    /// The picture of mono `samples` at `rate` Hz (16 kHz keeps the model's filterbank).
    pub fn new(samples: &[f32], rate: u32) -> Self {
        let seconds = samples.len() as f64 / f64::from(rate.max(1));
        let config = MelConfig {
            feature_size: BANDS,
            sampling_rate: rate,
            chunk_length: seconds.ceil().max(1.0) as usize,
            ..MelConfig::default()
        };
        let hop = config.hop_length;
        // Valid for any rate: the window is at least 1 s, far longer than one FFT.
        let extractor = MelExtractor::new(config).expect("a valid display front end");
        let mel = extractor.extract(samples);
        let frames = samples.len().div_ceil(hop).clamp(1, mel.frames);
        let mut values = Vec::with_capacity(BANDS * frames);
        for band in 0..BANDS {
            values.extend_from_slice(&mel.features[band * mel.frames..band * mel.frames + frames]);
        }
        let (low, high) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let range = (high - low).max(1e-6);
        values.iter_mut().for_each(|v| *v = (*v - low) / range);
        Spectrogram {
            bands: BANDS,
            frames,
            seconds_per_frame: hop as f64 / f64::from(rate.max(1)),
            values,
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
            .map(|b| {
                let row = &self.values[b * self.frames + f0..b * self.frames + f1];
                row.iter().sum::<f32>() / row.len() as f32
            })
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
