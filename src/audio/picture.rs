//! A clip's log-mel picture for drawing (the inspector's strip, a figure's): the model's front
//! end (`mel`) over the whole clip rather than the model's window, with as many bands as the
//! drawing wants, scaled to 0..=1 over the clip once, so that drawing only averages cells.

use super::{MelConfig, MelExtractor};

/// A log-mel picture of a clip, `[band][frame]`, band 0 the lowest, values in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct MelPicture {
    pub bands: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    values: Vec<f32>,
}

impl MelPicture {
    /// The picture of mono `samples` at `rate` Hz in `bands` mel bands (16 kHz keeps the
    /// model's filterbank); at least one frame, even for no samples.
    pub fn new(samples: &[f32], rate: u32, bands: usize) -> Self {
        let rate = rate.max(1);
        let seconds = samples.len() as f64 / f64::from(rate);
        let config = MelConfig {
            feature_size: bands,
            sampling_rate: rate,
            chunk_length: seconds.ceil().max(1.0) as usize,
            ..MelConfig::default()
        };
        let hop = config.hop_length;
        // Valid for any rate: the window is at least 1 s, far longer than one FFT.
        let extractor = MelExtractor::new(config).expect("a valid display front end");
        let mel = extractor.extract(samples);
        let frames = samples.len().div_ceil(hop).clamp(1, mel.frames);
        let mut values = Vec::with_capacity(bands * frames);
        for band in 0..bands {
            values.extend_from_slice(&mel.features[band * mel.frames..band * mel.frames + frames]);
        }
        let (low, high) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let range = (high - low).max(1e-6);
        values.iter_mut().for_each(|v| *v = (*v - low) / range);
        MelPicture {
            bands,
            frames,
            seconds_per_frame: hop as f64 / f64::from(rate),
            values,
        }
    }

    /// Band `band`'s mean over frames `[first, last)` (both within the picture, `first < last`).
    pub fn band_mean(&self, band: usize, first: usize, last: usize) -> f32 {
        let row = &self.values[band * self.frames + first..band * self.frames + last];
        row.iter().sum::<f32>() / row.len() as f32
    }

    /// Every value, band after band.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}
