//! The prompt of a single run (`run`, and `inspect` run live): verbatim text, or a
//! benchmark-style question with choices turned into a prompt by a template.

use anyhow::{bail, Result};
use clap::Args;

use crate::benchmark::prompt::{benchmark_prompt, template_by_name};

#[derive(Debug, Clone, Args)]
pub struct PromptArgs {
    /// Text of the user turn after the audio, sent verbatim.
    #[arg(long, value_name = "TEXT", conflicts_with = "question")]
    pub prompt: Option<String>,
    /// A benchmark question, turned into a prompt by --prompt-template.
    #[arg(long, value_name = "TEXT")]
    pub question: Option<String>,
    /// The question's choices, comma-separated.
    #[arg(
        long,
        value_name = "A,B,..",
        value_delimiter = ',',
        requires = "question"
    )]
    pub choices: Vec<String>,
}

impl PromptArgs {
    /// The user turn's text: `--prompt` as it is, or `--question` through `template` (a
    /// template name or text with `{question}` and `{choices}`).
    pub fn text(&self, template: &str) -> Result<String> {
        match (&self.prompt, &self.question) {
            (Some(prompt), _) => Ok(prompt.clone()),
            (None, Some(question)) => Ok(benchmark_prompt(
                template_by_name(template),
                question,
                &self.choices,
            )),
            (None, None) => bail!("a run needs --prompt or --question"),
        }
    }
}
