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
//! in one contiguous run per thread (`half_kernels::for_each_row`). The SIMD kernels are in
//! `x86_512` (AVX-512) and `x86` (AVX2, FMA, F16C), chosen at run time; other CPUs dequantize a
//! row through candle and take the portable dot.

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

/// AVX-512 kernels (`q8_0`).
#[cfg(target_arch = "x86_64")]
mod x86_512;

/// AVX2 + FMA + F16C kernels (`q8_0`, `q4_k`).
#[cfg(target_arch = "x86_64")]
mod x86;

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
