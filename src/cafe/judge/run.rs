//! A judge run: read the traces, captions and any earlier output, render a prompt per trace
//! still to do, hand the prompts to worker threads, and append each line as it comes back.
//!
//! Only the main thread writes: each line is appended, flushed and synced as it arrives, so a
//! killed run loses at most the traces in flight. Rerunning with the same `--out` resumes: ids
//! whose last line has labels are skipped; failed ids are tried again and their new line, being
//! later, supersedes the old one. Existing lines are never rewritten.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::answer::answer_schema;
use super::captions::read_captions;
use super::client::{ChatClient, FormatLadder, ResponseFormat};
use super::label::{judge_trace, JudgeContext, JudgeJob};
use super::prompt::JudgePrompt;
use super::{append_judge_line, read_judge_lines, JudgeLine};
use crate::trace::{read_traces, Trace, TraceLine};

/// Everything a run needs, checked by the command line. (No `Debug`: it holds the API key.)
#[derive(Clone)]
pub struct JudgeSettings {
    pub traces: PathBuf,
    pub captions: PathBuf,
    /// The chat-completions URL (see `chat_completions_url`).
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub out: PathBuf,
    /// A prompt template replacing the default.
    pub prompt: Option<PathBuf>,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_delay: Duration,
    pub concurrency: usize,
    pub seed: u64,
    pub max_tokens: u32,
}

/// What a run did, for the closing summary.
#[derive(Debug, Default)]
pub struct JudgeSummary {
    pub judged: usize,
    /// Id and reason of each trace that got a failure line in this run.
    pub failed: Vec<(String, String)>,
    /// Traces that already had labels in `--out`.
    pub skipped: usize,
    /// The format of the last successful request, if any succeeded.
    pub response_format: Option<ResponseFormat>,
}

pub fn run_judge(settings: &JudgeSettings) -> Result<JudgeSummary> {
    // Every input is read and every prompt rendered before anything is printed or sent, so a
    // bad input is one error line and costs no request.
    let mut notes = Vec::new();
    let prompt = JudgePrompt::load(settings.prompt.as_deref())?;
    let captions = read_captions(&settings.captions)?;
    let traces = read_finished_traces(&settings.traces, &mut notes)?;
    refuse_other_label_files(&settings.out)?;
    let already_labelled = labelled_ids(&settings.out, settings, &mut notes)?;

    let context = JudgeContext {
        client: ChatClient::new(
            settings.url.clone(),
            settings.model.clone(),
            settings.api_key.clone(),
            settings.seed,
            settings.max_tokens,
            settings.timeout,
        ),
        ladder: FormatLadder::default(),
        schema: answer_schema(),
        model: settings.model.clone(),
        prompt_sha256: prompt.sha256().to_owned(),
        retries: settings.retries,
        retry_delay: settings.retry_delay,
    };
    let mut summary = JudgeSummary::default();
    let mut jobs = Vec::new();
    let mut uncaptioned = Vec::new();
    for trace in &traces {
        if already_labelled.contains(&trace.id) {
            summary.skipped += 1;
            continue;
        }
        let Some(caption) = captions.get(&trace.id) else {
            uncaptioned.push(JudgeLine {
                id: trace.id.clone(),
                labels: None,
                error: Some(format!(
                    "no caption for this id in {}",
                    settings.captions.display()
                )),
                judge: context.run_record(None, 0, Instant::now()),
            });
            continue;
        };
        jobs.push(JudgeJob {
            id: trace.id.clone(),
            prompt: prompt.render(trace, caption)?,
            step_count: trace.steps.len(),
            targets: caption.events.as_ref().map(Vec::len),
        });
    }
    for note in &notes {
        eprintln!("{note}");
    }
    if jobs.is_empty() && uncaptioned.is_empty() {
        return Ok(summary);
    }

    let mut out = crate::jsonl::open_for_append(&settings.out)?;
    let mut record = |line: &JudgeLine, summary: &mut JudgeSummary| -> Result<()> {
        append_judge_line(&mut out, line)
            .with_context(|| format!("{}: cannot append", settings.out.display()))?;
        match &line.error {
            None => {
                summary.judged += 1;
                summary.response_format = line.judge.response_format;
            }
            Some(reason) => summary.failed.push((line.id.clone(), reason.clone())),
        }
        Ok(())
    };
    for line in &uncaptioned {
        record(line, &mut summary)?;
    }

    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        // A constant template of indicatif's own keys: it cannot fail to parse.
        ProgressStyle::with_template("{bar:30} {pos}/{len} traces  {per_sec}  ETA {eta}  {msg}")
            .expect("a valid template"),
    );
    let next_job = AtomicUsize::new(0);
    // Set when an answer shows that every request would fail (a wrong key or URL).
    let stop = AtomicBool::new(false);
    let mut stopped_by: Option<String> = None;
    let workers = settings.concurrency.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = mpsc::channel::<JudgeLine>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (next_job, jobs, context, stop) = (&next_job, &jobs, &context, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Some(job) = jobs.get(next_job.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    let line = judge_trace(job, context);
                    if line.error.as_deref().is_some_and(fails_every_request) {
                        stop.store(true, Ordering::SeqCst);
                    }
                    // The receiver is gone only when writing failed: stop taking jobs.
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for line in receiver {
            record(&line, &mut summary)?;
            if let Some(reason) = line.error.as_deref().filter(|r| fails_every_request(r)) {
                stopped_by.get_or_insert_with(|| reason.to_owned());
            }
            bar.set_message(format!(
                "{} judged, {} failed",
                summary.judged,
                summary.failed.len()
            ));
            bar.inc(1);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    if let Some(reason) = stopped_by {
        let untried = jobs.len() - summary.judged - summary.failed.len() + uncaptioned.len();
        bail!(
            "{}: {reason}; stopped, since every request would fail ({untried} traces not tried; a rerun with the same --out resumes)",
            settings.url
        );
    }
    Ok(summary)
}

/// An answer that no retry and no other trace would change: the key is refused or the URL is
/// wrong.
fn fails_every_request(reason: &str) -> bool {
    ["HTTP 401", "HTTP 403", "HTTP 404"]
        .iter()
        .any(|status| reason.starts_with(status))
}

/// `--out` may only be a judge's output: appending judge lines to a journal or an export would
/// spoil it.
fn refuse_other_label_files(out: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(out) else {
        return Ok(());
    };
    use crate::cafe::label_files::{kind_of_line, LabelFileKind};
    match text.lines().find_map(kind_of_line) {
        Some(LabelFileKind::Journal) => bail!(
            "{}: an annotator's journal, not a judge's output; give another --out",
            out.display()
        ),
        Some(LabelFileKind::Export) => bail!(
            "{}: exported labels, not a judge's output; give another --out",
            out.display()
        ),
        _ => Ok(()),
    }
}

/// The finished traces of a traces file (`batch` output) or of one `.json` trace; failed items
/// have no steps to judge and are left out. A repeated id is judged once, from its first trace.
/// What was left out is added to `notes`.
fn read_finished_traces(path: &Path, notes: &mut Vec<String>) -> Result<Vec<Trace>> {
    let is_single_trace = path.extension().is_some_and(|e| e == "json");
    if is_single_trace {
        return Ok(vec![Trace::read(path)?]);
    }
    let file = read_traces(path)?;
    notes.extend(
        file.skipped
            .iter()
            .map(|skipped| format!("warning: {skipped}")),
    );
    let mut seen = HashSet::new();
    let mut failed_items = 0;
    let mut traces = Vec::new();
    for line in file.lines {
        match line {
            TraceLine::Done(trace) if seen.insert(trace.id.clone()) => traces.push(*trace),
            TraceLine::Done(trace) => notes.push(format!(
                "warning: {}: {:?} appears more than once; judging its first trace",
                path.display(),
                trace.id
            )),
            TraceLine::Failed(_) => failed_items += 1,
        }
    }
    if failed_items > 0 {
        notes.push(format!(
            "{}: failed items skipped (no steps to judge): {failed_items}",
            path.display()
        ));
    }
    if traces.is_empty() {
        bail!("{}: no finished traces to judge", path.display());
    }
    Ok(traces)
}

/// Ids whose last line in an earlier output has labels; unreadable lines go to `notes`, and so
/// does a note when some of those labels came from another model or prompt.
fn labelled_ids(
    out: &Path,
    settings: &JudgeSettings,
    notes: &mut Vec<String>,
) -> Result<HashSet<String>> {
    if !out.exists() {
        return Ok(HashSet::new());
    }
    let (lines, skipped) = read_judge_lines(out)?;
    notes.extend(skipped.iter().map(|skipped| format!("warning: {skipped}")));
    let mut last: HashMap<String, bool> = HashMap::new();
    for line in &lines {
        last.insert(line.id.clone(), line.succeeded());
    }
    let prompt_sha256 = JudgePrompt::load(settings.prompt.as_deref())?
        .sha256()
        .to_owned();
    let other = lines
        .iter()
        .filter(|l| {
            l.succeeded()
                && (l.judge.model != settings.model || l.judge.prompt_sha256 != prompt_sha256)
        })
        .count();
    if other > 0 {
        notes.push(format!(
            "warning: {}: {other} traces were labelled by another model or prompt and are skipped; give a new --out to label them with this one",
            out.display()
        ));
    }
    Ok(last
        .into_iter()
        .filter_map(|(id, succeeded)| succeeded.then_some(id))
        .collect())
}
