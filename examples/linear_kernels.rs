//! Measures auscult's linear layers on a 7B's matrix shapes against this machine's own limits,
//! in one run: decoding one token is bound by memory bandwidth (GB/s of weights read), a prompt
//! by the f32 GEMM rate (GFLOP/s). Machines here are noisy, so read the ratios, not the times.
//!
//! `cargo run --release --example linear_kernels [rows-of-the-prompt]` prints, for each weight
//! format (f32, bf16, f16, q8_0, q4_k): the one-row product's GB/s and its share of the bandwidth
//! bound, and the prompt product's GFLOP/s and its share of candle's f32 GEMM on the same shape.

use std::sync::Arc;
use std::time::Instant;

use auscult::model::linear::{quantize, Linear};
use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Module, Result, Tensor};

/// Qwen2-Audio-7B's decoder: the MLP's up/gate (out 11008, in 4096) and down (4096, 11008), and
/// the attention projection (4096, 4096).
const SHAPES: [(usize, usize); 3] = [(11008, 4096), (4096, 11008), (4096, 4096)];

fn best_of(passes: usize, mut run: impl FnMut() -> Result<()>) -> Result<f64> {
    run()?; // warm-up (first touch, repacking)
    let mut best = f64::MAX;
    for _ in 0..passes {
        let started = Instant::now();
        run()?;
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Read bandwidth in GB/s: sums 1 GiB of f32 with one thread per core, best of several passes.
fn bandwidth() -> f64 {
    let len = (1usize << 30) / 4;
    let data: Vec<f32> = (0..len).map(|i| (i % 7) as f32).collect();
    let threads = rayon::current_num_threads();
    let chunk = len.div_ceil(threads);
    let seconds = best_of(5, || {
        use rayon::prelude::*;
        let total: f32 = data
            .par_chunks(chunk)
            .map(|part| {
                let mut acc = [0f32; 8];
                for block in part.chunks_exact(8) {
                    for (a, &x) in acc.iter_mut().zip(block) {
                        *a += x;
                    }
                }
                acc.iter().sum::<f32>()
            })
            .sum();
        std::hint::black_box(total);
        Ok(())
    })
    .expect("summing cannot fail");
    (len * 4) as f64 / seconds / 1e9
}

fn main() -> Result<()> {
    let prompt_rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(785);
    let device = Device::Cpu;
    let bound = bandwidth();
    println!(
        "threads {}, bandwidth {bound:.1} GB/s, prompt {prompt_rows} rows",
        rayon::current_num_threads()
    );
    println!(
        "{:<13} {:<6} {:>9} {:>7} {:>11} {:>8}",
        "shape", "format", "1 row GB/s", "of bound", "prompt GF/s", "of GEMM"
    );
    for (out_dim, in_dim) in SHAPES {
        let weight = Tensor::randn(0f32, 0.02, (out_dim, in_dim), &device)?;
        let one = Tensor::randn(0f32, 1.0, (1, 1, in_dim), &device)?;
        let prompt = Tensor::randn(0f32, 1.0, (1, prompt_rows, in_dim), &device)?;
        let flops = 2.0 * (prompt_rows * in_dim * out_dim) as f64;
        let gemm = candle_nn::Linear::new(weight.clone(), None);
        let gemm_seconds = best_of(2, || gemm.forward(&prompt).map(drop))?;
        let gemm_rate = flops / gemm_seconds / 1e9;
        let layers: Vec<(&str, Linear)> = vec![
            ("f32", Linear::new(weight.clone(), None)),
            ("bf16", Linear::new(weight.to_dtype(DType::BF16)?, None)),
            ("f16", Linear::new(weight.to_dtype(DType::F16)?, None)),
            (
                "q8_0",
                Linear::quantized(Arc::new(quantize(&weight, GgmlDType::Q8_0)?), None)?,
            ),
            (
                "q4_k",
                Linear::quantized(Arc::new(quantize(&weight, GgmlDType::Q4K)?), None)?,
            ),
        ];
        println!(
            "{:<13} {:<6} {:>9} {:>7} {:>11.1} {:>8}",
            format!("{out_dim}x{in_dim}"),
            "gemm",
            "",
            "",
            gemm_rate,
            "1.00"
        );
        for (name, layer) in &layers {
            let decode_seconds = best_of(10, || layer.forward(&one).map(drop))?;
            let read = layer.weight_bytes() as f64 / decode_seconds / 1e9;
            let prompt_seconds = best_of(2, || layer.forward(&prompt).map(drop))?;
            let rate = flops / prompt_seconds / 1e9;
            println!(
                "{:<13} {:<6} {:>9.1} {:>7.2} {:>11.1} {:>8.2}",
                "",
                name,
                read,
                read / bound,
                rate,
                rate / gemm_rate
            );
        }
    }
    Ok(())
}
