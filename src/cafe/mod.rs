//! CAFE labels and metrics: each claim about the audio is matched, hallucinated, misused or
//! neutral, and a trace can have missed events; with `N_pred` = matched + hallucinated +
//! misused, `Acc_per` = matched / `N_pred`, `Err_per` = hallucinated / `N_pred`, `Err_use` =
//! misused / `N_pred` and `Err_omit` = missed / ground-truth events.
//!
//! The labels themselves are stored types and live in `trace::labels`; this module computes
//! over them: which label of a claim counts (`claims`), the metrics, agreement between
//! annotators, the annotation journal, exports and the judge.

pub mod agreement;
pub mod claims;
pub mod export;
pub mod journal;
pub mod journal_file;
pub mod judge;
pub mod label_files;

use crate::trace::{CafeLabel, TraceLabels};

pub use claims::{claims, claims_of_step, counted_claims, Claim, WHOLE_STEP};

/// Label counts, to be pooled over traces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CafeCounts {
    pub matched: usize,
    pub hallucinated: usize,
    pub misused: usize,
    pub neutral: usize,
    pub missed: usize,
    pub targets: usize,
}

impl CafeCounts {
    /// The counts of one trace: each (step, event) once, with its highest-ranked source's label.
    pub fn of(labels: &TraceLabels) -> Self {
        let mut counts = CafeCounts::default();
        for claim in counted_claims(labels) {
            match claim.winner().label {
                CafeLabel::Matched => counts.matched += 1,
                CafeLabel::Hallucinated => counts.hallucinated += 1,
                CafeLabel::Misused => counts.misused += 1,
                CafeLabel::Neutral => counts.neutral += 1,
            }
        }
        let missed: std::collections::BTreeSet<&str> =
            labels.missed.iter().map(|m| m.event.as_str()).collect();
        counts.missed = missed.len();
        counts.targets = labels.targets.unwrap_or(0);
        counts
    }

    pub fn add(&mut self, other: &CafeCounts) {
        self.matched += other.matched;
        self.hallucinated += other.hallucinated;
        self.misused += other.misused;
        self.neutral += other.neutral;
        self.missed += other.missed;
        self.targets += other.targets;
    }

    /// `N_pred`: claims about the audio.
    pub fn predicted(&self) -> usize {
        self.matched + self.hallucinated + self.misused
    }

    fn share(part: usize, whole: usize) -> Option<f64> {
        (whole > 0).then(|| part as f64 / whole as f64)
    }

    pub fn acc_per(&self) -> Option<f64> {
        Self::share(self.matched, self.predicted())
    }

    pub fn err_per(&self) -> Option<f64> {
        Self::share(self.hallucinated, self.predicted())
    }

    pub fn err_use(&self) -> Option<f64> {
        Self::share(self.misused, self.predicted())
    }

    pub fn err_omit(&self) -> Option<f64> {
        Self::share(self.missed, self.targets)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::{LabelSource, MissedEvent, StepLabel};

    /// A label for tests.
    pub(crate) fn label(step: usize, event: &str, label: CafeLabel, source: &str) -> StepLabel {
        StepLabel {
            step,
            event: event.into(),
            label,
            source: source.parse().unwrap(),
            note: None,
        }
    }

    /// The hand-made example chains carry the labels their specs give (the inspector's snapshots
    /// and the README's numbers rest on them).
    #[test]
    fn the_example_chains_count_as_their_specs_say() {
        use crate::example_traces::{demo_set_specs, example_trace, ExampleSpec};
        let specs = demo_set_specs();
        let counts = |spec: &ExampleSpec| {
            let (trace, _) = example_trace(spec);
            let c = CafeCounts::of(trace.labels.as_ref().unwrap());
            (c.matched, c.hallucinated, c.misused, c.neutral, c.missed)
        };
        assert_eq!(counts(&specs[1]), (7, 0, 0, 2, 0));
        assert_eq!(counts(&specs[2]), (3, 1, 3, 3, 1));
        assert_eq!(counts(&specs[0]), (5, 1, 2, 2, 0));
    }

    #[test]
    fn metrics_follow_the_definitions_and_human_wins() {
        let labels = TraceLabels {
            steps: vec![
                label(0, "rising chirp at 0.5 s", CafeLabel::Matched, "auto"),
                label(1, "dog bark", CafeLabel::Hallucinated, "judge:qwen"),
                label(1, "dog bark", CafeLabel::Misused, "human:ann"),
                label(1, "dog bark", CafeLabel::Hallucinated, "auto"),
                label(2, "two tones", CafeLabel::Matched, "judge:qwen"),
                label(3, "so it rises", CafeLabel::Neutral, "auto"),
            ],
            missed: vec![
                MissedEvent {
                    event: "noise burst".into(),
                    source: LabelSource::auto(),
                },
                MissedEvent {
                    event: "noise burst".into(),
                    source: LabelSource::human("ann"),
                },
            ],
            targets: Some(4),
        };
        let counts = CafeCounts::of(&labels);
        assert_eq!(
            counts,
            CafeCounts {
                matched: 2,
                hallucinated: 0,
                misused: 1,
                neutral: 1,
                missed: 1,
                targets: 4
            }
        );
        assert_eq!(counts.acc_per(), Some(2.0 / 3.0));
        assert_eq!(counts.err_per(), Some(0.0));
        assert_eq!(counts.err_use(), Some(1.0 / 3.0));
        assert_eq!(counts.err_omit(), Some(0.25));
        assert_eq!(CafeCounts::default().acc_per(), None);
    }
}
