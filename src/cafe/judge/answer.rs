//! The judge's answer: its JSON schema, finding the JSON in what a model wrote, and checking it
//! against the trace before it becomes CAFE labels.
//!
//! Servers that enforce the schema return bare JSON; others (or a server at the last rung of the
//! `response_format` ladder) return JSON inside prose or a Markdown fence, so extraction tries
//! the whole text, then a fenced block, then the first `{` from which serde_json reads an
//! object. A parsed answer that names a step the trace does not have, an unknown label or an
//! empty event is schema-breaking: the caller retries.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::trace::{CafeLabel, LabelSource, MissedEvent, StepLabel, TraceLabels};

/// The answer's JSON schema, sent as the `response_format` and shown to the model in the
/// prompt. Every field is required and nothing else is allowed (OpenAI's strict mode needs
/// both).
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": { "type": "integer" },
                        "event": { "type": "string" },
                        "label": {
                            "type": "string",
                            "enum": ["matched", "hallucinated", "misused", "neutral"]
                        }
                    },
                    "required": ["step", "event", "label"],
                    "additionalProperties": false
                }
            },
            "missed": { "type": "array", "items": { "type": "string" } }
        },
        "required": ["claims", "missed"],
        "additionalProperties": false
    })
}

/// The first JSON object in a model's answer: the whole text, else a fenced block, else the
/// first `{` from which a JSON object parses. `None` when there is no object.
pub fn extract_json(content: &str) -> Option<Value> {
    let as_object = |text: &str| match serde_json::from_str::<Value>(text.trim()) {
        Ok(value @ Value::Object(_)) => Some(value),
        _ => None,
    };
    as_object(content)
        .or_else(|| fenced_block(content).and_then(as_object))
        .or_else(|| first_embedded_object(content))
}

/// The text between the first pair of ``` fences, without the info string (`json`).
fn fenced_block(content: &str) -> Option<&str> {
    let (_, after_open) = content.split_once("```")?;
    let body = after_open
        .split_once('\n')
        .map_or(after_open, |(_, rest)| rest);
    body.split_once("```").map(|(inside, _)| inside)
}

fn first_embedded_object(content: &str) -> Option<Value> {
    content.match_indices('{').find_map(|(start, _)| {
        let mut values = serde_json::Deserializer::from_str(&content[start..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(value @ Value::Object(_))) => Some(value),
            _ => None,
        }
    })
}

#[derive(Deserialize)]
struct RawAnswer {
    claims: Vec<RawClaim>,
    missed: Vec<String>,
}

#[derive(Deserialize)]
struct RawClaim {
    step: i64,
    event: String,
    label: String,
}

/// Checks an answer against a trace of `step_count` steps and turns it into labels from
/// `source`. `Err` says what breaks the schema, in words for the failure line.
pub fn labels_from_answer(
    answer: Value,
    step_count: usize,
    source: &LabelSource,
    targets: Option<usize>,
) -> Result<TraceLabels, String> {
    let answer: RawAnswer = serde_json::from_value(answer).map_err(|e| e.to_string())?;
    let mut steps = Vec::with_capacity(answer.claims.len());
    for (number, claim) in answer.claims.into_iter().enumerate() {
        let step = usize::try_from(claim.step)
            .ok()
            .filter(|&step| step < step_count)
            .ok_or_else(|| {
                format!(
                    "step {} out of range (the trace has {step_count} steps)",
                    claim.step
                )
            })?;
        if claim.event.trim().is_empty() {
            return Err(format!("claim {number} has an empty event"));
        }
        let label = parse_label(&claim.label).ok_or_else(|| {
            format!(
                "unknown label {:?} (expected matched, hallucinated, misused or neutral)",
                claim.label
            )
        })?;
        steps.push(StepLabel {
            step,
            event: claim.event.trim().to_owned(),
            label,
            source: source.clone(),
            note: None,
        });
    }
    let mut missed = Vec::with_capacity(answer.missed.len());
    for event in answer.missed {
        if event.trim().is_empty() {
            return Err("a missed event is empty".into());
        }
        missed.push(MissedEvent {
            event: event.trim().to_owned(),
            source: source.clone(),
        });
    }
    Ok(TraceLabels {
        steps,
        missed,
        targets,
    })
}

fn parse_label(text: &str) -> Option<CafeLabel> {
    serde_json::from_value(Value::String(text.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_bare_fenced_and_inside_prose() {
        let expected = json!({"claims": [], "missed": ["x"]});
        let answers = [
            "{\"claims\": [], \"missed\": [\"x\"]}",
            "```json\n{\"claims\": [], \"missed\": [\"x\"]}\n```",
            "Here you go:\n```\n{\"claims\": [], \"missed\": [\"x\"]}\n```\nDone.",
            "Sure! {not json} The labels are {\"claims\": [], \"missed\": [\"x\"]} as asked.",
        ];
        for answer in answers {
            assert_eq!(extract_json(answer), Some(expected.clone()), "{answer}");
        }
    }

    #[test]
    fn no_object_means_none() {
        for answer in [
            "",
            "I cannot label this.",
            "[1, 2, 3]",
            "{\"claims\": [",
            "```\n```",
        ] {
            assert_eq!(extract_json(answer), None, "{answer:?}");
        }
    }

    fn check(answer: Value) -> Result<TraceLabels, String> {
        labels_from_answer(answer, 6, &LabelSource::judge("m"), Some(2))
    }

    #[test]
    fn a_valid_answer_becomes_labels_with_the_source() {
        let labels = check(json!({
            "claims": [
                {"step": 1, "event": " rising chirp ", "label": "matched"},
                {"step": 5, "event": "so it rises", "label": "neutral"}
            ],
            "missed": ["noise burst"]
        }))
        .unwrap();
        assert_eq!(labels.steps.len(), 2);
        assert_eq!(labels.steps[0].step, 1);
        assert_eq!(labels.steps[0].event, "rising chirp");
        assert_eq!(labels.steps[0].label, CafeLabel::Matched);
        assert_eq!(labels.steps[1].label, CafeLabel::Neutral);
        assert!(labels.steps.iter().all(|s| s.source == "judge:m"));
        assert_eq!(labels.missed[0].event, "noise burst");
        assert_eq!(labels.missed[0].source, "judge:m");
        assert_eq!(labels.targets, Some(2));
    }

    #[test]
    fn schema_breaking_answers_say_why() {
        let claim = |step: i64, event: &str, label: &str| json!({"claims": [{"step": step, "event": event, "label": label}], "missed": []});
        let cases = [
            (
                claim(9, "x", "matched"),
                "step 9 out of range (the trace has 6 steps)",
            ),
            (claim(-1, "x", "matched"), "step -1 out of range"),
            (claim(0, "x", "correct"), "unknown label \"correct\""),
            (claim(0, "  ", "matched"), "claim 0 has an empty event"),
            (json!({"claims": []}), "missing field `missed`"),
            (
                json!({"claims": [], "missed": [""]}),
                "a missed event is empty",
            ),
            (
                json!({"claims": [{"step": "1", "event": "x", "label": "matched"}], "missed": []}),
                "invalid type",
            ),
        ];
        for (answer, expected) in cases {
            let error = check(answer).unwrap_err();
            assert!(error.contains(expected), "{expected:?} in {error:?}");
        }
    }
}
