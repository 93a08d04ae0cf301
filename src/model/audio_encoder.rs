//! The Whisper-style audio encoder of Qwen2-Audio (`audio_tower.*`) and its projector, and the
//! audio-token rate it shares with Qwen2.5-Omni (`MEL_FRAMES_PER_AUDIO_TOKEN`,
//! `seconds_per_audio_token`, `audio_token_count`; Qwen3-Omni's is in `audio_tokens`).
//!
//! Ports `Qwen2AudioEncoder` from transformers 5.x (`models/qwen2_audio/modeling_qwen2_audio.py`):
//! two convolutions, learned positions, pre-LN self-attention layers with padded frames masked as
//! keys, a pairwise average pool, then the final LayerNorm. The operation order follows the
//! reference (the query is scaled before the product) so results agree to float rounding. Its
//! layers (`EncoderLayer`) are also the Omni thinker's.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder};

use super::config::AudioEncoderConfig;
use super::kernels::{softmax_f32, Kernels, Norm};
use super::linear::{Linear, LinearLoader};
use crate::audio::MelConfig;

/// LayerNorm epsilon of `nn.LayerNorm`'s default, which the reference uses.
pub(super) const LAYER_NORM_EPS: f64 = 1e-5;

/// Mel frames per audio token, for both families: conv1 keeps the frame rate, conv2 halves it
/// (stride 2), and the pool after the layers halves it again (Qwen2-Audio's `avg_pooler`, kernel
/// and stride 2; the Omni thinker's pairwise pool across its chunks): 2 × 2 = 4. `encoder_lengths`
/// gives the exact count for a clip, its rounding included.
pub const MEL_FRAMES_PER_AUDIO_TOKEN: usize = 4;

/// Seconds of audio one audio token stands for: `MEL_FRAMES_PER_AUDIO_TOKEN` hops of the front end.
/// Whisper's front end hops 160 samples at 16 kHz (100 frames a second), so a token is
/// 4 × 160 / 16,000 = 0.04 s and a second is 25 tokens, in either family.
pub fn seconds_per_audio_token(mel: &MelConfig) -> f64 {
    MEL_FRAMES_PER_AUDIO_TOKEN as f64 * mel.hop_length as f64 / f64::from(mel.sampling_rate)
}

/// Encoder output length for `valid_frames` mel frames: after conv2 (stride 2), then after the
/// average pool. These are `_get_feat_extract_output_lengths` of the reference.
pub fn encoder_lengths(valid_frames: usize) -> (usize, usize) {
    let after_conv = (valid_frames.max(1) - 1) / 2 + 1;
    let after_pool = (after_conv.max(2) - 2) / 2 + 1;
    (after_conv, after_pool)
}

/// Number of `<|AUDIO|>` tokens for `valid_frames` mel frames: one per
/// `MEL_FRAMES_PER_AUDIO_TOKEN` frames (one per 40 ms with Whisper's front end), the last part
/// rounded as the reference rounds it.
pub fn audio_token_count(valid_frames: usize) -> usize {
    encoder_lengths(valid_frames).1
}

struct EncoderAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    heads: usize,
    head_dim: usize,
    kernels: Kernels,
}

impl EncoderAttention {
    fn load(
        cfg: &AudioEncoderConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
        key_bias: bool,
    ) -> Result<Self> {
        let d = cfg.d_model;
        Ok(Self {
            q_proj: linears.load(d, d, vb.pp("q_proj"), true)?,
            k_proj: linears.load(d, d, vb.pp("k_proj"), key_bias)?,
            v_proj: linears.load(d, d, vb.pp("v_proj"), true)?,
            out_proj: linears.load(d, d, vb.pp("out_proj"), true)?,
            heads: cfg.encoder_attention_heads,
            head_dim: d / cfg.encoder_attention_heads,
            kernels,
        })
    }

    /// `xs` (B, T, d); `key_mask` (B, 1, 1, T) additive, 0 or -inf.
    fn forward(&self, xs: &Tensor, key_mask: &Tensor) -> Result<Tensor> {
        let (b, t, d) = xs.dims3()?;
        let split = |x: Tensor| -> Result<Tensor> {
            // (B, T, d) -> (B, heads, T, head_dim)
            x.reshape((b, t, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let scaling = (self.head_dim as f64).powf(-0.5);
        let q = split((self.q_proj.forward(xs)? * scaling)?)?;
        let k = split(self.k_proj.forward(xs)?)?;
        let v = split(self.v_proj.forward(xs)?)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(key_mask)?; // (B, heads, T, T)
        let probs = softmax_f32(&scores, self.kernels)?;
        let out = probs.matmul(&v)?; // (B, heads, T, head_dim)
        let out = out.transpose(1, 2)?.reshape((b, t, d))?;
        self.out_proj.forward(&out)
    }
}

/// One pre-LN encoder layer (Whisper's, which the Omni encoders reuse; Whisper's key projection
/// has no bias, Qwen3-Omni's has one: `key_bias`).
pub(super) struct EncoderLayer {
    self_attn_layer_norm: Norm,
    self_attn: EncoderAttention,
    final_layer_norm: Norm,
    fc1: Linear,
    fc2: Linear,
}

impl EncoderLayer {
    pub(super) fn load(
        cfg: &AudioEncoderConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
        key_bias: bool,
    ) -> Result<Self> {
        let d = cfg.d_model;
        let norm = |name: &str| Norm::layer_norm(d, LAYER_NORM_EPS, vb.pp(name), kernels);
        Ok(Self {
            self_attn_layer_norm: norm("self_attn_layer_norm")?,
            self_attn: EncoderAttention::load(cfg, vb.pp("self_attn"), kernels, linears, key_bias)?,
            final_layer_norm: norm("final_layer_norm")?,
            fc1: linears.load(d, cfg.encoder_ffn_dim, vb.pp("fc1"), true)?,
            fc2: linears.load(cfg.encoder_ffn_dim, d, vb.pp("fc2"), true)?,
        })
    }

    /// `xs` (B, T, d); `key_mask` (B, 1, 1, T) additive, 0 or -inf.
    pub(super) fn forward(&self, xs: &Tensor, key_mask: &Tensor) -> Result<Tensor> {
        let attended = self
            .self_attn
            .forward(&self.self_attn_layer_norm.forward(xs)?, key_mask)?;
        let xs = (xs + attended)?;
        let hidden = self
            .fc1
            .forward(&self.final_layer_norm.forward(&xs)?)?
            .gelu_erf()?;
        xs + self.fc2.forward(&hidden)?
    }
}

/// `audio_tower` plus `multi_modal_projector`: log-mel in, one text-width row per audio token out.
pub struct AudioEncoder {
    conv1: Conv1d,
    conv2: Conv1d,
    embed_positions: Tensor, // (max_source_positions, d_model)
    layers: Vec<EncoderLayer>,
    layer_norm: Norm,
    projector: Linear,
    config: AudioEncoderConfig,
}

impl AudioEncoder {
    /// `vb` is the checkpoint root: the encoder is under `audio_tower`, the projector under
    /// `multi_modal_projector.linear`.
    pub fn load(
        cfg: &AudioEncoderConfig,
        text_hidden: usize,
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
        Ok(Self {
            conv1: candle_nn::conv1d(cfg.num_mel_bins, d, 3, conv(1), tower.pp("conv1"))?,
            conv2: candle_nn::conv1d(d, d, 3, conv(2), tower.pp("conv2"))?,
            embed_positions: tower.get((cfg.max_source_positions, d), "embed_positions.weight")?,
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
            layer_norm: Norm::layer_norm(d, LAYER_NORM_EPS, tower.pp("layer_norm"), kernels)?,
            projector: linears.load(d, text_hidden, vb.pp("multi_modal_projector.linear"), true)?,
            config: cfg.clone(),
        })
    }

    /// Mel frames the encoder takes: two per source position (conv2 halves them).
    pub fn expected_frames(&self) -> usize {
        2 * self.config.max_source_positions
    }

    /// `features` (n_mels, frames), the full padded window; `valid_frames` of them hold audio.
    /// Returns (audio_tokens, text_hidden): the rows that replace the `<|AUDIO|>` embeddings.
    pub fn forward(&self, features: &Tensor, valid_frames: usize) -> Result<Tensor> {
        let (n_mels, frames) = features.dims2()?;
        if n_mels != self.config.num_mel_bins || frames != self.expected_frames() {
            candle_core::bail!(
                "the audio encoder takes ({}, {}) mel features, got ({n_mels}, {frames})",
                self.config.num_mel_bins,
                self.expected_frames()
            );
        }
        let dtype = self.embed_positions.dtype();
        let xs = features.to_dtype(dtype)?.unsqueeze(0)?; // (1, n_mels, frames)
        let xs = self.conv1.forward(&xs)?.gelu_erf()?;
        let xs = self.conv2.forward(&xs)?.gelu_erf()?; // (1, d, positions)
        let xs = xs.transpose(1, 2)?.broadcast_add(&self.embed_positions)?; // (1, positions, d)
        let positions = xs.dim(1)?;

        let (valid_positions, audio_tokens) = encoder_lengths(valid_frames);
        let key_mask: Vec<f32> = (0..positions)
            .map(|j| {
                if j < valid_positions {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect();
        let key_mask =
            Tensor::from_vec(key_mask, (1, 1, 1, positions), xs.device())?.to_dtype(dtype)?;

        let mut xs = xs;
        for layer in &self.layers {
            xs = layer.forward(&xs, &key_mask)?;
        }
        // AvgPool1d(2, stride 2) over time: (1, positions, d) -> (1, positions / 2, d)
        let pooled_len = positions / 2;
        let d = self.config.d_model;
        let xs = xs
            .narrow(1, 0, pooled_len * 2)?
            .reshape((1, pooled_len, 2, d))?
            .mean(2)?;
        let xs = self.layer_norm.forward(&xs)?;
        let xs = self.projector.forward(&xs)?.squeeze(0)?; // (pooled_len, text_hidden)
        xs.narrow(0, 0, audio_tokens.min(pooled_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token rate the trace records and the token count the processor expands agree: four
    /// frames a token, 0.04 s with Whisper's front end (750 tokens for its 30 s window).
    #[test]
    fn seconds_per_audio_token_agrees_with_the_token_count() {
        let whisper = MelConfig::default();
        assert_eq!(seconds_per_audio_token(&whisper), 0.04);
        for tokens in [1, 7, 100, 750] {
            assert_eq!(
                audio_token_count(tokens * MEL_FRAMES_PER_AUDIO_TOKEN),
                tokens
            );
        }
        let window_frames =
            whisper.chunk_length * whisper.sampling_rate as usize / whisper.hop_length;
        let window_tokens = whisper.chunk_length as f64 / seconds_per_audio_token(&whisper);
        assert_eq!(
            audio_token_count(window_frames),
            window_tokens.round() as usize
        );
    }
}
