//! CAFE labels and metrics: each claim about the audio is matched, hallucinated, misused or
//! neutral, and a trace can have missed events; with `N_pred` = matched + hallucinated +
//! misused, `Acc_per` = matched / `N_pred`, `Err_per` = hallucinated / `N_pred`, `Err_use` =
//! misused / `N_pred` and `Err_omit` = missed / ground-truth events.
//!
//! A trace's labels say, for each audio event a step claims, whether it is matched,
//! hallucinated, misused or neutral, and list the ground-truth events no step mentions
//! (missed). Every label keeps its source (`auto`, `judge:<model>`, `human:<name>`); where
//! several sources label the same claim, human wins over judge over auto. The metrics are
//! `Acc_per = matched / N_pred`, `Err_per = hallucinated / N_pred`, `Err_use = misused / N_pred`
//! (`N_pred = matched + hallucinated + misused`) and `Err_omit = missed / N_tgt`.

pub mod agreement;
pub mod claims;
pub mod export;
pub mod journal;
pub mod journal_file;
pub mod judge;
pub mod label_files;

use serde::{Deserialize, Serialize};

pub use claims::{claims, claims_of_step, counted_claims, Claim, WHOLE_STEP};

/// The label of one claimed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CafeLabel {
    Matched,
    Hallucinated,
    Misused,
    Neutral,
}

impl CafeLabel {
    /// The four labels, in the order of their keys and columns.
    pub const ALL: [CafeLabel; 4] = [
        CafeLabel::Matched,
        CafeLabel::Hallucinated,
        CafeLabel::Misused,
        CafeLabel::Neutral,
    ];

    /// The three-letter tag the inspector shows.
    pub fn short(self) -> &'static str {
        match self {
            CafeLabel::Matched => "MAT",
            CafeLabel::Hallucinated => "HAL",
            CafeLabel::Misused => "MIS",
            CafeLabel::Neutral => "NEU",
        }
    }

    /// The label's name as files write it: "matched", "hallucinated"…
    pub fn name(self) -> &'static str {
        match self {
            CafeLabel::Matched => "matched",
            CafeLabel::Hallucinated => "hallucinated",
            CafeLabel::Misused => "misused",
            CafeLabel::Neutral => "neutral",
        }
    }
}

/// A label on one claim of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepLabel {
    pub step: usize,
    /// The claimed event, as the labeller wrote it (one step can claim several).
    pub event: String,
    pub label: CafeLabel,
    /// `auto`, `judge:<model>` or `human:<name>`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A ground-truth event that matters to the question and that no step mentions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MissedEvent {
    pub event: String,
    pub source: String,
}

/// All labels of one trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TraceLabels {
    #[serde(default)]
    pub steps: Vec<StepLabel>,
    #[serde(default)]
    pub missed: Vec<MissedEvent>,
    /// `N_tgt`: ground-truth events (for `Err_omit`); `None` when unknown.
    #[serde(default)]
    pub targets: Option<usize>,
}

impl TraceLabels {
    /// Adds another source's labels (a judge's, an annotator's) to these; the targets count
    /// already known stays.
    pub fn extend(&mut self, other: TraceLabels) {
        self.steps.extend(other.steps);
        self.missed.extend(other.missed);
        self.targets = self.targets.or(other.targets);
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.missed.is_empty()
    }
}

/// A source's kind and name: `("human", "ann")`, `("judge", "qwen")`, `("auto", "")`.
pub fn source_parts(source: &str) -> (&str, &str) {
    source.split_once(':').unwrap_or((source, ""))
}

/// How much a source's word counts: human over judge over auto.
pub fn rank(source: &str) -> u8 {
    if source.starts_with("human") {
        3
    } else if source.starts_with("judge") {
        2
    } else {
        1
    }
}

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

    /// A label for tests.
    pub(crate) fn label(step: usize, event: &str, label: CafeLabel, source: &str) -> StepLabel {
        StepLabel {
            step,
            event: event.into(),
            label,
            source: source.into(),
            note: None,
        }
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
                    source: "auto".into(),
                },
                MissedEvent {
                    event: "noise burst".into(),
                    source: "human:ann".into(),
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
