//! `auscult demo train`: the flags, Ctrl-C as a stop at the next snapshot, and a progress line
//! every ten steps.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;

use super::configure_candle_threads;
use crate::cli::model_choice::model_choice;
use crate::synth::prompts::PromptStyle;
use crate::synth::training::{train, LogLine, TrainOptions, TrainState};

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
    /// Start a new run from this trained demo model's weights (tokens it does not know start
    /// fresh) instead of weights from the seed.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    from: Option<PathBuf>,
    /// The prompts the items are asked in, in turn within each batch.
    #[arg(long, value_delimiter = ',', value_parser = model_choice::<PromptStyle>(),
          default_value = "demo,r1-aqa,r1-aqa-think", value_name = "PROMPTS")]
    prompts: Vec<PromptStyle>,
    /// Steps of linear warm-up to the peak learning rate.
    #[arg(long, default_value_t = 100, value_name = "STEPS")]
    warmup_steps: usize,
}

pub fn run(args: TrainArgs) -> Result<()> {
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
    options.snapshot_every = args.checkpoint_every;
    options.workers = workers;
    options.prompts = args.prompts;
    options.from = args.from;
    options.warmup_steps = args.warmup_steps;
    let mut recent: Vec<f64> = Vec::new();
    let outcome = train(
        &options,
        &stop,
        &mut |line: &LogLine, state: &TrainState| {
            recent.push(line.loss);
            if line.step.is_multiple_of(10) || line.step == state.steps {
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
