//! Label files of every kind, read into labels per trace id: annotators' journals
//! (`journal_file`), the judge's output (`auscult judge`), and JSON Lines exports
//! (`auscult label export`). Each line says which kind it is (`op`, `labels`/`error`, `label`),
//! so a file is read by what its first readable line holds. The traces' own labels (the exact
//! checker's, `auto`) live in the traces; these add to them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::export::{labels_from_rows, ExportRow};
use super::journal_file::{journals_beside, read_journal};
use crate::trace::{LabelSource, TraceLabels};

/// What a label file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFileKind {
    Journal,
    Judge,
    Export,
}

/// One label file read.
#[derive(Debug, Clone)]
pub struct LabelFile {
    pub path: PathBuf,
    pub kind: LabelFileKind,
    /// Labels by trace id.
    pub labels: BTreeMap<String, TraceLabels>,
    /// Lines that could not be used, by line number.
    pub warnings: Vec<String>,
}

impl LabelFile {
    /// The sources of its step labels, sorted, each once.
    pub fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self
            .labels
            .values()
            .flat_map(|l| l.steps.iter().map(|s| s.source.to_string()))
            .collect();
        sources.sort();
        sources.dedup();
        sources
    }

    /// "run.ann.labels.jsonl: journal of human:ann, 12 traces".
    pub fn describe(&self) -> String {
        let sources = self.sources();
        let kind = match self.kind {
            LabelFileKind::Journal => "journal",
            LabelFileKind::Judge => "judge labels",
            LabelFileKind::Export => "exported labels",
        };
        format!(
            "{}: {kind} of {}, {} traces",
            self.path.display(),
            if sources.is_empty() {
                "nobody yet".to_owned()
            } else {
                sources.join(", ")
            },
            self.labels.len()
        )
    }
}

/// The kind of a JSON line: a journal entry has `op`, a judge line `labels` or `error`, an
/// export row `label`.
pub fn kind_of_line(line: &str) -> Option<LabelFileKind> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let object = value.as_object()?;
    if object.contains_key("op") {
        Some(LabelFileKind::Journal)
    } else if object.contains_key("labels") || object.contains_key("error") {
        Some(LabelFileKind::Judge)
    } else if object.contains_key("label") {
        Some(LabelFileKind::Export)
    } else {
        None
    }
}

/// Reads a label file of any kind.
pub fn read_label_file(path: &Path) -> Result<LabelFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the label file", path.display()))?;
    if text.trim().is_empty() {
        // A journal opened and closed before its first label.
        return Ok(LabelFile {
            path: path.to_path_buf(),
            kind: LabelFileKind::Journal,
            labels: BTreeMap::new(),
            warnings: Vec::new(),
        });
    }
    let kind = text
        .lines()
        .find_map(kind_of_line)
        .with_context(|| {
            format!(
                "{}: not a label file (no line is a journal entry, a judge result or an exported label)",
                path.display()
            )
        })?;
    let mut file = LabelFile {
        path: path.to_path_buf(),
        kind,
        labels: BTreeMap::new(),
        warnings: Vec::new(),
    };
    match kind {
        LabelFileKind::Journal => {
            let read = read_journal(path, None)?;
            file.warnings = read.warnings;
            for trace in read.labels.traces() {
                file.labels
                    .insert(trace.to_owned(), read.labels.labels_of(trace));
            }
        }
        LabelFileKind::Judge => read_judge_lines(path, &mut file)?,
        LabelFileKind::Export => {
            let rows = parse_lines::<ExportRow>(path, &text, &mut file.warnings);
            let traces = labels_from_rows(&rows)
                .map_err(|reason| anyhow::anyhow!("{}: {reason}", path.display()))?;
            file.labels.extend(traces);
        }
    }
    Ok(file)
}

/// The lines that parse as `T`; the others reported by number.
fn parse_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Vec<T> {
    let cut_off = !text.is_empty() && !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut parsed = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(value) => parsed.push(value),
            Err(_) if cut_off && index + 1 == lines.len() => warnings.push(format!(
                "{}:{}: cut off; the lines before it are kept",
                path.display(),
                index + 1
            )),
            Err(e) => warnings.push(format!(
                "{}:{}: not a label line ({e}); skipped",
                path.display(),
                index + 1
            )),
        }
    }
    parsed
}

/// A judge's output: the last line for a trace wins (a resumed run appends), so a later failure
/// line takes back an earlier line's labels.
fn read_judge_lines(path: &Path, file: &mut LabelFile) -> Result<()> {
    let (lines, skipped) = super::judge::read_judge_lines(path)?;
    file.warnings.extend(skipped);
    for line in lines {
        match line.labels {
            Some(labels) => {
                file.labels.insert(line.id, labels);
            }
            None => {
                file.labels.remove(&line.id);
            }
        }
    }
    Ok(())
}

/// Labels gathered for a traces file: every journal beside it (but `skip`, the one being
/// written) and the named label files, by trace id.
#[derive(Debug, Default)]
pub struct GatheredLabels {
    pub labels: BTreeMap<String, TraceLabels>,
    pub files: Vec<LabelFile>,
}

impl GatheredLabels {
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.files.iter().flat_map(|f| f.warnings.iter())
    }

    /// Adds what was gathered for `trace` to its own labels.
    pub fn apply(&self, trace: &mut crate::trace::Trace) {
        if let Some(extra) = self.labels.get(&trace.id) {
            trace
                .labels
                .get_or_insert_with(TraceLabels::default)
                .extend(extra.clone());
        }
    }
}

/// Reads the journals beside `traces` and the `named` files.
///
/// Named files come first and the journals last: between two labels of the same rank the later
/// one counts, and a journal is its annotator's current word. For the same reason, labels of an
/// annotator whose journal is beside the traces (`skip` included) are left out of the named files
/// (an export of them is an older copy), with a warning.
pub fn gather_labels(
    traces: &Path,
    named: &[PathBuf],
    skip: Option<&Path>,
) -> Result<GatheredLabels> {
    let skipped = |p: &Path| skip.is_some_and(|s| same_file(s, p));
    let beside = journals_beside(traces);
    let journal_sources: Vec<LabelSource> = beside
        .iter()
        .chain(skip.map(Path::to_path_buf).as_ref())
        .filter_map(|p| journal_annotator(traces, p))
        .map(LabelSource::human)
        .collect();
    let mut paths: Vec<PathBuf> = Vec::new();
    for path in named {
        if !path.is_file() {
            bail!("{}: no such label file", path.display());
        }
        let known = paths.iter().chain(&beside).any(|p| same_file(p, path));
        if !known && !skipped(path) {
            paths.push(path.clone());
        }
    }
    paths.extend(beside.into_iter().filter(|p| !skipped(p)));

    let mut gathered = GatheredLabels::default();
    for path in paths {
        let mut file = read_label_file(&path)?;
        if file.kind != LabelFileKind::Journal {
            let before: usize = file.labels.values().map(|l| l.steps.len()).sum();
            for labels in file.labels.values_mut() {
                labels
                    .steps
                    .retain(|l| !journal_sources.contains(&l.source));
                labels
                    .missed
                    .retain(|m| !journal_sources.contains(&m.source));
            }
            let after: usize = file.labels.values().map(|l| l.steps.len()).sum();
            if after < before {
                file.warnings.push(format!(
                    "{}: {} labels of annotators whose journals are beside the traces left out (the journals are newer)",
                    path.display(),
                    before - after
                ));
            }
        }
        for (trace, labels) in &file.labels {
            gathered
                .labels
                .entry(trace.clone())
                .or_default()
                .extend(labels.clone());
        }
        gathered.files.push(file);
    }
    Ok(gathered)
}

/// The annotator whose journal beside `traces` is `journal`, if it is one.
fn journal_annotator<'a>(traces: &Path, journal: &'a Path) -> Option<&'a str> {
    let stem = traces.file_stem()?.to_str()?;
    journal
        .file_name()?
        .to_str()?
        .strip_prefix(stem)?
        .strip_prefix('.')?
        .strip_suffix(".labels.jsonl")
}

/// Whether two paths name the same file ("run.jsonl" and "./run.jsonl" do).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
