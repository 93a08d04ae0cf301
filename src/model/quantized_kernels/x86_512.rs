//! AVX-512 kernels: sixteen weights an instruction, half the work per block of the AVX2 ones
//! (which run at about 60 % of the memory's speed on a Zen 5 core pair, bound by widening).
//!
//! The `q8_0` rows kernel `quantized_kernels` picks first when the CPU has AVX-512F and F16C;
//! `q4_k` stays on the AVX2 kernel (see `q4_k_rows_kernel`).

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
