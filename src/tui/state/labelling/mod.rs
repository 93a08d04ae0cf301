//! Labelling by keyboard: the annotator's session over a traces file. Its parts: the claims of a
//! step and the label keys that act on them (`claims`), text typed on the status line (`entry`),
//! and the progress count (`progress`); this file holds the session, the journal's round trip,
//! and undo and redo.
//!
//! The state never writes: a label action comes back as `Effect::Record`, the caller appends it
//! to the journal (and syncs it), and only then hands the saved entry to `on_recorded`, which
//! applies it. So what the screen shows as saved is what the journal holds.

mod claims;
mod entry;
mod progress;

use super::{Action, Effect, Inspector};
use crate::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
use crate::trace::{CafeLabel, TraceLabels};
pub use claims::ShownClaim;
pub use entry::{EntryKey, EntryPurpose, TextEntry};

/// The annotator's session.
#[derive(Debug, Clone)]
pub struct Labelling {
    pub annotator: String,
    /// The annotator's journal, replayed.
    pub mine: AnnotatorLabels,
    /// Each example's labels from every other source (its own, judges', other annotators').
    base: Vec<Option<TraceLabels>>,
    /// Which of the current step's claims the label keys act on.
    pub claim: usize,
    /// A claim typed in and not labelled yet: example, step, event.
    pub pending: Option<(usize, usize, String)>,
    /// The last entry saved in this session.
    pub last_saved: Option<u64>,
    /// Steps every claim of which this annotator labelled, and all steps.
    pub progress: (usize, usize),
    /// Those steps, per example (so a label recounts only its own example).
    done: Vec<usize>,
    /// Why the label keys only show (another session holds the journal, or it cannot be opened).
    pub read_only: Option<String>,
}

impl Labelling {
    pub fn new(annotator: &str, mine: AnnotatorLabels) -> Self {
        Self {
            annotator: annotator.to_owned(),
            mine,
            base: Vec::new(),
            claim: 0,
            pending: None,
            last_saved: None,
            progress: (0, 0),
            done: Vec::new(),
            read_only: None,
        }
    }
}

impl Inspector {
    /// Starts labelling as `labelling.annotator`: the journal's labels join every example's.
    pub fn start_labelling(&mut self, mut labelling: Labelling) {
        labelling.base = self
            .examples
            .iter()
            .map(|e| e.trace.labels.clone())
            .collect();
        // Only the examples the annotator labelled change (each merge reads the whole journal).
        let labelled: Vec<usize> = {
            let traces = labelling.mine.traces();
            (0..self.examples.len())
                .filter(|&i| traces.contains(self.examples[i].trace.id.as_str()))
                .collect()
        };
        self.labelling = Some(labelling);
        for index in labelled {
            self.merge_labels(index);
        }
        self.count_progress();
    }

    /// An example's labels: its base labels and this annotator's.
    fn merge_labels(&mut self, index: usize) {
        let Some(labelling) = &self.labelling else {
            return;
        };
        let trace = &self.examples[index].trace;
        let mine = labelling.mine.labels_of(&trace.id);
        let mut labels = labelling.base.get(index).cloned().flatten();
        if !mine.is_empty() {
            labels.get_or_insert_with(TraceLabels::default).extend(mine);
        }
        self.examples[index].trace.labels = labels;
    }

    /// A labelling key.
    pub(super) fn labelling_action(&mut self, action: Action) -> Effect {
        match action {
            Action::LabelMatched => return self.label_claim(Some(CafeLabel::Matched)),
            Action::LabelHallucinated => return self.label_claim(Some(CafeLabel::Hallucinated)),
            Action::LabelMisused => return self.label_claim(Some(CafeLabel::Misused)),
            Action::LabelNeutral => return self.label_claim(Some(CafeLabel::Neutral)),
            Action::ClearLabel => return self.label_claim(None),
            Action::NextClaim => self.next_claim(),
            Action::AddClaim => self.begin_entry(EntryPurpose::Claim),
            Action::Note => self.begin_entry(EntryPurpose::Note),
            Action::AddMissed => self.begin_entry(EntryPurpose::Missed),
            Action::Undo => return self.undo_or_redo(false),
            Action::Redo => return self.undo_or_redo(true),
            Action::NextUnlabelled => self.next_unlabelled(),
            _ => {}
        }
        Effect::None
    }

    /// Why labelling cannot act now, if it cannot.
    fn cannot_label(&self) -> Option<String> {
        if self.live.is_some() {
            Some("a live run is not a trace file: save it (s), then label it with inspect".into())
        } else if self.labelling.is_none() {
            Some(
                "to label, give your name: --annotator NAME, or \"annotator\" in the config".into(),
            )
        } else if let Some(reason) = self.labelling.as_ref().and_then(|l| l.read_only.clone()) {
            Some(reason)
        } else if self.example().is_none_or(|e| e.trace.steps.is_empty()) {
            Some("this example has no steps to label".into())
        } else {
            None
        }
    }

    /// `op` on the current example, for the journal.
    fn record(&self, op: LabelOp) -> Effect {
        Effect::Record {
            trace: self.examples[self.current].trace.id.clone(),
            op,
        }
    }

    /// Undo (`redo` false) or redo this annotator's last action, wherever it was.
    fn undo_or_redo(&mut self, redo: bool) -> Effect {
        let Some(labelling) = self.labelling.as_ref().filter(|l| l.read_only.is_none()) else {
            self.message = self.cannot_label();
            return Effect::None;
        };
        let target = if redo {
            labelling.mine.redo_target()
        } else {
            labelling.mine.undo_target()
        };
        let Some(target) = target.cloned() else {
            self.message = Some(
                if redo {
                    "nothing to redo"
                } else {
                    "nothing to undo"
                }
                .into(),
            );
            return Effect::None;
        };
        // Show where it happens.
        if let Some(index) = self
            .examples
            .iter()
            .position(|e| e.trace.id == target.trace)
        {
            self.select_example(index);
            if let LabelOp::Label { step, .. }
            | LabelOp::Clear { step, .. }
            | LabelOp::Note { step, .. } = target.op
            {
                // A journal may name a step the trace no longer has.
                self.step = step.min(self.steps().saturating_sub(1));
            }
        }
        let op = if redo {
            LabelOp::Redo { target: target.seq }
        } else {
            LabelOp::Undo { target: target.seq }
        };
        Effect::Record {
            trace: target.trace,
            op,
        }
    }

    /// The entry just saved reached the file but the disk did not confirm it (`fsync` failed).
    pub fn on_unconfirmed(&mut self, reason: &str) {
        let seq = self.labelling.as_ref().and_then(|l| l.last_saved);
        self.message = Some(format!(
            "written #{} but NOT CONFIRMED on disk: {reason}",
            seq.unwrap_or_default()
        ));
    }

    /// What became of `Effect::Record`: the entry as saved (now applied), or why it was not.
    pub fn on_recorded(&mut self, outcome: Result<JournalEntry, String>) {
        let entry = match outcome {
            Ok(entry) => entry,
            Err(reason) => {
                self.message = Some(format!("NOT SAVED, nothing changed: {reason}"));
                return;
            }
        };
        let Some(labelling) = &mut self.labelling else {
            return;
        };
        let (seq, trace, what) = (entry.seq, entry.trace.clone(), entry.op.describe());
        if let LabelOp::Label { step, event, .. } = &entry.op {
            let example = self.examples.get(self.current).map(|e| &e.trace.id);
            if example == Some(&entry.trace)
                && labelling
                    .pending
                    .as_ref()
                    .is_some_and(|(at, s, e)| *at == self.current && s == step && e == event)
            {
                labelling.pending = None;
            }
        }
        if let Err(reason) = labelling.mine.apply(entry) {
            self.message = Some(format!("saved #{seq} but not applied: {reason}"));
            return;
        }
        labelling.last_saved = Some(seq);
        for index in 0..self.examples.len() {
            if self.examples[index].trace.id == trace {
                self.merge_labels(index);
                self.recount(index);
            }
        }
        self.message = Some(format!("saved #{seq} · {what}"));
    }
}
