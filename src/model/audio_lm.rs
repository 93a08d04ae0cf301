//! An audio-language model: an audio encoder, the audio-token scatter and the decoder as one
//! model, for Qwen2-Audio and the Qwen2.5-Omni and Qwen3-Omni thinkers alike.
//!
//! Ports `Qwen2AudioForConditionalGeneration`, `Qwen2_5OmniThinkerForConditionalGeneration` and
//! `Qwen3OmniMoeThinkerForConditionalGeneration` (audio and text only) from transformers 5.x: the
//! projected audio rows replace the embeddings of the audio placeholder tokens in order
//! (`masked_scatter`), then the decoder runs over the whole sequence. The families differ in the
//! audio encoder, in the decoder's options (which `text_config` names) and in where the weights
//! live (the prefixes of `family::MODEL_TYPES`); the thinkers' M-RoPE is plain RoPE for audio and
//! text. The forward calls take the position of their first row, as the decoder does.

use std::ops::Range;

use candle_core::{DType, Result, Tensor};
use candle_nn::VarBuilder;

use super::audio_encoder::AudioEncoder;
use super::aut_encoder::AutEncoder;
use super::capture::{CaptureRequest, LayerCapture};
use super::config::ModelConfig;
use super::decoder::{Decoder, Logits};
use super::family::Family;
use super::kernels::Kernels;
use super::linear::LinearLoader;
use super::omni_audio_encoder::OmniAudioEncoder;

/// The audio encoder of each family.
enum Encoder {
    /// Qwen2-Audio's: one fixed window of mel frames, padding masked.
    Whisper(AudioEncoder),
    /// The Qwen2.5-Omni thinker's: the clip's frames only, chunk by chunk.
    Omni(OmniAudioEncoder),
    /// The Qwen3-Omni thinker's AuT: 1-s chunks through 2-D convolutions, 8-s attention windows.
    Aut(AutEncoder),
}

pub struct AudioLm {
    audio_encoder: Encoder,
    decoder: Decoder,
    audio_token_index: u32,
}

impl AudioLm {
    /// The model for inference (fused kernels, KV cache), every weight in `vb`'s dtype.
    pub fn load(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let linears = LinearLoader::dense(vb.dtype());
        Self::load_with(cfg, vb, Kernels::Fast, &linears, &linears)
    }

    /// The model with the kernels of `kernels` (differentiable ones for training). `vb`'s dtype
    /// is the compute dtype; the loaders say how the encoder's and the decoder's linear layers
    /// keep their weights.
    pub fn load_with<'a>(
        cfg: &ModelConfig,
        vb: VarBuilder<'a>,
        kernels: Kernels,
        encoder_linears: &LinearLoader,
        decoder_linears: &LinearLoader,
    ) -> Result<Self> {
        // Only the tensors under these prefixes are read: a full Omni checkpoint's talker,
        // token2wav and vision tower stay on disk.
        let under = |vb: VarBuilder<'a>, prefix: &str| match prefix {
            "" => vb,
            prefix => vb.pp(prefix),
        };
        let kind = cfg.kind;
        let vb = under(vb, kind.weights_prefix);
        let audio_encoder = match kind.family {
            Family::Qwen2Audio => Encoder::Whisper(AudioEncoder::load(
                &cfg.audio_config,
                cfg.text_config.hidden_size,
                vb.clone(),
                kernels,
                encoder_linears,
            )?),
            Family::Qwen25Omni => Encoder::Omni(OmniAudioEncoder::load(
                &cfg.audio_config,
                vb.clone(),
                kernels,
                encoder_linears,
            )?),
            Family::Qwen3Omni => Encoder::Aut(AutEncoder::load(
                &cfg.audio_config,
                vb.clone(),
                kernels,
                encoder_linears,
            )?),
        };
        let decoder = Decoder::load(
            &cfg.text_config,
            under(vb, kind.decoder_prefix),
            kernels,
            decoder_linears,
        )?;
        Ok(Self {
            audio_encoder,
            decoder,
            audio_token_index: cfg.audio_token_index,
        })
    }

    /// Projected audio rows (audio tokens, text hidden) for `features` (n_mels, frames), of which
    /// the first `valid_frames` hold the clip.
    pub fn encode_audio(&self, features: &Tensor, valid_frames: usize) -> Result<Tensor> {
        let rows = match &self.audio_encoder {
            Encoder::Whisper(encoder) => encoder.forward(features, valid_frames),
            Encoder::Omni(encoder) => encoder.forward(features, valid_frames),
            Encoder::Aut(encoder) => encoder.forward(features, valid_frames),
        };
        super::prompt_product::release_scratch();
        rows
    }

    /// Qwen3-Omni's encoder rows before its layers (after the convolutions and positions), for
    /// checking against a reference; `None` for the other encoders.
    pub fn encoder_stem(&self, features: &Tensor, valid_frames: usize) -> Result<Option<Tensor>> {
        match &self.audio_encoder {
            Encoder::Aut(encoder) => Ok(Some(encoder.stem(features, valid_frames)?.0)),
            Encoder::Whisper(_) | Encoder::Omni(_) => Ok(None),
        }
    }

    /// Prompt embeddings (seq, hidden): token embeddings with the audio rows scattered, in order,
    /// into the `<|AUDIO|>` positions.
    pub fn embed_prompt(&self, input_ids: &[u32], audio_rows: &Tensor) -> Result<Tensor> {
        let n_audio = input_ids
            .iter()
            .filter(|&&t| t == self.audio_token_index)
            .count();
        let (rows, _) = audio_rows.dims2()?;
        if n_audio != rows {
            candle_core::bail!(
                "audio features and audio tokens do not match: {n_audio} tokens, {rows} features"
            );
        }
        let text = self.decoder.embed(input_ids)?;
        let audio_rows = audio_rows.to_dtype(text.dtype())?;
        // Runs of text and audio positions, glued back in order.
        let mut parts = Vec::new();
        let (mut start, mut next_audio_row) = (0, 0);
        while start < input_ids.len() {
            let is_audio = input_ids[start] == self.audio_token_index;
            let len = input_ids[start..]
                .iter()
                .take_while(|&&t| (t == self.audio_token_index) == is_audio)
                .count();
            if is_audio {
                parts.push(audio_rows.narrow(0, next_audio_row, len)?);
                next_audio_row += len;
            } else {
                parts.push(text.narrow(0, start, len)?);
            }
            start += len;
        }
        Tensor::cat(&parts, 0)
    }

    /// Runs the decoder over `embeds` (q, hidden) at positions `pos..pos + q`; `pos` must be
    /// what the KV cache holds (`cached_positions`), else the call is refused.
    pub fn forward_embeds(
        &mut self,
        embeds: &Tensor,
        pos: usize,
        capture: &CaptureRequest,
        logits: Logits,
    ) -> Result<(Tensor, Vec<LayerCapture>)> {
        self.decoder.forward(embeds, pos, capture, logits)
    }

    /// `forward_embeds` with the keys at `hidden_keys` hidden from every row of the call (the
    /// audio span, for the `masked` counterfactual and the interventions).
    pub fn forward_embeds_hiding(
        &mut self,
        embeds: &Tensor,
        pos: usize,
        hidden_keys: Option<&Range<usize>>,
        capture: &CaptureRequest,
        logits: Logits,
    ) -> Result<(Tensor, Vec<LayerCapture>)> {
        self.decoder
            .forward_hiding(embeds, pos, hidden_keys, capture, logits)
    }

    /// Token embeddings (q, hidden) in the compute dtype.
    pub fn embed_tokens(&self, ids: &[u32]) -> Result<Tensor> {
        self.decoder.embed(ids)
    }

    /// Runs the decoder over token ids (generated text: no audio) at positions from `pos`, as
    /// `forward_embeds`.
    pub fn forward_tokens(
        &mut self,
        ids: &[u32],
        pos: usize,
        capture: &CaptureRequest,
        logits: Logits,
    ) -> Result<(Tensor, Vec<LayerCapture>)> {
        let embeds = self.decoder.embed(ids)?;
        self.decoder.forward(&embeds, pos, capture, logits)
    }

    /// Positions the KV cache holds: the `pos` the next forward call takes.
    pub fn cached_positions(&self) -> usize {
        self.decoder.cached_positions()
    }

    pub fn clear_kv_cache(&mut self) {
        self.decoder.clear_kv_cache();
    }

    /// Cuts the KV cache back to its first `positions` (see `Decoder::truncate_kv_cache`).
    pub fn truncate_kv_cache(&mut self, positions: usize) -> Result<()> {
        self.decoder.truncate_kv_cache(positions)
    }

    /// Clears the KV cache and sizes it for `positions` (see `Decoder::reserve_kv_cache`).
    pub fn reserve_kv_cache(&mut self, positions: usize) {
        self.decoder.reserve_kv_cache(positions);
    }

    /// The model with its KV cache kept in `dtype`.
    pub fn with_kv_cache_dtype(mut self, dtype: DType) -> Self {
        self.decoder.clear_kv_cache();
        self.decoder.set_kv_cache_dtype(dtype);
        self
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use candle_core::{DType, Device, Tensor};

    use super::*;
    use crate::model::weights::{load_var_builder, weight_files};
    use crate::model::{Checkpoint, DeviceKind, Precision};

    const TOKENS: [u32; 7] = [3, 17, 42, 99, 7, 256, 11];

    fn largest_gap(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    /// The caller says where the rows go and the KV cache checks it: a forward at any position
    /// but the cache's length is refused (the old implicit counter would have applied RoPE there
    /// silently) and leaves the cache as it was; at the right position the rows get the logits
    /// one pass over the whole sequence gives.
    #[test]
    fn a_forward_at_the_wrong_position_is_refused_and_the_right_one_continues_the_cache() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2_audio/tiny_a");
        let mut checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
        let model = &mut checkpoint.model;
        let off = CaptureRequest::Off;
        model.clear_kv_cache();
        let (whole, _) = model.forward_tokens(&TOKENS, 0, &off, Logits::All).unwrap();

        model.clear_kv_cache();
        model
            .forward_tokens(&TOKENS[..4], 0, &off, Logits::All)
            .unwrap();
        assert_eq!(model.cached_positions(), 4);
        for wrong in [0, 3, 5] {
            let error = model
                .forward_tokens(&TOKENS[4..], wrong, &off, Logits::All)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("position {wrong}")) && error.contains("holds 4"),
                "{error}"
            );
            assert_eq!(
                model.cached_positions(),
                4,
                "a refused call leaves the cache"
            );
        }
        let (rest, _) = model
            .forward_tokens(&TOKENS[4..], 4, &off, Logits::All)
            .unwrap();
        assert_eq!(model.cached_positions(), TOKENS.len());
        let gap = largest_gap(&rest, &whole.narrow(0, 4, TOKENS.len() - 4).unwrap());
        assert!(gap < 1e-5, "{gap}");

        // The training path keeps no cache: each call starts at 0, and another start is refused.
        let files = weight_files(&dir).unwrap();
        let vb = load_var_builder(&files, DType::F32, &Device::Cpu).unwrap();
        let linears = LinearLoader::dense(DType::F32);
        let mut training = AudioLm::load_with(
            &checkpoint.config,
            vb,
            Kernels::Differentiable,
            &linears,
            &linears,
        )
        .unwrap();
        for _ in 0..2 {
            let (logits, _) = training
                .forward_tokens(&TOKENS, 0, &off, Logits::All)
                .unwrap();
            let gap = largest_gap(&logits, &whole);
            assert!(gap < 1e-5, "{gap}");
        }
        let error = training
            .forward_tokens(&TOKENS[4..], 4, &off, Logits::All)
            .unwrap_err()
            .to_string();
        assert!(error.contains("holds 0"), "{error}");
    }
}
