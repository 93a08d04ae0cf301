//! What a step can be and the rules that make steps: the kinds a trace records for its steps,
//! and `StepRules` (which cuts to make, which tags and cue words give which kind) with defaults
//! that suit chain-of-thought text. A run can give its own rules as a JSON file (`--step-rules`);
//! the fields it leaves out keep their defaults.

use serde::{Deserialize, Serialize};

/// What a step does in the chain of thought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Perception,
    Reasoning,
    Answer,
    Review,
    Other,
}

/// How text is cut into steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StepRules {
    /// Cut at `<tag>` and `</tag>`.
    pub tags: bool,
    /// Cut before "Step N:" (and "Step N." / "**Step N**").
    pub step_markers: bool,
    /// Cut before list items ("- ", "* ", "1. ", "1) ").
    pub list_items: bool,
    /// Cut at blank lines.
    pub blank_lines: bool,
    /// Cut at every line break (one step per line, the usual shape of chain-of-thought text).
    pub line_breaks: bool,
    /// Paragraphs longer than this many characters are cut at sentence ends (0: never).
    pub long_paragraph_chars: usize,
    /// Tag name → kind; other tags give `Other`.
    pub tag_kinds: Vec<(String, StepKind)>,
    /// A step using one of these words (case-insensitive, whole words), or naming a time in
    /// seconds ("at 1.2 s", "3 seconds"), describes the audio: it is perception, outside tags
    /// and inside a reasoning tag alike (a chain of thought inside `<think>` is mostly
    /// reasoning, but its "I hear a dog at 2 s" lines are what CAFE checks).
    pub perception_cues: Vec<String>,
    /// …unless it opens with one of these phrases (case-insensitive): "So there are 4 sounds"
    /// draws a conclusion from what was heard.
    pub inference_openers: Vec<String>,
    /// Outside tags: a step with one of these phrases is the answer.
    pub answer_cues: Vec<String>,
}

impl Default for StepRules {
    fn default() -> Self {
        let kinds = [
            ("think", StepKind::Reasoning),
            ("reasoning", StepKind::Reasoning),
            ("perception", StepKind::Perception),
            ("caption", StepKind::Perception),
            ("answer", StepKind::Answer),
            ("review", StepKind::Review),
            ("summary", StepKind::Review),
        ];
        Self {
            tags: true,
            step_markers: true,
            list_items: true,
            blank_lines: true,
            line_breaks: true,
            long_paragraph_chars: 300,
            tag_kinds: kinds.iter().map(|(t, k)| (t.to_string(), *k)).collect(),
            perception_cues: [
                "hear",
                "heard",
                "hears",
                "hearing",
                "audio",
                "sound",
                "sounds",
                "clip",
                "listen",
                "listening",
                "noise",
                "tone",
                "tones",
                "voice",
                "speech",
                "music",
                "silence",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            inference_openers: [
                "so",
                "therefore",
                "thus",
                "hence",
                "overall",
                "in total",
                "altogether",
                "that is all",
                "this means",
                "which means",
                "because",
                "since",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            answer_cues: ["<answer>", "the answer is", "final answer", "answer:"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}
