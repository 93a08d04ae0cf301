//! `auscult batch`: a whole benchmark file, one trace per item appended to a JSON Lines file.
//!
//! Each finished item is appended and flushed to disk at once, so a crash or Ctrl-C loses at
//! most the item in flight, and `--resume` skips every id the file already holds. An item that
//! fails (unreadable audio, a malformed record) is recorded as a failed item and the run goes
//! on. `--shard I/N` takes the records whose position is I modulo N, so N jobs of a cluster
//! array split a benchmark and their files merge by concatenation.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::evidence_args::EvidenceArgs;
use super::generation_args::GenerationArgs;
use super::model_args::ModelArgs;
use super::progress::{progress_bar, warn};
use crate::benchmark::prompt::{benchmark_prompt, template_by_name};
use crate::benchmark::records::read_benchmark;
use crate::runner::{add_evidence, run_example, ExampleInput};
use crate::trace::{append_line, read_traces, write_sidecar, FailedItem, TraceLine, TRACE_SCHEMA};

#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Benchmark file: MMAU (JSON array) or MMAR (JSON Lines or JSON array).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Where to append traces (JSON Lines); sidecars go to a folder beside it (`.attn/`).
    #[arg(long, value_name = "TRACES.jsonl")]
    pub out: PathBuf,
    /// Folder the records' audio paths are relative to (default: the benchmark file's folder).
    #[arg(long, value_name = "DIR")]
    pub audio_root: Option<PathBuf>,
    /// Run at most this many items (after sharding).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Run only the records at positions I, I+N, I+2N, ... (0 <= I < N).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Continue an existing traces file, skipping the ids it already holds.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub generation: GenerationArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (i, n) = text
        .split_once('/')
        .ok_or("expected I/N, for example 0/4")?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("{i:?} is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 <= I < N"));
    }
    Ok((i, n))
}

/// `traces.jsonl` → `traces.attn/`.
fn sidecar_folder(out: &Path) -> PathBuf {
    out.with_extension("attn")
}

/// A file-name-safe form of an id, made unique by the record's position.
fn sidecar_file(index: usize, id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{index:06}-{safe}.safetensors")
}

pub fn run(args: BatchArgs) -> Result<()> {
    let evidence = args
        .evidence
        .options_with_capture(args.generation.no_capture)?;
    let benchmark = read_benchmark(&args.data, args.audio_root.as_deref())?;
    let mut done: HashSet<String> = HashSet::new();
    if args.out.exists() {
        if !args.resume {
            bail!(
                "{}: already exists; pass --resume to continue it, or choose another --out",
                args.out.display()
            );
        }
        let existing = read_traces(&args.out)?;
        for skipped in &existing.skipped {
            eprintln!("warning: {skipped}");
        }
        done.extend(existing.lines.iter().map(|line| line.id().to_owned()));
    }
    let selected: Vec<_> = benchmark
        .items
        .iter()
        .enumerate()
        .filter(|(index, _)| args.shard.is_none_or(|(i, n)| index % n == i))
        .map(|(_, item)| item)
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    let todo: Vec<_> = selected
        .into_iter()
        .filter(|item| {
            let id = match item {
                Ok(item) => &item.record.id,
                Err(bad) => &bad.id,
            };
            !done.contains(id)
        })
        .collect();
    if todo.is_empty() {
        eprintln!(
            "{}: nothing to do ({} items already there)",
            args.out.display(),
            done.len()
        );
        return Ok(());
    }

    let mut checkpoint = args.model.load_measuring(
        args.generation.max_new_tokens,
        None,
        evidence.needs_sidecar(),
    )?;
    let params = args.generation.options(&checkpoint)?;
    let folder = sidecar_folder(&args.out);
    if !args.generation.no_capture {
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("{}: cannot create", folder.display()))?;
    }
    let mut file = crate::jsonl::open_for_append(&args.out)?;
    let folder_name = folder
        .file_name()
        .context("the sidecar folder has a name")?
        .to_string_lossy()
        .into_owned();

    let total = todo.len();
    let bar = progress_bar(
        total,
        "{bar:30} {pos}/{len} items  {per_sec}  ETA {eta}  {msg}",
    );
    let (mut correct, mut answered, mut failed) = (0usize, 0usize, 0usize);
    let template = template_by_name(&args.generation.prompt_template);
    let step_rules = args.generation.step_rules()?;
    for entry in todo {
        let line = match entry {
            Err(bad) => {
                warn(&bar, &bad.error);
                TraceLine::Failed(Box::new(failed_item(
                    &bad.id,
                    None,
                    None,
                    bad.error.clone(),
                )))
            }
            Ok(item) => {
                let record = &item.record;
                let example = ExampleInput {
                    id: record.id.clone(),
                    audio: &item.audio,
                    prompt: benchmark_prompt(template, &record.question, &record.choices),
                    system: args.generation.system.clone(),
                    benchmark: Some(record.clone()),
                    step_rules: step_rules.clone(),
                };
                let name = sidecar_file(record.index, &record.id);
                let sidecar_name = format!("{folder_name}/{name}");
                match run_example(&mut checkpoint, &example, &params, &sidecar_name, |_| {
                    ControlFlow::Continue(())
                }) {
                    Ok((mut trace, mut arrays)) => {
                        // A trace whose evidence failed is still a finished run: kept, with a
                        // warning.
                        if let Err(error) = add_evidence(
                            &mut checkpoint,
                            &mut trace,
                            arrays.as_mut(),
                            &item.audio,
                            &evidence,
                        ) {
                            warn(
                                &bar,
                                format!("{}: evidence not measured: {error:#}", record.id),
                            );
                        }
                        if let Some(arrays) = &arrays {
                            write_sidecar(&folder.join(&name), arrays)?;
                        }
                        if let Some(answer) = &trace.answer {
                            answered += 1;
                            correct += usize::from(answer.correct);
                        }
                        TraceLine::Done(Box::new(trace))
                    }
                    Err(error) => {
                        let message = format!("{error:#}");
                        warn(&bar, format!("{}: {message}", record.id));
                        let audio = Some(item.audio.display().to_string());
                        TraceLine::Failed(Box::new(failed_item(
                            &record.id,
                            Some(record.clone()),
                            audio,
                            message,
                        )))
                    }
                }
            }
        };
        failed += usize::from(matches!(line, TraceLine::Failed(_)));
        append_line(&mut file, &line)
            .with_context(|| format!("{}: cannot append", args.out.display()))?;
        bar.set_message(format!("accuracy {correct}/{answered}, {failed} failed"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed == total {
        bail!(
            "{}: no item ran: all {total} failed (the warnings above say why; each failure is \
             recorded there as a line)",
            args.out.display()
        );
    }
    eprintln!(
        "{}: {total} items, accuracy {correct}/{answered}, {failed} failed",
        args.out.display(),
    );
    Ok(())
}

fn failed_item(
    id: &str,
    benchmark: Option<crate::trace::BenchmarkRecord>,
    audio_path: Option<String>,
    error: String,
) -> FailedItem {
    FailedItem {
        schema: TRACE_SCHEMA.to_owned(),
        id: id.to_owned(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        benchmark,
        audio_path,
        error,
    }
}
