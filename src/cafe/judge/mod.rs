//! The LLM judge: CAFE labels for reasoning traces from a chat model behind an
//! OpenAI-compatible endpoint (the README's "Labelling" says how to run it).
//!
//! Data flows one way: traces and captions are read (`captions`), each trace becomes a prompt
//! (`prompt`, a template users can replace), a worker sends it (`client`, which walks down the
//! `response_format` ladder when a server refuses a format), retries until the answer is JSON
//! that fits the schema (`label`, `answer`), and the run (`run`) appends one [`JudgeLine`] per
//! trace to a JSON Lines file as each answer arrives. That file is the judge's output and the
//! input of whatever reads judge labels, through [`read_judge_lines`].

mod answer;
mod captions;
mod client;
mod label;
mod prompt;
mod run;

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::TraceLabels;

pub use answer::{answer_schema, extract_json};
pub use captions::{read_captions, Caption, CaptionEvent};
pub use client::{chat_completions_url, ResponseFormat};
pub use prompt::{JudgePrompt, DEFAULT_PROMPT};
pub use run::{run_judge, JudgeSettings, JudgeSummary};

/// One line of a judge output file: the labels of one trace, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JudgeLine {
    /// The trace's id.
    pub id: String,
    /// The judge's labels (every label's source is `judge:<model>`); `None` on a failure line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<TraceLabels>,
    /// Why this trace has no labels (after all retries); `None` on a success line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub judge: JudgeRun,
}

/// How a line was obtained: which judge, which prompt, which request format, at what cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JudgeRun {
    /// The `model` sent to the endpoint.
    pub model: String,
    /// The chat-completions URL the requests went to.
    pub endpoint: String,
    /// SHA-256 of the prompt template (not of the rendered prompt).
    pub prompt_sha256: String,
    /// The `response_format` of the last request; `None` when no request was sent.
    pub response_format: Option<ResponseFormat>,
    /// Requests sent for this trace.
    pub attempts: u32,
    /// Wall time spent on this trace, retries and back-off included.
    pub seconds: f64,
}

impl JudgeLine {
    pub fn succeeded(&self) -> bool {
        self.labels.is_some()
    }
}

/// Reads a judge output file. Lines that cannot be read (not JSON, not a judge line, a last line
/// cut short by a killed run) are skipped; each is reported as `path:line: problem` in the
/// second value. Later lines for an id supersede earlier ones; that is for the reader to apply.
pub fn read_judge_lines(path: &Path) -> Result<(Vec<JudgeLine>, Vec<String>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let ends_cleanly = text.is_empty() || text.ends_with('\n');
    let raw_lines: Vec<&str> = text.lines().collect();
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for (index, raw) in raw_lines.iter().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        match parse_judge_line(raw) {
            Ok(line) => lines.push(line),
            Err(reason) => {
                let cut_off = index + 1 == raw_lines.len() && !ends_cleanly;
                let reason = if cut_off {
                    "truncated last line (a run stopped while writing it)".to_owned()
                } else {
                    reason
                };
                skipped.push(format!(
                    "{}:{}: {reason}; skipped",
                    path.display(),
                    index + 1
                ));
            }
        }
    }
    Ok((lines, skipped))
}

fn parse_judge_line(raw: &str) -> std::result::Result<JudgeLine, String> {
    let line: JudgeLine =
        serde_json::from_str(raw).map_err(|e| format!("not a judge line ({e})"))?;
    match (&line.labels, &line.error) {
        (Some(_), None) | (None, Some(_)) => Ok(line),
        _ => Err("a judge line holds either \"labels\" or \"error\"".into()),
    }
}

/// Appends `line` to an open judge file and makes it durable before returning.
pub fn append_judge_line(file: &mut std::fs::File, line: &JudgeLine) -> Result<()> {
    crate::jsonl::append_durably(file, &serde_json::to_string(line)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(id: &str, error: Option<&str>) -> JudgeLine {
        JudgeLine {
            id: id.into(),
            labels: error.is_none().then(TraceLabels::default),
            error: error.map(str::to_owned),
            judge: JudgeRun {
                model: "m".into(),
                endpoint: "http://127.0.0.1:1/v1/chat/completions".into(),
                prompt_sha256: "00".into(),
                response_format: Some(ResponseFormat::JsonObject),
                attempts: 1,
                seconds: 0.5,
            },
        }
    }

    #[test]
    fn lines_round_trip_and_bad_lines_are_reported_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.jsonl");
        let mut file = std::fs::File::create(&path).unwrap();
        append_judge_line(&mut file, &line("a", None)).unwrap();
        file.write_all(b"{\"id\": \"x\"}\n").unwrap();
        append_judge_line(&mut file, &line("b", Some("HTTP 500: boom"))).unwrap();
        file.write_all(b"{\"id\": \"c\", \"lab").unwrap();
        drop(file);
        let (lines, skipped) = read_judge_lines(&path).unwrap();
        assert_eq!(
            lines,
            vec![line("a", None), line("b", Some("HTTP 500: boom"))]
        );
        assert!(lines[0].succeeded() && !lines[1].succeeded());
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].contains("labels.jsonl:2: not a judge line"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].contains("labels.jsonl:4: truncated last line"),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_line_with_both_labels_and_error_is_refused() {
        let mut both = line("a", None);
        both.error = Some("x".into());
        let raw = serde_json::to_string(&both).unwrap();
        assert!(parse_judge_line(&raw).is_err());
    }
}
