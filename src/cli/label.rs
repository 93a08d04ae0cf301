//! `auscult label`: what to do with labels outside the inspector — agreement between annotators
//! (`agree`) and the merged labels as a table (`export`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};

use crate::cafe::agreement::{agreement, Agreement, PairAgreement, Rater};
use crate::cafe::export::export_rows;
use crate::cafe::label_files::{gather_labels, read_label_file};
use crate::trace::CafeLabel;
use crate::trace::{read_traces, Trace};

#[derive(Debug, Args)]
pub struct LabelArgs {
    #[command(subcommand)]
    pub command: LabelCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// How far annotators agree: Cohen's kappa for two, Fleiss' kappa for more, overall and per
    /// label, with confusion matrices.
    ///
    /// Each file is one rater's labels: an annotator's journal (<traces>.NAME.labels.jsonl), a
    /// judge's output, or an export holding one source. Claims are compared by trace, step and
    /// event; only claims every rater labelled count.
    Agree(AgreeArgs),
    /// The merged labels of traces (human over judge over auto) as JSON Lines or CSV: one row per
    /// claim with the trace id, the step's text, the label, its source and who gave it, and one
    /// per missed event. `report --labels` reads a JSON Lines export back.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct AgreeArgs {
    /// Two or more label files, one rater each.
    #[arg(required = true, num_args = 2.., value_name = "LABELS.jsonl")]
    pub files: Vec<PathBuf>,
    /// One JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The traces (`batch`'s JSON Lines, or a `.json` trace from `run`).
    #[arg(value_name = "TRACES")]
    pub traces: PathBuf,
    /// More label files (a judge's output; annotators' journals beside the traces are read
    /// anyway).
    #[arg(long, value_name = "FILE.jsonl", num_args = 1..)]
    pub labels: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Write here instead of standard output (never over an existing file).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Every source's label, not only the one that counts (the `counts` column says which).
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: LabelArgs) -> Result<()> {
    match args.command {
        LabelCommand::Agree(args) => agree(args),
        LabelCommand::Export(args) => export(args),
    }
}

/// One rater per file: the file's only source.
fn rater(path: &Path) -> Result<Rater> {
    let file = read_label_file(path)?;
    for warning in &file.warnings {
        eprintln!("warning: {warning}");
    }
    let name = match file.sources().as_slice() {
        [] => bail!("{}: no step labels in it", path.display()),
        [one] => (*one).to_owned(),
        several => bail!(
            "{}: labels from {} sources ({}); agreement needs one rater per file",
            path.display(),
            several.len(),
            several.join(", ")
        ),
    };
    Ok(Rater {
        name,
        labels: file.labels,
    })
}

fn agree(args: AgreeArgs) -> Result<()> {
    let raters = args
        .files
        .iter()
        .map(|p| rater(p))
        .collect::<Result<Vec<_>>>()?;
    for i in 0..raters.len() {
        for j in i + 1..raters.len() {
            if raters[i].name == raters[j].name {
                bail!(
                    "{} and {} are both {}: agreement needs different raters",
                    args.files[i].display(),
                    args.files[j].display(),
                    raters[i].name
                );
            }
        }
    }
    let result = agreement(&raters);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", agreement_text(&result));
    }
    Ok(())
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"))
}

/// The agreement as tables for the terminal.
pub fn agreement_text(result: &Agreement) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} raters: {} · {} claims labelled by all ({} by only some, left out)",
        result.raters.len(),
        result.raters.join(", "),
        result.items,
        result.uncovered
    );
    let header: String = CafeLabel::ALL
        .iter()
        .map(|l| format!("{:>13}", l.name()))
        .collect();
    if result.raters.len() > 2 {
        let _ = writeln!(text, "\nFleiss' kappa {}", number(result.fleiss));
        let _ = writeln!(text, "{:14}{header}", "");
        let per_label: String = result
            .fleiss_per_label
            .iter()
            .map(|&k| format!("{:>13}", number(k)))
            .collect();
        let _ = writeln!(text, "{:14}{per_label}", "kappa");
    }
    for pair in &result.pairs {
        pair_text(&mut text, pair, &header);
    }
    text
}

fn pair_text(text: &mut String, pair: &PairAgreement, header: &str) {
    let _ = writeln!(
        text,
        "\n{} vs {}: Cohen's kappa {} over {} claims (observed agreement {})",
        pair.raters[0],
        pair.raters[1],
        number(pair.kappa),
        pair.items,
        number(pair.observed)
    );
    let _ = writeln!(text, "{:14}{header}", "");
    let per_label: String = pair
        .kappa_per_label
        .iter()
        .map(|&k| format!("{:>13}", number(k)))
        .collect();
    let _ = writeln!(text, "{:14}{per_label}", "kappa");
    let _ = writeln!(
        text,
        "confusion (rows {}, columns {}):",
        pair.raters[0], pair.raters[1]
    );
    let _ = writeln!(text, "{:14}{header}", "");
    for (label, row) in CafeLabel::ALL.iter().zip(&pair.confusion) {
        let cells: String = row.iter().map(|c| format!("{c:>13}")).collect();
        let _ = writeln!(text, "{:14}{cells}", label.name());
    }
}

/// The traces of a `.json` trace or a traces file.
fn read_any_traces(path: &Path) -> Result<Vec<Trace>> {
    if path.extension().is_some_and(|e| e == "json") {
        return Ok(vec![Trace::read(path)?]);
    }
    let file = read_traces(path)?;
    for skipped in &file.skipped {
        eprintln!("warning: {skipped}");
    }
    Ok(file.finished())
}

fn export(args: ExportArgs) -> Result<()> {
    // A taken name fails before any work.
    if let Some(path) = args.out.as_ref().filter(|p| p.exists()) {
        bail!(
            "{}: already exists (it is never overwritten)",
            path.display()
        );
    }
    let mut traces = read_any_traces(&args.traces)?;
    let gathered = gather_labels(&args.traces, &args.labels, None)?;
    for file in &gathered.files {
        eprintln!("labels: {}", file.describe());
    }
    for warning in gathered.warnings() {
        eprintln!("warning: {warning}");
    }
    for trace in &mut traces {
        gathered.apply(trace);
    }
    let rows: Vec<_> = traces
        .iter()
        .flat_map(|t| export_rows(t, args.all))
        .collect();
    let mut bytes = Vec::new();
    match args.format {
        ExportFormat::Jsonl => {
            for row in &rows {
                serde_json::to_writer(&mut bytes, row)?;
                bytes.push(b'\n');
            }
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(&mut bytes);
            for row in &rows {
                writer.serialize(row)?;
            }
            writer.flush()?;
        }
    }
    match &args.out {
        Some(path) => {
            crate::durable::write_new(path, &bytes)?;
            eprintln!(
                "{}: {} labels of {} traces",
                path.display(),
                rows.len(),
                traces.len()
            );
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(())
}
