//! `auscult demo eval`: the flags, and the tables it prints (or the JSON object).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::configure_candle_threads;
use crate::cli::bundled::{bundled, DEMO_MODEL};
use crate::cli::model_choice::model_choice;
use crate::model::Quantization;
use crate::synth::evaluation::{evaluate, EvalOptions, EvalReport};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The checkpoint directory to evaluate [default: the bundled demo model].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Item seeds are `SEED << 32 | i`; training never uses them.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Items to evaluate.
    #[arg(long, default_value_t = 200)]
    n: usize,
    /// Keep the clips, traces (`traces.jsonl`, for `inspect` and `report`) and sidecars here
    /// [default: a temporary folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Most tokens generated per item.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_new_tokens: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Threads, each with its own copy of the model [default: the CPU's cores].
    #[arg(long)]
    workers: Option<usize>,
    /// Quantize the model's decoder first (to measure what quantization changes).
    #[arg(long, value_parser = model_choice::<Quantization>(), value_name = "FORMAT")]
    quantize: Option<Quantization>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(args.n.max(1)))
    });
    configure_candle_threads(workers);
    let temporary = match &args.out {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| temporary.as_ref().expect("made above").path().to_owned());
    let options = EvalOptions {
        model: args.model.clone().unwrap_or_else(|| bundled(DEMO_MODEL)),
        seed: args.seed,
        n: args.n,
        out: out.clone(),
        max_new_tokens: args.max_new_tokens,
        workers,
        quantize: args.quantize,
    };
    let bar = indicatif::ProgressBar::new(args.n as u64);
    bar.set_style(
        // A constant template of indicatif's own keys: it cannot fail to parse.
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} items  ETA {eta}")
            .expect("a valid template"),
    );
    let report = evaluate(&options, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", eval_table(&report));
        if args.out.is_some() {
            println!(
                "traces: {} (open with `auscult inspect`)",
                out.join("traces.jsonl").display()
            );
        }
    }
    Ok(())
}

fn eval_table(report: &EvalReport) -> String {
    use std::fmt::Write;
    let percent = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{:.1} %", 100.0 * x));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: {} items (seeds {}..={}), {:.0} s",
        report.model, report.n, report.item_seeds[0], report.item_seeds[1], report.seconds
    );
    let _ = writeln!(
        text,
        "answer accuracy  {}  ({}/{}, {} failed)",
        percent(Some(report.answer_accuracy)),
        report.correct,
        report.n,
        report.failed
    );
    let _ = writeln!(
        text,
        "CAFE  Acc_per {}  Err_per {}  Err_use {}  Err_omit {}",
        percent(report.acc_per),
        percent(report.err_per),
        percent(report.err_use),
        percent(report.err_omit)
    );
    let _ = writeln!(
        text,
        "      matched {}  hallucinated {}  misused {}  neutral {}  missed {} of {} events; perception all right in {}/{} items",
        report.matched, report.hallucinated, report.misused, report.neutral, report.missed,
        report.targets, report.perfect_perception, report.n
    );
    let _ = writeln!(text, "\nquestion type        items  accuracy");
    for row in &report.per_type {
        let _ = writeln!(
            text,
            "{:<20} {:>5}  {}",
            row.question_type,
            row.n,
            percent(Some(row.accuracy))
        );
    }
    let _ = writeln!(text, "\nperception step   claims  Acc_per");
    for row in &report.per_sound {
        let _ = writeln!(
            text,
            "sound {:<11} {:>6}  {}",
            row.sound,
            row.claims,
            percent(Some(row.acc_per))
        );
    }
    if !report.misused_details.is_empty() {
        let details: Vec<String> = report
            .misused_details
            .iter()
            .map(|(detail, count)| format!("{detail} {count}"))
            .collect();
        let _ = writeln!(
            text,
            "misused perception claims got wrong: {}",
            details.join(", ")
        );
    }
    let _ = writeln!(
        text,
        "\nstep ratio by step (slope {}):",
        report
            .step_ratio_slope
            .map_or("-".to_owned(), |s| format!("{s:+.4} per step"))
    );
    for point in &report.step_ratio {
        let _ = writeln!(
            text,
            "step {:<3} {:.3}  ({} items)",
            point.step, point.mean_ratio, point.examples
        );
    }
    text
}
