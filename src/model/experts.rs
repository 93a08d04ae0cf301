//! The mixture-of-experts MLP of the Qwen3-Omni thinker (`mlp.gate` and `mlp.experts.E.*`): a
//! router picks `top_k` of `num_experts` SwiGLU experts for each token, and the token's output is
//! their outputs weighted by the router's probabilities.
//!
//! Ports `Qwen3OmniMoeThinkerTextSparseMoeBlock` from transformers 5.x
//! (`models/qwen3_omni_moe/modeling_qwen3_omni_moe.py`): router logits in the compute dtype, the
//! softmax in float32, the `top_k` largest probabilities (renormalised to sum to 1 when
//! `norm_topk_prob`), cast back to the compute dtype; then expert by expert, in ascending order,
//! the rows routed to it through its SwiGLU, scaled by their weights and added into the output,
//! so every token's sum is taken in the reference's order. The routing is decided on the host (a
//! `(tokens, num_experts)` copy per layer), which also hands the chosen ids to the capture.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::config::TextConfig;
use super::linear::{Linear, LinearLoader};

/// One expert, or a dense MLP: `down(silu(gate(x)) · up(x))`.
pub(super) struct SwiGlu {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl SwiGlu {
    pub(super) fn load(
        hidden: usize,
        width: usize,
        vb: VarBuilder,
        linears: &LinearLoader,
    ) -> Result<Self> {
        Ok(Self {
            gate_proj: linears.load(hidden, width, vb.pp("gate_proj"), false)?,
            up_proj: linears.load(hidden, width, vb.pp("up_proj"), false)?,
            down_proj: linears.load(width, hidden, vb.pp("down_proj"), false)?,
        })
    }

    pub(super) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let gate = self.gate_proj.forward(xs)?.silu()?;
        self.down_proj.forward(&(gate * self.up_proj.forward(xs)?)?)
    }
}

pub(super) struct SparseExperts {
    router: Linear,
    experts: Vec<SwiGlu>,
    top_k: usize,
    norm_topk_prob: bool,
}

/// What the router chose for each row of a call.
pub(super) struct Routing {
    /// `(rows, top_k)` expert ids, the most probable first.
    pub ids: Vec<u32>,
    /// The weights the experts' outputs are scaled by, in the same order (float32).
    weights: Vec<f32>,
}

impl SparseExperts {
    /// `vb` is the layer's `mlp`.
    pub(super) fn load(cfg: &TextConfig, vb: VarBuilder, linears: &LinearLoader) -> Result<Self> {
        let hidden = cfg.hidden_size;
        let experts = vb.pp("experts");
        Ok(Self {
            // The router stays dense: 128 × 2048 values, and its logits decide which experts run.
            router: LinearLoader::dense(linears.dense).load(
                hidden,
                cfg.num_experts,
                vb.pp("gate"),
                false,
            )?,
            experts: (0..cfg.num_experts)
                .map(|e| {
                    SwiGlu::load(
                        hidden,
                        cfg.moe_intermediate_size,
                        experts.pp(e.to_string()),
                        linears,
                    )
                })
                .collect::<Result<_>>()?,
            top_k: cfg.num_experts_per_tok,
            norm_topk_prob: cfg.norm_topk_prob,
        })
    }

    /// Experts each token runs through.
    pub(super) fn top_k(&self) -> usize {
        self.top_k
    }

    /// The router's choice for `xs` (rows, hidden).
    fn route(&self, xs: &Tensor) -> Result<Routing> {
        let logits = self.router.forward(xs)?;
        let probs = candle_nn::ops::softmax_last_dim(&logits.to_dtype(DType::F32)?)?;
        let probs = probs.to_vec2::<f32>()?;
        let mut routing = Routing {
            ids: Vec::with_capacity(probs.len() * self.top_k),
            weights: Vec::with_capacity(probs.len() * self.top_k),
        };
        for row in &probs {
            let mut order: Vec<usize> = (0..row.len()).collect();
            // torch.topk: largest first; ties (equal float32 probabilities) keep the lower id.
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            let picked = &order[..self.top_k];
            let total: f32 = picked.iter().map(|&e| row[e]).sum();
            for &e in picked {
                routing.ids.push(e as u32);
                let weight = if self.norm_topk_prob {
                    row[e] / total
                } else {
                    row[e]
                };
                routing.weights.push(weight);
            }
        }
        Ok(routing)
    }

    /// `xs` (1, q, hidden) -> the weighted experts' outputs (1, q, hidden), and the routing.
    pub(super) fn forward(&self, xs: &Tensor) -> Result<(Tensor, Routing)> {
        let (b, q, hidden) = xs.dims3()?;
        let rows = xs.reshape((b * q, hidden))?;
        let routing = self.route(&rows)?;
        // Rows and weights per expert, in row order.
        let mut assigned: Vec<(Vec<u32>, Vec<f32>)> = vec![Default::default(); self.experts.len()];
        for (slot, (&expert, &weight)) in routing.ids.iter().zip(&routing.weights).enumerate() {
            let (rows, weights) = &mut assigned[expert as usize];
            rows.push((slot / self.top_k) as u32);
            weights.push(weight);
        }
        let dtype = xs.dtype();
        let mut out = Tensor::zeros((b * q, hidden), dtype, xs.device())?;
        for (expert, (picked, weights)) in self.experts.iter().zip(assigned) {
            if picked.is_empty() {
                continue;
            }
            let n = picked.len();
            let picked = Tensor::from_vec(picked, n, xs.device())?;
            let weights = Tensor::from_vec(weights, (n, 1), xs.device())?.to_dtype(dtype)?;
            let ys = expert
                .forward(&rows.index_select(&picked, 0)?)?
                .broadcast_mul(&weights)?;
            out = out.index_add(&picked, &ys, 0)?;
        }
        Ok((out.reshape((b, q, hidden))?, routing))
    }
}
