//! Products of GGML-quantized weights (`q8_0`, `q4_k`) with f32 activations on the CPU, and
//! their dequantization to f32 in parallel: the kernels behind a quantized `Linear`.
//!
//! Hand-written because candle's CPU kernels fall short here. Its one-row product quantizes the
//! activation to 8 bits and runs one dependent accumulator per row: 38 % of this machine's
//! memory bandwidth for `q8_0` (`examples/linear_kernels.rs`), and for `q4_k` on x86 it keeps a
//! second, repacked copy of every weight. Its dequantization runs on one thread. Here each block
//! is widened to f32 in registers and multiplied with the f32 activation as it is, so the one-row
//! product computes exactly what the many-row path computes (the dequantized weight times f32
//! activations through the f32 GEMM): a decoded token and a prompt see the same weights, and the
//! only error quantization adds is the weights' own rounding. Rows are split across the rayon pool
//! in one contiguous run per thread (`half_kernels::for_each_row`). AVX2, FMA and F16C are
//! detected at run time; other CPUs dequantize a row through candle and take the portable dot.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ8_0, GgmlType};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Result, Tensor};
use rayon::prelude::*;

use super::half_kernels;

/// The formats these kernels multiply directly.
pub fn supports(format: GgmlDType) -> bool {
    matches!(format, GgmlDType::Q8_0 | GgmlDType::Q4K)
}

/// `weights (out, in) · x (in)` for a CPU tensor of a supported format.
pub fn matrix_vector(weights: &QTensor, x: &[f32]) -> Result<Vec<f32>> {
    let (out_dim, in_dim) = weights.shape().dims2()?;
    if in_dim != x.len() {
        candle_core::bail!("{in_dim} inputs expected, {} given", x.len());
    }
    let data = weights.data()?;
    let group = half_kernels::ROWS_AT_ONCE;
    let y = match weights.dtype() {
        GgmlDType::Q8_0 => {
            let blocks = blocks_of::<BlockQ8_0>(&data)?;
            let kernel = q8_0_rows_kernel();
            half_kernels::for_each_row(out_dim, blocks, group, |rows, out| kernel(rows, x, out))
        }
        GgmlDType::Q4K => {
            let blocks = blocks_of::<BlockQ4K>(&data)?;
            let sums = sub_block_sums(x);
            let kernel = q4_k_rows_kernel();
            half_kernels::for_each_row(out_dim, blocks, group, |rows, out| {
                kernel(rows, x, &sums, out)
            })
        }
        other => candle_core::bail!("no direct kernel for {other:?}"),
    };
    Ok(y)
}

/// The weight as an f32 tensor `(out, in)` on the CPU, dequantized in parallel for supported
/// formats (candle's own dequantization, one thread, for the others).
pub fn dequantize(weights: &QTensor) -> Result<Tensor> {
    let (out_dim, in_dim) = weights.shape().dims2()?;
    let data = weights.data()?;
    let values = match weights.dtype() {
        GgmlDType::Q8_0 => dequantize_blocks::<BlockQ8_0>(&data, in_dim)?,
        GgmlDType::Q4K => dequantize_blocks::<BlockQ4K>(&data, in_dim)?,
        _ => return weights.dequantize(&Device::Cpu),
    };
    Tensor::from_vec(values, (out_dim, in_dim), &Device::Cpu)
}

fn dequantize_blocks<B: GgmlType + Sync>(data: &[u8], in_dim: usize) -> Result<Vec<f32>> {
    let mut values = vec![0f32; blocks_of::<B>(data)?.len() * B::BLCK_SIZE];
    dequantize_blocks_into::<B>(data, in_dim, &mut values)?;
    Ok(values)
}

fn dequantize_blocks_into<B: GgmlType + Sync>(
    data: &[u8],
    in_dim: usize,
    values: &mut [f32],
) -> Result<()> {
    let blocks = blocks_of::<B>(data)?;
    if values.len() != blocks.len() * B::BLCK_SIZE {
        candle_core::bail!(
            "dequantizing {} values into {}",
            blocks.len() * B::BLCK_SIZE,
            values.len()
        );
    }
    let blocks_per_row = in_dim / B::BLCK_SIZE;
    const ROWS_PER_TASK: usize = 16;
    values
        .par_chunks_mut(ROWS_PER_TASK * in_dim)
        .zip(blocks.par_chunks(ROWS_PER_TASK * blocks_per_row))
        .for_each(|(out, blocks)| B::to_float(blocks, out));
    Ok(())
}

/// Dequantizes q8_0 or q4_k blocks on the CPU into `values` (out × in), in parallel. Returns
/// `false`, writing nothing, for other formats.
pub fn dequantize_into(weights: &QTensor, values: &mut [f32]) -> Result<bool> {
    let (_, in_dim) = weights.shape().dims2()?;
    let data = weights.data()?;
    match weights.dtype() {
        GgmlDType::Q8_0 => dequantize_blocks_into::<BlockQ8_0>(&data, in_dim, values)?,
        GgmlDType::Q4K => dequantize_blocks_into::<BlockQ4K>(&data, in_dim, values)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The bytes of a CPU `QTensor` as its blocks.
fn blocks_of<B>(data: &[u8]) -> Result<&[B]> {
    let size = std::mem::size_of::<B>();
    if !data.len().is_multiple_of(size)
        || !(data.as_ptr() as usize).is_multiple_of(std::mem::align_of::<B>())
    {
        candle_core::bail!("quantized storage is not whole, aligned blocks");
    }
    // SAFETY: candle stores a CPU QTensor as a `Vec<B>` of `repr(C)` blocks of plain integers and
    // halves; length and alignment were checked above.
    Ok(unsafe { std::slice::from_raw_parts(data.as_ptr() as *const B, data.len() / size) })
}

/// The sum of each 32 consecutive activations: `q4_k`'s minimums multiply them.
fn sub_block_sums(x: &[f32]) -> Vec<f32> {
    x.chunks(32).map(|c| c.iter().sum()).collect()
}

/// `out[r] = row r · x` for consecutive `q4_k` rows, given `sub_block_sums(x)`.
type Q4kRows = fn(&[BlockQ4K], &[f32], &[f32], &mut [f32]);

/// The fastest `q8_0` rows kernel this CPU runs (`half_kernels::RowsKernel`).
fn q8_0_rows_kernel() -> half_kernels::RowsKernel<BlockQ8_0> {
    #[cfg(target_arch = "x86_64")]
    if x86_512::available() {
        // SAFETY: the features were detected on this CPU.
        return |rows, x, out| unsafe { x86_512::rows_q8_0(rows, x, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        // SAFETY: the features were detected on this CPU.
        return |rows, x, out| unsafe { x86::rows_q8_0(rows, x, out) };
    }
    |rows, x, out| {
        for (output, row) in out.iter_mut().zip(rows.chunks_exact(x.len() / 32)) {
            *output = portable_dot(row, x);
        }
    }
}

/// The fastest `q4_k` rows kernel this CPU runs.
fn q4_k_rows_kernel() -> Q4kRows {
    // An AVX-512 version (four rows at a time, 16 lanes) measured no faster than this one
    // (9.8-10.7 GB/s against about 10 in `examples/linear_kernels.rs`): widening the nibbles to
    // f32 costs as many instructions a weight as q8_0's bytes do, so q4_k saves memory, not time.
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        return |rows, x, sums, out| {
            for (output, row) in out.iter_mut().zip(rows.chunks_exact(x.len() / 256)) {
                // SAFETY: the features were detected on this CPU.
                *output = unsafe { x86::dot_q4_k(row, x, sums) };
            }
        };
    }
    |rows, x, _, out| {
        for (output, row) in out.iter_mut().zip(rows.chunks_exact(x.len() / 256)) {
            *output = portable_dot(row, x);
        }
    }
}

/// Dequantizes one block at a time through candle and takes the plain dot product.
fn portable_dot<B: GgmlType>(row: &[B], x: &[f32]) -> f32 {
    let mut wide = vec![0f32; B::BLCK_SIZE];
    row.iter()
        .zip(x.chunks_exact(B::BLCK_SIZE))
        .map(|(block, x)| {
            B::to_float(std::slice::from_ref(block), &mut wide);
            wide.iter().zip(x).map(|(w, x)| w * x).sum::<f32>()
        })
        .sum()
}

/// The 6-bit scale and minimum of sub-block `j` of a `q4_k` super-block (GGML's packing).
fn scale_min_k4(j: usize, scales: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (scales[j] & 63, scales[j + 4] & 63)
    } else {
        (
            (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4),
            (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
        )
    }
}

/// The fields of candle's blocks, read by layout (they are `pub(crate)`): `BlockQ8_0` is
/// `{ d: f16, qs: [i8; 32] }`, `BlockQ4K` is `{ d: f16, dmin: f16, scales: [u8; 12],
/// qs: [u8; 128] }`, both `repr(C)`.
mod layout {
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ8_0};

    const _: () = assert!(std::mem::size_of::<BlockQ8_0>() == 34);
    const _: () = assert!(std::mem::size_of::<BlockQ4K>() == 144);

    pub fn bytes<B>(block: &B) -> &[u8] {
        // SAFETY: a block is plain bytes of its size.
        unsafe {
            std::slice::from_raw_parts(block as *const B as *const u8, std::mem::size_of::<B>())
        }
    }

    pub fn half_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    pub fn scales(block: &BlockQ4K) -> &[u8; 12] {
        bytes(block)[4..16].try_into().expect("12 bytes")
    }
}

/// AVX-512 kernels: sixteen weights an instruction, half the work per block of the AVX2 ones
/// (which run at about 60 % of the memory's speed on a Zen 5 core pair, bound by widening).
#[cfg(target_arch = "x86_64")]
mod x86_512 {
    use std::arch::x86_64::*;

    use candle_core::quantized::k_quants::BlockQ8_0;

    use super::layout;

    pub fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("f16c")
    }

    /// `out[r] = Σ_b d_rb · Σ_i q_rbi x_bi` for `out.len()` consecutive rows of blocks of 32,
    /// four rows at a time (each block's 32 activations loaded once for the four).
    ///
    /// # Safety
    /// The CPU has AVX-512F and F16C; `rows.len() == out.len() * x.len() / 32`.
    #[target_feature(enable = "avx512f,f16c")]
    pub unsafe fn rows_q8_0(rows: &[BlockQ8_0], x: &[f32], out: &mut [f32]) {
        let per_row = x.len() / 32;
        debug_assert_eq!(rows.len(), per_row * out.len());
        let (blocks, xs) = (rows.as_ptr(), x.as_ptr());
        let mut start = 0;
        while start + 4 <= out.len() {
            let mut acc = [_mm512_setzero_ps(); 4];
            for b in 0..per_row {
                let x_low = _mm512_loadu_ps(xs.add(32 * b));
                let x_high = _mm512_loadu_ps(xs.add(32 * b + 16));
                for (r, sum) in acc.iter_mut().enumerate() {
                    let block = &*blocks.add((start + r) * per_row + b);
                    *sum = block_q8_0(block, x_low, x_high, *sum);
                }
            }
            for (r, sum) in acc.into_iter().enumerate() {
                out[start + r] = _mm512_reduce_add_ps(sum);
            }
            start += 4;
        }
        // One row at a time: blocks alternate between two accumulators, two chains of FMAs.
        for (r, output) in out.iter_mut().enumerate().skip(start) {
            let mut sums = [_mm512_setzero_ps(); 2];
            for b in 0..per_row {
                let x_low = _mm512_loadu_ps(xs.add(32 * b));
                let x_high = _mm512_loadu_ps(xs.add(32 * b + 16));
                let block = &*blocks.add(r * per_row + b);
                if b % 2 == 0 {
                    sums[0] = block_q8_0(block, x_low, x_high, sums[0]);
                } else {
                    sums[1] = block_q8_0(block, x_low, x_high, sums[1]);
                }
            }
            *output = _mm512_reduce_add_ps(_mm512_add_ps(sums[0], sums[1]));
        }
    }

    /// `acc + d · (q · x)` for one block and its 32 activations.
    #[inline(always)]
    unsafe fn block_q8_0(block: &BlockQ8_0, x_low: __m512, x_high: __m512, acc: __m512) -> __m512 {
        let bytes = layout::bytes(block);
        let qs = bytes.as_ptr().add(2);
        let widen = |at: usize| {
            _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
                qs.add(at) as *const __m128i
            )))
        };
        let sum = _mm512_fmadd_ps(widen(16), x_high, _mm512_mul_ps(widen(0), x_low));
        let d = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(layout::half_at(
            bytes, 0,
        )))));
        _mm512_fmadd_ps(_mm512_set1_ps(d), sum, acc)
    }
}

/// AVX2 + FMA + F16C kernels.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ8_0};

    use super::{layout, scale_min_k4};

    pub fn available() -> bool {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
    }

    #[inline(always)]
    unsafe fn half_to_f32(bits: u16) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits))))
    }

    /// Eight signed bytes at `p` widened to f32.
    #[inline(always)]
    unsafe fn widen_i8(p: *const u8) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(p as *const __m128i)))
    }

    /// Eight unsigned bytes (the low 8 of `v`) widened to f32.
    #[inline(always)]
    unsafe fn widen_u8(v: __m128i) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v))
    }

    #[inline(always)]
    unsafe fn sum_lanes(v: __m256) -> f32 {
        let half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
    }

    /// `out[r] = Σ_b d_rb · Σ_i q_rbi x_bi` for `out.len()` consecutive rows of blocks of 32,
    /// four rows at a time, as the AVX-512 kernel.
    ///
    /// # Safety
    /// The CPU has AVX2, FMA and F16C; `rows.len() == out.len() * x.len() / 32`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn rows_q8_0(rows: &[BlockQ8_0], x: &[f32], out: &mut [f32]) {
        let per_row = x.len() / 32;
        debug_assert_eq!(rows.len(), per_row * out.len());
        let (blocks, xs) = (rows.as_ptr(), x.as_ptr());
        let load_x = |b: usize| {
            let at = xs.add(32 * b);
            [0, 8, 16, 24].map(|i| _mm256_loadu_ps(at.add(i)))
        };
        let mut start = 0;
        while start + 4 <= out.len() {
            let mut acc = [_mm256_setzero_ps(); 4];
            for b in 0..per_row {
                let x = load_x(b);
                for (r, sum) in acc.iter_mut().enumerate() {
                    *sum = block_q8_0(&*blocks.add((start + r) * per_row + b), &x, *sum);
                }
            }
            for (r, sum) in acc.into_iter().enumerate() {
                out[start + r] = sum_lanes(sum);
            }
            start += 4;
        }
        // One row at a time: blocks alternate between two accumulators, two chains of FMAs.
        for (r, output) in out.iter_mut().enumerate().skip(start) {
            let mut sums = [_mm256_setzero_ps(); 2];
            for b in 0..per_row {
                let block = &*blocks.add(r * per_row + b);
                if b % 2 == 0 {
                    sums[0] = block_q8_0(block, &load_x(b), sums[0]);
                } else {
                    sums[1] = block_q8_0(block, &load_x(b), sums[1]);
                }
            }
            *output = sum_lanes(_mm256_add_ps(sums[0], sums[1]));
        }
    }

    /// `acc + d · (q · x)` for one block and its 32 activations.
    #[inline(always)]
    unsafe fn block_q8_0(block: &BlockQ8_0, x: &[__m256; 4], acc: __m256) -> __m256 {
        let bytes = layout::bytes(block);
        let qs = bytes.as_ptr().add(2);
        let mut a = _mm256_mul_ps(widen_i8(qs), x[0]);
        let mut c = _mm256_mul_ps(widen_i8(qs.add(8)), x[1]);
        a = _mm256_fmadd_ps(widen_i8(qs.add(16)), x[2], a);
        c = _mm256_fmadd_ps(widen_i8(qs.add(24)), x[3], c);
        let d = _mm256_set1_ps(half_to_f32(layout::half_at(bytes, 0)));
        _mm256_fmadd_ps(d, _mm256_add_ps(a, c), acc)
    }

    /// `Σ_j d·sc_j · Σ_i q_ji x_ji − dmin·m_j · Σ_i x_ji` over the sub-blocks of 32 of each
    /// super-block of 256; `sums` holds `Σ_i x_ji` for every 32 activations.
    ///
    /// # Safety
    /// The CPU has AVX2, FMA and F16C; `x.len() == 256 * row.len() == 32 * sums.len()`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q4_k(row: &[BlockQ4K], x: &[f32], sums: &[f32]) -> f32 {
        debug_assert_eq!(x.len(), 256 * row.len());
        let low_nibbles = _mm256_set1_epi8(0x0F);
        // Each super-block sums into its own fresh values, added to the running ones once: the
        // only chain from one block to the next is one addition, so blocks overlap.
        let mut acc = _mm256_setzero_ps();
        let mut minimums = 0f32;
        for (b, block) in row.iter().enumerate() {
            let mut block_sum = [_mm256_setzero_ps(); 2];
            let mut block_minimums = [0f32; 2];
            let bytes = layout::bytes(block);
            let d = half_to_f32(layout::half_at(bytes, 0));
            let dmin = half_to_f32(layout::half_at(bytes, 2));
            let scales = layout::scales(block);
            let qs = bytes.as_ptr().add(16);
            for group in 0..4 {
                let packed = _mm256_loadu_si256(qs.add(32 * group) as *const __m256i);
                let low = _mm256_and_si256(packed, low_nibbles);
                let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibbles);
                for (half, nibbles) in [low, high].into_iter().enumerate() {
                    let sub = 2 * group + half;
                    let xs = x.as_ptr().add(256 * b + 32 * sub);
                    let lo = _mm256_castsi256_si128(nibbles);
                    let hi = _mm256_extracti128_si256(nibbles, 1);
                    let mut p = _mm256_mul_ps(widen_u8(lo), _mm256_loadu_ps(xs));
                    let mut q =
                        _mm256_mul_ps(widen_u8(_mm_srli_si128(lo, 8)), _mm256_loadu_ps(xs.add(8)));
                    p = _mm256_fmadd_ps(widen_u8(hi), _mm256_loadu_ps(xs.add(16)), p);
                    q = _mm256_fmadd_ps(
                        widen_u8(_mm_srli_si128(hi, 8)),
                        _mm256_loadu_ps(xs.add(24)),
                        q,
                    );
                    let (scale, minimum) = scale_min_k4(sub, scales);
                    let scale = _mm256_set1_ps(d * f32::from(scale));
                    block_sum[half] = _mm256_fmadd_ps(scale, _mm256_add_ps(p, q), block_sum[half]);
                    block_minimums[half] += dmin * f32::from(minimum) * sums[8 * b + sub];
                }
            }
            acc = _mm256_add_ps(acc, _mm256_add_ps(block_sum[0], block_sum[1]));
            minimums += block_minimums[0] + block_minimums[1];
        }
        sum_lanes(acc) - minimums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct products equal the dequantized weight's plain product (f64 sums), and the
    /// parallel dequantization equals candle's, byte for byte.
    #[test]
    fn direct_products_match_the_dequantized_weights() -> Result<()> {
        for in_dim in [512, 4096 + 512] {
            products_match(37, in_dim)?;
        }
        Ok(())
    }

    fn products_match(out_dim: usize, in_dim: usize) -> Result<()> {
        let device = Device::Cpu;
        let weight = Tensor::randn(0f32, 1.0, (out_dim, in_dim), &device)?;
        let x: Vec<f32> = Tensor::randn(0f32, 1.0, in_dim, &device)?.to_vec1()?;
        for format in [GgmlDType::Q8_0, GgmlDType::Q4K] {
            let blocks = QTensor::quantize(&weight, format)?;
            let ours = dequantize(&blocks)?.flatten_all()?.to_vec1::<f32>()?;
            let theirs = blocks
                .dequantize(&device)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            assert_eq!(ours, theirs, "{format:?}");
            let y = matrix_vector(&blocks, &x)?;
            let portable: Vec<f32> = match format {
                GgmlDType::Q8_0 => blocks_of::<BlockQ8_0>(&blocks.data()?)?
                    .chunks(in_dim / 32)
                    .map(|row| portable_dot(row, &x))
                    .collect(),
                _ => blocks_of::<BlockQ4K>(&blocks.data()?)?
                    .chunks(in_dim / 256)
                    .map(|row| portable_dot(row, &x))
                    .collect(),
            };
            for (row, (ours, portable)) in y.iter().zip(&portable).enumerate() {
                let expected: f64 = theirs[row * in_dim..(row + 1) * in_dim]
                    .iter()
                    .zip(&x)
                    .map(|(w, x)| f64::from(*w) * f64::from(*x))
                    .sum();
                let tolerance = 1e-4 * (1.0 + expected.abs());
                assert!(
                    (f64::from(*ours) - expected).abs() < tolerance,
                    "{format:?} {row}"
                );
                assert!((f64::from(*portable) - expected).abs() < tolerance);
            }
        }
        Ok(())
    }

    /// Each kernel this CPU can run (AVX2 and AVX-512 alike, not only the fastest), given all 37
    /// rows at once (nine groups of four, then one), equals the portable dot row by row.
    #[test]
    fn every_kernel_on_this_cpu_agrees() -> Result<()> {
        let device = Device::Cpu;
        let (out_dim, in_dim) = (37, 4096 + 512);
        let weight = Tensor::randn(0f32, 1.0, (out_dim, in_dim), &device)?;
        let x: Vec<f32> = Tensor::randn(0f32, 1.0, in_dim, &device)?.to_vec1()?;
        let close = |name: &str, ours: &[f32], expected: &[f32]| {
            for (row, (a, b)) in ours.iter().zip(expected).enumerate() {
                assert!(
                    (a - b).abs() < 1e-3 * (1.0 + b.abs()),
                    "{name} row {row}: {a} vs {b}"
                );
            }
        };

        let q8 = QTensor::quantize(&weight, GgmlDType::Q8_0)?;
        let q8_data = q8.data()?;
        let q8_blocks = blocks_of::<BlockQ8_0>(&q8_data)?;
        let q8_expected: Vec<f32> = q8_blocks
            .chunks(in_dim / 32)
            .map(|row| portable_dot(row, &x))
            .collect();
        let q4 = QTensor::quantize(&weight, GgmlDType::Q4K)?;
        let q4_data = q4.data()?;
        let q4_blocks = blocks_of::<BlockQ4K>(&q4_data)?;
        let q4_expected: Vec<f32> = q4_blocks
            .chunks(in_dim / 256)
            .map(|row| portable_dot(row, &x))
            .collect();
        let sums = sub_block_sums(&x);
        let mut tried = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if x86::available() {
                let mut out = vec![0f32; out_dim];
                // SAFETY: the features were detected on this CPU.
                unsafe { x86::rows_q8_0(q8_blocks, &x, &mut out) };
                close("avx2 q8_0", &out, &q8_expected);
                let out: Vec<f32> = q4_blocks
                    .chunks(in_dim / 256)
                    // SAFETY: as above.
                    .map(|row| unsafe { x86::dot_q4_k(row, &x, &sums) })
                    .collect();
                close("avx2 q4_k", &out, &q4_expected);
                tried.push("avx2");
            }
            if x86_512::available() {
                let mut out = vec![0f32; out_dim];
                // SAFETY: the features were detected on this CPU.
                unsafe { x86_512::rows_q8_0(q8_blocks, &x, &mut out) };
                close("avx512 q8_0", &out, &q8_expected);
                tried.push("avx512");
            }
        }
        eprintln!("kernels checked on this CPU: {tried:?}");
        Ok(())
    }

    #[test]
    fn a_wrong_input_length_is_an_error() {
        let weight = Tensor::zeros((4, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
        let blocks = QTensor::quantize(&weight, GgmlDType::Q8_0).unwrap();
        assert!(matrix_vector(&blocks, &[0.0; 32]).is_err());
    }
}
