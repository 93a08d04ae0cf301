//! `auscult report`: accuracy, decay curves, plots and the heads that listen over traces files.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::report::heads::EventSpan;
use crate::report::{terminal_summary, write_report, ReportOptions};
use crate::trace::metrics::{Heads, Selection};
use crate::trace::Trace;
use crate::truth::Truth;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Traces files (JSON Lines from `batch`, or `.json` traces from `run`).
    #[arg(required = true, value_name = "TRACES")]
    pub traces: Vec<PathBuf>,
    /// Folder for the CSV tables, SVG plots and report.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Width, in generated tokens, of the bins of the token-position decay curve.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub bin_tokens: usize,
    /// Layers to average (comma-separated, 0-based; default all).
    #[arg(long, value_name = "L,..", value_delimiter = ',')]
    pub layers: Vec<usize>,
    /// One head instead of the mean over heads.
    #[arg(long, value_name = "H")]
    pub head: Option<usize>,
    /// Label files whose labels join the traces' own for the CAFE metrics: a judge's output, an
    /// export (annotators' journals beside the traces are read anyway).
    #[arg(long, value_name = "FILE.jsonl", num_args = 1..)]
    pub labels: Vec<PathBuf>,
}

pub fn run(args: ReportArgs) -> Result<()> {
    if !args.labels.is_empty() && args.traces.len() > 1 {
        anyhow::bail!(
            "--labels matches labels to traces by id, so it takes one traces file (given {})",
            args.traces.len()
        );
    }
    let options = ReportOptions {
        bin_tokens: args.bin_tokens,
        selection: Selection {
            layers: args.layers.clone(),
            heads: args.head.map_or(Heads::Mean, Heads::One),
        },
        labels: args.labels.clone(),
        event_spans: synthetic_event_spans,
    };
    let report = write_report(&args.traces, &args.out, &options)?;
    for file in &report.label_files {
        eprintln!("labels: {file}");
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", terminal_summary(&report));
    eprintln!(
        "{}: report.md, {} files",
        args.out.display(),
        report.files.len()
    );
    Ok(())
}

/// The events a synthetic item's perception claims name (the only ground truth a traces file
/// carries in itself), for the heads' peak-in-event measure.
fn synthetic_event_spans(trace: &Trace) -> Vec<Option<EventSpan>> {
    Truth::synthetic(trace).map_or_else(Vec::new, |truth| truth.claimed_event_spans(trace))
}
