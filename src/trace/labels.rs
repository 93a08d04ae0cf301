//! CAFE labels as a trace stores them: for each audio event a step claims, whether it is
//! matched, hallucinated, misused or neutral, and the ground-truth events no step mentions
//! (missed). Every label keeps its source (`auto`, `judge:<model>`, `human:<name>`), because
//! several sources may label the same claim and the metrics (`cafe`) let the highest-ranked one
//! count: human over judge over auto.
//!
//! These are stored types: their serde names are the trace format. `CafeLabel`'s names for files
//! and screens (`Display`, `FromStr`) are derived from the same variant names by the same rule, so
//! the two cannot drift (a test checks every variant); a source is written and parsed through
//! `SourceKind::name`, one spelling per kind.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The label of one claimed event.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
    }
}

/// Who gave a label, in the order their word counts: an automatic checker, a judge model, a
/// person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Auto,
    Judge,
    Human,
}

impl SourceKind {
    /// The kind named `name` (`auto`, `judge`, `human`), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [SourceKind::Auto, SourceKind::Judge, SourceKind::Human]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The kind as a source string starts: `auto`, `judge`, `human`.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Auto => "auto",
            SourceKind::Judge => "judge",
            SourceKind::Human => "human",
        }
    }
}

/// A label's source: `auto`, `judge:<model>` or `human:<name>` in files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct LabelSource {
    pub kind: SourceKind,
    /// The judge's model or the annotator's name; empty for `auto`.
    pub name: String,
}

impl LabelSource {
    /// The automatic checker (the synthetic items' exact checker).
    pub fn auto() -> Self {
        Self {
            kind: SourceKind::Auto,
            name: String::new(),
        }
    }

    /// A judge model's labels.
    pub fn judge(model: &str) -> Self {
        Self {
            kind: SourceKind::Judge,
            name: model.to_owned(),
        }
    }

    /// An annotator's labels.
    pub fn human(name: &str) -> Self {
        Self {
            kind: SourceKind::Human,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for LabelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            f.write_str(self.kind.name())
        } else {
            write!(f, "{}:{}", self.kind.name(), self.name)
        }
    }
}

impl FromStr for LabelSource {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, name) = text.split_once(':').unwrap_or((text, ""));
        let kind = SourceKind::from_name(kind).ok_or_else(|| {
            format!("label source {text:?} is not auto, judge:<model> or human:<name>")
        })?;
        Ok(Self {
            kind,
            name: name.to_owned(),
        })
    }
}

/// `source == "human:ann"`: a source equals the text files write for it.
impl PartialEq<&str> for LabelSource {
    fn eq(&self, text: &&str) -> bool {
        text.split_once(':').unwrap_or((text, "")) == (self.kind.name(), self.name.as_str())
    }
}

impl From<LabelSource> for String {
    fn from(source: LabelSource) -> Self {
        source.to_string()
    }
}

impl TryFrom<String> for LabelSource {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
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
    #[schemars(with = "String")]
    pub source: LabelSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A ground-truth event that matters to the question and that no step mentions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MissedEvent {
    pub event: String,
    #[schemars(with = "String")]
    pub source: LabelSource,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_their_serde_names() {
        for label in CafeLabel::ALL {
            let serde_name = serde_json::to_value(label).unwrap();
            assert_eq!(serde_name, serde_json::Value::String(label.to_string()));
            assert_eq!(label.name().parse::<CafeLabel>().unwrap(), label);
        }
        assert!("Matched ".parse::<CafeLabel>().is_err());
    }

    #[test]
    fn sources_round_trip_and_rank_human_over_judge_over_auto() {
        for text in ["auto", "judge:qwen2.5:7b", "human:ann"] {
            let source: LabelSource = text.parse().unwrap();
            assert_eq!(source.to_string(), text);
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(serde_json::from_str::<LabelSource>(&json).unwrap(), source);
        }
        assert_eq!(
            "judge:qwen2.5:7b".parse::<LabelSource>().unwrap().name,
            "qwen2.5:7b"
        );
        assert!("robot:x".parse::<LabelSource>().is_err());
        assert!(SourceKind::Human > SourceKind::Judge && SourceKind::Judge > SourceKind::Auto);
    }
}
