//! `auscult demo train`: trains the demo model with candle's autograd through the very model code
//! that inference uses (built with differentiable kernels), on synthetic items made on the fly.
//!
//! The output directory is a checkpoint directory (the model's files, as `model::Checkpoint`
//! loads them) at every moment, with the weights of the last snapshot, plus `training/`: the last
//! snapshot of the run (weights, optimizer moments, state; in `training/checkpoint/`, the name
//! the command line and the folder keep) and the loss log, one JSON line per step. A run stopped
//! anywhere (Ctrl-C, a kill, a crash) resumes from its last snapshot and, being deterministic for
//! its seed, repeats the same losses from there.

mod adamw;
mod examples;
mod run;
mod schedule;
mod step;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

use crate::synth::prompts::PromptStyle;

pub use examples::{training_item_seed, TrainingExample, TRAINING_SEED_BIT};
pub use schedule::learning_rate;

use run::Run;

/// What a training run does.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub out: PathBuf,
    /// Optimizer steps in all; `None`: 2000 for a new run, the saved number for a resumed one.
    pub steps: Option<usize>,
    /// Seed of the initial weights and of the training items.
    pub seed: u64,
    pub resume: bool,
    /// Items per step.
    pub batch: usize,
    pub peak_learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    /// Gradients whose global norm exceeds this are scaled down to it.
    pub clip_norm: f64,
    /// Steps between snapshots of the run (and a snapshot after the last step or a stop).
    pub snapshot_every: usize,
    /// Threads that each run whole items (forward and backward).
    pub workers: usize,
    /// The prompts a step's items are asked in, in turn (item `i` of a batch in the
    /// `i % len`-th).
    pub prompts: Vec<PromptStyle>,
    /// Start from this trained demo model's weights instead of the seed's (a new run only).
    pub from: Option<PathBuf>,
}

impl TrainOptions {
    /// The settings the bundled demo model was trained with, for `out`.
    pub fn new(out: PathBuf) -> Self {
        Self {
            out,
            steps: None,
            seed: 0,
            resume: false,
            batch: 16,
            peak_learning_rate: 2e-3,
            warmup_steps: 100,
            weight_decay: 0.01,
            clip_norm: 1.0,
            snapshot_every: 50,
            workers: 1,
            prompts: PromptStyle::iter().collect(),
            from: None,
        }
    }
}

/// Where a run stands; saved with every snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimizer steps done.
    pub step: usize,
    pub seed: u64,
    pub batch: usize,
    pub steps: usize,
    pub peak_learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    pub clip_norm: f64,
    /// Seconds spent training, over every resumed part of the run.
    pub seconds: f64,
    /// The prompts items are asked in, in turn (runs saved before there were several: the
    /// demo's own).
    #[serde(default = "demo_prompt_only")]
    pub prompts: Vec<PromptStyle>,
    /// The model the run started from, when not from the seed's weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

fn demo_prompt_only() -> Vec<PromptStyle> {
    vec![PromptStyle::Demo]
}

/// One line of the loss log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Optimizer steps done after this one (1-based).
    pub step: usize,
    /// Mean next-token loss over the batch's target tokens.
    pub loss: f64,
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Target tokens in the batch.
    pub tokens: usize,
    /// Seconds this step took.
    pub seconds: f64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub state: TrainState,
    /// True when the run stopped before its last step (`stop` was raised).
    pub interrupted: bool,
}

/// Trains as `options` say until the last step or until `stop` is raised (checked between
/// steps), saving snapshots as it goes; `report` sees every step's log line.
pub fn train(
    options: &TrainOptions,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&LogLine, &TrainState),
) -> Result<Outcome> {
    if options.batch == 0 || options.workers == 0 || options.snapshot_every == 0 {
        bail!("batch, workers and checkpoint interval must be at least 1");
    }
    if options.prompts.is_empty() {
        bail!("--prompts needs at least one prompt");
    }
    let mut run = if options.resume {
        Run::resume(options)?
    } else {
        Run::start(options)?
    };
    let mut interrupted = false;
    while run.state.step < run.state.steps {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let started = Instant::now();
        let mut line = run.step(options.workers)?;
        line.seconds = started.elapsed().as_secs_f64();
        run.state.seconds += line.seconds;
        run.append_log(&line)?;
        report(&line, &run.state);
        let done = run.state.step == run.state.steps;
        if done || run.state.step % options.snapshot_every == 0 {
            run.save_snapshot()?;
        }
    }
    if interrupted {
        run.save_snapshot()?;
    }
    Ok(Outcome {
        state: run.state.clone(),
        interrupted,
    })
}
