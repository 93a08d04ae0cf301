//! Claims: the labels of a trace grouped by what they label (a step and an event), each with the
//! label that counts (human over judge over auto; between two of the same rank, the later one).
//! The metrics count each claim once, by that label; the inspector shows it and, beside it, what
//! the other sources said.

use super::{rank, StepLabel, TraceLabels};

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
            if rank(&label.source) >= rank(&best.source) {
                best = label;
            }
        }
        best
    }

    /// The label `source` gave it, if any.
    pub fn by(&self, source: &str) -> Option<&'a StepLabel> {
        self.labels
            .iter()
            .rev()
            .find(|l| l.source == source)
            .copied()
    }
}

/// Every claim of the trace, in the order each first appears.
pub fn claims(labels: &TraceLabels) -> Vec<Claim<'_>> {
    let mut claims: Vec<Claim> = Vec::new();
    for label in &labels.steps {
        match claims
            .iter_mut()
            .find(|c| c.step == label.step && c.event == label.event)
        {
            Some(claim) => claim.labels.push(label),
            None => claims.push(Claim {
                step: label.step,
                event: &label.event,
                labels: vec![label],
            }),
        }
    }
    claims
}

/// The claims of one step.
pub fn claims_of_step(labels: &TraceLabels, step: usize) -> Vec<Claim<'_>> {
    let mut claims = claims(labels);
    claims.retain(|c| c.step == step);
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cafe::tests::label;
    use crate::cafe::CafeLabel;

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
        assert_eq!(all[0].by("judge:q").unwrap().label, Hallucinated);
        assert!(all[0].by("human:eve").is_none());
        assert_eq!(claims_of_step(&labels, 0)[0].winner().label, Matched);
        assert!(claims_of_step(&labels, 2).is_empty());
    }
}
