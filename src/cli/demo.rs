//! `auscult demo`: the bundled demo model's tools. `init` writes a fresh checkpoint directory
//! (config, tokenizer, chat template, weights from a seed); `train` trains one on synthetic items.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use super::bundled::{bundled, DEMO_MODEL};
use crate::synth::checkpoint::init_checkpoint;
use crate::synth::evaluation::{evaluate, EvalOptions, EvalReport};
use crate::synth::tokenizer::{demo_tokenizer, VOCABULARY_SEEDS};
use crate::synth::training::{train, LogLine, TrainOptions, TrainState};

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub command: DemoCommand,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Write a fresh, untrained demo checkpoint directory.
    Init {
        /// The checkpoint directory to create (it must not exist yet).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Seed of the initial weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Evaluate a model on fresh synthetic items: answer accuracy, CAFE metrics (exact labels),
    /// accuracy per question type and the step-ratio decay.
    Eval(EvalArgs),
    /// Train the demo model on synthetic items made on the fly (Ctrl-C stops at a checkpoint;
    /// --resume goes on).
    Train(TrainArgs),
}

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
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run's directory: a loadable checkpoint at every moment, plus `training/` (the last
    /// checkpoint with the optimizer state, and the loss log).
    #[arg(long, value_name = "DIR", default_value = "demo-model")]
    out: PathBuf,
    /// Optimizer steps in all [default: 2000; when resuming, the run's own number].
    #[arg(long)]
    steps: Option<usize>,
    /// Seed of the initial weights and of the training items.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue the run in --out from its last checkpoint, with its own seed, batch and
    /// learning rate.
    #[arg(long)]
    resume: bool,
    /// Items per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Peak learning rate (after warm-up; cosine decay to a tenth of it).
    #[arg(long, default_value_t = 2e-3)]
    learning_rate: f64,
    /// Save a checkpoint every this many steps.
    #[arg(long, default_value_t = 50, value_name = "STEPS")]
    checkpoint_every: usize,
    /// Threads, each running whole items [default: the CPU's cores].
    #[arg(long)]
    workers: Option<usize>,
}

pub fn run(args: DemoArgs) -> Result<()> {
    match args.command {
        DemoCommand::Init { out, seed } => {
            if out.exists() {
                bail!("{}: already exists; give a new directory", out.display());
            }
            let tokenizer = demo_tokenizer(VOCABULARY_SEEDS)?;
            init_checkpoint(&out, &tokenizer, seed)?;
            eprintln!(
                "{}: untrained demo checkpoint, vocabulary of {} tokens",
                out.display(),
                tokenizer.get_vocab_size(true)
            );
            Ok(())
        }
        DemoCommand::Train(args) => run_training(args),
        DemoCommand::Eval(args) => run_evaluation(args),
    }
}

fn run_evaluation(args: EvalArgs) -> Result<()> {
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
    };
    let bar = indicatif::ProgressBar::new(args.n as u64);
    bar.set_style(
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

fn run_training(args: TrainArgs) -> Result<()> {
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(args.batch))
    });
    configure_candle_threads(workers);
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let mut options = TrainOptions::new(args.out.clone());
    options.steps = args.steps;
    options.seed = args.seed;
    options.resume = args.resume;
    options.batch = args.batch;
    options.peak_learning_rate = args.learning_rate;
    options.checkpoint_every = args.checkpoint_every;
    options.workers = workers;
    let mut recent: Vec<f64> = Vec::new();
    let outcome = train(
        &options,
        &stop,
        &mut |line: &LogLine, state: &TrainState| {
            recent.push(line.loss);
            if line.step % 10 == 0 || line.step == state.steps {
                let mean = recent.iter().sum::<f64>() / recent.len() as f64;
                recent.clear();
                let left = (state.steps - line.step) as f64 * state.seconds / line.step as f64;
                eprintln!(
                    "step {}/{}  loss {mean:.4}  lr {:.2e}  {:.2} s/step  {} left",
                    line.step,
                    state.steps,
                    line.learning_rate,
                    line.seconds,
                    humantime::format_duration(std::time::Duration::from_secs(left as u64)),
                );
            }
        },
    )?;
    let state = &outcome.state;
    eprintln!(
        "{}: {} after {} of {} steps, {} of training",
        args.out.display(),
        if outcome.interrupted {
            "stopped; continue with --resume"
        } else {
            "done"
        },
        state.step,
        state.steps,
        humantime::format_duration(std::time::Duration::from_secs(state.seconds as u64)),
    );
    Ok(())
}

/// Sets candle's threading before its first operation creates its thread pools. With several
/// workers each item runs on one thread (candle's own pools would only contend with the workers);
/// with one, candle's pool should sleep rather than spin between the many small operations of
/// training (measured: a step 3.3× faster). A value the user set is kept.
fn configure_candle_threads(workers: usize) {
    let settings: &[(&str, &str)] = if workers > 1 {
        &[("CANDLE_NUM_THREADS", "1"), ("RAYON_NUM_THREADS", "1")]
    } else {
        &[("CANDLE_BARRIER_POOL_SPIN_LIMIT", "0")]
    };
    for (name, value) in settings {
        if std::env::var_os(name).is_none() {
            // Edition 2021, and no other thread exists yet at this point of `demo train`.
            std::env::set_var(name, value);
        }
    }
}
