//! How many audio tokens a clip becomes, how long one lasts, and how the front end pads the clip:
//! the one place that knows each family's audio-token rate.
//!
//! Qwen2-Audio and Qwen2.5-Omni make one token per 4 mel frames (a stride-2 convolution and a
//! pairwise pool: 25 a second) from features padded to the front end's window. Qwen3-Omni's AuT
//! encoder cuts the clip's own frames (no padding: its processor pads to the longest clip of a
//! batch, which for one clip is none) into chunks of `2 × n_window` frames and shrinks each by
//! three stride-2 convolutions: a 100-frame chunk gives 13 tokens, 13 a second, the last chunk of
//! a clip fewer (`_get_feat_extract_output_lengths` of `modeling_qwen3_omni_moe.py`).

use crate::audio::MelConfig;

use super::audio_encoder::audio_token_count;

/// A family's audio-token rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioTokenRate {
    /// One token per 4 frames of features padded to the front end's window.
    Pooled,
    /// Qwen3-Omni's AuT: chunks of `chunk_frames` frames of the unpadded clip, each shrunk by
    /// three stride-2 convolutions.
    Chunked { chunk_frames: usize },
}

/// Rows a stride-2, kernel-3, padding-1 convolution leaves of `n`: `⌈n / 2⌉`.
pub(super) fn halved(n: usize) -> usize {
    n.div_ceil(2)
}

/// Rows the three convolutions of AuT leave of a chunk of `frames` frames (13 of 100).
pub(super) fn chunk_tokens(frames: usize) -> usize {
    halved(halved(halved(frames)))
}

impl AudioTokenRate {
    /// Audio tokens for `valid_frames` frames of a clip.
    pub fn count(self, valid_frames: usize) -> usize {
        match self {
            AudioTokenRate::Pooled => audio_token_count(valid_frames),
            AudioTokenRate::Chunked { chunk_frames } => {
                let chunk_frames = chunk_frames.max(1);
                (valid_frames / chunk_frames) * chunk_tokens(chunk_frames)
                    + chunk_tokens(valid_frames % chunk_frames)
            }
        }
    }

    /// Mel frames one token stands for: 4, or `chunk_frames / 13` (7.69 for 100-frame chunks;
    /// inside a chunk AuT's tokens cover 8 frames each and the chunk's last one 4, so a token's
    /// place on this even grid is off by at most 0.4 frames × 9 ≈ 37 ms at the end of a chunk).
    pub fn frames_per_token(self) -> f64 {
        match self {
            AudioTokenRate::Pooled => super::MEL_FRAMES_PER_AUDIO_TOKEN as f64,
            AudioTokenRate::Chunked { chunk_frames } => {
                chunk_frames as f64 / chunk_tokens(chunk_frames).max(1) as f64
            }
        }
    }

    /// Seconds of audio one token stands for with the front end `mel` (0.04 s, or 1/13 s).
    pub fn seconds_per_token(self, mel: &MelConfig) -> f64 {
        self.frames_per_token() * mel.hop_length as f64 / f64::from(mel.sampling_rate)
    }

    /// Whether the front end pads (or cuts) the clip to its window before the features.
    pub fn pads_to_window(self) -> bool {
        matches!(self, AudioTokenRate::Pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// transformers 5.25's `_get_feat_extract_output_lengths(L, n_window=50)` for these L (run in
    /// Python; `tests/fixtures/qwen3_omni/*/cases.json` pins more).
    #[test]
    fn chunked_counts_follow_the_reference_formula() {
        let rate = AudioTokenRate::Chunked { chunk_frames: 100 };
        let reference = [
            (1, 1),
            (37, 5),
            (99, 13),
            (100, 13),
            (101, 14),
            (150, 20),
            (1000, 130),
            (3000, 390),
            (30000, 3900),
        ];
        for (frames, tokens) in reference {
            assert_eq!(rate.count(frames), tokens, "{frames} frames");
        }
        let mel = MelConfig::default();
        assert!((rate.seconds_per_token(&mel) - 1.0 / 13.0).abs() < 1e-12);
        assert!((AudioTokenRate::Pooled.seconds_per_token(&mel) - 0.04).abs() < 1e-12);
        assert!(!rate.pads_to_window() && AudioTokenRate::Pooled.pads_to_window());
    }
}
