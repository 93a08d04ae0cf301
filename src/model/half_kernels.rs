//! Matrix–vector products of f32, bf16 or f16 weights with an f32 vector, and widening a
//! half-precision weight to f32: the CPU kernels behind `Linear` when one token is decoded.
//!
//! Hand-written because no crate does this product well: candle's CPU matmul multiplies bf16 in
//! bf16 through the `gemm` crate at a fraction of the memory's speed (0.13 tokens/s for a 7B,
//! against about 1.8 that the bandwidth allows), and casting the weights to f32 first would double
//! their size. Here each weight row is read once, widened in registers (bf16 is the high half of
//! an f32; f16 goes through the F16C instruction) and multiplied into f32 accumulators; rows are
//! split across the rayon pool in one contiguous block per thread (long sequential reads, which
//! the hardware prefetchers stream best; smaller, stolen blocks measured slower) and multiplied
//! four at a time, so each activation loaded serves four rows (`ROWS_AT_ONCE`). AVX2 + FMA
//! (and F16C) are detected at run time, so one binary runs everywhere; other CPUs get a portable
//! loop that the compiler vectorises for their baseline.

use candle_core::{DType, Result, Storage, Tensor};
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use rayon::prelude::*;

/// A weight element type the kernels take.
pub trait Element: Copy + Send + Sync + 'static {
    /// The fastest product of a few weight rows (one after another in the slice) with f32
    /// values that this CPU runs: `out[r] = rows[r] · x` for `out.len()` rows.
    fn rows_kernel() -> RowsKernel<Self>;
    /// Widens `src` into `dst` (equal lengths).
    fn widen_into(src: &[Self], dst: &mut [f32]);
}

/// `out[r] = row r of rows · x` for `out.len()` consecutive rows (four at a time, then one).
pub type RowsKernel<T> = fn(&[T], &[f32], &mut [f32]);

/// How many rows a kernel multiplies together: each activation loaded serves four rows. Measured
/// on the full-size 7B (24 greedy tokens, bf16 and q8_0, an Intel Xeon pair of cores with
/// AVX-512): four rows at a time decode at 1.57 and 2.21 tokens/s, one at a time at 1.16–1.24
/// and 1.28–1.30. On a Zen 5 pair `examples/linear_kernels.rs` had favoured one row at a time for
/// 4,096 inputs (each matrix alone, which the cache can flatter); the whole model decides.
pub const ROWS_AT_ONCE: usize = 4;

/// `weights (out, in) · x (in)`, row-major weights, `in = x.len()`.
pub fn matrix_vector<T: Element>(weights: &[T], x: &[f32]) -> Vec<f32> {
    let out_dim = weights.len().checked_div(x.len()).unwrap_or(0);
    let kernel = T::rows_kernel();
    for_each_row(out_dim, weights, ROWS_AT_ONCE, |rows, out| {
        kernel(rows, x, out)
    })
}

/// `rows_value(rows, outputs)` over the `out_dim` equal rows that `elements` holds one after
/// another (weights, or blocks of them): the rows are split across the rayon pool in one
/// contiguous run per thread, and each call gets up to `group` consecutive rows and as many
/// outputs to fill.
pub fn for_each_row<E: Sync>(
    out_dim: usize,
    elements: &[E],
    group: usize,
    rows_value: impl Fn(&[E], &mut [f32]) + Sync,
) -> Vec<f32> {
    let mut y = vec![0f32; out_dim];
    if out_dim == 0 {
        return y;
    }
    let row_len = (elements.len() / out_dim).max(1);
    let rows_per_task = out_dim.div_ceil(rayon::current_num_threads()).max(1);
    y.par_chunks_mut(rows_per_task)
        .zip(elements.par_chunks(rows_per_task * row_len))
        .for_each(|(outputs, rows)| {
            for (outputs, rows) in outputs
                .chunks_mut(group.max(1))
                .zip(rows.chunks(group.max(1) * row_len))
            {
                rows_value(rows, outputs);
            }
        });
    y
}

/// A bf16 or f16 tensor on the CPU widened to f32 (in parallel); other tensors converted by
/// candle.
pub fn widen(weight: &Tensor) -> Result<Tensor> {
    let (storage, layout) = weight.storage_and_layout();
    let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) else {
        drop(storage);
        return weight.to_dtype(DType::F32);
    };
    let wide = match weight.dtype() {
        DType::BF16 => widen_slice(&cpu.as_slice::<bf16>()?[start..end]),
        DType::F16 => widen_slice(&cpu.as_slice::<f16>()?[start..end]),
        _ => {
            drop(storage);
            return weight.to_dtype(DType::F32);
        }
    };
    Tensor::from_vec(wide, weight.shape(), weight.device())
}

fn widen_slice<T: Element>(src: &[T]) -> Vec<f32> {
    let mut wide = vec![0f32; src.len()];
    widen_slice_into(src, &mut wide);
    wide
}

fn widen_slice_into<T: Element>(src: &[T], dst: &mut [f32]) {
    const CHUNK: usize = 1 << 16;
    dst.par_chunks_mut(CHUNK)
        .zip(src.par_chunks(CHUNK))
        .for_each(|(dst, src)| T::widen_into(src, dst));
}

/// Widens a contiguous bf16 or f16 tensor on the CPU into `dst` (as many values), in parallel.
/// Returns `false`, writing nothing, for any other tensor.
pub fn widen_into(weight: &Tensor, dst: &mut [f32]) -> Result<bool> {
    let (storage, layout) = weight.storage_and_layout();
    let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) else {
        return Ok(false);
    };
    if dst.len() != end - start {
        candle_core::bail!("widening {} values into {}", end - start, dst.len());
    }
    match weight.dtype() {
        DType::BF16 => widen_slice_into(&cpu.as_slice::<bf16>()?[start..end], dst),
        DType::F16 => widen_slice_into(&cpu.as_slice::<f16>()?[start..end], dst),
        _ => return Ok(false),
    }
    Ok(true)
}

impl Element for f32 {
    fn rows_kernel() -> RowsKernel<f32> {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            // SAFETY: the features were detected on this CPU.
            return |w, x, out| unsafe { x86::rows_f32(w, x, out) };
        }
        |w, x, out| portable_rows(w, x, out, |v| v)
    }

    fn widen_into(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
}

impl Element for bf16 {
    fn rows_kernel() -> RowsKernel<bf16> {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            // SAFETY: the features were detected on this CPU.
            return |w, x, out| unsafe { x86::rows_bf16(w, x, out) };
        }
        |w, x, out| portable_rows(w, x, out, bf16::to_f32)
    }

    fn widen_into(src: &[bf16], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst);
    }
}

impl Element for f16 {
    fn rows_kernel() -> RowsKernel<f16> {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c") {
            // SAFETY: the features were detected on this CPU.
            return |w, x, out| unsafe { x86::rows_f16(w, x, out) };
        }
        |w, x, out| portable_rows(w, x, out, f16::to_f32)
    }

    fn widen_into(src: &[f16], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst);
    }
}

/// The portable product of `out.len()` consecutive rows, one at a time.
fn portable_rows<T: Copy>(w: &[T], x: &[f32], out: &mut [f32], widen: impl Fn(T) -> f32) {
    for (output, row) in out.iter_mut().zip(w.chunks_exact(x.len().max(1))) {
        *output = portable_dot(row, x, &widen);
    }
}

/// Dot product with sixteen independent accumulators, so the compiler vectorises it and the loop
/// is bound by memory, not by the latency of one running sum.
fn portable_dot<T: Copy>(w: &[T], x: &[f32], widen: impl Fn(T) -> f32) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let (w_chunks, x_chunks) = (w.chunks_exact(LANES), x.chunks_exact(LANES));
    let tail: f32 = w_chunks
        .remainder()
        .iter()
        .zip(x_chunks.remainder())
        .map(|(&a, b)| widen(a) * b)
        .sum();
    for (cw, cx) in w_chunks.zip(x_chunks) {
        for i in 0..LANES {
            acc[i] += widen(cw[i]) * cx[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// AVX2 + FMA kernels: four rows at a time, 16 weights a row a step.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::{bf16, f16};

    pub fn has_avx2_fma() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    /// Sums the eight lanes of both accumulators.
    #[inline(always)]
    unsafe fn sum_lanes(acc: [__m256; 2]) -> f32 {
        let sum = _mm256_add_ps(acc[0], acc[1]);
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        let pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
    }

    /// The shared loop over `R` rows of `len` weights: `load(r, i)` gives weights `i..i + 8` of
    /// row `r` widened to f32, `tail(r, j)` weight `j`. Each 16 activations are loaded once for
    /// all rows; two accumulators a row hide the FMA's latency.
    #[inline(always)]
    unsafe fn rows_with<const R: usize>(
        len: usize,
        x: &[f32],
        load: impl Fn(usize, usize) -> __m256,
        tail: impl Fn(usize, usize) -> f32,
    ) -> [f32; R] {
        debug_assert_eq!(len, x.len());
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        let mut i = 0;
        while i + 16 <= len {
            let x0 = _mm256_loadu_ps(x.as_ptr().add(i));
            let x1 = _mm256_loadu_ps(x.as_ptr().add(i + 8));
            for (r, sums) in acc.iter_mut().enumerate() {
                sums[0] = _mm256_fmadd_ps(load(r, i), x0, sums[0]);
                sums[1] = _mm256_fmadd_ps(load(r, i + 8), x1, sums[1]);
            }
            i += 16;
        }
        if i + 8 <= len {
            let x0 = _mm256_loadu_ps(x.as_ptr().add(i));
            for (r, sums) in acc.iter_mut().enumerate() {
                sums[0] = _mm256_fmadd_ps(load(r, i), x0, sums[0]);
            }
            i += 8;
        }
        let mut out = [0f32; R];
        for (r, value) in out.iter_mut().enumerate() {
            let rest: f32 = (i..len).map(|j| tail(r, j) * x[j]).sum();
            *value = sum_lanes(acc[r]) + rest;
        }
        out
    }

    /// Four rows at a time through `rows_with`, then the rest one at a time.
    #[inline(always)]
    unsafe fn rows_by_four<T>(
        w: &[T],
        x: &[f32],
        out: &mut [f32],
        load: impl Fn(*const T, usize) -> __m256,
        tail: impl Fn(T) -> f32,
    ) where
        T: Copy,
    {
        let n = x.len();
        debug_assert_eq!(w.len(), n * out.len());
        let p = w.as_ptr();
        let row = |r: usize| p.add(r * n);
        let mut start = 0;
        while start + 4 <= out.len() {
            let four = rows_with::<4>(
                n,
                x,
                |r, i| load(row(start + r), i),
                |r, j| tail(w[(start + r) * n + j]),
            );
            out[start..start + 4].copy_from_slice(&four);
            start += 4;
        }
        for r in start..out.len() {
            let [one] = rows_with::<1>(n, x, |_, i| load(row(r), i), |_, j| tail(w[r * n + j]));
            out[r] = one;
        }
    }

    /// # Safety
    /// The CPU has AVX2 and FMA; `w.len() == x.len() * out.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rows_f32(w: &[f32], x: &[f32], out: &mut [f32]) {
        rows_by_four(w, x, out, |p, i| _mm256_loadu_ps(p.add(i)), |v| v)
    }

    /// # Safety
    /// The CPU has AVX2 and FMA; `w.len() == x.len() * out.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rows_bf16(w: &[bf16], x: &[f32], out: &mut [f32]) {
        // bf16 is the upper half of an f32: zero-extend to 32 bits and shift left by 16.
        let load = |p: *const bf16, i: usize| {
            let raw = _mm_loadu_si128(p.add(i) as *const __m128i);
            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16))
        };
        rows_by_four(w, x, out, load, bf16::to_f32)
    }

    /// # Safety
    /// The CPU has AVX2, FMA and F16C; `w.len() == x.len() * out.len()`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn rows_f16(w: &[f16], x: &[f32], out: &mut [f32]) {
        let load =
            |p: *const f16, i: usize| _mm256_cvtph_ps(_mm_loadu_si128(p.add(i) as *const __m128i));
        rows_by_four(w, x, out, load, f16::to_f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(weights: &[f32], x: &[f32]) -> Vec<f32> {
        weights
            .chunks_exact(x.len())
            .map(|row| {
                row.iter()
                    .zip(x)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum::<f64>() as f32
            })
            .collect()
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 2000) as f32 / 1000.0
                    - 1.0
            })
            .collect()
    }

    /// Every kernel, on lengths that exercise the 16-wide body, the 8-wide loop and the scalar
    /// tail, four rows at a time and one at a time (11 rows: two groups of four, then three
    /// single rows), against an f64 sum of the same (rounded) weights.
    #[test]
    fn kernels_agree_with_a_plain_sum() {
        for in_dim in [1, 7, 8, 31, 32, 77, 300, 5003] {
            let x = values(in_dim, 3);
            let weights = values(11 * in_dim, 7);
            let bf: Vec<bf16> = weights.iter().map(|&v| bf16::from_f32(v)).collect();
            let hf: Vec<f16> = weights.iter().map(|&v| f16::from_f32(v)).collect();
            let bf_wide: Vec<f32> = bf.iter().map(|v| v.to_f32()).collect();
            let hf_wide: Vec<f32> = hf.iter().map(|v| v.to_f32()).collect();
            let cases = [
                (matrix_vector(&weights, &x), reference(&weights, &x)),
                (matrix_vector(&bf, &x), reference(&bf_wide, &x)),
                (matrix_vector(&hf, &x), reference(&hf_wide, &x)),
            ];
            for (kind, (ours, expected)) in cases.iter().enumerate() {
                assert_eq!(ours.len(), 11);
                for (a, b) in ours.iter().zip(expected) {
                    assert!(
                        (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                        "kernel {kind}, in {in_dim}: {a} vs {b}"
                    );
                }
            }
            // The portable loops give the same.
            let portable: Vec<f32> = bf
                .chunks_exact(in_dim)
                .map(|row| portable_dot(row, &x, bf16::to_f32))
                .collect();
            for (a, b) in portable.iter().zip(&cases[1].1) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()));
            }
        }
    }

    #[test]
    fn widening_is_exact() {
        let weights = values(70_000, 1);
        let bf: Vec<bf16> = weights.iter().map(|&v| bf16::from_f32(v)).collect();
        let tensor = Tensor::from_vec(bf.clone(), (70, 1000), &candle_core::Device::Cpu).unwrap();
        let wide = widen(&tensor).unwrap();
        assert_eq!(wide.dtype(), DType::F32);
        assert_eq!(wide.dims(), &[70, 1000]);
        let wide = wide.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(wide.iter().zip(&bf).all(|(a, b)| *a == b.to_f32()));
    }
}
