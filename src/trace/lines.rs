//! Traces files: JSON Lines, one finished trace or one failed item per line.
//!
//! `batch` appends a line as soon as an item is done and flushes it to disk, so a crash loses at
//! most the item in flight; shards of one benchmark merge by concatenating their files. Readers
//! keep every valid line: a malformed line is reported by number and skipped, and a truncated
//! last line (a run killed while writing) likewise.

use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::{BenchmarkRecord, Trace, TRACE_SCHEMA};

/// An item that could not be run, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FailedItem {
    pub schema: String,
    pub id: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<BenchmarkRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_path: Option<String>,
    pub error: String,
}

/// One line of a traces file.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceLine {
    Done(Box<Trace>),
    Failed(Box<FailedItem>),
}

impl TraceLine {
    pub fn id(&self) -> &str {
        match self {
            TraceLine::Done(trace) => &trace.id,
            TraceLine::Failed(failed) => &failed.id,
        }
    }

    fn to_json(&self) -> Result<String> {
        Ok(match self {
            TraceLine::Done(trace) => serde_json::to_string(trace)?,
            TraceLine::Failed(failed) => serde_json::to_string(failed)?,
        })
    }

    /// Parses one line; `Err` carries the reason, `Ok(None)` is a blank line.
    fn parse(line: &str) -> std::result::Result<Option<Self>, String> {
        if line.trim().is_empty() {
            return Ok(None);
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(TRACE_SCHEMA) => {}
            Some(other) => {
                return Err(format!(
                "trace schema {other:?} is not supported by this auscult (it reads {TRACE_SCHEMA})"
            ))
            }
            None => return Err("not an auscult trace (no \"schema\" field)".into()),
        }
        if value.get("error").is_some() {
            serde_json::from_value(value)
                .map(|f| Some(TraceLine::Failed(Box::new(f))))
                .map_err(|e| format!("malformed failed item ({e})"))
        } else {
            serde_json::from_value(value)
                .map(|t| Some(TraceLine::Done(Box::new(t))))
                .map_err(|e| format!("malformed trace ({e})"))
        }
    }
}

/// What reading a traces file found.
#[derive(Debug, Default)]
pub struct TracesFile {
    pub lines: Vec<TraceLine>,
    /// `path:line: problem` for each line that was skipped.
    pub skipped: Vec<String>,
}

impl TracesFile {
    /// The finished traces, in file order (failed items left out).
    pub fn finished(self) -> Vec<Trace> {
        self.lines
            .into_iter()
            .filter_map(|line| match line {
                TraceLine::Done(trace) => Some(*trace),
                TraceLine::Failed(_) => None,
            })
            .collect()
    }
}

/// Reads a traces file. A wrong schema version is an error (the whole file comes from another
/// auscult); other bad lines are skipped and listed.
pub fn read_traces(path: &Path) -> Result<TracesFile> {
    let text = super::read_trace_text(path)?;
    let mut file = TracesFile::default();
    let ends_cleanly = text.ends_with('\n') || text.is_empty();
    let lines: Vec<&str> = text.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        match TraceLine::parse(line) {
            Ok(Some(parsed)) => file.lines.push(parsed),
            Ok(None) => {}
            Err(reason) if reason.starts_with("trace schema") => {
                bail!("{}:{}: {reason}", path.display(), index + 1)
            }
            Err(reason) => {
                let truncated = index + 1 == lines.len() && !ends_cleanly;
                let reason = if truncated {
                    "truncated last line (a run stopped while writing it)".to_owned()
                } else {
                    reason
                };
                file.skipped.push(format!(
                    "{}:{}: {reason}; skipped",
                    path.display(),
                    index + 1
                ));
            }
        }
    }
    Ok(file)
}

/// A traces file's lines as they are, each with its trace when it holds a finished one: for
/// rewriting some traces while keeping every other line (failed items, lines this auscult cannot
/// read) byte for byte.
#[derive(Debug)]
pub struct RawTraces {
    pub lines: Vec<(String, Option<Trace>)>,
    ends_with_newline: bool,
    /// The file's length when read: a rewrite refuses a file that grew meanwhile (a batch still
    /// appending to it).
    length: u64,
}

impl RawTraces {
    pub fn read(path: &Path) -> Result<Self> {
        let text = super::read_trace_text(path)?;
        // Split at '\n' only: a line keeps its '\r' (a file written on Windows), so an untouched
        // line is written back byte for byte.
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let lines = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n')
                .map(|line| {
                    let trace = match TraceLine::parse(line.trim_end_matches('\r')) {
                        Ok(Some(TraceLine::Done(trace))) => Some(*trace),
                        _ => None,
                    };
                    (line.to_owned(), trace)
                })
                .collect()
        };
        Ok(Self {
            lines,
            ends_with_newline: text.ends_with('\n'),
            length: text.len() as u64,
        })
    }

    /// Replaces line `index` by `trace`.
    pub fn replace(&mut self, index: usize, trace: Trace) -> Result<()> {
        let text = serde_json::to_string(&trace)?;
        self.lines[index] = (text, Some(trace));
        Ok(())
    }

    /// Writes the lines back, whole or not at all after a crash (`durable::write`).
    pub fn write(&mut self, path: &Path) -> Result<()> {
        let now = std::fs::metadata(path).map(|m| m.len()).ok();
        if now != Some(self.length) {
            bail!(
                "{}: changed while auscult was updating it (is a batch still writing it?); \
                 nothing was written: run again when it has finished",
                path.display()
            );
        }
        let mut text = self
            .lines
            .iter()
            .map(|(line, _)| line.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if self.ends_with_newline {
            text.push('\n');
        }
        crate::durable::write(path, text.as_bytes())?;
        self.length = text.len() as u64;
        Ok(())
    }
}

/// Appends `line` to an open traces file and makes it durable before returning.
pub fn append_line(file: &mut std::fs::File, line: &TraceLine) -> Result<()> {
    crate::jsonl::append_durably(file, &line.to_json()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn failed(id: &str) -> TraceLine {
        TraceLine::Failed(Box::new(FailedItem {
            schema: TRACE_SCHEMA.into(),
            id: id.into(),
            created: "2026-11-26T00:00:00Z".into(),
            benchmark: None,
            audio_path: Some("x.wav".into()),
            error: "x.wav: no such file".into(),
        }))
    }

    #[test]
    fn lines_round_trip_and_bad_lines_are_skipped_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut file = std::fs::File::create(&path).unwrap();
        append_line(&mut file, &failed("a")).unwrap();
        file.write_all(b"{not json}\n").unwrap();
        append_line(&mut file, &failed("b")).unwrap();
        file.write_all(b"{\"schema\": \"auscult.trace/1\", \"id\": \"c\", \"err")
            .unwrap();
        drop(file);
        let read = read_traces(&path).unwrap();
        assert_eq!(read.lines, vec![failed("a"), failed("b")]);
        assert_eq!(read.skipped.len(), 2);
        assert!(
            read.skipped[0].contains("t.jsonl:2: not JSON"),
            "{:?}",
            read.skipped
        );
        assert!(
            read.skipped[1].contains("t.jsonl:4: truncated last line"),
            "{:?}",
            read.skipped
        );
    }

    /// Rewriting one trace keeps every other line as it was, and a file that grew meanwhile is
    /// not overwritten.
    #[test]
    fn a_rewrite_keeps_other_lines_and_refuses_a_grown_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut file = std::fs::File::create(&path).unwrap();
        append_line(&mut file, &failed("a")).unwrap();
        file.write_all(b"{not json}\n").unwrap();
        drop(file);
        let before = std::fs::read_to_string(&path).unwrap();
        let mut raw = RawTraces::read(&path).unwrap();
        assert_eq!(raw.lines.len(), 2);
        // A file with Windows line ends comes back as it was.
        let crlf = dir.path().join("crlf.jsonl");
        let windows = before.replace('\n', "\r\n");
        std::fs::write(&crlf, &windows).unwrap();
        RawTraces::read(&crlf).unwrap().write(&crlf).unwrap();
        assert_eq!(std::fs::read_to_string(&crlf).unwrap(), windows);
        assert!(raw.lines.iter().all(|(_, trace)| trace.is_none()));
        raw.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);

        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        append_line(&mut file, &failed("b")).unwrap();
        let error = raw.write(&path).unwrap_err().to_string();
        assert!(error.contains("changed while"), "{error}");
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"b\""));
    }

    #[test]
    fn another_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "{\"schema\": \"auscult.trace/9\", \"id\": \"a\"}\n").unwrap();
        let error = read_traces(&path).unwrap_err().to_string();
        assert!(
            error.contains("t.jsonl:1") && error.contains("auscult.trace/9"),
            "{error}"
        );
    }
}
