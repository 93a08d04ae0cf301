//! `auscult demo`: the bundled demo model's tools. `init` writes a fresh checkpoint directory
//! (config, tokenizer, chat template, weights from a seed); `train` trains one on synthetic items.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use crate::synth::checkpoint::init_checkpoint;
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
    /// Train the demo model on synthetic items made on the fly (Ctrl-C stops at a checkpoint;
    /// --resume goes on).
    Train(TrainArgs),
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
    }
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
