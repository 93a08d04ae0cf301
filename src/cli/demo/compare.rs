//! `auscult demo compare`: the demo model asked the same fresh items directly (R1-AQA's direct
//! prompt) and with reasoning (its reasoning prompt), then both opened side by side in the
//! inspector: one command for the seed paper's central comparison.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use super::configure_candle_threads;
use crate::cli::bundled::{bundled, DEMO_MODEL};
use crate::cli::inspect::{self, InspectArgs};
use crate::synth::evaluation::{evaluate, EvalOptions};
use crate::synth::prompts::PromptStyle;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The checkpoint directory to run [default: the bundled demo model].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Item seeds are `SEED << 32 | i`, as in `demo eval`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Items to ask both ways.
    #[arg(long, default_value_t = 8)]
    n: usize,
    /// Keep the clips and both traces files here (`r1-aqa/`, `r1-aqa-think/`) [default: a
    /// temporary folder, gone when the inspector closes].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: CompareArgs) -> Result<()> {
    if args.n == 0 {
        bail!("--n 0: ask at least one item");
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(args.n));
    configure_candle_threads(workers);
    // The temporary folder lives until the inspector closes.
    let (out, _temporary) = match &args.out {
        Some(out) => (out.clone(), None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().to_owned(), Some(dir))
        }
    };
    let model = args.model.clone().unwrap_or_else(|| bundled(DEMO_MODEL));
    let mut traces = Vec::new();
    for prompt in [PromptStyle::R1Aqa, PromptStyle::R1AqaThink] {
        let options = EvalOptions {
            model: model.clone(),
            seed: args.seed,
            n: args.n,
            out: out.join(prompt.to_string()),
            max_new_tokens: 256,
            workers,
            quantize: None,
            evidence: false,
            prompt,
        };
        eprint!("asking {} items, {prompt} … ", args.n);
        let report = evaluate(&options, &|| {})?;
        eprintln!("{} of {} right", report.correct, report.n);
        traces.push(options.out.join("traces.jsonl"));
    }
    let mut inspect_args = InspectArgs::defaults();
    inspect_args.trace = Some(traces[0].clone());
    inspect_args.compare = Some(traces[1].clone());
    inspect::run(inspect_args)
}
