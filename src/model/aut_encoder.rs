//! The audio encoder of the Qwen3-Omni thinker ("AuT", `audio_tower.*`), with its output head.
//!
//! Ports `Qwen3OmniMoeAudioEncoder` from transformers 5.x
//! (`models/qwen3_omni_moe/modeling_qwen3_omni_moe.py`), eager attention:
//! - the clip's mel frames are cut into chunks of `2 × n_window` frames (1 s); every chunk,
//!   the shorter last one included, is zero-padded to the longest chunk and goes through three
//!   2-D convolutions (kernel 3, stride 2, padding 1, GELU) over (mel, time). The padding is kept
//!   through the convolutions, as the reference keeps it: after the first one the padded columns
//!   hold `gelu(bias)`, which the next two read, so a short last chunk convolved at its own
//!   length would give other values in its last rows;
//! - the (channels × mel) features of each time step are flattened channel-major and projected
//!   (`conv_out`, no bias); sinusoidal positions restart at 0 in every chunk; the padded rows are
//!   dropped and the chunks' rows packed one after another (`AudioTokenRate::Chunked` of them);
//! - the pre-LN layers (Whisper's, with a key bias) attend within windows of
//!   `n_window_infer / (2 × n_window)` chunks' rows (104 tokens, 8 s), not across them: the
//!   reference's block-diagonal attention. Whole windows run as one batch, the shorter last one
//!   after them;
//! - `ln_post`, `proj1`, GELU, `proj2` give one row per `<|audio_pad|>` token, at the text width.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use super::audio_encoder::{EncoderLayer, LAYER_NORM_EPS};
use super::audio_tokens::{chunk_tokens, halved};
use super::config::AudioEncoderConfig;
use super::kernels::{Kernels, Norm};
use super::linear::{Linear, LinearLoader};
use super::omni_audio_encoder::sinusoids;

/// Chunks convolved at a time: bounds the convolutions' memory (a 1-s chunk is 480 × 64 × 50
/// floats after the first convolution at the real size, 6 MB), like the reference's
/// `conv_chunksize`, which changes no value.
const CHUNKS_PER_CONVOLUTION: usize = 64;

/// Attention windows run through the layers at a time: bounds the layers' memory for long clips
/// (8 windows of 104 tokens are a minute of audio: 17 MB of scores a layer at the real size),
/// which changes no value, since windows never see each other (the 31.5 s parity case's 15
/// windows of 26 tokens run in two batches).
const WINDOWS_PER_BATCH: usize = 8;

pub struct AutEncoder {
    convs: [Conv2d; 3],
    conv_out: Linear,
    /// (max_source_positions, d_model): `cat(sin(t·f), cos(t·f))`, not stored in the weights.
    positions: Tensor,
    layers: Vec<EncoderLayer>,
    ln_post: Norm,
    proj1: Linear,
    proj2: Linear,
    /// Mel frames per chunk: `2 * n_window`.
    chunk_frames: usize,
    /// Chunks per attention window: `n_window_infer / chunk_frames`.
    chunks_per_window: usize,
    num_mel_bins: usize,
}

impl AutEncoder {
    /// `vb` is the thinker's root: the encoder and its head are under `audio_tower`.
    pub fn load(
        cfg: &AudioEncoderConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
    ) -> Result<Self> {
        let tower = vb.pp("audio_tower");
        let d = cfg.d_model;
        // ModelConfig::load fills these for the family, and checks them.
        let n_window = cfg.n_window.unwrap_or(50);
        let chunk_frames = 2 * n_window;
        let channels = cfg.downsample_hidden_size.unwrap_or(480);
        let output_dim = cfg.output_dim.unwrap_or(d);
        let conv = Conv2dConfig {
            padding: 1,
            stride: 2,
            ..Default::default()
        };
        let convs = [
            candle_nn::conv2d(1, channels, 3, conv, tower.pp("conv2d1"))?,
            candle_nn::conv2d(channels, channels, 3, conv, tower.pp("conv2d2"))?,
            candle_nn::conv2d(channels, channels, 3, conv, tower.pp("conv2d3"))?,
        ];
        let mel_after = halved(halved(halved(cfg.num_mel_bins)));
        Ok(Self {
            convs,
            conv_out: linears.load(channels * mel_after, d, tower.pp("conv_out"), false)?,
            positions: sinusoids(cfg.max_source_positions, d, vb.device())?.to_dtype(vb.dtype())?,
            layers: (0..cfg.encoder_layers)
                .map(|i| {
                    EncoderLayer::load(cfg, tower.pp(format!("layers.{i}")), kernels, linears, true)
                })
                .collect::<Result<_>>()?,
            ln_post: Norm::layer_norm(d, LAYER_NORM_EPS, tower.pp("ln_post"), kernels)?,
            proj1: linears.load(d, d, tower.pp("proj1"), true)?,
            proj2: linears.load(d, output_dim, tower.pp("proj2"), true)?,
            chunk_frames,
            chunks_per_window: cfg.n_window_infer.unwrap_or(800) / chunk_frames,
            num_mel_bins: cfg.num_mel_bins,
        })
    }

    /// `features` (n_mels, frames), of which the first `valid_frames` hold the clip. Returns
    /// (audio tokens, output_dim): the rows that replace the `<|audio_pad|>` embeddings.
    pub fn forward(&self, features: &Tensor, valid_frames: usize) -> Result<Tensor> {
        let (xs, rows) = self.stem(features, valid_frames)?;
        let (tokens, d) = xs.dims2()?;
        // Attention windows of `rows × chunks_per_window` tokens (rows: the longest chunk's).
        let window = rows * self.chunks_per_window;
        let full_windows = tokens / window;
        let last = tokens % window;
        let mut encoded = Vec::with_capacity(full_windows.div_ceil(WINDOWS_PER_BATCH) + 1);
        for first in (0..full_windows).step_by(WINDOWS_PER_BATCH) {
            let count = WINDOWS_PER_BATCH.min(full_windows - first);
            let batch = xs
                .narrow(0, first * window, count * window)?
                .reshape((count, window, d))?;
            encoded.push(self.attend(batch)?.reshape((count * window, d))?);
        }
        if last > 0 {
            let batch = xs.narrow(0, full_windows * window, last)?.unsqueeze(0)?;
            encoded.push(self.attend(batch)?.squeeze(0)?);
        }
        let xs = Tensor::cat(&encoded, 0)?;
        let xs = self.ln_post.forward(&xs)?;
        let xs = self.proj1.forward(&xs)?.gelu_erf()?;
        self.proj2.forward(&xs)
    }

    /// The packed rows before the layers, (audio tokens, d_model): the chunks convolved,
    /// projected, with their positions, padding dropped; and the rows of the longest chunk.
    pub fn stem(&self, features: &Tensor, valid_frames: usize) -> Result<(Tensor, usize)> {
        let (n_mels, frames) = features.dims2()?;
        if n_mels != self.num_mel_bins || valid_frames == 0 || valid_frames > frames {
            candle_core::bail!(
                "the audio encoder takes {} mel bins and at least one frame, got {n_mels} bins and {valid_frames} of {frames} frames",
                self.num_mel_bins
            );
        }
        let dtype = self.positions.dtype();
        let whole = valid_frames / self.chunk_frames;
        let rest = valid_frames % self.chunk_frames;
        let chunks = whole + usize::from(rest > 0);
        // Every chunk is padded to the longest: a whole chunk if there is one.
        let padded_frames = if whole > 0 { self.chunk_frames } else { rest };
        let clip = features.narrow(1, 0, valid_frames)?.to_dtype(dtype)?;
        let missing = chunks * padded_frames - valid_frames;
        let clip = if missing > 0 {
            let zeros = Tensor::zeros((n_mels, missing), dtype, features.device())?;
            Tensor::cat(&[&clip, &zeros], 1)?
        } else {
            clip
        };
        let chunked = clip
            .reshape((n_mels, chunks, padded_frames))?
            .transpose(0, 1)?
            .unsqueeze(1)?
            .contiguous()?; // (chunks, 1, n_mels, padded_frames)

        let mut convolved = Vec::new();
        for start in (0..chunks).step_by(CHUNKS_PER_CONVOLUTION) {
            let group = chunked.narrow(0, start, CHUNKS_PER_CONVOLUTION.min(chunks - start))?;
            convolved.push(self.convolve(&group)?);
        }
        let xs = Tensor::cat(&convolved, 0)?; // (chunks, rows, d), positions added
        let (_, rows, d) = xs.dims3()?;

        // Padded rows dropped: whole chunks keep all their rows, the last one its own count.
        let kept_last = if rest > 0 { chunk_tokens(rest) } else { rows };
        let mut packed = Vec::with_capacity(2);
        if chunks > 1 {
            packed.push(
                xs.narrow(0, 0, chunks - 1)?
                    .reshape(((chunks - 1) * rows, d))?,
            );
        }
        packed.push(xs.get(chunks - 1)?.narrow(0, 0, kept_last)?);
        Ok((Tensor::cat(&packed, 0)?, rows)) // (tokens, d)
    }

    /// Chunks `(b, 1, n_mels, frames)` through the three convolutions, `conv_out` and the
    /// positions: `(b, rows, d)`.
    fn convolve(&self, chunks: &Tensor) -> Result<Tensor> {
        let mut xs = chunks.clone();
        for conv in &self.convs {
            xs = conv.forward(&xs)?.gelu_erf()?;
        }
        let (b, c, f, t) = xs.dims4()?;
        // (b, c, f, t) -> (b, t, c, f) -> (b, t, c·f): channel-major, as the reference flattens.
        let xs = xs
            .permute((0, 3, 1, 2))?
            .contiguous()?
            .reshape((b, t, c * f))?;
        let xs = self.conv_out.forward(&xs)?;
        xs.broadcast_add(&self.positions.narrow(0, 0, t)?)
    }

    /// Windows `(windows, tokens, d)` through the layers, each attending only to itself.
    fn attend(&self, mut xs: Tensor) -> Result<Tensor> {
        let tokens = xs.dim(1)?;
        let no_mask = Tensor::zeros((1, 1, 1, tokens), xs.dtype(), xs.device())?;
        for layer in &self.layers {
            xs = layer.forward(&xs, &no_mask)?;
        }
        Ok(xs)
    }
}
