//! The decoder (`language_model.*` in Qwen2-Audio, `thinker.model.*` and `thinker.lm_head` in a
//! full Omni checkpoint): grouped-query attention with RoPE, RMSNorm, SwiGLU MLPs, a KV cache,
//! and attention capture inside the attention.
//!
//! Ports `Qwen2ForCausalLM` from transformers 5.x (`models/qwen2/modeling_qwen2.py`), eager
//! attention: scores in the compute dtype, softmax in float32; and the options of the Qwen3-Omni
//! thinker's text model (`Qwen3OmniMoeThinkerTextModel`), which its `text_config` names: no
//! attention biases, an RMSNorm on every query and key head before RoPE (`qk_norm`), and
//! mixture-of-experts MLPs (`experts`), whose routing joins the capture. Unlike candle's own `qwen2.rs`, the
//! probabilities are handed to the capture request before they are multiplied into the values.
//! Grouped heads attend through a reshape, not a copy of the cache: the `n_rep` query heads that
//! share a key/value head become extra query rows of that head.
//!
//! A forward call says the position of its first row; RoPE is applied there, and the KV cache,
//! whose length is the next position, refuses any other (the training path keeps no cache, so
//! its calls start at 0). A call may also hide a run of keys (the audio tokens) from all of its
//! query rows, which is how the `masked` counterfactual and the interventions remove the audio
//! from generated positions while the cached prompt keeps it; the cache can be cut back to a
//! prefix to run another continuation from there.

use std::ops::Range;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::kv_cache::KvCache;
use candle_nn::{Embedding, VarBuilder};

use super::capture::{CaptureRequest, LayerCapture};
use super::config::TextConfig;
use super::experts::{SparseExperts, SwiGlu};
use super::kernels::{self, softmax_f32, Kernels, Norm};
use super::linear::{Linear, LinearLoader};

/// Positions the KV cache allocates at a time; it grows by as many when full.
const KV_CACHE_CHUNK: usize = 512;

/// RoPE tables for a run of positions, as transformers computes them (float32).
struct Rotary {
    inv_freq: Vec<f32>, // (head_dim / 2)
}

impl Rotary {
    fn new(cfg: &TextConfig) -> Self {
        let dim = cfg.head_dim();
        let base = cfg.rope_theta() as f32;
        let inv_freq = (0..dim / 2)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / dim as f32))
            .collect();
        Self { inv_freq }
    }

    /// `(cos, sin)`, each (len, head_dim / 2), for positions `start..start + len`.
    fn tables(
        &self,
        start: usize,
        len: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(len * half);
        let mut sin = Vec::with_capacity(len * half);
        for position in start..start + len {
            for &f in &self.inv_freq {
                let angle = position as f32 * f;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let cos = Tensor::from_vec(cos, (len, half), device)?.to_dtype(dtype)?;
        let sin = Tensor::from_vec(sin, (len, half), device)?.to_dtype(dtype)?;
        Ok((cos, sin))
    }
}

struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    /// Qwen3's RMSNorm of each query and key head (over `head_dim`), before RoPE.
    qk_norm: Option<(Norm, Norm)>,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    kv_cache: KvCache,
    /// dtype the cache keeps keys and values in (the compute dtype, or f16 to halve it).
    kv_dtype: DType,
    kernels: Kernels,
}

impl Attention {
    fn load(
        cfg: &TextConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
    ) -> Result<Self> {
        let hidden = cfg.hidden_size;
        let (heads, kv_heads, head_dim) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads(),
            cfg.head_dim(),
        );
        let (qkv_bias, o_bias) = cfg.attention_biases();
        let qk_norm = if cfg.qk_norm {
            let norm =
                |name: &str| Norm::rms_norm(head_dim, cfg.rms_norm_eps, vb.pp(name), kernels);
            Some((norm("q_norm")?, norm("k_norm")?))
        } else {
            None
        };
        Ok(Self {
            q_proj: linears.load(hidden, heads * head_dim, vb.pp("q_proj"), qkv_bias)?,
            k_proj: linears.load(hidden, kv_heads * head_dim, vb.pp("k_proj"), qkv_bias)?,
            v_proj: linears.load(hidden, kv_heads * head_dim, vb.pp("v_proj"), qkv_bias)?,
            o_proj: linears.load(heads * head_dim, hidden, vb.pp("o_proj"), o_bias)?,
            qk_norm,
            heads,
            kv_heads,
            head_dim,
            kv_cache: KvCache::new(2, KV_CACHE_CHUNK),
            kv_dtype: vb.dtype(),
            kernels,
        })
    }

    /// `xs` (1, q, hidden) at the positions `rope` was made for, which follow the cache's; `mask`
    /// (q, kv) additive or `None`.
    fn forward(
        &mut self,
        xs: &Tensor,
        rope: &(Tensor, Tensor),
        mask: Option<&Tensor>,
        capture: &CaptureRequest,
    ) -> Result<(Tensor, LayerCapture)> {
        let (b, q_len, _) = xs.dims3()?;
        let n_rep = self.heads / self.kv_heads;
        let split = |x: Tensor, heads: usize| -> Result<Tensor> {
            // (1, q, heads * head_dim) -> (1, heads, q, head_dim)
            x.reshape((b, q_len, heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q_proj.forward(xs)?, self.heads)?;
        let k = split(self.k_proj.forward(xs)?, self.kv_heads)?;
        let v = split(self.v_proj.forward(xs)?, self.kv_heads)?;
        let (q, k) = match &self.qk_norm {
            Some((q_norm, k_norm)) => (q_norm.forward(&q)?, k_norm.forward(&k)?),
            None => (q, k),
        };
        let (cos, sin) = rope;
        let q = kernels::rope(&q, cos, sin, self.kernels)?;
        let k = kernels::rope(&k, cos, sin, self.kernels)?;
        // The cache writes in place, which no gradient passes: training runs whole sequences.
        let (k, v) = match self.kernels {
            Kernels::Fast => {
                let dtype = k.dtype();
                let (k, v) = self
                    .kv_cache
                    .append(&k.to_dtype(self.kv_dtype)?, &v.to_dtype(self.kv_dtype)?)?;
                (k.to_dtype(dtype)?, v.to_dtype(dtype)?) // (1, kv_heads, kv, head_dim)
            }
            Kernels::Differentiable => (k, v),
        };
        let kv_len = k.dim(2)?;

        // The n_rep query heads of one key/value head as its rows: (1, kv_heads, n_rep * q, head_dim)
        let q = q.reshape((b, self.kv_heads, n_rep * q_len, self.head_dim))?;
        let scale = (self.head_dim as f64).powf(-0.5);
        let scores = (q.matmul(&k.t()?)? * scale)?; // (1, kv_heads, n_rep * q, kv)
        let scores = scores.reshape((b, self.heads, q_len, kv_len))?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let probs = softmax_f32(&scores, self.kernels)?; // (1, heads, q, kv)
        let captured = capture.capture(&probs)?;
        let out = probs
            .reshape((b, self.kv_heads, n_rep * q_len, kv_len))?
            .matmul(&v)?; // (1, kv_heads, n_rep * q, head_dim)
        let out = out
            .reshape((b, self.heads, q_len, self.head_dim))?
            .transpose(1, 2)?
            .reshape((b, q_len, self.heads * self.head_dim))?;
        Ok((self.o_proj.forward(&out)?, captured))
    }
}

/// A layer's MLP: dense, or a mixture of experts.
enum FeedForward {
    Dense(SwiGlu),
    Experts(SparseExperts),
}

struct DecoderLayer {
    input_layernorm: Norm,
    self_attn: Attention,
    post_attention_layernorm: Norm,
    mlp: FeedForward,
}

impl DecoderLayer {
    fn load(
        cfg: &TextConfig,
        index: usize,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
    ) -> Result<Self> {
        let (h, eps) = (cfg.hidden_size, cfg.rms_norm_eps);
        let norm = |name: &str| Norm::rms_norm(h, eps, vb.pp(name), kernels);
        let mlp = if cfg.is_sparse_layer(index) {
            FeedForward::Experts(SparseExperts::load(cfg, vb.pp("mlp"), linears)?)
        } else {
            FeedForward::Dense(SwiGlu::load(
                h,
                cfg.intermediate_size,
                vb.pp("mlp"),
                linears,
            )?)
        };
        Ok(Self {
            input_layernorm: norm("input_layernorm")?,
            self_attn: Attention::load(cfg, vb.pp("self_attn"), kernels, linears)?,
            post_attention_layernorm: norm("post_attention_layernorm")?,
            mlp,
        })
    }

    fn forward(
        &mut self,
        xs: &Tensor,
        rope: &(Tensor, Tensor),
        mask: Option<&Tensor>,
        capture: &CaptureRequest,
    ) -> Result<(Tensor, LayerCapture)> {
        let (attended, mut captured) =
            self.self_attn
                .forward(&self.input_layernorm.forward(xs)?, rope, mask, capture)?;
        let xs = (xs + attended)?;
        let normed = self.post_attention_layernorm.forward(&xs)?;
        let mlp = match &self.mlp {
            FeedForward::Dense(mlp) => mlp.forward(&normed)?,
            FeedForward::Experts(experts) => {
                let (out, routing) = experts.forward(&normed)?;
                capture.capture_experts(&routing.ids, experts.top_k(), &mut captured);
                out
            }
        };
        Ok(((xs + mlp)?, captured))
    }
}

/// Which rows of a forward call get logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logits {
    /// Every query row (teacher forcing).
    All,
    /// Only the last row (generation: the vocabulary projection of a long prompt is skipped).
    Last,
}

/// The Qwen2 decoder with its KV cache.
pub struct Decoder {
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: Norm,
    lm_head: Linear,
    rotary: Rotary,
    dtype: DType,
    device: Device,
}

impl Decoder {
    /// `vb` is at the decoder's prefix (`family::ModelType::decoder_prefix`); its dtype is the
    /// compute dtype, `linears` says how the
    /// weights of the linear layers and the embedding table are kept.
    pub fn load(
        cfg: &TextConfig,
        vb: VarBuilder,
        kernels: Kernels,
        linears: &LinearLoader,
    ) -> Result<Self> {
        let model = vb.pp("model");
        let embed_tokens =
            linears.embedding(cfg.vocab_size, cfg.hidden_size, model.pp("embed_tokens"))?;
        // A tied head multiplies by the embedding table as it is kept (never quantized: it would
        // be a second copy).
        let lm_head = if cfg.tie_word_embeddings && !vb.contains_tensor("lm_head.weight") {
            Linear::new(embed_tokens.embeddings().clone(), None)
        } else {
            linears.load(cfg.hidden_size, cfg.vocab_size, vb.pp("lm_head"), false)?
        };
        Ok(Self {
            layers: (0..cfg.num_hidden_layers)
                .map(|i| {
                    DecoderLayer::load(cfg, i, model.pp(format!("layers.{i}")), kernels, linears)
                })
                .collect::<Result<_>>()?,
            norm: Norm::rms_norm(cfg.hidden_size, cfg.rms_norm_eps, model.pp("norm"), kernels)?,
            rotary: Rotary::new(cfg),
            dtype: vb.dtype(),
            device: vb.device().clone(),
            embed_tokens,
            lm_head,
        })
    }

    /// Token embeddings in the compute dtype: ids (q) -> (q, hidden).
    pub fn embed(&self, ids: &[u32]) -> Result<Tensor> {
        let ids = Tensor::new(ids, &self.device)?;
        self.embed_tokens.forward(&ids)?.to_dtype(self.dtype)
    }

    /// Positions the KV cache holds: the position the next forward call starts at. Always 0 with
    /// differentiable kernels, which keep no cache.
    pub fn cached_positions(&self) -> usize {
        self.layers
            .first()
            .map_or(0, |layer| layer.self_attn.kv_cache.current_seq_len())
    }

    pub fn clear_kv_cache(&mut self) {
        for layer in &mut self.layers {
            layer.self_attn.kv_cache.reset();
        }
    }

    /// Clears the KV cache and sizes it for `positions`, so a run that stays within them never
    /// copies the cache to grow it, and holds only the positions it has written (the
    /// allocation is zeroed lazily by the OS: untouched pages take no memory).
    pub fn reserve_kv_cache(&mut self, positions: usize) {
        for layer in &mut self.layers {
            layer.self_attn.kv_cache = KvCache::new(2, positions.max(1));
        }
    }

    /// Cuts the KV cache back to its first `positions` (a prefix it holds), so the next call
    /// continues from there: another continuation of the same prompt without running the
    /// prompt again. Each layer's prefix is copied into a cache of the same capacity.
    pub fn truncate_kv_cache(&mut self, positions: usize) -> Result<()> {
        let cached = self.cached_positions();
        if positions > cached {
            candle_core::bail!(
                "cannot cut the KV cache back to {positions} positions: it holds {cached}"
            );
        }
        if positions == cached {
            return Ok(());
        }
        for layer in &mut self.layers {
            let cache = &mut layer.self_attn.kv_cache;
            let capacity = cache.k_cache().max_seq_len();
            let prefix = match (cache.k()?, cache.v()?) {
                (Some(k), Some(v)) if positions > 0 => Some((
                    k.narrow(2, 0, positions)?.contiguous()?,
                    v.narrow(2, 0, positions)?.contiguous()?,
                )),
                _ => None,
            };
            let mut fresh = KvCache::new(2, capacity);
            if let Some((k, v)) = prefix {
                fresh.append(&k, &v)?;
            }
            *cache = fresh;
        }
        Ok(())
    }

    /// Keeps the KV cache in `dtype` (from the next cleared cache on).
    pub fn set_kv_cache_dtype(&mut self, dtype: DType) {
        for layer in &mut self.layers {
            layer.self_attn.kv_dtype = dtype;
        }
    }

    /// Runs `embeds` (q, hidden) at positions `pos..pos + q`. `pos` must be the positions the KV
    /// cache holds (0 after `clear_kv_cache`, and always 0 with differentiable kernels, which
    /// keep no cache): RoPE is applied at `pos`, so a call that disagreed with the cache would
    /// rotate its rows to the wrong place; it is refused with an error, the cache untouched.
    /// Returns float32 logits (q or 1, vocab) and one capture per layer.
    pub fn forward(
        &mut self,
        embeds: &Tensor,
        pos: usize,
        capture: &CaptureRequest,
        logits: Logits,
    ) -> Result<(Tensor, Vec<LayerCapture>)> {
        self.forward_hiding(embeds, pos, None, capture, logits)
    }

    /// `forward`, with the keys at `hidden_keys` (positions) hidden from every query row of this
    /// call, in every layer: their scores are -inf before the softmax, as an attention mask
    /// that zeroes them would make them. The rows' own keys and values still enter the cache.
    pub fn forward_hiding(
        &mut self,
        embeds: &Tensor,
        pos: usize,
        hidden_keys: Option<&Range<usize>>,
        capture: &CaptureRequest,
        logits: Logits,
    ) -> Result<(Tensor, Vec<LayerCapture>)> {
        let cached = self.cached_positions();
        if pos != cached {
            candle_core::bail!(
                "decoder forward at position {pos}, but the KV cache holds {cached} positions \
                 (the next call starts at {cached}; clear_kv_cache starts over at 0)"
            );
        }
        let q_len = embeds.dim(0)?;
        if let Some(hidden) = hidden_keys {
            if hidden.end > pos + q_len || hidden.start == 0 {
                candle_core::bail!(
                    "keys {}..{} cannot be hidden from rows at {pos}..{}: they must lie after \
                     position 0 and before the last row",
                    hidden.start,
                    hidden.end,
                    pos + q_len
                );
            }
        }
        let rope = self.rotary.tables(pos, q_len, self.dtype, &self.device)?;
        let mask = if q_len > 1 || hidden_keys.is_some() {
            Some(attention_mask(
                q_len,
                pos,
                hidden_keys,
                self.dtype,
                &self.device,
            )?)
        } else {
            None
        };
        let mut xs = embeds.to_dtype(self.dtype)?.unsqueeze(0)?; // (1, q, hidden)
        let mut captures = Vec::with_capacity(self.layers.len());
        for layer in &mut self.layers {
            let (next, captured) = layer.forward(&xs, &rope, mask.as_ref(), capture)?;
            xs = next;
            captures.push(captured);
        }
        let xs = match logits {
            Logits::All => xs,
            Logits::Last => xs.narrow(1, q_len - 1, 1)?, // (1, 1, hidden)
        };
        let logits = self.lm_head.forward(&self.norm.forward(&xs)?)?; // (1, q or 1, vocab)
        super::prompt_product::release_scratch();
        Ok((logits.squeeze(0)?.to_dtype(DType::F32)?, captures))
    }
}

/// (q, start + q) additive mask: 0 where query row i (at position start + i) may see key j,
/// -inf after it and, for every row, at the `hidden` keys.
fn attention_mask(
    q_len: usize,
    start: usize,
    hidden: Option<&Range<usize>>,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let kv_len = start + q_len;
    let hidden = hidden.cloned().unwrap_or(0..0);
    let mask: Vec<f32> = (0..q_len)
        .flat_map(|i| {
            let hidden = hidden.clone();
            (0..kv_len).map(move |j| {
                if j > start + i || hidden.contains(&j) {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
        })
        .collect();
    Tensor::from_vec(mask, (q_len, kv_len), device)?.to_dtype(dtype)
}
