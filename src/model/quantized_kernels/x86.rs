//! AVX2 + FMA + F16C kernels: `q8_0` rows four at a time and the `q4_k` row dot product, eight
//! weights an instruction, each block widened to f32 in registers (bytes and nibbles through
//! integer widening, the f16 scales through F16C).
//!
//! What `quantized_kernels` runs on an x86-64 CPU with these features and without AVX-512
//! (for `q4_k`, with AVX-512 too); detected at run time, so one binary runs everywhere.

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
