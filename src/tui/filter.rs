//! Which examples of a traces file the list shows: by outcome (correct or not), by task, by a
//! CAFE label some step carries, by a search over id, question and generated text, and, in a
//! comparison, by how the pair's two answers went.

use crate::cafe::claims;

use crate::trace::CafeLabel;
use crate::trace::Trace;

/// Correct, incorrect, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    #[default]
    All,
    Correct,
    Incorrect,
}

/// How the two answers to one item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOutcome {
    BothRight,
    BothWrong,
    OnlyA,
    OnlyB,
}

impl PairOutcome {
    pub const ALL: [PairOutcome; 4] = [
        PairOutcome::BothRight,
        PairOutcome::BothWrong,
        PairOutcome::OnlyA,
        PairOutcome::OnlyB,
    ];

    /// The outcome of answers `a` and `b` (right or not).
    pub fn of(a: bool, b: bool) -> Self {
        match (a, b) {
            (true, true) => PairOutcome::BothRight,
            (false, false) => PairOutcome::BothWrong,
            (true, false) => PairOutcome::OnlyA,
            (false, true) => PairOutcome::OnlyB,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PairOutcome::BothRight => "both right",
            PairOutcome::BothWrong => "both wrong",
            PairOutcome::OnlyA => "only A right",
            PairOutcome::OnlyB => "only B right",
        }
    }
}

/// The filters in force; the default lets every example through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    pub outcome: Outcome,
    /// In a comparison: only pairs whose answers went this way.
    pub pair: Option<PairOutcome>,
    pub task: Option<String>,
    /// Only examples where some step carries this label.
    pub label: Option<CafeLabel>,
    /// Case-insensitive text to find in the id, the question or the generated text.
    pub query: String,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    pub fn matches(&self, trace: &Trace) -> bool {
        let correct = trace.answer.as_ref().map(|a| a.correct);
        let outcome = match self.outcome {
            Outcome::All => true,
            Outcome::Correct => correct == Some(true),
            Outcome::Incorrect => correct == Some(false),
        };
        let task = self.task.as_ref().is_none_or(|wanted| {
            trace.benchmark.as_ref().and_then(|b| b.task.as_ref()) == Some(wanted)
        });
        let label = self.label.is_none_or(|wanted| {
            trace
                .labels
                .as_ref()
                .is_some_and(|l| claims(l).iter().any(|c| c.winner().label == wanted))
        });
        outcome && task && label && self.matches_query(trace)
    }

    fn matches_query(&self, trace: &Trace) -> bool {
        if self.query.is_empty() {
            return true;
        }
        let query = self.query.to_lowercase();
        let question = trace
            .prompt
            .question
            .as_deref()
            .unwrap_or(&trace.prompt.text);
        [trace.id.as_str(), question, trace.generation.text.as_str()]
            .iter()
            .any(|field| field.to_lowercase().contains(&query))
    }

    /// The filters in words for the list's title ("incorrect · task counting · HAL · /tone").
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.outcome {
            Outcome::All => {}
            Outcome::Correct => parts.push("correct".to_owned()),
            Outcome::Incorrect => parts.push("incorrect".to_owned()),
        }
        if let Some(pair) = self.pair {
            parts.push(pair.describe().to_owned());
        }
        if let Some(task) = &self.task {
            parts.push(format!("task {task}"));
        }
        if let Some(label) = self.label {
            parts.push(format!("has {}", label.short()));
        }
        if !self.query.is_empty() {
            parts.push(format!("/{}", self.query));
        }
        if parts.is_empty() {
            "all".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}

/// The next value in a cycle `None → values[0] → … → None`.
pub fn cycle<T: Clone + PartialEq>(current: &Option<T>, values: &[T]) -> Option<T> {
    match current {
        None => values.first().cloned(),
        Some(value) => {
            let at = values.iter().position(|v| v == value)?;
            values.get(at + 1).cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::{example_trace, tones_spec};

    #[test]
    fn filters_select_by_outcome_label_task_and_text() {
        let (trace, _) = example_trace(&tones_spec());
        assert!(!trace.answer.as_ref().unwrap().correct);
        let with = |f: Filters| f.matches(&trace);
        assert!(with(Filters::default()));
        let outcome = |outcome| Filters {
            outcome,
            ..Filters::default()
        };
        assert!(with(outcome(Outcome::Incorrect)));
        assert!(!with(outcome(Outcome::Correct)));
        let label = |label| Filters {
            label: Some(label),
            ..Filters::default()
        };
        assert!(with(label(CafeLabel::Hallucinated)));
        let query = |q: &str| Filters {
            query: q.into(),
            ..Filters::default()
        };
        assert!(with(query("BIRD CHIRPS")), "generated text, any case");
        assert!(with(query("before the noise")), "the question");
        assert!(!with(query("violin")));
        let task = Filters {
            task: Some("no such task".into()),
            ..Filters::default()
        };
        assert!(!with(task));
        assert_eq!(
            Filters {
                outcome: Outcome::Incorrect,
                label: Some(CafeLabel::Hallucinated),
                query: "tone".into(),
                ..Filters::default()
            }
            .describe(),
            "incorrect · has HAL · /tone"
        );
    }

    #[test]
    fn cycles_end_where_they_start() {
        let values = ["a", "b"];
        let mut current = None;
        let seen: Vec<Option<&str>> = (0..3)
            .map(|_| {
                current = cycle(&current, &values);
                current
            })
            .collect();
        assert_eq!(seen, vec![Some("a"), Some("b"), None]);
    }
}
