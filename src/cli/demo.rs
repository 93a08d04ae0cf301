//! `auscult demo`: the bundled demo model's tools. `init` writes a fresh checkpoint directory
//! (config, tokenizer, chat template, weights from a seed); training and evaluation come next
//! (issue 6).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use crate::synth::checkpoint::init_checkpoint;
use crate::synth::tokenizer::demo_tokenizer;

/// Items whose text makes the demo vocabulary: enough that fresh items have no unknown word.
const VOCABULARY_SEEDS: std::ops::Range<u64> = 0..2000;

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
    }
}
