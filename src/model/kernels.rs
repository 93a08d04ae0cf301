//! The operations whose fastest candle kernels have no backward pass: softmax, LayerNorm,
//! RMSNorm and rotary embeddings. Inference uses the fused kernels (`Kernels::Fast`); training
//! the demo model uses the same model code with their compositions of basic operations
//! (`Kernels::Differentiable`), which give the same numbers to float rounding and carry
//! gradients. The choice is made once, when the model is built.

use candle_core::{DType, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// candle's fused kernels, and the KV cache: inference.
    #[default]
    Fast,
    /// Compositions of differentiable operations, and no KV cache (every forward is a whole
    /// sequence): training.
    Differentiable,
}

/// Softmax over the last dimension, computed in float32 whatever the compute dtype.
pub fn softmax_f32(scores: &Tensor, kernels: Kernels) -> Result<Tensor> {
    let dtype = scores.dtype();
    let scores = scores.to_dtype(DType::F32)?;
    let probs = match kernels {
        Kernels::Fast => candle_nn::ops::softmax_last_dim(&scores)?,
        Kernels::Differentiable => candle_nn::ops::softmax(&scores, D::Minus1)?,
    };
    probs.to_dtype(dtype)
}

/// Rotary position embeddings of `x` (b, heads, seq, head_dim).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, kernels: Kernels) -> Result<Tensor> {
    match kernels {
        Kernels::Fast => candle_nn::rotary_emb::rope(x, cos, sin),
        Kernels::Differentiable => candle_nn::rotary_emb::rope_slow(x, cos, sin),
    }
}

/// LayerNorm (with bias, mean removed) or RMSNorm (no bias, no mean removal).
#[derive(Debug, Clone)]
pub struct Norm {
    weight: Tensor,
    bias: Option<Tensor>,
    eps: f64,
    kernels: Kernels,
}

impl Norm {
    pub fn layer_norm(size: usize, eps: f64, vb: VarBuilder, kernels: Kernels) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: Some(vb.get_with_hints(size, "bias", Init::Const(0.0))?),
            eps,
            kernels,
        })
    }

    pub fn rms_norm(size: usize, eps: f64, vb: VarBuilder, kernels: Kernels) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: None,
            eps,
            kernels,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.kernels == Kernels::Fast && x.is_contiguous() {
            return match &self.bias {
                Some(bias) => candle_nn::ops::layer_norm(x, &self.weight, bias, self.eps as f32),
                None => candle_nn::ops::rms_norm(x, &self.weight, self.eps as f32),
            };
        }
        let dtype = x.dtype();
        let x = match dtype {
            DType::F16 | DType::BF16 => x.to_dtype(DType::F32)?,
            _ => x.clone(),
        };
        let x = match &self.bias {
            Some(_) => x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?,
            None => x,
        };
        let scale = (x.sqr()?.mean_keepdim(D::Minus1)? + self.eps)?.sqrt()?;
        let x = x.broadcast_div(&scale)?.to_dtype(dtype)?;
        let x = x.broadcast_mul(&self.weight)?;
        match &self.bias {
            Some(bias) => x.broadcast_add(bias),
            None => Ok(x),
        }
    }
}
