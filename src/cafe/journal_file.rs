//! The journal on disk: `<traces stem>.<annotator>.labels.jsonl` beside the traces file, one
//! JSON line per action (`journal`), only ever appended to.
//!
//! Durability: each entry is written in one `write` and `fsync`ed (`sync_data`) before `append`
//! returns, and the folder is `fsync`ed when the file is created, so an action the inspector
//! shows as saved survives a killed process, a closed SSH session or a power cut.
//!
//! Only whole lines count: a last line without its newline was never saved (its `fsync` never
//! returned), so replay reports it and leaves it out, even where its bytes happen to parse. Before
//! the next entry is written such a tail is moved out of the journal, to `<journal>.cut-off`, so
//! it can never turn into a whole line; a failed write (a full disk) is cut away the same way and
//! the action is not applied. Whole lines are never rewritten. If the data reached the file but
//! its `fsync` failed, the entry stands (replay will read it) and the caller is told the disk did
//! not confirm it.
//!
//! A session takes an advisory lock (`flock`) on its journal; a second session on the same journal
//! gets its labels read-only, with a warning, rather than two sessions appending interleaved.

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
    /// Bytes of whole lines; any after them are a cut-off line.
    pub whole_len: u64,
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
    let whole_len = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let cut_off = whole_len < bytes.len();
    let mut labels = AnnotatorLabels::new(annotator.unwrap_or(""));
    let mut named = annotator.is_some();
    let mut warnings = Vec::new();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for (index, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = format!("{}:{}", path.display(), index + 1);
        if cut_off && index + 1 == lines.len() {
            warnings.push(format!(
                "{at}: cut off (a session ended while writing it, so it was never saved); the lines before it are kept"
            ));
            continue;
        }
        let parsed = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<JournalEntry>(text).map_err(|e| e.to_string()));
        let entry = match parsed {
            Ok(entry) => entry,
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
        whole_len: whole_len as u64,
    })
}

/// Appends entries to one annotator's journal.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: File,
    annotator: String,
    next_seq: u64,
    /// Bytes of whole lines: where the next entry goes. Anything after it was never saved.
    whole_len: u64,
}

/// An entry written, and whether the disk confirmed it.
#[derive(Debug)]
pub struct Saved {
    pub entry: JournalEntry,
    /// Why the `fsync` failed, when it did (the entry is in the file all the same).
    pub unconfirmed: Option<String>,
}

/// A journal opened for labelling: its writer (none when another session holds it), its labels
/// so far, and what to warn about.
#[derive(Debug)]
pub struct OpenedJournal {
    pub writer: Option<JournalWriter>,
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
    if !existed {
        if let Err(e) = sync_folder(path) {
            warnings.push(format!(
                "{}: cannot sync the folder ({e:#}): a power cut could lose the new journal's name",
                path.display()
            ));
        }
    }
    let mut writable = true;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            writable = false;
            warnings.push(format!(
                "{} is open in another auscult session: labelling is off here (your labels are shown)",
                path.display()
            ));
        }
        Err(TryLockError::Error(e)) => warnings.push(format!(
            "{}: cannot lock ({e}); a second session on it would not be noticed",
            path.display()
        )),
    }
    let read = read_journal(path, Some(annotator))?;
    warnings.extend(read.warnings);
    Ok(OpenedJournal {
        writer: writable.then(|| JournalWriter {
            path: path.to_path_buf(),
            file,
            annotator: annotator.to_owned(),
            next_seq: read.labels.next_seq(),
            whole_len: read.whole_len,
        }),
        labels: read.labels,
        warnings,
    })
}

/// Syncs the folder holding `path`, so a file created in it keeps its name after a power cut.
fn sync_folder(path: &Path) -> Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("{}: cannot sync", folder.display()))
}

impl JournalWriter {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one entry and syncs it to disk; returns it once it is there. On failure nothing
    /// of it stays in the journal and the error says so.
    pub fn append(&mut self, trace: &str, op: LabelOp) -> Result<Saved> {
        let entry = JournalEntry {
            seq: self.next_seq,
            time: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            annotator: self.annotator.clone(),
            trace: trace.to_owned(),
            op,
        };
        let line = serde_json::to_string(&entry)? + "\n";
        self.cut_unsaved_tail()?;
        if let Err(e) = self.file.write_all(line.as_bytes()) {
            // Whatever part of it reached the file was never saved.
            let _ = self.file.set_len(self.whole_len);
            return Err(e).with_context(|| format!("{}: cannot save", self.path.display()));
        }
        self.whole_len += line.len() as u64;
        self.next_seq += 1;
        let unconfirmed = self
            .file
            .sync_data()
            .err()
            .map(|e| format!("{}: fsync failed: {e}", self.path.display()));
        Ok(Saved { entry, unconfirmed })
    }

    /// Moves bytes after the last whole line (a cut-off line, the rest of a failed write) to
    /// `<journal>.cut-off`, so they can never become a line of the journal.
    fn cut_unsaved_tail(&mut self) -> Result<()> {
        let cannot = || format!("{}: cannot save", self.path.display());
        let len = self.file.metadata().with_context(cannot)?.len();
        if len <= self.whole_len {
            return Ok(());
        }
        let mut tail = Vec::new();
        let mut reader = File::open(&self.path).with_context(cannot)?;
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(self.whole_len))
            .with_context(cannot)?;
        reader.read_to_end(&mut tail).with_context(cannot)?;
        let mut aside_name = self.path.file_name().unwrap_or_default().to_owned();
        aside_name.push(".cut-off");
        let aside = self.path.with_file_name(aside_name);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&aside)
            .and_then(|mut f| {
                f.write_all(&tail)?;
                f.write_all(b"\n")?;
                f.sync_data()
            })
            .with_context(|| format!("{}: cannot keep the cut-off line", aside.display()))?;
        self.file.set_len(self.whole_len).with_context(cannot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::CafeLabel;

    fn writer(opened: &mut OpenedJournal) -> &mut JournalWriter {
        opened.writer.as_mut().expect("the journal is writable")
    }

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
            let first = writer(&mut opened)
                .append("t", label(0, CafeLabel::Matched))
                .unwrap()
                .entry;
            assert_eq!(first.seq, 1);
            writer(&mut opened)
                .append("t", LabelOp::Undo { target: 1 })
                .unwrap();
        }
        let mut opened = open_journal(&path, "ann").unwrap();
        assert!(opened.labels.labels_of("t").steps.is_empty());
        assert_eq!(opened.labels.redo_target().unwrap().seq, 1);
        let third = writer(&mut opened)
            .append("t", LabelOp::Redo { target: 1 })
            .unwrap();
        assert_eq!(third.entry.seq, 3);
        assert!(third.unconfirmed.is_none());
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
    fn a_cut_off_last_line_is_reported_left_out_and_moved_aside_before_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "ann").unwrap();
            writer(&mut opened)
                .append("t", label(0, CafeLabel::Misused))
                .unwrap();
        }
        let whole = std::fs::read(&path).unwrap();
        // A second entry whole but for its newline: its fsync never returned, so it was never
        // shown as saved, and replay must not take it even though it parses.
        let tail = std::str::from_utf8(&whole[..whole.len() - 1])
            .unwrap()
            .replacen("\"seq\":1", "\"seq\":2", 1);
        let unsaved = String::from_utf8(whole.clone()).unwrap() + &tail;
        std::fs::write(&path, &unsaved).unwrap();

        let mut opened = open_journal(&path, "ann").unwrap();
        assert_eq!(opened.warnings.len(), 1, "{:?}", opened.warnings);
        assert!(opened.warnings[0].contains(":2: cut off"));
        assert_eq!(opened.labels.next_seq(), 2);
        let saved = writer(&mut opened)
            .append("t", label(1, CafeLabel::Neutral))
            .unwrap();
        assert_eq!(saved.entry.seq, 2);
        drop(opened);
        // The whole lines stay as they were; the cut-off bytes went aside, never to become a
        // line of the journal.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.as_bytes().starts_with(&whole));
        assert_eq!(text.lines().count(), 2);
        let aside =
            std::fs::read_to_string(dir.path().join("run.ann.labels.jsonl.cut-off")).unwrap();
        assert_eq!(aside.trim_end(), &unsaved[whole.len()..]);
        let read = read_journal(&path, Some("ann")).unwrap();
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let steps: Vec<usize> = read
            .labels
            .labels_of("t")
            .steps
            .iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(steps, [0, 1]);
    }

    #[test]
    fn a_corrupt_line_in_the_middle_is_reported_by_number_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "ann").unwrap();
            for step in 0..3 {
                writer(&mut opened)
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
    fn a_second_session_on_the_same_journal_is_warned_and_gets_no_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        let first = open_journal(&path, "ann").unwrap();
        assert!(first.warnings.is_empty() && first.writer.is_some());
        let second = open_journal(&path, "ann").unwrap();
        assert!(
            second.warnings[0].contains("open in another auscult session"),
            "{:?}",
            second.warnings
        );
        assert!(second.writer.is_none());
        drop(first);
        drop(second);
        assert!(open_journal(&path, "ann").unwrap().writer.is_some());
    }

    #[test]
    fn another_annotators_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ann.labels.jsonl");
        {
            let mut opened = open_journal(&path, "bob").unwrap();
            writer(&mut opened)
                .append("t", label(0, CafeLabel::Matched))
                .unwrap();
        }
        let read = read_journal(&path, Some("ann")).unwrap();
        assert!(read.warnings[0].contains("an entry of \"bob\""));
        assert!(read.labels.traces().is_empty());
    }
}
