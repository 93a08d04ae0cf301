//! Generation settings shared by `run` and `batch`.

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::model::{CaptureOptions, Checkpoint, GenerateOptions, Sampling};
use crate::trace::StepRules;

#[derive(Debug, Clone, Args)]
pub struct GenerationArgs {
    /// Template for benchmark questions: "r1-aqa", "r1-aqa-think", or text with {question} and
    /// {choices}.
    #[arg(long, value_name = "TEMPLATE", default_value = "r1-aqa")]
    pub prompt_template: String,
    /// A system turn (the chat template's default when absent).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Most tokens to generate.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_new_tokens: usize,
    /// Stop tokens cannot end the run before this many tokens (as transformers' min_new_tokens).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_new_tokens: usize,
    /// Choose the most likely token each time (the default).
    #[arg(long, conflicts_with_all = ["temperature", "top_p", "top_k", "seed"])]
    pub greedy: bool,
    /// Sample with this temperature instead of decoding greedily.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Nucleus sampling: keep the most likely tokens up to this probability mass.
    #[arg(long, value_name = "P", requires = "temperature")]
    pub top_p: Option<f32>,
    /// Keep only the K most likely tokens (0: all).
    #[arg(long, value_name = "K", requires = "temperature")]
    pub top_k: Option<usize>,
    /// Seed of the sampler; the same seed gives the same output.
    #[arg(long, value_name = "S", requires = "temperature")]
    pub seed: Option<u64>,
    /// Turn attention capture off (to measure its cost).
    #[arg(long)]
    pub no_capture: bool,
    /// Also keep each head's audio map.
    #[arg(long, conflicts_with = "no_capture")]
    pub per_head_maps: bool,
    /// Also capture the prompt tokens' attention.
    #[arg(long, conflicts_with = "no_capture")]
    pub capture_prompt: bool,
    /// How to cut the generated text into steps: a JSON file of `StepRules` fields (absent
    /// fields keep their defaults), for example {"line_breaks": false, "long_paragraph_chars": 500}.
    #[arg(long, value_name = "FILE.json")]
    pub step_rules: Option<std::path::PathBuf>,
}

impl GenerationArgs {
    /// The step rules of --step-rules, or the defaults.
    pub fn step_rules(&self) -> Result<StepRules> {
        let Some(path) = &self.step_rules else {
            return Ok(StepRules::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid step rules", path.display()))
    }

    fn sampling(&self) -> Result<Sampling> {
        let Some(temperature) = self.temperature else {
            return Ok(Sampling::Greedy);
        };
        let top_p = self.top_p.unwrap_or(1.0);
        if !(temperature > 0.0 && temperature.is_finite()) {
            bail!("--temperature must be a positive number, got {temperature}");
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            bail!("--top-p must be in (0, 1], got {top_p}");
        }
        Ok(Sampling::Sample {
            temperature,
            top_p,
            top_k: self.top_k.unwrap_or(0),
            seed: self.seed.unwrap_or(0),
        })
    }

    /// The generation parameters, with the checkpoint's stop ids.
    pub fn options(&self, checkpoint: &Checkpoint) -> Result<GenerateOptions> {
        Ok(GenerateOptions {
            sampling: self.sampling()?,
            max_new_tokens: self.max_new_tokens,
            min_new_tokens: self.min_new_tokens,
            stop_ids: checkpoint.generation.eos_token_id.clone(),
            capture: CaptureOptions {
                enabled: !self.no_capture,
                per_head_maps: self.per_head_maps,
                prompt: self.capture_prompt,
            },
        })
    }
}
