//! The bundled assets (the example trace, the demo model and its example clips), found beside
//! the crate in a source checkout, else in the working folder; and what `auscult` with no
//! arguments opens: the demo model run live on the first bundled example.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::{DeviceKind, GenerateOptions, LoadOptions, Precision};
use crate::synth::checker::label_steps;
use crate::synth::evaluation::benchmark_record;
use crate::synth::prompts::PromptStyle;
use crate::synth::question::Item;
use crate::trace::{read_traces, StepRules, TraceLine};
use crate::tui::live::LiveRequest;

/// The demo model's checkpoint directory.
pub const DEMO_MODEL: &str = "assets/demo-model";
/// The demo model's example clips and their traces.
pub const DEMO_EXAMPLES: &str = "assets/examples";

/// The demo model's example traces file (made by the real pipeline: `demo eval`).
fn demo_example_traces() -> PathBuf {
    bundled(DEMO_EXAMPLES).join("traces.jsonl")
}

/// What `auscult inspect` with no trace opens when the demo model cannot run live: the demo
/// model's example traces (made by the real pipeline), else the hand-made example trace.
pub fn fallback_traces() -> PathBuf {
    let examples = demo_example_traces();
    if examples.is_file() {
        examples
    } else {
        bundled(crate::example_traces::HAND_MADE_TRACE)
    }
}

/// `relative` as given when the working folder has it (the checkout's root: traces then record
/// paths relative to the repository, not where it was cloned), else beside the crate when it
/// exists there, else as given.
pub fn bundled(relative: &str) -> PathBuf {
    let beside_crate = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if Path::new(relative).exists() || !beside_crate.exists() {
        PathBuf::from(relative)
    } else {
        beside_crate
    }
}

/// The live run of the demo model on the first bundled example, or `None` when the model or the
/// examples are not there.
pub fn demo_live_request() -> Result<Option<LiveRequest>> {
    let model = bundled(DEMO_MODEL);
    let traces_path = demo_example_traces();
    if !model.join("model.safetensors").is_file() || !traces_path.is_file() {
        return Ok(None);
    }
    let traces = read_traces(&traces_path)?;
    let first = traces
        .lines
        .iter()
        .find_map(|line| match line {
            TraceLine::Done(trace) => Some(trace),
            TraceLine::Failed(_) => None,
        })
        .with_context(|| format!("{}: no example", traces_path.display()))?;
    let seed: u64 = first
        .id
        .strip_prefix("synth-")
        .and_then(|seed| seed.parse().ok())
        .with_context(|| {
            format!(
                "{}: {:?} is not a synthetic item's id",
                traces_path.display(),
                first.id
            )
        })?;
    let item = Item::generate(seed);
    let audio = bundled(DEMO_EXAMPLES)
        .join("clips")
        .join(format!("synth-{seed}.wav"));
    let labelled = item.clone();
    Ok(Some(LiveRequest {
        model,
        load: LoadOptions {
            precision: Some(Precision::F32),
            ..LoadOptions::new(DeviceKind::Cpu)
        },
        audio,
        prompt: PromptStyle::Demo.user_prompt(&item),
        system: None,
        question: Some(item.question.text()),
        choices: item.choices.clone(),
        benchmark: Some(benchmark_record(&item, 0)),
        labeller: Some(Box::new(move |trace| {
            let texts: Vec<&str> = trace.steps.iter().map(|s| s.text.as_str()).collect();
            label_steps(&labelled, &texts)
        })),
        options: Box::new(|checkpoint| {
            Ok(GenerateOptions::greedy(
                256,
                checkpoint.generation.eos_token_id.clone(),
            ))
        }),
        step_rules: StepRules::default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the demo model's traces there (a checkout), `inspect` with no trace opens them: the
    /// real pipeline's traces before the hand-made one.
    #[test]
    fn inspect_without_a_trace_opens_the_demo_models_traces() {
        let opened = fallback_traces();
        assert!(
            opened.ends_with("assets/examples/traces.jsonl"),
            "{opened:?}"
        );
        assert!(opened.is_file());
    }
}
