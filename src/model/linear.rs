//! A linear layer whose one-row case (decoding one token) is a hand-written matrix–vector
//! product.
//!
//! Decoding reads every weight once per token, so its speed is the memory bandwidth divided by
//! the weights' size. candle's CPU matmul (the `gemm` crate) reaches about 25 GB/s on a
//! one-row product on the 2-core development machine, half of what the machine reads (48–52 GB/s
//! with `examples/memory_bandwidth.rs`); this loop, one contiguous weight row per output and
//! rows split across the rayon pool, reads at close to the machine's rate. Every other case
//! (prompts, other dtypes, GPUs) goes to candle.

use candle_core::{DType, Device, Module, Result, Storage, Tensor};
use rayon::prelude::*;

#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor, // (out, in)
    bias: Option<Tensor>,
    inner: candle_nn::Linear,
}

impl Linear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self {
            inner: candle_nn::Linear::new(weight.clone(), bias.clone()),
            weight,
            bias,
        }
    }

    pub fn load(in_dim: usize, out_dim: usize, vb: candle_nn::VarBuilder) -> Result<Self> {
        let weight = vb.get((out_dim, in_dim), "weight")?;
        let bias = vb.get(out_dim, "bias")?;
        Ok(Self::new(weight, Some(bias)))
    }

    pub fn load_no_bias(in_dim: usize, out_dim: usize, vb: candle_nn::VarBuilder) -> Result<Self> {
        let weight = vb.get((out_dim, in_dim), "weight")?;
        Ok(Self::new(weight, None))
    }

    /// `weight · x` for a single row `x` of f32 on the CPU; `None` when that fast path does not
    /// apply.
    fn matrix_vector(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        let rows: usize = xs.dims()[..xs.rank() - 1].iter().product();
        if rows != 1 || xs.dtype() != DType::F32 || !matches!(xs.device(), Device::Cpu) {
            return Ok(None);
        }
        let (storage, layout) = self.weight.storage_and_layout();
        let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets())
        else {
            return Ok(None);
        };
        let Ok(weights) = cpu.as_slice::<f32>() else {
            return Ok(None);
        };
        let weights = &weights[start..end];
        let (out_dim, in_dim) = self.weight.dims2()?;
        let x = xs.flatten_all()?.to_vec1::<f32>()?;
        let mut y = vec![0f32; out_dim];
        // One contiguous block of rows per thread: long sequential reads, which the hardware
        // prefetchers stream best (smaller, stolen blocks measured slower).
        let rows_per_task = out_dim.div_ceil(rayon::current_num_threads()).max(1);
        y.par_chunks_mut(rows_per_task)
            .zip(weights.par_chunks(rows_per_task * in_dim))
            .for_each(|(outputs, rows)| {
                for (output, row) in outputs.iter_mut().zip(rows.chunks_exact(in_dim)) {
                    *output = dot(row, &x);
                }
            });
        let mut out_shape = xs.dims().to_vec();
        *out_shape.last_mut().expect("rank >= 1") = out_dim;
        let ys = Tensor::from_vec(y, out_shape, xs.device())?;
        Ok(Some(match &self.bias {
            Some(bias) => ys.broadcast_add(bias)?,
            None => ys,
        }))
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self.matrix_vector(xs)? {
            Some(ys) => Ok(ys),
            None => self.inner.forward(xs),
        }
    }
}

/// Dot product with sixteen independent accumulators, so the compiler vectorises it and the loop
/// is bound by memory, not by the latency of one running sum.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            acc[i] += ca[i] * cb[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_matches_candle_matmul() -> Result<()> {
        let device = Device::Cpu;
        let weight = Tensor::randn(0f32, 1.0, (37, 53), &device)?;
        let bias = Tensor::randn(0f32, 1.0, 37, &device)?;
        let linear = Linear::new(weight.clone(), Some(bias.clone()));
        let x = Tensor::randn(0f32, 1.0, (1, 1, 53), &device)?;
        let fast = linear.forward(&x)?;
        let reference = candle_nn::Linear::new(weight, Some(bias)).forward(&x)?;
        assert_eq!(fast.dims(), reference.dims());
        let difference = (fast - reference)?
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar::<f32>()?;
        assert!(difference < 1e-4, "{difference}");
        Ok(())
    }

    #[test]
    fn several_rows_go_to_candle() -> Result<()> {
        let device = Device::Cpu;
        let weight = Tensor::randn(0f32, 1.0, (8, 4), &device)?;
        let linear = Linear::new(weight, None);
        let x = Tensor::randn(0f32, 1.0, (1, 3, 4), &device)?;
        assert!(linear.matrix_vector(&x)?.is_none());
        assert_eq!(linear.forward(&x)?.dims(), &[1, 3, 8]);
        Ok(())
    }
}
