//! Many input rows (a prompt, the audio encoder's frames) times a weight kept narrower than f32
//! on the CPU: the weight is widened (bf16, f16) or dequantized (q8_0, q4_k) into a scratch
//! buffer and multiplied by the `gemm` crate's f32 GEMM, called exactly as candle's own CPU
//! matmul calls it for `xs.matmul(w.t())` (same sizes, strides and parallelism, so the same
//! numbers).
//!
//! The scratch is reused from one matrix to the next until `release_scratch`. A fresh buffer per
//! matrix (180 MB for a 7B's MLP) came from the kernel as fresh pages every time (mimalloc hands
//! allocations above 32 MiB straight to the OS and back), and clearing those pages and zeroing
//! the buffer took 8–11 % of a 7B's prefill under perf. Hand-written around `gemm` because
//! candle's matmul only takes tensors, which own their storage.

use std::cell::RefCell;

use candle_core::{DType, Result, Storage, Tensor};

thread_local! {
    /// This thread's widened weight, grown to the largest matrix multiplied since the last
    /// release.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Frees this thread's scratch (the decoder and the encoders call it when a forward pass ends,
/// so decoding does not keep a prompt-sized buffer).
pub fn release_scratch() {
    SCRATCH.with(|scratch| *scratch.borrow_mut() = Vec::new());
}

/// `xs (…, in) · Wᵀ` for `W (out, in)`, with `fill` writing `W` as f32 into the slice it is given
/// (out × in values) and returning `false` when it cannot. `None` when `xs` is not f32 on the CPU
/// or `fill` declined: the caller takes another path.
pub fn product(
    xs: &Tensor,
    out_dim: usize,
    in_dim: usize,
    fill: impl FnOnce(&mut [f32]) -> Result<bool>,
) -> Result<Option<Tensor>> {
    if xs.dtype() != DType::F32 || !xs.device().is_cpu() || xs.dims().last() != Some(&in_dim) {
        return Ok(None);
    }
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let values = out_dim * in_dim;
        if scratch.len() < values {
            scratch.resize(values, 0.0);
        }
        let weight = &mut scratch[..values];
        if !fill(weight)? {
            return Ok(None);
        }
        let xs = xs.contiguous()?;
        let (storage, layout) = xs.storage_and_layout();
        let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets())
        else {
            return Ok(None);
        };
        let lhs = &cpu.as_slice::<f32>()?[start..end];
        let rows = lhs.len() / in_dim;
        let mut out = vec![0f32; rows * out_dim];
        let threads = candle_core::utils::get_num_threads();
        let parallelism = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: `out` holds rows × out_dim values, `lhs` rows × in_dim and `weight` out_dim ×
        // in_dim, and the strides below stay inside each: lhs (rows, in) row-major, the right
        // side Wᵀ (in, out) read from W (out, in) row-major, the destination (rows, out).
        unsafe {
            gemm::gemm(
                rows,
                out_dim,
                in_dim,
                out.as_mut_ptr(),
                1,
                out_dim as isize,
                false,
                lhs.as_ptr(),
                1,
                in_dim as isize,
                weight.as_ptr(),
                in_dim as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
        let mut shape = xs.dims().to_vec();
        *shape.last_mut().expect("rank checked above") = out_dim;
        Tensor::from_vec(out, shape, xs.device()).map(Some)
    })
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Module};

    use super::*;
    use crate::model::{half_kernels, quantized_kernels};

    /// Bit for bit what candle's own product of the widened weight gives, and the scratch is
    /// reused across matrices and freed on release.
    #[test]
    fn equals_candles_product_of_the_widened_weight() -> Result<()> {
        let device = Device::Cpu;
        let xs = Tensor::randn(0f32, 1.0, (1, 37, 256), &device)?;
        let weight = Tensor::randn(0f32, 0.05, (96, 256), &device)?;
        let reference = |w: &Tensor| candle_nn::Linear::new(w.clone(), None).forward(&xs);

        let half = weight.to_dtype(DType::BF16)?;
        let ys = product(&xs, 96, 256, |dst| half_kernels::widen_into(&half, dst))?.unwrap();
        let expected = reference(&half.to_dtype(DType::F32)?)?;
        assert_eq!(ys.dims(), &[1, 37, 96]);
        assert_eq!(
            ys.flatten_all()?.to_vec1::<f32>()?,
            expected.flatten_all()?.to_vec1::<f32>()?
        );

        let blocks = QTensor::quantize(&weight, GgmlDType::Q8_0)?;
        let ys = product(&xs, 96, 256, |dst| {
            quantized_kernels::dequantize_into(&blocks, dst)
        })?
        .unwrap();
        let expected = reference(&blocks.dequantize(&device)?)?;
        assert_eq!(
            ys.flatten_all()?.to_vec1::<f32>()?,
            expected.flatten_all()?.to_vec1::<f32>()?
        );
        assert_eq!(SCRATCH.with(|s| s.borrow().len()), 96 * 256);

        // A fill that declines, or activations that are not f32, leave the product to others.
        assert!(product(&xs, 96, 256, |_| Ok(false))?.is_none());
        let narrow_xs = xs.to_dtype(DType::BF16)?;
        assert!(product(&narrow_xs, 96, 256, |_| Ok(true))?.is_none());

        release_scratch();
        assert_eq!(SCRATCH.with(|s| s.borrow().capacity()), 0);
        Ok(())
    }
}
