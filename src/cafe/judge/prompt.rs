//! The judge's prompt: a minijinja template users can read and replace (`prompts/judge.md` is
//! the default, `auscult judge --print-prompt` prints it).
//!
//! Variables: `caption`, `events` (list, may be empty), `question`, `choices` (list), `steps`
//! (list of `{index, text}`) and `schema` (the answer's JSON schema, pretty-printed). Undefined
//! variables are errors, so a misspelt name in a custom prompt fails before any request.

use std::path::Path;

use anyhow::{Context, Result};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::answer::answer_schema;
use super::captions::Caption;
use crate::trace::Trace;

/// The default prompt, `prompts/judge.md`.
pub const DEFAULT_PROMPT: &str = include_str!("../../../prompts/judge.md");

/// A compiled prompt template and where it came from.
pub struct JudgePrompt {
    environment: Environment<'static>,
    /// The file it was read from, or a note that it is the built-in one (for error messages).
    origin: String,
    sha256: String,
}

#[derive(Serialize)]
struct StepView<'a> {
    index: usize,
    text: &'a str,
}

const TEMPLATE_NAME: &str = "judge";

impl JudgePrompt {
    /// The template in `path`, or the default one.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(path) => {
                let source = std::fs::read_to_string(path)
                    .with_context(|| format!("{}: cannot read", path.display()))?;
                Self::from_source(source, path.display().to_string())
            }
            None => Self::from_source(
                DEFAULT_PROMPT.to_owned(),
                "the built-in prompt (prompts/judge.md)".to_owned(),
            ),
        }
    }

    fn from_source(source: String, origin: String) -> Result<Self> {
        let sha256 = Sha256::digest(source.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .map_err(|e| template_error(&origin, &e))?,
        );
        environment
            .add_template_owned(TEMPLATE_NAME, source)
            .map_err(|e| template_error(&origin, &e))?;
        Ok(Self {
            environment,
            origin,
            sha256,
        })
    }

    /// SHA-256 of the template's text, recorded on every output line.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The prompt for one trace and its caption.
    pub fn render(&self, trace: &Trace, caption: &Caption) -> Result<String> {
        let steps: Vec<StepView> = trace
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| StepView {
                index,
                text: &step.text,
            })
            .collect();
        let question = trace
            .prompt
            .question
            .as_deref()
            .unwrap_or(&trace.prompt.text);
        let schema = serde_json::to_string_pretty(&answer_schema())?;
        let template = self
            .environment
            .get_template(TEMPLATE_NAME)
            .map_err(|e| template_error(&self.origin, &e))?;
        template
            .render(context! {
                caption => caption.caption.as_str(),
                events => caption
                    .events
                    .iter()
                    .flatten()
                    .map(|e| e.name.clone())
                    .collect::<Vec<String>>(),
                question => question,
                choices => Serde(&trace.prompt.choices),
                steps => Serde(steps),
                schema => schema,
            })
            .map_err(|e| template_error(&self.origin, &e))
    }
}

/// One line naming the template's file: minijinja's message and where in the template.
fn template_error(origin: &str, error: &minijinja::Error) -> anyhow::Error {
    let mut message = format!("{origin}: prompt template: {error}");
    if let Some(line) = error.line() {
        message.push_str(&format!(" (template line {line})"));
    }
    anyhow::anyhow!(message.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::read_traces;
    use crate::trace::TraceLine;

    fn example_trace() -> Trace {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/traces.jsonl");
        let file = read_traces(&path).unwrap();
        match file.lines.into_iter().next() {
            Some(TraceLine::Done(trace)) => *trace,
            other => panic!("a finished example trace, got {other:?}"),
        }
    }

    #[test]
    fn the_default_prompt_shows_caption_events_question_steps_and_schema() {
        let trace = example_trace();
        let caption = Caption {
            caption: "A quiet room with CAPTION-MARK in it.".into(),
            events: Some(
                ["EVENT-MARK one", "EVENT-MARK two"]
                    .map(|name| super::super::CaptionEvent {
                        name: name.into(),
                        span: None,
                    })
                    .to_vec(),
            ),
        };
        let prompt = JudgePrompt::load(None)
            .unwrap()
            .render(&trace, &caption)
            .unwrap();
        assert!(prompt.contains("CAPTION-MARK"), "{prompt}");
        assert!(prompt.contains("EVENT-MARK one") && prompt.contains("EVENT-MARK two"));
        assert!(prompt.contains(trace.prompt.question.as_deref().unwrap()));
        for choice in &trace.prompt.choices {
            assert!(prompt.contains(choice.as_str()), "{choice}");
        }
        for (index, step) in trace.steps.iter().enumerate() {
            assert!(
                prompt.contains(&format!("[{index}] {}", step.text)),
                "step {index}"
            );
        }
        assert!(
            prompt.contains("\"additionalProperties\": false"),
            "the schema"
        );
    }

    #[test]
    fn a_custom_prompt_is_used_and_its_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.md");
        std::fs::write(
            &good,
            "{{ caption }} / {% for s in steps %}{{ s.index }}{% endfor %}",
        )
        .unwrap();
        let trace = example_trace();
        let caption = Caption {
            caption: "cap".into(),
            events: None,
        };
        let prompt = JudgePrompt::load(Some(&good)).unwrap();
        let expected: String = (0..trace.steps.len()).map(|i| i.to_string()).collect();
        assert_eq!(
            prompt.render(&trace, &caption).unwrap(),
            format!("cap / {expected}")
        );
        assert_ne!(prompt.sha256(), JudgePrompt::load(None).unwrap().sha256());

        let broken = dir.path().join("broken.md");
        std::fs::write(&broken, "{% for s in steps %}").unwrap();
        let error = JudgePrompt::load(Some(&broken)).err().unwrap().to_string();
        assert!(error.contains("broken.md: prompt template"), "{error}");

        let misspelt = dir.path().join("misspelt.md");
        std::fs::write(&misspelt, "{{ captoin }}").unwrap();
        let error = JudgePrompt::load(Some(&misspelt))
            .unwrap()
            .render(&trace, &caption)
            .unwrap_err()
            .to_string();
        assert!(error.contains("misspelt.md: prompt template"), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
