//! `auscult run`: one headless generation, written as a trace and its attention sidecar.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::evidence_args::EvidenceArgs;
use super::generation_args::GenerationArgs;
use super::memory_log::{MemoryLog, TOKENS_BETWEEN_LINES};
use super::model_args::{check_output, clip_seconds, ModelArgs};
use super::prompt_args::PromptArgs;
use crate::runner::{add_evidence, run_example, ExampleInput, Progress};
use crate::trace::{sidecar_path, write_sidecar};

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Audio file: WAV, FLAC, MP3, Ogg Vorbis or AAC/M4A.
    #[arg(long, value_name = "FILE")]
    pub audio: PathBuf,
    #[command(flatten)]
    pub prompt: PromptArgs,
    #[command(flatten)]
    pub generation: GenerationArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Print the text as it is generated.
    #[arg(long)]
    pub stream: bool,
    /// Where to write the trace; the attention sidecar goes beside it (`.attn.safetensors`).
    #[arg(long, value_name = "TRACE.json")]
    pub out: PathBuf,
    /// Write this process's resident memory to FILE (tab-separated) before loading, once loaded,
    /// after the prompt, every 256 generated tokens and at the end.
    #[arg(long, value_name = "FILE")]
    pub memory_log: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> Result<()> {
    check_output(&args.out, &[&args.audio])?;
    let sidecar = sidecar_path(&args.out);
    check_output(&sidecar, &[&args.audio])?;
    let prompt = args.prompt.text(&args.generation.prompt_template)?;
    let evidence = args
        .evidence
        .options_with_capture(args.generation.no_capture)?;
    let mut memory_log = args
        .memory_log
        .as_deref()
        .map(MemoryLog::create)
        .transpose()?;
    let mut checkpoint = args.model.load_measuring(
        args.generation.max_new_tokens,
        clip_seconds(&args.audio),
        evidence.needs_sidecar(),
    )?;
    let params = args.generation.options(&checkpoint)?;
    let example = ExampleInput {
        id: args
            .audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        audio: &args.audio,
        prompt,
        system: args.generation.system.clone(),
        benchmark: None,
        step_rules: args.generation.step_rules()?,
    };
    let sidecar_name = sidecar
        .file_name()
        .context("the sidecar has a file name")?
        .to_string_lossy()
        .into_owned();
    let mut stdout = std::io::stdout();
    let (mut trace, mut arrays) = run_example(
        &mut checkpoint,
        &example,
        &params,
        &sidecar_name,
        |progress| {
            let written = memory_log.as_mut().map(|log| match &progress {
                Progress::Prepared { .. } => log.record("loaded", 0),
                Progress::Token { index: 0, .. } => log.record("prefill", 1),
                Progress::Token { index, .. } if (index + 1) % TOKENS_BETWEEN_LINES == 0 => {
                    log.record("decode", *index + 1)
                }
                Progress::Token { .. } => Ok(()),
            });
            if let Some(Err(error)) = written {
                eprintln!("warning: memory log: {error:#}; no more lines are written");
                memory_log = None;
            }
            if let (Progress::Token { piece, .. }, true) = (progress, args.stream) {
                let _ = write!(stdout, "{piece}");
                let _ = stdout.flush();
            }
            ControlFlow::Continue(())
        },
    )?;
    if let Some(log) = &mut memory_log {
        log.record("end", trace.generation.ids.len())?;
    }
    if args.stream {
        println!();
    }
    if trace.audio.truncated {
        eprintln!(
            "warning: {}: the clip is {:.2} s long; the model heard only the first {} s",
            args.audio.display(),
            trace.audio.duration_seconds,
            trace.audio.window_seconds
        );
    }
    // A finished run is written even when its evidence fails (what was measured is kept).
    let mut evidence_error = None;
    if !evidence.is_empty() {
        if let Err(error) = add_evidence(
            &mut checkpoint,
            &mut trace,
            arrays.as_mut(),
            &args.audio,
            &evidence,
        ) {
            evidence_error = Some(error);
        }
        print_evidence_summary(&trace);
    }
    trace.prompt.question = args.prompt.question.clone();
    trace.prompt.choices = args.prompt.choices.clone();
    if let Some(arrays) = &arrays {
        write_sidecar(&sidecar, arrays)?;
    }
    trace.write(&args.out)?;
    if let Some(error) = evidence_error {
        return Err(error.context(format!(
            "{}: written, but its evidence was not all measured",
            args.out.display()
        )));
    }
    eprintln!(
        "{}: {} tokens ({:?}), prefill {:.2} s (audio encoder {:.2} s), decode {:.2} tokens/s",
        args.out.display(),
        trace.generation.ids.len(),
        trace.generation.stop_reason,
        trace.timings.prefill_seconds,
        trace.timings.audio_encoder_seconds,
        trace.timings.decode_tokens_per_second
    );
    Ok(())
}

/// One line per measurement: what it found and what it cost.
fn print_evidence_summary(trace: &crate::trace::Trace) {
    let Some(evidence) = &trace.evidence else {
        return;
    };
    let seconds = |name: &str| evidence.seconds.get(name).copied().unwrap_or(0.0);
    if !evidence.reliance.is_empty() {
        eprintln!(
            "reliance ({}): actual pass {:.2} s, {}",
            evidence.reliance.join(", "),
            seconds("actual"),
            evidence
                .reliance
                .iter()
                .map(|name| format!("{name} {:.2} s", seconds(name)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(occlusion) = &evidence.occlusion {
        eprintln!(
            "occlusion: {} windows of {} s in {:.2} s",
            occlusion.windows.len(),
            occlusion.window_seconds,
            seconds("occlusion")
        );
    }
    if let Some(answer) = &evidence.counterfactual_answer {
        let said = match crate::benchmark::answer::extract_answer(&answer.regeneration.text) {
            said if said.is_empty() => "no answer".to_owned(),
            said => format!("{said:?}"),
        };
        eprintln!(
            "answer with {}: {said} ({} tokens, {:.2} s)",
            answer.counterfactual,
            answer.regeneration.ids.len(),
            seconds("counterfactual_answer")
        );
    }
    if !evidence.interventions.is_empty() {
        let changed = evidence
            .interventions
            .iter()
            .filter(|i| i.answer_changed)
            .count();
        eprintln!(
            "audio hidden from each of {} steps: the answer changed {changed} times ({:.2} s)",
            evidence.interventions.len(),
            seconds("interventions")
        );
    }
}
