//! The claims of a step as labelling shows them (each with the label that counts, the other
//! sources' labels and this annotator's; a typed claim waiting for its label; the whole step
//! when nobody listed a claim), the cursor over them, the label keys that act on the one under
//! it, and the jump to the next step with a claim this annotator has not labelled.

use super::super::{Effect, Inspector};
use crate::cafe::claims_of_step;
use crate::cafe::journal::LabelOp;
use crate::trace::{CafeLabel, StepLabel};

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

impl Inspector {
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
    pub(in crate::tui::state) fn step_done(&self, index: usize, step: usize) -> bool {
        let claims = self.claims_at(index, step);
        !claims.is_empty() && claims.iter().all(|c| c.mine.is_some())
    }

    /// The claim under the cursor (kept in range).
    pub(super) fn selected_claim(&mut self) -> Option<ShownClaim> {
        let claims = self.current_claims();
        let labelling = self.labelling.as_mut()?;
        labelling.claim = labelling.claim.min(claims.len().saturating_sub(1));
        claims.into_iter().nth(labelling.claim)
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
}
