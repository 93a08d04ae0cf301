//! Text typed on the status line while labelling: a note on the selected claim, a claim the step
//! makes that no source listed, a ground-truth event no step mentions. Typing stays tied to the
//! example, step and claim shown when it began; committing it records a journal action (a typed
//! claim first waits, as a placeholder, for its label).

use super::super::{Effect, Inspector};
use crate::cafe::journal::LabelOp;

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

impl Inspector {
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
}
