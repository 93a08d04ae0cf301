//! The audio encoder of the Qwen2.5-Omni thinker (`audio_tower.*`), with its output projection.
//!
//! Ports `Qwen2_5OmniAudioEncoder` from transformers 5.x
//! (`models/qwen2_5_omni/modeling_qwen2_5_omni.py`). Unlike Qwen2-Audio's it never sees padding:
//! only the clip's mel frames go in, cut into chunks of `2 * n_window` frames (the last one
//! shorter). Each chunk goes alone through the two convolutions (zero-padded at its own edges),
//! gets sinusoidal positions starting at 0, and attends only to itself (the reference's
//! block-diagonal attention), so the chunks run through the layers as separate rows of a batch
//! (the whole ones together, the shorter last one after them). The chunks'
//! rows are then concatenated and pooled pairwise across the whole clip (a last odd row is
//! dropped), normalised (`ln_post`) and projected to the text width (`proj`). That gives
//! `audio_token_count(frames)` rows, 25 per second, as for Qwen2-Audio (the same conv2 stride and
//! pairwise pool: `MEL_FRAMES_PER_AUDIO_TOKEN`).

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder};

use super::audio_encoder::{audio_token_count, EncoderLayer, LAYER_NORM_EPS};
use super::config::AudioEncoderConfig;
use super::kernels::{Kernels, Norm};
use super::linear::{Linear, LinearLoader};

/// The timescale range of the sinusoidal positions (`SinusoidsPositionEmbedding`'s
/// `max_timescale`).
const MAX_TIMESCALE: f64 = 10_000.0;

pub struct OmniAudioEncoder {
    conv1: Conv1d,
    conv2: Conv1d,
    /// (max_source_positions, d_model): `cat(sin(t·f), cos(t·f))`, not stored in the weights.
    positions: Tensor,
    layers: Vec<EncoderLayer>,
    ln_post: Norm,
    proj: Linear,
    /// Mel frames per chunk: `2 * n_window`.
    chunk_frames: usize,
    num_mel_bins: usize,
}

/// `SinusoidsPositionEmbedding(length, channels)`: row `t` is `sin(t·f_i)` then `cos(t·f_i)`,
/// `f_i = exp(-i · ln(10000) / (channels/2 - 1))`, computed in float32 as the reference does.
pub(super) fn sinusoids(length: usize, channels: usize, device: &Device) -> Result<Tensor> {
    let half = channels / 2;
    let increment = (MAX_TIMESCALE.ln() / (half - 1) as f64) as f32;
    let inverse: Vec<f32> = (0..half).map(|i| (-increment * i as f32).exp()).collect();
    let mut table = Vec::with_capacity(length * channels);
    for t in 0..length {
        let scaled = inverse.iter().map(|f| t as f32 * f);
        table.extend(scaled.clone().map(f32::sin));
        table.extend(scaled.map(f32::cos));
    }
    Tensor::from_vec(table, (length, channels), device)
}

impl OmniAudioEncoder {
    /// `vb` is the thinker's root: the encoder and its projection are under `audio_tower`.
    pub fn load(
        cfg: &AudioEncoderConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
    ) -> Result<Self> {
        let tower = vb.pp("audio_tower");
        let d = cfg.d_model;
        let conv = |stride| Conv1dConfig {
            padding: 1,
            stride,
            ..Default::default()
        };
        let n_window = cfg.n_window.unwrap_or(100);
        let output_dim = cfg.output_dim.unwrap_or(d);
        Ok(Self {
            conv1: candle_nn::conv1d(cfg.num_mel_bins, d, 3, conv(1), tower.pp("conv1"))?,
            conv2: candle_nn::conv1d(d, d, 3, conv(2), tower.pp("conv2"))?,
            positions: sinusoids(cfg.max_source_positions, d, vb.device())?.to_dtype(vb.dtype())?,
            layers: (0..cfg.encoder_layers)
                .map(|i| {
                    EncoderLayer::load(
                        cfg,
                        tower.pp(format!("layers.{i}")),
                        kernels,
                        linears,
                        false,
                    )
                })
                .collect::<Result<_>>()?,
            ln_post: Norm::layer_norm(d, LAYER_NORM_EPS, tower.pp("ln_post"), kernels)?,
            proj: linears.load(d, output_dim, tower.pp("proj"), true)?,
            chunk_frames: 2 * n_window,
            num_mel_bins: cfg.num_mel_bins,
        })
    }

    /// `features` (n_mels, frames), of which the first `valid_frames` hold the clip. Returns
    /// (audio_tokens, output_dim): the rows that replace the `<|AUDIO|>` embeddings.
    pub fn forward(&self, features: &Tensor, valid_frames: usize) -> Result<Tensor> {
        let (n_mels, frames) = features.dims2()?;
        if n_mels != self.num_mel_bins || valid_frames == 0 || valid_frames > frames {
            candle_core::bail!(
                "the audio encoder takes {} mel bins and at least one frame, got {n_mels} bins and {valid_frames} of {frames} frames",
                self.num_mel_bins
            );
        }
        // Every chunk but the last is whole: those run as one batch, the last one after them.
        let whole = valid_frames / self.chunk_frames;
        let rest = valid_frames % self.chunk_frames;
        let mut chunks = Vec::new();
        if whole > 0 {
            let xs = features
                .narrow(1, 0, whole * self.chunk_frames)?
                .reshape((n_mels, whole, self.chunk_frames))?
                .transpose(0, 1)?
                .contiguous()?; // (whole, n_mels, chunk_frames)
            chunks.push(self.encode_chunks(&xs)?);
        }
        if rest > 0 {
            let xs = features
                .narrow(1, whole * self.chunk_frames, rest)?
                .unsqueeze(0)?; // (1, n_mels, rest)
            chunks.push(self.encode_chunks(&xs)?);
        }
        let xs = Tensor::cat(&chunks, 0)?; // (all rows, d)
                                           // AvgPool1d(2, stride 2) across the whole clip: (rows, d) -> (rows / 2, d)
        let (rows, d) = xs.dims2()?;
        let pooled = rows / 2;
        let xs = xs
            .narrow(0, 0, pooled * 2)?
            .reshape((pooled, 2, d))?
            .mean(1)?;
        let xs = self.proj.forward(&self.ln_post.forward(&xs)?)?;
        let expected = audio_token_count(valid_frames);
        if xs.dim(0)? != expected {
            candle_core::bail!(
                "the audio encoder gave {} rows for {valid_frames} frames, {expected} expected",
                xs.dim(0)?
            );
        }
        Ok(xs)
    }
}

impl OmniAudioEncoder {
    /// Chunks of equal length `(chunks, n_mels, frames)`, each on its own: the convolutions,
    /// positions from 0, the layers attending within the chunk. Returns their rows in order,
    /// `(chunks * rows, d)`.
    fn encode_chunks(&self, xs: &Tensor) -> Result<Tensor> {
        let dtype = self.positions.dtype();
        let xs = xs.to_dtype(dtype)?;
        let xs = self.conv1.forward(&xs)?.gelu_erf()?;
        let xs = self.conv2.forward(&xs)?.gelu_erf()?; // (chunks, d, rows)
        let (chunks, d, rows) = xs.dims3()?;
        let xs = xs
            .transpose(1, 2)?
            .broadcast_add(&self.positions.narrow(0, 0, rows)?)?; // (chunks, rows, d)
                                                                  // Within a chunk no key is masked; chunks never see each other (separate batch rows).
        let no_mask = Tensor::zeros((1, 1, 1, rows), dtype, xs.device())?;
        let mut xs = xs;
        for layer in &self.layers {
            xs = layer.forward(&xs, &no_mask)?;
        }
        xs.reshape((chunks * rows, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoids_start_at_zero_and_follow_the_reference_formula() {
        let table = sinusoids(3, 8, &Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        // Row 0: sin 0 = 0, cos 0 = 1.
        assert_eq!(table[0], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        // Row 2, channel 1: sin(2 · exp(-ln(1e4)/3)) = sin(2 / 10^(4/3)).
        let expected = (2.0f64 / 10f64.powf(4.0 / 3.0)).sin() as f32;
        assert!((table[2][1] - expected).abs() < 1e-6);
        assert_eq!(table[2][0], 2f32.sin());
        assert_eq!(table[2][4], 2f32.cos());
    }
}
