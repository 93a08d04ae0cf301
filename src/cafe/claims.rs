//! Claims: the labels of a trace grouped by what they label (a step and an event), each with the
//! label that counts (human over judge over auto; between two of the same rank, the later one).
//! The metrics count each claim once, by that label; the inspector shows it and, beside it, what
//! the other sources said.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::trace::{LabelSource, StepLabel, TraceLabels};

/// The event of a label on a step as a whole (an annotator's label where nobody listed the
/// step's claims).
pub const WHOLE_STEP: &str = "(whole step)";

/// One claimed event of one step and every label it has.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim<'a> {
    pub step: usize,
    pub event: &'a str,
    /// Its labels, in the order the trace's labels list them.
    pub labels: Vec<&'a StepLabel>,
}

impl<'a> Claim<'a> {
    /// The label that counts.
    pub fn winner(&self) -> &'a StepLabel {
        let mut best = self.labels[0];
        for &label in &self.labels[1..] {
            if label.source.kind >= best.source.kind {
                best = label;
            }
        }
        best
    }

    /// The label `source` gave it, if any.
    pub fn by(&self, source: &LabelSource) -> Option<&'a StepLabel> {
        self.labels
            .iter()
            .rev()
            .find(|l| &l.source == source)
            .copied()
    }
}

/// Every claim of the trace, in the order each first appears.
pub fn claims(labels: &TraceLabels) -> Vec<Claim<'_>> {
    group(labels.steps.iter())
}

/// `labels` grouped by claim, in the order each claim first appears (linear: a 2,000-step trace
/// has thousands of labels, and the inspector asks for a step's claims on every frame).
fn group<'a>(labels: impl Iterator<Item = &'a StepLabel>) -> Vec<Claim<'a>> {
    let mut claims: Vec<Claim> = Vec::new();
    let mut index: HashMap<(usize, &str), usize> = HashMap::new();
    for label in labels {
        match index.entry((label.step, label.event.as_str())) {
            Entry::Occupied(at) => claims[*at.get()].labels.push(label),
            Entry::Vacant(slot) => {
                slot.insert(claims.len());
                claims.push(Claim {
                    step: label.step,
                    event: &label.event,
                    labels: vec![label],
                });
            }
        }
    }
    claims
}

/// The claims the metrics count: every claim, except that a label on a whole step outranks
/// the claims of that step whose labels come from a lower-ranked source (an annotator who
/// labelled the whole step has judged what a judge listed in it).
pub fn counted_claims(labels: &TraceLabels) -> Vec<Claim<'_>> {
    let all = claims(labels);
    let mut whole_rank = HashMap::new();
    for claim in all.iter().filter(|c| c.event == WHOLE_STEP) {
        let rank = claim.winner().source.kind;
        whole_rank
            .entry(claim.step)
            .and_modify(|r| *r = rank.max(*r))
            .or_insert(rank);
    }
    all.into_iter()
        .filter(|c| {
            c.event == WHOLE_STEP
                || whole_rank
                    .get(&c.step)
                    .is_none_or(|&whole| c.winner().source.kind >= whole)
        })
        .collect()
}

/// The claims of one step.
pub fn claims_of_step(labels: &TraceLabels, step: usize) -> Vec<Claim<'_>> {
    group(labels.steps.iter().filter(|l| l.step == step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cafe::tests::label;
    use crate::trace::CafeLabel;

    #[test]
    fn claims_group_by_step_and_event_and_human_wins() {
        use CafeLabel::*;
        let labels = TraceLabels {
            steps: vec![
                label(1, "bark", Hallucinated, "judge:q"),
                label(0, "tone", Matched, "auto"),
                label(1, "bark", Misused, "human:ann"),
                label(1, "bark", Matched, "auto"),
                label(1, "bark", Neutral, "human:bob"),
            ],
            ..TraceLabels::default()
        };
        let all = claims(&labels);
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].step, all[0].event), (1, "bark"));
        // Two humans: the later one counts.
        assert_eq!(all[0].winner().source, "human:bob");
        assert_eq!(
            all[0].by(&LabelSource::judge("q")).unwrap().label,
            Hallucinated
        );
        assert!(all[0].by(&LabelSource::human("eve")).is_none());
        assert_eq!(claims_of_step(&labels, 0)[0].winner().label, Matched);
        assert!(claims_of_step(&labels, 2).is_empty());
    }

    #[test]
    fn a_human_label_on_the_whole_step_outranks_the_judges_claims_in_it() {
        use crate::cafe::CafeCounts;
        use CafeLabel::*;
        let labels = TraceLabels {
            steps: vec![
                label(1, "bark", Hallucinated, "judge:q"),
                label(1, "meow", Hallucinated, "judge:q"),
                label(1, WHOLE_STEP, Neutral, "human:ann"),
                label(2, "tone", Matched, "judge:q"),
                label(2, WHOLE_STEP, Misused, "auto"),
            ],
            ..TraceLabels::default()
        };
        let counted: Vec<(usize, &str)> = counted_claims(&labels)
            .iter()
            .map(|c| (c.step, c.event))
            .collect();
        // Step 1: ann's word replaces the judge's two claims; step 2: a lower-ranked whole-step
        // label replaces nothing.
        assert_eq!(counted, [(1, WHOLE_STEP), (2, "tone"), (2, WHOLE_STEP)]);
        let counts = CafeCounts::of(&labels);
        assert_eq!(
            (counts.hallucinated, counts.neutral, counts.misused),
            (0, 1, 1)
        );
        assert_eq!(claims(&labels).len(), 5, "the view still lists every claim");
    }
}
