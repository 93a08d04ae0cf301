//! What `--quantize` changes in the numbers auscult shows, on one checkpoint: each format against
//! the same checkpoint in f32, teacher-forced over the f32 model's greedy tokens (logits max |Δ|,
//! KL, top-1 agreement, audio ratio |Δ|, Pearson of the audio maps) and free-running (how many
//! greedy tokens agree from the start). Prints one markdown table row per format.
//!
//! ```text
//! cargo run --release --example quantization_quality -- --model DIR \
//!     --clip A.wav --prompt "..." [--clip B.wav --prompt "..."]... [--tokens 24]
//! ```
//!
//! Runs `--tokens` tokens per clip, none of them allowed to stop early, so every case compares
//! the same number of positions. Quantized layers are made afresh (the cache is off).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use auscult::model::drift::{agreement_length, drift, teacher_forced, Drift, TeacherForced};
use auscult::model::{
    generate, Checkpoint, DeviceKind, GenerateOptions, LoadOptions, Precision, Quantization,
};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: PathBuf,
    /// Clips, each paired with the `--prompt` in the same place.
    #[arg(long, required = true)]
    clip: Vec<PathBuf>,
    #[arg(long, required = true)]
    prompt: Vec<String>,
    #[arg(long, default_value_t = 24)]
    tokens: usize,
}

/// One case's input, ready for any of the loaded models.
struct Case {
    embeds: candle_core::Tensor,
    audio_span: std::ops::Range<usize>,
}

fn load(args: &Args, quantize: Option<Quantization>) -> Result<Checkpoint> {
    let mut options = LoadOptions::new(DeviceKind::Cpu);
    options.precision = Some(Precision::F32);
    options.quantize = quantize;
    options.cache = false;
    options.new_tokens = args.tokens;
    Checkpoint::load_with(&args.model, &options)
        .with_context(|| format!("loading {}", args.model.display()))
}

fn cases(args: &Args, checkpoint: &Checkpoint) -> Result<Vec<Case>> {
    let rate = checkpoint.processor.mel_config().sampling_rate;
    args.clip
        .iter()
        .zip(&args.prompt)
        .map(|(clip, prompt)| {
            let audio = auscult::audio::decode_file(clip, rate)?;
            let input = checkpoint.processor.prepare(&audio.samples, prompt, None)?;
            Ok(Case {
                embeds: checkpoint.embed_input(&input)?,
                audio_span: input.audio_span,
            })
        })
        .collect()
}

/// Greedy ids of exactly `tokens` tokens, then the teacher-forced outputs over `forced` (or over
/// its own ids when `forced` is `None`).
fn measure(
    checkpoint: &mut Checkpoint,
    case: &Case,
    tokens: usize,
    forced: Option<&[u32]>,
) -> Result<(Vec<u32>, TeacherForced)> {
    let mut params = GenerateOptions::greedy(tokens, checkpoint.generation.eos_token_id.clone());
    params.min_new_tokens = tokens;
    params.capture.enabled = false;
    let model = &mut checkpoint.model;
    model.clear_kv_cache();
    let generation = generate(
        model,
        &case.embeds,
        case.audio_span.clone(),
        &params,
        |_| std::ops::ControlFlow::Continue(()),
    )?;
    let ids = generation.ids;
    let outputs = teacher_forced(
        model,
        &case.embeds,
        case.audio_span.clone(),
        forced.unwrap_or(&ids),
    )?;
    Ok((ids, outputs))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.clip.len() != args.prompt.len() {
        bail!("give one --prompt for each --clip");
    }
    let mut exact = load(&args, None)?;
    let inputs = cases(&args, &exact)?;
    let references: Vec<(Vec<u32>, TeacherForced)> = inputs
        .iter()
        .map(|case| measure(&mut exact, case, args.tokens, None))
        .collect::<Result<_>>()?;
    drop(exact);

    println!(
        "| checkpoint | format | layers (fallback, dense) | logits max \\|Δ\\| | KL mean / max (nats) \
         | top-1 agree | greedy agreement | audio ratio \\|Δ\\| mean / max | map Pearson (lowest) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let name = args.model.file_name().map_or_else(
        || args.model.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    for format in [Quantization::Q8_0, Quantization::Q4K] {
        let mut quantized = load(&args, Some(format))?;
        let report = quantized.quantization.clone().context("quantized")?;
        let quantized_inputs = cases(&args, &quantized)?;
        let mut drifts: Vec<Drift> = Vec::new();
        let mut agreements = Vec::new();
        for ((reference_ids, reference), case) in references.iter().zip(&quantized_inputs) {
            let (ids, outputs) = measure(&mut quantized, case, args.tokens, Some(reference_ids))?;
            agreements.push(agreement_length(reference_ids, &ids));
            drifts.push(drift(reference, &outputs));
        }
        let positions: usize = drifts.iter().map(|d| d.positions).sum();
        let weighted = |pick: fn(&Drift) -> f64| {
            drifts
                .iter()
                .map(|d| pick(d) * d.positions as f64)
                .sum::<f64>()
                / positions as f64
        };
        let largest = |pick: fn(&Drift) -> f64| drifts.iter().map(pick).fold(0.0, f64::max);
        let lowest_pearson = drifts
            .iter()
            .filter_map(|d| d.map_pearson)
            .fold(f64::INFINITY, f64::min);
        println!(
            "| {name} | {} | {} ({}, {}) | {:.3e} | {:.2e} / {:.2e} | {:.1} % | {} of {} | {:.2e} / {:.2e} | {:.5} |",
            format.name(),
            report.layers,
            report.fallback,
            report.kept_dense,
            largest(|d| f64::from(d.logits_max_abs)),
            weighted(|d| d.kl_mean),
            largest(|d| d.kl_max),
            100.0 * weighted(|d| d.top1_agreement),
            agreements
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            args.tokens,
            weighted(|d| d.audio_ratio_mean_abs),
            largest(|d| d.audio_ratio_max_abs),
            lowest_pearson,
        );
    }
    Ok(())
}
