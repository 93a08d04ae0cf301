//! Log-mel features exactly as Hugging Face's `WhisperFeatureExtractor` computes them, the input
//! of Whisper-style audio encoders (Qwen2-Audio, Qwen2.5-Omni, Qwen3-Omni).
//!
//! Pipeline, in the reference's order (`feature_extraction_whisper.py`, `audio_utils.py`):
//! pad or cut to the window → centred STFT (reflect padding, periodic Hann) → power spectrum →
//! mel filterbank → `log10(max(·, 1e-10))` → clamp at `max − 8` → `(x + 4) / 4`. Arithmetic is in
//! f64, as numpy does it, then stored as f32.

use std::path::Path;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use serde::Deserialize;

use super::error::AudioError;
use super::filterbank::mel_filterbank;

/// Smallest mel power before the log: `log10(1e-10) = -10`.
const MEL_FLOOR: f64 = 1e-10;
/// Dynamic range kept below the loudest bin, in log10 units (80 dB).
const DYNAMIC_RANGE: f64 = 8.0;

/// The feature extractor's settings, named as in `preprocessor_config.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MelConfig {
    /// Number of mel bins: 128 for Qwen2-Audio, 80 for classic Whisper.
    #[serde(default = "defaults::feature_size")]
    pub feature_size: usize,
    /// Rate the model expects, in Hz.
    #[serde(default = "defaults::sampling_rate")]
    pub sampling_rate: u32,
    /// Window the model sees, in seconds; shorter clips are zero-padded, longer ones cut.
    #[serde(default = "defaults::chunk_length")]
    pub chunk_length: usize,
    /// STFT size (and window length), in samples: 400 = 25 ms at 16 kHz.
    #[serde(default = "defaults::n_fft")]
    pub n_fft: usize,
    /// STFT hop, in samples: 160 = 10 ms at 16 kHz.
    #[serde(default = "defaults::hop_length")]
    pub hop_length: usize,
}

mod defaults {
    pub fn feature_size() -> usize {
        128
    }
    pub fn sampling_rate() -> u32 {
        16_000
    }
    pub fn chunk_length() -> usize {
        30
    }
    pub fn n_fft() -> usize {
        400
    }
    pub fn hop_length() -> usize {
        160
    }
}

impl Default for MelConfig {
    /// Qwen2-Audio's front end: 128 bins, 30 s at 16 kHz.
    fn default() -> Self {
        MelConfig {
            feature_size: defaults::feature_size(),
            sampling_rate: defaults::sampling_rate(),
            chunk_length: defaults::chunk_length(),
            n_fft: defaults::n_fft(),
            hop_length: defaults::hop_length(),
        }
    }
}

impl MelConfig {
    /// Reads a checkpoint's `preprocessor_config.json`; absent fields take Whisper's defaults.
    pub fn from_preprocessor_config(path: &Path) -> Result<Self, AudioError> {
        let bad = |detail: String| AudioError::BadConfig {
            path: path.to_path_buf(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|error| AudioError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let config: MelConfig =
            serde_json::from_str(&text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        config.validate().map_err(bad)?;
        Ok(config)
    }

    /// Checks that the settings describe a computable front end.
    pub fn validate(&self) -> Result<(), String> {
        if self.feature_size == 0 || self.sampling_rate == 0 || self.chunk_length == 0 {
            return Err("feature_size, sampling_rate and chunk_length must be positive".into());
        }
        if self.n_fft < 2 || self.hop_length == 0 {
            return Err(format!(
                "n_fft {} and hop_length {} must be at least 2 and 1",
                self.n_fft, self.hop_length
            ));
        }
        if self.window_samples() <= self.n_fft / 2 {
            return Err("the window is shorter than half an FFT".into());
        }
        Ok(())
    }

    /// Samples in the model's window: `chunk_length × sampling_rate` (480,000 for 30 s).
    pub fn window_samples(&self) -> usize {
        self.chunk_length * self.sampling_rate as usize
    }

    /// Feature frames per window: `window_samples / hop_length` (3000 for 30 s); the centred
    /// STFT gives one more, which the reference drops.
    pub fn frames(&self) -> usize {
        self.window_samples() / self.hop_length
    }
}

/// Log-mel features of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    /// Row-major `[n_mels, frames]`.
    pub features: Vec<f32>,
    pub n_mels: usize,
    pub frames: usize,
    /// `[frames]`: 1 for frames that hold audio (`ceil(n_samples / hop)` of them), 0 for padding.
    pub mask: Vec<i64>,
    /// The clip was longer than the window and was cut.
    pub truncated: bool,
}

/// A reusable extractor: the filterbank, window and FFT plan are built once.
pub struct MelExtractor {
    config: MelConfig,
    /// Each mel filter's non-zero weights and the FFT bin of the first: a triangle covers a few
    /// bins of 201, so summing only those is ~60× less work than the dense product, and gives the
    /// same sums bit for bit (the skipped terms are exactly zero).
    filters: Vec<SparseFilter>,
    /// Periodic Hann window of `n_fft` samples.
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl MelExtractor {
    pub fn new(config: MelConfig) -> Result<Self, String> {
        config.validate()?;
        let n_fft = config.n_fft;
        let dense = mel_filterbank(
            config.feature_size,
            n_fft,
            config.sampling_rate,
            0.0,
            f64::from(config.sampling_rate) / 2.0,
        );
        let filters = dense
            .chunks_exact(n_fft / 2 + 1)
            .map(SparseFilter::from_dense)
            .collect();
        let window = (0..n_fft)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos())
            .collect();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        Ok(MelExtractor {
            config,
            filters,
            window,
            fft,
        })
    }

    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    /// Features of mono `samples` at `config.sampling_rate`, zero-padded or cut to the window
    /// (`padding="max_length"`, `truncation=True`).
    pub fn extract(&self, samples: &[f32]) -> LogMel {
        self.extract_within(samples, self.config.window_samples())
    }

    /// Features of the clip alone, neither padded nor cut: what the feature extractor gives one
    /// clip with `padding=True` (to the longest of the batch) and no truncation, as Qwen3-Omni's
    /// processor calls it. Its last frame's window reads the clip's own end, reflected, where a
    /// padded extraction reads zeros. `samples.len() / hop` frames, all valid, for clips of at
    /// least one FFT window (`n_fft` samples); a shorter clip, for which transformers' reflect
    /// padding fails, is zero-padded to one window first (`n_fft / hop` frames).
    pub fn extract_unpadded(&self, samples: &[f32]) -> LogMel {
        let length = samples.len().max(self.config.n_fft);
        let mut mel = self.extract_within(samples, length);
        mel.truncated = false;
        mel
    }

    /// Features of `samples` zero-padded or cut to `window_samples`.
    fn extract_within(&self, samples: &[f32], window_samples: usize) -> LogMel {
        let MelConfig {
            feature_size: n_mels,
            n_fft,
            hop_length: hop,
            ..
        } = self.config;
        let frames = window_samples / hop;

        // Zero-pad or cut to the window, then reflect-pad n_fft/2 on each side (centring).
        let mut padded = vec![0.0f64; window_samples];
        let kept = samples.len().min(window_samples);
        for (dst, &src) in padded.iter_mut().zip(&samples[..kept]) {
            *dst = f64::from(src);
        }
        let centred = reflect_pad(&padded, n_fft / 2);

        let mut log_mel = vec![0.0f64; n_mels * frames];
        let mut frame_in = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f64; n_fft / 2 + 1];
        for t in 0..frames {
            let start = t * hop;
            for ((dst, &x), &w) in frame_in
                .iter_mut()
                .zip(&centred[start..start + n_fft])
                .zip(&self.window)
            {
                *dst = x * w;
            }
            // Lengths come from the plan itself, so the transform cannot fail.
            self.fft
                .process_with_scratch(&mut frame_in, &mut spectrum, &mut scratch)
                .expect("FFT buffers are sized by the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, filter) in self.filters.iter().enumerate() {
                log_mel[m * frames + t] = filter.apply(&power).max(MEL_FLOOR).log10();
            }
        }

        let ceiling = log_mel.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let floor = ceiling - DYNAMIC_RANGE;
        let features = log_mel
            .iter()
            .map(|&x| ((x.max(floor) + 4.0) / 4.0) as f32)
            .collect();
        let valid_frames = samples.len().div_ceil(hop).min(frames);
        let mask = (0..frames).map(|t| i64::from(t < valid_frames)).collect();
        LogMel {
            features,
            n_mels,
            frames,
            mask,
            truncated: samples.len() > window_samples,
        }
    }
}

/// One mel filter: its weights from FFT bin `first` on, up to its last non-zero weight.
struct SparseFilter {
    first: usize,
    weights: Vec<f64>,
}

impl SparseFilter {
    fn from_dense(row: &[f64]) -> Self {
        let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
        let end = row
            .iter()
            .rposition(|&w| w != 0.0)
            .map_or(first, |last| last + 1);
        SparseFilter {
            first,
            weights: row[first..end].to_vec(),
        }
    }

    /// The filter's energy for a power spectrum.
    fn apply(&self, power: &[f64]) -> f64 {
        self.weights
            .iter()
            .zip(&power[self.first..])
            .map(|(w, p)| w * p)
            .sum()
    }
}

/// numpy's `pad(mode="reflect")`: mirrors around the edge samples without repeating them.
fn reflect_pad(signal: &[f64], pad: usize) -> Vec<f64> {
    let n = signal.len();
    let mut out = Vec::with_capacity(n + 2 * pad);
    out.extend((1..=pad).rev().map(|i| signal[i]));
    out.extend_from_slice(signal);
    out.extend((1..=pad).map(|i| signal[n - 1 - i]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_pad_matches_numpy() {
        // np.pad([1,2,3,4,5], 2, mode="reflect") == [3,2,1,2,3,4,5,4,3]
        let out = reflect_pad(&[1.0, 2.0, 3.0, 4.0, 5.0], 2);
        assert_eq!(out, vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0]);
    }

    #[test]
    fn mask_counts_frames_that_hold_audio() {
        let config = MelConfig {
            feature_size: 8,
            chunk_length: 1,
            ..MelConfig::default()
        };
        let extractor = MelExtractor::new(config).unwrap();
        let mel = extractor.extract(&vec![0.1; 161]);
        assert_eq!(mel.frames, 100);
        assert_eq!(mel.mask.iter().sum::<i64>(), 2);
        assert!(!mel.truncated);
        assert!(extractor.extract(&vec![0.1; 16_001]).truncated);
    }

    #[test]
    fn silence_is_flat_at_the_floor() {
        let extractor = MelExtractor::new(MelConfig::default()).unwrap();
        let mel = extractor.extract(&[0.0; 100]);
        // log10(1e-10) = -10, clamped at max-8 = -10, then (-10 + 4) / 4 = -1.5.
        assert!(mel.features.iter().all(|&x| x == -1.5));
        assert_eq!(mel.features.len(), 128 * 3000);
    }

    #[test]
    fn config_defaults_fill_absent_fields() {
        let config: MelConfig = serde_json::from_str(r#"{"feature_size": 80}"#).unwrap();
        assert_eq!(config.feature_size, 80);
        assert_eq!(config.frames(), 3000);
        let bad = MelConfig {
            hop_length: 0,
            ..MelConfig::default()
        };
        assert!(MelExtractor::new(bad).is_err());
    }
}
