//! The journal on disk: `<traces stem>.<annotator>.labels.jsonl` beside the traces file, one
//! JSON line per action (`journal`), only ever appended to.
//!
//! Durability: each entry is written in one `write` and `fsync`ed (`sync_data`) before `append`
//! returns, and the folder is `fsync`ed once after the file is created, so an action the
//! inspector shows as saved survives a killed process, a closed SSH session or a power cut. A
//! failed write (a full disk) is reported and the action is not applied; whatever part of it
//! reached the file is closed off by a newline before the next entry, and replay skips it.
//! Existing lines are never rewritten: a cut-off last line found on opening stays, reported,
//! and the next entry starts on a new line after it.
//!
//! A session takes an advisory lock (`flock`) on its journal; a second session on the same
//! journal gets a warning (both would append, interleaved), not a refusal.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::journal::{AnnotatorLabels, JournalEntry, LabelOp};

/// The journal of `annotator` for the traces file `traces`.
pub fn journal_path(traces: &Path, annotator: &str) -> PathBuf {
    let stem = traces.file_stem().unwrap_or_default().to_string_lossy();
    traces.with_file_name(format!("{stem}.{annotator}.labels.jsonl"))
}

/// Every annotator's journal beside the traces file, sorted by name.
pub fn journals_beside(traces: &Path) -> Vec<PathBuf> {
    let stem = traces.file_stem().unwrap_or_default().to_string_lossy();
    let prefix = format!("{stem}.");
    let folder = match traces.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(&prefix))
                .and_then(|rest| rest.strip_suffix(".labels.jsonl"))
                .is_some_and(|annotator| super::journal::check_annotator(annotator).is_ok())
        })
        .collect();
    journals.sort();
    journals
}

/// A journal read back: the labels its entries give, and what could not be read (by line).
#[derive(Debug)]
pub struct ReadJournal {
    pub labels: AnnotatorLabels,
    pub warnings: Vec<String>,
    /// The file ends in the middle of a line.
    pub cut_off: bool,
}

/// Replays a journal. `annotator` is whose it is (`None`: the first entry's annotator); lines of
/// another annotator, lines that are not entries, and an undo naming nothing are reported by
/// line number and skipped, the rest kept. A missing file is an empty journal.
pub fn read_journal(path: &Path, annotator: Option<&str>) -> Result<ReadJournal> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes)
                .with_context(|| format!("{}: cannot read", path.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    }
    let cut_off = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let mut labels = AnnotatorLabels::new(annotator.unwrap_or(""));
    let mut named = annotator.is_some();
    let mut warnings = Vec::new();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for (index, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = format!("{}:{}", path.display(), index + 1);
        let parsed = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<JournalEntry>(text).map_err(|e| e.to_string()));
        let entry = match parsed {
            Ok(entry) => entry,
            Err(_) if cut_off && index + 1 == lines.len() => {
                warnings.push(format!(
                    "{at}: cut off (a session ended while writing it); the lines before it are kept"
                ));
                continue;
            }
            Err(reason) => {
                warnings.push(format!(
                    "{at}: not a journal entry ({reason}); skipped, the rest kept"
                ));
                continue;
            }
        };
        if !named {
            labels.annotator = entry.annotator.clone();
            named = true;
        }
        if entry.annotator != labels.annotator {
            warnings.push(format!(
                "{at}: an entry of {:?} in {:?}'s journal; skipped",
                entry.annotator, labels.annotator
            ));
            continue;
        }
        let seq = entry.seq;
        if let Err(reason) = labels.apply(entry) {
            warnings.push(format!("{at}: entry #{seq} {reason}; skipped"));
        }
    }
    Ok(ReadJournal {
        labels,
        warnings,
        cut_off,
    })
}

/// Appends entries to one annotator's journal.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: File,
    annotator: String,
    next_seq: u64,
    /// The file may end in the middle of a line (cut off, or a failed write).
    needs_newline: bool,
    /// The folder still has to be synced so the new file's name is durable.
    folder_unsynced: bool,
}

/// A journal opened for labelling: its writer, its labels so far, and what to warn about.
#[derive(Debug)]
pub struct OpenedJournal {
    pub writer: JournalWriter,
    pub labels: AnnotatorLabels,
    pub warnings: Vec<String>,
}

/// Opens (or creates) `annotator`'s journal at `path` and replays it.
pub fn open_journal(path: &Path, annotator: &str) -> Result<OpenedJournal> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open the label journal", path.display()))?;
    let mut warnings = Vec::new();
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => warnings.push(format!(
            "{} is open in another auscult session: labels from both will be interleaved in it",
            path.display()
        )),
        Err(TryLockError::Error(e)) => warnings.push(format!(
            "{}: cannot lock ({e}); a second session on it would not be noticed",
            path.display()
        )),
    }
    let read = read_journal(path, Some(annotator))?;
    warnings.extend(read.warnings);
    Ok(OpenedJournal {
        writer: JournalWriter {
            path: path.to_path_buf(),
            file,
            annotator: annotator.to_owned(),
            next_seq: read.labels.next_seq(),
            needs_newline: read.cut_off,
            folder_unsynced: !existed,
        },
        labels: read.labels,
        warnings,
    })
}

impl JournalWriter {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one entry and syncs it to disk; returns it once it is there. On failure nothing
    /// is applied anywhere and the error says so.
    pub fn append(&mut self, trace: &str, op: LabelOp) -> Result<JournalEntry> {
        let entry = JournalEntry {
            seq: self.next_seq,
            time: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            annotator: self.annotator.clone(),
            trace: trace.to_owned(),
            op,
        };
        let mut line = String::new();
        if self.needs_newline {
            line.push('\n');
        }
        line.push_str(&serde_json::to_string(&entry)?);
        line.push('\n');
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.needs_newline = true;
            return Err(e).with_context(|| format!("{}: cannot save", self.path.display()));
        }
        self.needs_newline = false;
        self.next_seq += 1;
        if self.folder_unsynced {
            let folder = match self.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(folder)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("{}: cannot sync the folder", folder.display()))?;
            self.folder_unsynced = false;
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cafe::CafeLabel;

    fn label(step: usize, label: CafeLabel) -> LabelOp {
        LabelOp::Label {
            step,
            event: "tone".into(),
            label,
        }
    }

    #[test]
    fn entries_survive_reopening_and_seq_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir.path().join("run.jsonl"), "ann");
        assert_eq!(path.file_name().unwrap(), "run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "ann").unwrap();
            assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
            let first = opened
                .writer
                .append("t", label(0, CafeLabel::Matched))
                .unwrap();
            assert_eq!(first.seq, 1);
            opened
                .writer
                .append("t", LabelOp::Undo { target: 1 })
                .unwrap();
        }
        let mut opened = open_journal(&path, "ann").unwrap();
        assert!(opened.labels.labels_of("t").steps.is_empty());
        assert_eq!(opened.labels.redo_target().unwrap().seq, 1);
        let third = opened
            .writer
            .append("t", LabelOp::Redo { target: 1 })
            .unwrap();
        assert_eq!(third.seq, 3);
        drop(opened);
        let read = read_journal(&path, None).unwrap();
        assert_eq!(read.labels.annotator, "ann");
        assert_eq!(
            read.labels.labels_of("t").steps[0].label,
            CafeLabel::Matched
        );
        assert_eq!(
            journals_beside(&dir.path().join("run.jsonl")),
            vec![path.clone()]
        );
    }

    #[test]
    fn a_cut_off_last_line_is_reported_kept_and_closed_off_before_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "ann").unwrap();
            opened
                .writer
                .append("t", label(0, CafeLabel::Misused))
                .unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.clone();
        bytes.extend_from_slice(&whole[..whole.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();

        let mut opened = open_journal(&path, "ann").unwrap();
        assert_eq!(opened.warnings.len(), 1, "{:?}", opened.warnings);
        assert!(opened.warnings[0].contains(":2: cut off"));
        assert_eq!(opened.labels.labels_of("t").steps.len(), 1);
        opened
            .writer
            .append("t", label(1, CafeLabel::Neutral))
            .unwrap();
        drop(opened);
        // The cut-off bytes stay where they were; the new entry is a line of its own.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(std::str::from_utf8(&bytes).unwrap()));
        let read = read_journal(&path, Some("ann")).unwrap();
        assert_eq!(read.labels.labels_of("t").steps.len(), 2);
        assert_eq!(read.warnings.len(), 1);
        assert!(read.warnings[0].contains(":2: not a journal entry"));
    }

    #[test]
    fn a_corrupt_line_in_the_middle_is_reported_by_number_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "ann").unwrap();
            for step in 0..3 {
                opened
                    .writer
                    .append("t", label(step, CafeLabel::Matched))
                    .unwrap();
            }
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = "{\"seq\": 2, garbage";
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let read = read_journal(&path, Some("ann")).unwrap();
        assert_eq!(read.warnings.len(), 1);
        assert!(read.warnings[0].contains("run.ann.labels.jsonl:2: not a journal entry"));
        let steps: Vec<usize> = read
            .labels
            .labels_of("t")
            .steps
            .iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(steps, [0, 2]);
    }

    #[test]
    fn a_second_session_on_the_same_journal_is_warned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        let first = open_journal(&path, "ann").unwrap();
        assert!(first.warnings.is_empty());
        let second = open_journal(&path, "ann").unwrap();
        assert!(
            second.warnings[0].contains("open in another auscult session"),
            "{:?}",
            second.warnings
        );
        drop(first);
        drop(second);
        assert!(open_journal(&path, "ann").unwrap().warnings.is_empty());
    }

    #[test]
    fn another_annotators_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "bob").unwrap();
            opened
                .writer
                .append("t", label(0, CafeLabel::Matched))
                .unwrap();
        }
        let read = read_journal(&path, Some("ann")).unwrap();
        assert!(read.warnings[0].contains("an entry of \"bob\""));
        assert!(read.labels.traces().is_empty());
    }
}
