//! Labelling by keyboard: the annotator's cursor over a step's claims, the label keys, notes,
//! claims and missed events typed in, undo and redo, the jump to the next unlabelled step and the
//! progress count over the traces file.
//!
//! The state never writes: a label action comes back as `Effect::Record`, the caller appends it
//! to the journal (and syncs it), and only then hands the saved entry to `on_recorded`, which
//! applies it. So what the screen shows as saved is what the journal holds.

use super::{Effect, Inspector};
use crate::cafe::claims_of_step;
use crate::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
use crate::trace::{CafeLabel, StepLabel, TraceLabels};

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

/// What typed text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPurpose {
    /// A note on the selected claim.
    Note,
    /// A claim the step makes that no source listed.
    Claim,
    /// A ground-truth event no step mentions (typing one already there takes it back).
    Missed,
}

/// Text being typed on the status line, and where it goes: the example and step shown, and the
/// claim selected, when typing began (a click while typing does not move it).
#[derive(Debug, Clone, PartialEq)]
pub struct TextEntry {
    pub purpose: EntryPurpose,
    pub text: String,
    pub example: usize,
    pub step: usize,
    pub event: Option<String>,
}

/// A key typed into a text entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKey {
    Char(char),
    Backspace,
    Commit,
    Cancel,
}

/// One claim of the current step as the step panel lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownClaim {
    pub event: String,
    /// The label that counts, if any source gave one.
    pub winner: Option<StepLabel>,
    /// The other sources' labels.
    pub others: Vec<StepLabel>,
    /// This annotator's label.
    pub mine: Option<CafeLabel>,
    /// Not a listed claim: the whole step (when nobody listed one) or a claim typed in.
    pub placeholder: bool,
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
        labelling.done = vec![0; self.examples.len()];
        self.labelling = Some(labelling);
        for index in 0..self.examples.len() {
            self.merge_labels(index);
            self.recount(index);
        }
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

    /// The claims of step `step` of example `index`, as labelling shows them.
    pub fn claims_at(&self, index: usize, step: usize) -> Vec<ShownClaim> {
        let Some(example) = self.examples.get(index) else {
            return Vec::new();
        };
        let source = self.labelling.as_ref().map(|l| l.mine.source());
        let mut shown: Vec<ShownClaim> = example
            .trace
            .labels
            .as_ref()
            .map(|labels| {
                claims_of_step(labels, step)
                    .into_iter()
                    .map(|claim| {
                        let winner = claim.winner();
                        ShownClaim {
                            event: claim.event.to_owned(),
                            winner: Some(winner.clone()),
                            others: claim
                                .labels
                                .iter()
                                .filter(|l| !std::ptr::eq(**l, winner))
                                .map(|l| (*l).clone())
                                .collect(),
                            mine: source.as_ref().and_then(|s| claim.by(s)).map(|l| l.label),
                            placeholder: false,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let placeholder = |event: String| ShownClaim {
            event,
            winner: None,
            others: Vec::new(),
            mine: None,
            placeholder: true,
        };
        if let Some((at, at_step, event)) = self.labelling.as_ref().and_then(|l| l.pending.clone())
        {
            if (at, at_step) == (index, step) && !shown.iter().any(|c| c.event == event) {
                shown.push(placeholder(event));
            }
        }
        if shown.is_empty() && self.labelling.is_some() && step < example.trace.steps.len() {
            shown.push(placeholder(crate::cafe::WHOLE_STEP.to_owned()));
        }
        shown
    }

    /// The current step's claims.
    pub fn current_claims(&self) -> Vec<ShownClaim> {
        self.claims_at(self.current, self.step)
    }

    /// Whether this annotator labelled every claim of the step.
    fn step_done(&self, index: usize, step: usize) -> bool {
        let claims = self.claims_at(index, step);
        !claims.is_empty() && claims.iter().all(|c| c.mine.is_some())
    }

    /// Counts example `index`'s done steps again, and the progress with them.
    fn recount(&mut self, index: usize) {
        let steps = self.examples[index].trace.steps.len();
        let done = (0..steps).filter(|&s| self.step_done(index, s)).count();
        let total = self.examples.iter().map(|e| e.trace.steps.len()).sum();
        if let Some(labelling) = &mut self.labelling {
            labelling.done[index] = done;
            labelling.progress = (labelling.done.iter().sum(), total);
        }
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

    /// The claim under the cursor (kept in range).
    fn selected_claim(&mut self) -> Option<ShownClaim> {
        let claims = self.current_claims();
        let labelling = self.labelling.as_mut()?;
        labelling.claim = labelling.claim.min(claims.len().saturating_sub(1));
        claims.into_iter().nth(labelling.claim)
    }

    fn record(&self, op: LabelOp) -> Effect {
        Effect::Record {
            trace: self.examples[self.current].trace.id.clone(),
            op,
        }
    }

    /// A label key: the selected claim gets `label` (`None`: this annotator's label comes off).
    pub(super) fn label_claim(&mut self, label: Option<CafeLabel>) -> Effect {
        if let Some(reason) = self.cannot_label() {
            self.message = Some(reason);
            return Effect::None;
        }
        let Some(claim) = self.selected_claim() else {
            return Effect::None;
        };
        let (step, event) = (self.step, claim.event);
        match label {
            Some(label) => self.record(LabelOp::Label { step, event, label }),
            None if claim.mine.is_some() => self.record(LabelOp::Clear { step, event }),
            None => {
                self.message = Some("you have not labelled this claim".into());
                Effect::None
            }
        }
    }

    /// Moves the cursor to the step's next claim (round to the first).
    pub(super) fn next_claim(&mut self) {
        let count = self.current_claims().len();
        if let Some(labelling) = &mut self.labelling {
            labelling.claim = if count == 0 {
                0
            } else {
                (labelling.claim + 1) % count
            };
        }
    }

    /// Starts typing a note, a claim or a missed event.
    pub(super) fn begin_entry(&mut self, purpose: EntryPurpose) {
        if let Some(reason) = self.cannot_label() {
            self.message = Some(reason);
            return;
        }
        let mut text = String::new();
        let mut event = None;
        if purpose == EntryPurpose::Note {
            let Some(claim) = self.selected_claim() else {
                return;
            };
            if claim.mine.is_none() {
                self.message = Some("label the claim first, then note it".into());
                return;
            }
            let source = self.labelling.as_ref().map(|m| m.mine.source());
            text = claim
                .winner
                .iter()
                .chain(&claim.others)
                .find(|l| Some(&l.source) == source.as_ref())
                .and_then(|l| l.note.clone())
                .unwrap_or_default();
            event = Some(claim.event);
        }
        self.typing = Some(TextEntry {
            purpose,
            text,
            example: self.current,
            step: self.step,
            event,
        });
    }

    /// A key typed into the text entry; committing it may record an entry.
    pub fn type_entry(&mut self, key: EntryKey) -> Effect {
        self.message = None;
        let Some(entry) = &mut self.typing else {
            return Effect::None;
        };
        match key {
            EntryKey::Char(c) => entry.text.push(c),
            EntryKey::Backspace => {
                entry.text.pop();
            }
            EntryKey::Cancel => self.typing = None,
            EntryKey::Commit => {
                if let Some(entry) = self.typing.take() {
                    return self.commit_entry(entry);
                }
            }
        }
        Effect::None
    }

    fn commit_entry(&mut self, entry: TextEntry) -> Effect {
        let text = entry.text.trim().to_owned();
        if let Some(reason) = self.cannot_label() {
            self.message = Some(reason);
            return Effect::None;
        }
        // Back to where typing began, should anything have moved.
        if entry.example != self.current || entry.step != self.step {
            self.select_example(entry.example);
            self.step = entry.step;
        }
        match entry.purpose {
            EntryPurpose::Note => {
                let Some(event) = entry.event else {
                    return Effect::None;
                };
                let labelled = self
                    .current_claims()
                    .iter()
                    .any(|c| c.event == event && c.mine.is_some());
                if !labelled {
                    self.message = Some("label the claim first, then note it".into());
                    return Effect::None;
                }
                self.record(LabelOp::Note {
                    step: entry.step,
                    event,
                    note: text,
                })
            }
            EntryPurpose::Claim if text.is_empty() => Effect::None,
            EntryPurpose::Claim => {
                let claims = self.current_claims();
                let Some(labelling) = self.labelling.as_mut() else {
                    return Effect::None;
                };
                match claims
                    .iter()
                    .position(|c| c.event == text && !c.placeholder)
                {
                    Some(at) => labelling.claim = at,
                    None => {
                        labelling.pending = Some((self.current, self.step, text));
                        // The typed claim comes after the listed ones.
                        labelling.claim = claims.iter().filter(|c| !c.placeholder).count();
                    }
                }
                self.message =
                    Some("now label it: 1 matched, 2 hallucinated, 3 misused, 4 neutral".into());
                Effect::None
            }
            EntryPurpose::Missed if text.is_empty() => Effect::None,
            EntryPurpose::Missed => {
                let trace = &self.examples[self.current].trace.id;
                let mine = self.labelling.as_ref().map(|l| l.mine.labels_of(trace));
                if mine.is_some_and(|mine| mine.missed.iter().any(|m| m.event == text)) {
                    self.record(LabelOp::Unmissed { event: text })
                } else {
                    self.record(LabelOp::Missed { event: text })
                }
            }
        }
    }

    /// Undo (`redo` false) or redo this annotator's last action, wherever it was.
    pub(super) fn undo_or_redo(&mut self, redo: bool) -> Effect {
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

    /// Jumps to the next step (in list order, round to the first) with a claim this annotator
    /// has not labelled, and to that claim.
    pub(super) fn next_unlabelled(&mut self) {
        if let Some(reason) = self.cannot_label() {
            self.message = Some(reason);
            return;
        }
        let order = self.visible_examples();
        if order.is_empty() {
            self.message = Some("no example matches the filters".into());
            return;
        }
        // From the step after the current one; from the first shown example when the current
        // one is filtered out.
        let (start, after) = match order.iter().position(|&i| i == self.current) {
            Some(row) => (row, self.step + 1),
            None => (0, 0),
        };
        let mut places = Vec::new();
        for k in 0..=order.len() {
            let index = order[(start + k) % order.len()];
            let steps = self.examples[index].trace.steps.len();
            let from = if k == 0 { after } else { 0 };
            let to = if k == order.len() { after } else { steps };
            places.extend((from..to.min(steps)).map(|s| (index, s)));
        }
        match places.into_iter().find(|&(i, s)| !self.step_done(i, s)) {
            Some((index, step)) => {
                self.select_example(index);
                if let Some(row) = self.visible_examples().iter().position(|&i| i == index) {
                    self.list_cursor = row;
                }
                self.step = step;
                let first = self
                    .current_claims()
                    .iter()
                    .position(|c| c.mine.is_none())
                    .unwrap_or(0);
                if let Some(labelling) = &mut self.labelling {
                    labelling.claim = first;
                }
            }
            None => {
                let name = self.labelling.as_ref().map_or("", |l| l.annotator.as_str());
                self.message = Some(format!("every step is labelled by {name}"));
            }
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
