//! `auscult reliance`: causal evidence for traces made earlier (by `run` or `batch`), measured with
//! the model that made them and stored as a fresh run would store it: arrays into each trace's
//! sidecar, records into the trace.
//!
//! Each sidecar is rewritten whole as its trace is done; a traces file is rewritten whole (every
//! line it could not read kept byte for byte) every minute and at the end, so a run that is
//! stopped loses at most a minute of records, and a second run skips the traces that already hold
//! what is asked (`--again` measures them anew).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::evidence_args::EvidenceArgs;
use super::model_args::ModelArgs;
use super::progress::{progress_bar, warn};
use crate::model::{Checkpoint, Counterfactual};
use crate::runner::{add_evidence, check_made_by, EvidenceOptions};
use crate::trace::{file_sha256, read_sidecar, write_sidecar, RawTraces, Trace};

/// How often a traces file being updated is written back.
const WRITE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct RelianceArgs {
    /// Traces to measure: `.json` traces (`run`) or `.jsonl` traces files (`batch`).
    #[arg(required = true, value_name = "TRACES")]
    pub traces: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// What to measure (without any of these: --reliance silence,masked).
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Folder the traces' clip paths are relative to (default: as recorded, else beside the
    /// traces file).
    #[arg(long, value_name = "DIR")]
    pub audio_root: Option<PathBuf>,
    /// Measure again what a trace already holds.
    #[arg(long)]
    pub again: bool,
}

pub fn run(args: RelianceArgs) -> Result<()> {
    let mut options = args.evidence.options();
    if options.is_empty() {
        options.reliance = Counterfactual::ALL.to_vec();
    }
    let mut files = Vec::new();
    for path in &args.traces {
        files.push((path.clone(), TracesOnDisk::read(path)?));
    }
    let longest = files
        .iter()
        .flat_map(|(_, file)| file.traces())
        .map(|trace| trace.generation.ids.len())
        .max()
        .unwrap_or(0);
    let mut checkpoint = args
        .model
        .load_measuring(longest, None, options.needs_sidecar())?;
    let config_sha = file_sha256(&checkpoint.dir.join("config.json"))?;

    let total: usize = files.iter().map(|(_, file)| file.traces().count()).sum();
    let bar = progress_bar(total, "{bar:30} {pos}/{len} traces  ETA {eta}  {msg}");
    let (mut measured, mut skipped, mut failed) = (0usize, 0usize, 0usize);
    for (path, mut file) in files {
        let folder = crate::durable::folder_of(&path).to_owned();
        let mut last_write = Instant::now();
        // Written back only when a trace in it was measured.
        let mut changed = false;
        for index in file.indices() {
            let Some(trace) = file.trace(index) else {
                continue;
            };
            bar.inc(1);
            if !args.again && holds(trace, &options) {
                skipped += 1;
                continue;
            }
            let mut trace = trace.clone();
            let place = TracePlace {
                folder: &folder,
                audio_root: args.audio_root.as_deref(),
            };
            match measure(&mut checkpoint, &config_sha, &mut trace, &place, &options) {
                Ok(()) => {
                    measured += 1;
                    changed = true;
                    file.replace(index, trace)?;
                }
                Err(error) => {
                    failed += 1;
                    warn(&bar, format!("{}: {}: {error:#}", path.display(), trace.id));
                }
            }
            bar.set_message(format!(
                "{measured} measured, {skipped} held, {failed} failed"
            ));
            if changed && last_write.elapsed() >= WRITE_EVERY {
                file.write(&path)?;
                last_write = Instant::now();
            }
        }
        if changed {
            file.write(&path)?;
        }
    }
    bar.finish_and_clear();
    eprintln!("{total} traces: {measured} measured, {skipped} already held it, {failed} failed");
    if failed > 0 && measured == 0 {
        bail!("no trace was measured: all {failed} failed (the warnings above say why)");
    }
    Ok(())
}

/// Where a trace's files are.
struct TracePlace<'a> {
    /// The folder of the trace file (sidecar names are relative to it).
    folder: &'a Path,
    audio_root: Option<&'a Path>,
}

/// Measures one trace and rewrites its sidecar.
fn measure(
    checkpoint: &mut Checkpoint,
    config_sha: &str,
    trace: &mut Trace,
    place: &TracePlace,
    options: &EvidenceOptions,
) -> Result<()> {
    check_made_by(checkpoint, config_sha, trace)?;
    let clip = match place.audio_root {
        Some(root) => Some(root.join(&trace.audio.path)).filter(|p| p.is_file()),
        None => trace.find_clip(place.folder),
    }
    .with_context(|| {
        format!(
            "clip {} not found (pass --audio-root with the folder it is relative to)",
            trace.audio.path
        )
    })?;
    let sidecar = match (&trace.attention, options.needs_sidecar()) {
        (Some(attention), true) => Some(place.folder.join(&attention.sidecar)),
        (None, true) => bail!("captured no attention, so it has no sidecar to store reliance in"),
        (_, false) => None,
    };
    let mut arrays = sidecar.as_deref().map(read_sidecar).transpose()?;
    add_evidence(checkpoint, trace, arrays.as_mut(), &clip, options)?;
    if let (Some(path), Some(arrays)) = (&sidecar, &arrays) {
        write_sidecar(path, arrays)?;
    }
    Ok(())
}

/// Whether `trace` already holds everything `options` asks for.
fn holds(trace: &Trace, options: &EvidenceOptions) -> bool {
    let Some(record) = &trace.evidence else {
        return false;
    };
    let reliance = options
        .reliance
        .iter()
        .all(|c| record.reliance.contains(&c.to_string()));
    let occlusion = options.occlusion.is_none_or(|settings| {
        record.occlusion.as_ref().is_some_and(|o| {
            o.window_seconds == settings.window_seconds && o.hop_seconds == settings.hop_seconds
        })
    });
    let answer = options.counterfactual_answer.is_none_or(|c| {
        record
            .counterfactual_answer
            .as_ref()
            .is_some_and(|a| a.counterfactual == c.to_string())
    });
    let interventions = !options.hide_audio_from_steps
        || !record.interventions.is_empty()
        || trace.steps.is_empty();
    reliance && occlusion && answer && interventions
}

/// A `.json` trace or a `.jsonl` traces file, read to be updated in place.
enum TracesOnDisk {
    One(Box<Trace>),
    Lines(RawTraces),
}

impl TracesOnDisk {
    fn read(path: &Path) -> Result<Self> {
        if path.extension().is_some_and(|e| e == "jsonl") {
            Ok(Self::Lines(RawTraces::read(path)?))
        } else {
            Ok(Self::One(Box::new(Trace::read(path)?)))
        }
    }

    fn indices(&self) -> std::ops::Range<usize> {
        match self {
            Self::One(_) => 0..1,
            Self::Lines(raw) => 0..raw.lines.len(),
        }
    }

    fn trace(&self, index: usize) -> Option<&Trace> {
        match self {
            Self::One(trace) => Some(trace),
            Self::Lines(raw) => raw.lines.get(index).and_then(|(_, trace)| trace.as_ref()),
        }
    }

    fn traces(&self) -> impl Iterator<Item = &Trace> {
        self.indices().filter_map(|index| self.trace(index))
    }

    fn replace(&mut self, index: usize, trace: Trace) -> Result<()> {
        match self {
            Self::One(one) => {
                **one = trace;
                Ok(())
            }
            Self::Lines(raw) => raw.replace(index, trace),
        }
    }

    fn write(&mut self, path: &Path) -> Result<()> {
        match self {
            Self::One(trace) => trace.write(path),
            Self::Lines(raw) => raw.write(path),
        }
    }
}
