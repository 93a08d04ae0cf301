//! The annotation journal's entries and their replay.
//!
//! An annotator's labels are never stored as a state that is rewritten: each action (label a
//! claim, clear it, note it, add or drop a missed event, undo, redo) is one JSON line appended to
//! the annotator's journal (`journal_file` writes it), and the labels are what replaying those
//! lines gives. Undo and redo are entries too, naming the entry they undo or redo, so nothing is
//! ever deleted and a journal read back always gives what the annotator last saw.
//!
//! A line: `{"seq": 12, "time": "2026-11-26T22:10:04Z", "annotator": "ann", "trace": "item-7",
//! "op": "label", "step": 3, "event": "dog bark", "label": "misused"}`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::trace::{CafeLabel, LabelSource, MissedEvent, StepLabel, TraceLabels};

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 1, 2, 3… in the order the annotator acted.
    pub seq: u64,
    /// When it was saved (RFC 3339, UTC).
    pub time: String,
    pub annotator: String,
    /// The trace's id.
    pub trace: String,
    #[serde(flatten)]
    pub op: LabelOp,
}

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LabelOp {
    /// Labels one claim of one step (replacing this annotator's earlier label of it).
    Label {
        step: usize,
        event: String,
        label: CafeLabel,
    },
    /// Takes this annotator's label (and note) off a claim.
    Clear { step: usize, event: String },
    /// A free-text note on a claim this annotator labelled (empty: no note).
    Note {
        step: usize,
        event: String,
        note: String,
    },
    /// A ground-truth event no step mentions (trace level).
    Missed { event: String },
    /// Takes a missed event back.
    Unmissed { event: String },
    /// Undoes the entry with this `seq`.
    Undo { target: u64 },
    /// Redoes the entry with this `seq`, undone before.
    Redo { target: u64 },
}

impl LabelOp {
    /// A short description for the status line: "MIS dog bark", "note on dog bark".
    pub fn describe(&self) -> String {
        match self {
            LabelOp::Label { event, label, .. } => {
                format!("{} {}", label.short(), shorten(event))
            }
            LabelOp::Clear { event, .. } => format!("cleared {}", shorten(event)),
            LabelOp::Note { event, note, .. } if note.is_empty() => {
                format!("note removed from {}", shorten(event))
            }
            LabelOp::Note { event, .. } => format!("note on {}", shorten(event)),
            LabelOp::Missed { event } => format!("missed: {}", shorten(event)),
            LabelOp::Unmissed { event } => format!("not missed: {}", shorten(event)),
            LabelOp::Undo { target } => format!("undid #{target}"),
            LabelOp::Redo { target } => format!("redid #{target}"),
        }
    }
}

fn shorten(text: &str) -> String {
    const MOST: usize = 32;
    if text.chars().count() <= MOST {
        text.to_owned()
    } else {
        text.chars().take(MOST - 1).collect::<String>() + "…"
    }
}

/// One annotator's labels: the journal's entries replayed.
#[derive(Debug, Clone, Default)]
pub struct AnnotatorLabels {
    pub annotator: String,
    /// The action entries (not undo or redo), in journal order.
    actions: Vec<JournalEntry>,
    /// Whether each action is in force (false once undone, until redone).
    applied: Vec<bool>,
    /// Actions in force, most recent last: what undo takes back.
    undo_stack: Vec<usize>,
    /// Undone actions, most recently undone last: what redo brings back; a new action empties it.
    redo_stack: Vec<usize>,
    last_seq: u64,
}

impl AnnotatorLabels {
    pub fn new(annotator: &str) -> Self {
        Self {
            annotator: annotator.to_owned(),
            ..Self::default()
        }
    }

    /// The `seq` the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.last_seq + 1
    }

    /// Applies one entry, as read back or just saved. An undo or redo naming no entry it can act
    /// on is refused with the reason (a journal edited by hand), and changes nothing.
    pub fn apply(&mut self, entry: JournalEntry) -> Result<(), String> {
        self.last_seq = self.last_seq.max(entry.seq);
        match entry.op {
            LabelOp::Undo { target } => {
                let index = self.find(target, true)?;
                self.applied[index] = false;
                self.undo_stack.retain(|&i| i != index);
                self.redo_stack.push(index);
            }
            LabelOp::Redo { target } => {
                let index = self.find(target, false)?;
                self.applied[index] = true;
                self.redo_stack.retain(|&i| i != index);
                self.undo_stack.push(index);
            }
            _ => {
                self.actions.push(entry);
                self.applied.push(true);
                self.undo_stack.push(self.actions.len() - 1);
                self.redo_stack.clear();
            }
        }
        Ok(())
    }

    /// The action with `seq`, which must be in force (`applied`) or undone (`!applied`).
    fn find(&self, seq: u64, applied: bool) -> Result<usize, String> {
        let index = self
            .actions
            .iter()
            .rposition(|a| a.seq == seq)
            .ok_or_else(|| format!("names entry #{seq}, which is not an earlier label action"))?;
        if self.applied[index] != applied {
            let state = if applied {
                "already undone"
            } else {
                "in force"
            };
            return Err(format!("names entry #{seq}, which is {state}"));
        }
        Ok(index)
    }

    /// The entry undo would take back.
    pub fn undo_target(&self) -> Option<&JournalEntry> {
        self.undo_stack.last().map(|&i| &self.actions[i])
    }

    /// The entry redo would bring back.
    pub fn redo_target(&self) -> Option<&JournalEntry> {
        self.redo_stack.last().map(|&i| &self.actions[i])
    }

    /// Action entries in force, in journal order.
    fn in_force(&self) -> impl Iterator<Item = &JournalEntry> {
        self.actions
            .iter()
            .zip(&self.applied)
            .filter(|(_, &on)| on)
            .map(|(entry, _)| entry)
    }

    /// The ids of the traces this annotator labelled, each once.
    pub fn traces(&self) -> BTreeSet<&str> {
        self.in_force().map(|e| e.trace.as_str()).collect()
    }

    /// The source this annotator's labels carry: `human:<name>`.
    pub fn source(&self) -> LabelSource {
        LabelSource::human(&self.annotator)
    }

    /// This annotator's labels of one trace, as the replay leaves them.
    pub fn labels_of(&self, trace: &str) -> TraceLabels {
        let mut claims: BTreeMap<(usize, &str), (CafeLabel, Option<&str>)> = BTreeMap::new();
        // Claims in the order they were first labelled, so the view lists them stably.
        let mut order: Vec<(usize, &str)> = Vec::new();
        let mut missed: Vec<&str> = Vec::new();
        for entry in self.in_force().filter(|e| e.trace == trace) {
            match &entry.op {
                LabelOp::Label { step, event, label } => {
                    let key = (*step, event.as_str());
                    let note = claims.get(&key).and_then(|(_, note)| *note);
                    if claims.insert(key, (*label, note)).is_none() {
                        order.push(key);
                    }
                }
                LabelOp::Clear { step, event } => {
                    claims.remove(&(*step, event.as_str()));
                    order.retain(|k| *k != (*step, event.as_str()));
                }
                LabelOp::Note { step, event, note } => {
                    if let Some(claim) = claims.get_mut(&(*step, event.as_str())) {
                        claim.1 = (!note.is_empty()).then_some(note.as_str());
                    }
                }
                LabelOp::Missed { event } => {
                    if !missed.contains(&event.as_str()) {
                        missed.push(event);
                    }
                }
                LabelOp::Unmissed { event } => missed.retain(|m| m != event),
                LabelOp::Undo { .. } | LabelOp::Redo { .. } => {}
            }
        }
        let source = self.source();
        TraceLabels {
            steps: order
                .into_iter()
                .map(|(step, event)| {
                    let (label, note) = claims[&(step, event)];
                    StepLabel {
                        step,
                        event: event.to_owned(),
                        label,
                        source: source.clone(),
                        note: note.map(str::to_owned),
                    }
                })
                .collect(),
            missed: missed
                .into_iter()
                .map(|event| MissedEvent {
                    event: event.to_owned(),
                    source: source.clone(),
                })
                .collect(),
            targets: None,
        }
    }
}

/// Whether `name` can name an annotator: it becomes part of a file name and of the label
/// source, so letters, digits, `_` and `-` only, at most 64 (no `.`: in
/// `<traces>.<annotator>.labels.jsonl` a dot would make another traces file's journal look like
/// this one's).
pub fn check_annotator(name: &str) -> Result<(), String> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if fine {
        Ok(())
    } else {
        Err(format!(
            "annotator name {name:?}: use 1 to 64 letters, digits, '_' or '-' (it names the journal file)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, trace: &str, op: LabelOp) -> JournalEntry {
        JournalEntry {
            seq,
            time: "2026-11-26T00:00:00Z".into(),
            annotator: "ann".into(),
            trace: trace.into(),
            op,
        }
    }

    fn label(step: usize, event: &str, label: CafeLabel) -> LabelOp {
        LabelOp::Label {
            step,
            event: event.into(),
            label,
        }
    }

    fn replay(ops: Vec<LabelOp>) -> AnnotatorLabels {
        let mut labels = AnnotatorLabels::new("ann");
        for (i, op) in ops.into_iter().enumerate() {
            labels.apply(entry(i as u64 + 1, "t", op)).unwrap();
        }
        labels
    }

    fn summary(labels: &TraceLabels) -> Vec<(usize, String, CafeLabel, Option<String>)> {
        labels
            .steps
            .iter()
            .map(|s| (s.step, s.event.clone(), s.label, s.note.clone()))
            .collect()
    }

    #[test]
    fn the_last_label_of_a_claim_wins_and_clear_takes_it_off() {
        use CafeLabel::*;
        let labels = replay(vec![
            label(0, "tone", Matched),
            label(1, "bark", Hallucinated),
            label(0, "tone", Misused),
            LabelOp::Note {
                step: 0,
                event: "tone".into(),
                note: "it is higher".into(),
            },
            LabelOp::Clear {
                step: 1,
                event: "bark".into(),
            },
            LabelOp::Missed {
                event: "noise".into(),
            },
        ])
        .labels_of("t");
        assert_eq!(
            summary(&labels),
            vec![(0, "tone".into(), Misused, Some("it is higher".into()))]
        );
        assert_eq!(labels.steps[0].source, "human:ann");
        assert_eq!(labels.missed.len(), 1);
    }

    #[test]
    fn undo_and_redo_are_entries_that_replay_to_what_was_shown() {
        use CafeLabel::*;
        let mut labels = replay(vec![label(0, "tone", Matched), label(0, "tone", Misused)]);
        assert_eq!(labels.undo_target().unwrap().seq, 2);
        labels
            .apply(entry(3, "t", LabelOp::Undo { target: 2 }))
            .unwrap();
        assert_eq!(summary(&labels.labels_of("t"))[0].2, Matched);
        assert_eq!(labels.undo_target().unwrap().seq, 1);
        assert_eq!(labels.redo_target().unwrap().seq, 2);
        labels
            .apply(entry(4, "t", LabelOp::Undo { target: 1 }))
            .unwrap();
        assert!(labels.labels_of("t").steps.is_empty());
        labels
            .apply(entry(5, "t", LabelOp::Redo { target: 1 }))
            .unwrap();
        assert_eq!(summary(&labels.labels_of("t"))[0].2, Matched);
        // A new action drops what was left to redo.
        labels
            .apply(entry(6, "t", label(2, "sweep", Neutral)))
            .unwrap();
        assert!(labels.redo_target().is_none());
        assert_eq!(labels.next_seq(), 7);
        // Undoing what is not in force is refused and changes nothing.
        let before = labels.labels_of("t");
        assert!(labels
            .apply(entry(7, "t", LabelOp::Undo { target: 2 }))
            .unwrap_err()
            .contains("already undone"));
        assert!(labels
            .apply(entry(8, "t", LabelOp::Redo { target: 99 }))
            .is_err());
        assert_eq!(labels.labels_of("t"), before);
    }

    #[test]
    fn labels_stay_with_their_trace() {
        let mut labels = AnnotatorLabels::new("ann");
        labels
            .apply(entry(1, "a", label(0, "x", CafeLabel::Matched)))
            .unwrap();
        labels
            .apply(entry(2, "b", label(0, "x", CafeLabel::Neutral)))
            .unwrap();
        assert_eq!(labels.traces().into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(labels.labels_of("b").steps[0].label, CafeLabel::Neutral);
        assert!(labels.labels_of("c").steps.is_empty());
    }

    #[test]
    fn an_entry_reads_as_one_flat_json_object() {
        let line = r#"{"seq":3,"time":"2026-11-26T22:10:04Z","annotator":"ann","trace":"item-7","op":"label","step":2,"event":"dog bark","label":"misused"}"#;
        let entry: JournalEntry = serde_json::from_str(line).unwrap();
        assert_eq!(entry.op, label(2, "dog bark", CafeLabel::Misused));
        assert_eq!(serde_json::to_string(&entry).unwrap(), line);
    }

    #[test]
    fn annotator_names_must_fit_a_file_name() {
        assert!(check_annotator("ann_2-b").is_ok());
        for bad in ["", ".hidden", "v2.bob", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_annotator(bad).is_err(), "{bad:?}");
        }
    }
}
