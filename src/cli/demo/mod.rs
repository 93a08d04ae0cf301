//! `auscult demo`: the bundled demo model's tools. `init` writes a fresh checkpoint directory
//! (config, tokenizer, chat template, weights from a seed); `train` trains one on synthetic items
//! (`train.rs`); `eval` measures one on fresh items (`eval.rs`); `compare` asks fresh items
//! directly and with reasoning and opens both in the inspector (`compare.rs`); `items` writes
//! fresh items as an MMAU-format benchmark with timed captions.

mod compare;
mod eval;
mod train;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use crate::synth::benchmark_file::write_benchmark;
use crate::synth::demo_checkpoint::init_checkpoint;
use crate::synth::tokenizer::{demo_tokenizer, VOCABULARY_SEEDS};

pub use compare::CompareArgs;
pub use eval::EvalArgs;
pub use train::TrainArgs;

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
    /// Ask fresh items directly and with reasoning (R1-AQA's two prompts), then open both side
    /// by side in the inspector (`inspect A --compare B`).
    Compare(CompareArgs),
    /// Train the demo model on synthetic items made on the fly (Ctrl-C stops at a checkpoint;
    /// --resume goes on).
    Train(TrainArgs),
    /// Write synthetic items as a benchmark: `mmau.json` (MMAU's format, for `batch`), the
    /// clips in `audio/`, and `captions.jsonl` with each clip's exact timed events (for `judge`
    /// and the inspector's event lane).
    Items {
        /// The folder to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Item seeds are `SEED << 32 | i`, as in `demo eval`; training never uses them.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Items to write.
        #[arg(long, default_value_t = 100)]
        n: usize,
    },
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
        DemoCommand::Train(args) => train::run(args),
        DemoCommand::Items { out, seed, n } => {
            let files = write_benchmark(&out, seed, n)?;
            eprintln!(
                "{} items: {} and {} (try `auscult batch --data {} --model DIR --out RUN/traces.jsonl`)",
                files.items,
                files.benchmark.display(),
                files.captions.display(),
                files.benchmark.display()
            );
            Ok(())
        }
        DemoCommand::Eval(args) => eval::run(args),
        DemoCommand::Compare(args) => compare::run(args),
    }
}

/// Sets candle's threading before its first operation creates its thread pools. With several
/// workers each item runs on one thread (candle's own pools would only contend with the workers);
/// with one, candle's pool should sleep rather than spin between the many small operations of
/// training (measured: a step 3.3× faster). A value the user set is kept.
pub(super) fn configure_candle_threads(workers: usize) {
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
