//! Causal evidence for a finished trace: reliance and occlusion (`model::reliance`), the answer
//! regenerated without the audio, and the interventions that hide the audio from a step on.
//!
//! Everything starts from the trace, so a fresh run (`run --reliance`) and a trace made long ago
//! (`auscult reliance`) are measured the same way: the clip is decoded again (and must hash as
//! the trace says), the prompt prepared again (and must give the trace's ids), then the passes
//! run. Regenerations are greedy with the trace's token limits and stop ids, capture off.
//! `intervene` makes one step's intervention alone (the inspector's key), token by token.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Tensor;

use super::records::stop_record;
use crate::audio::decode_file;
use crate::benchmark::answer::{extract_answer, is_correct, score};
use crate::model::{
    generate_continuation, measure_evidence, prefill_context, CaptureOptions, Checkpoint,
    Continuation, Counterfactual, Evidence, EvidenceRequest, GenerateOptions, GenerationEvent,
    OcclusionWindows, PreparedInput, Sampling,
};
use crate::trace::{
    file_sha256, CounterfactualAnswer, EvidenceRecord, Intervention, OcclusionRecord, Regeneration,
    SidecarArrays, Trace,
};

/// Sliding occlusion windows, in seconds of the clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcclusionSettings {
    pub window_seconds: f64,
    pub hop_seconds: f64,
}

/// What to measure for a trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceOptions {
    /// Per-token reliance under these counterfactuals.
    pub reliance: Vec<Counterfactual>,
    pub occlusion: Option<OcclusionSettings>,
    /// Regenerate the answer with this counterfactual.
    pub counterfactual_answer: Option<Counterfactual>,
    /// Regenerate from the start of every step with the audio hidden.
    pub hide_audio_from_steps: bool,
}

impl EvidenceOptions {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the sidecar gets arrays (which needs one: attention capture on).
    pub fn needs_sidecar(&self) -> bool {
        !self.reliance.is_empty() || self.occlusion.is_some()
    }
}

/// Measures `options` for `trace`, whose clip is at `clip`, recording into `trace.evidence` and
/// `arrays.evidence` (the trace's sidecar arrays, which per-token measurements need).
pub fn add_evidence(
    checkpoint: &mut Checkpoint,
    trace: &mut Trace,
    arrays: Option<&mut SidecarArrays>,
    clip: &Path,
    options: &EvidenceOptions,
) -> Result<()> {
    if options.is_empty() {
        return Ok(());
    }
    // The record goes back into the trace whatever happens, so arrays already stored in the
    // sidecar are never left without the record that names them.
    let mut record = trace.evidence.take().unwrap_or_default();
    let measured = measure_into(checkpoint, trace, arrays, clip, options, &mut record);
    if !record.is_empty() {
        trace.evidence = Some(record);
    }
    measured
}

/// `add_evidence`'s measurements, each recorded into `record` as soon as it is made.
fn measure_into(
    checkpoint: &mut Checkpoint,
    trace: &Trace,
    arrays: Option<&mut SidecarArrays>,
    clip: &Path,
    options: &EvidenceOptions,
    record: &mut EvidenceRecord,
) -> Result<()> {
    let (samples, input) = prepare_again(checkpoint, trace, clip)?;
    let generated = trace.generation.ids.clone();

    if options.needs_sidecar() {
        let Some(arrays) = arrays else {
            bail!(
                "trace {}: reliance and occlusion are stored beside the attention, and this run \
                 captured none (drop --no-capture)",
                trace.id
            );
        };
        let rate = f64::from(trace.audio.sample_rate);
        // Only the audio the model heard: a longer clip was cut to the window.
        let heard = samples
            .len()
            .min((trace.audio.window_seconds * rate) as usize);
        let windows = options.occlusion.map(|settings| {
            let to_samples = |seconds: f64| (seconds * rate).round() as usize;
            OcclusionWindows::sliding(
                heard,
                to_samples(settings.window_seconds),
                to_samples(settings.hop_seconds),
            )
        });
        let request = EvidenceRequest {
            counterfactuals: options.reliance.clone(),
            occlusion: windows.clone(),
        };
        let (evidence, timings) =
            measure_evidence(checkpoint, &samples, &input, &generated, &request)?;
        record
            .seconds
            .insert("actual".into(), timings.actual_seconds);
        for (counterfactual, seconds) in &timings.counterfactual_seconds {
            record.seconds.insert(counterfactual.to_string(), *seconds);
        }
        if let Some((settings, windows)) = options.occlusion.zip(windows) {
            record
                .seconds
                .insert("occlusion".into(), timings.occlusion_seconds);
            record.occlusion = Some(OcclusionRecord {
                window_seconds: settings.window_seconds,
                hop_seconds: settings.hop_seconds,
                windows: windows
                    .windows
                    .iter()
                    .map(|w| [w.start as f64 / rate, w.end as f64 / rate])
                    .collect(),
            });
        }
        // What was held and not measured again stays beside the new arrays.
        let evidence = match arrays.evidence.take() {
            Some(held) if held.tokens() == evidence.tokens() => keep_held(held, evidence),
            _ => {
                if options.occlusion.is_none() {
                    record.occlusion = None;
                }
                evidence
            }
        };
        record.reliance = evidence
            .counterfactuals
            .iter()
            .map(|(c, _)| c.to_string())
            .collect();
        arrays.evidence = Some(evidence);
    }

    let regeneration_options = regeneration_options(trace);
    if let Some(counterfactual) = options.counterfactual_answer {
        let started = Instant::now();
        let (context, hide_audio_from) = match counterfactual {
            Counterfactual::Silence => {
                let silent = checkpoint
                    .processor
                    .prepare_like(&vec![0.0; samples.len()], &input)?;
                (checkpoint.embed_input(&silent)?, None)
            }
            Counterfactual::Masked => (
                checkpoint.embed_input(&input)?,
                Some(input.input_ids.len() - 1),
            ),
        };
        let start = Continuation {
            context: &context,
            cached_rows: 0,
            hide_audio_from,
        };
        let regeneration = regenerate(
            checkpoint,
            start,
            &input,
            &regeneration_options,
            "",
            trace,
            |_| ControlFlow::Continue(()),
        )?;
        record.counterfactual_answer = Some(CounterfactualAnswer {
            counterfactual: counterfactual.to_string(),
            regeneration,
        });
        record.seconds.insert(
            "counterfactual_answer".into(),
            started.elapsed().as_secs_f64(),
        );
    }

    if options.hide_audio_from_steps {
        let started = Instant::now();
        record.interventions = interventions(checkpoint, trace, &input, &regeneration_options)?;
        record
            .seconds
            .insert("interventions".into(), started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// `measured` with what `held` has that it lacks: the counterfactuals not measured again (after
/// the measured ones) and the occlusion, when none was measured.
fn keep_held(held: Evidence, mut measured: Evidence) -> Evidence {
    for (counterfactual, rows) in held.counterfactuals {
        if measured.compared(counterfactual).is_none() {
            measured.counterfactuals.push((counterfactual, rows));
        }
    }
    if measured.occlusion.is_none() {
        measured.occlusion = held.occlusion;
    }
    measured
}

/// The clip decoded again and the prompt prepared again, checked against what the trace
/// recorded (the same clip bytes, the same prompt ids), so the passes see the trace's inputs.
fn prepare_again(
    checkpoint: &Checkpoint,
    trace: &Trace,
    clip: &Path,
) -> Result<(Vec<f32>, PreparedInput)> {
    let vocab = checkpoint.config.text_config.vocab_size;
    if let Some(id) = trace
        .generation
        .ids
        .iter()
        .find(|&&id| id as usize >= vocab)
    {
        bail!(
            "trace {}: generated id {id} is outside the model's vocabulary of {vocab}",
            trace.id
        );
    }
    let sha = file_sha256(clip)?;
    if sha != trace.audio.sha256 {
        bail!(
            "{}: not the clip trace {} was made with (its SHA-256 differs); pass the original \
             clip's folder",
            clip.display(),
            trace.id
        );
    }
    let audio = decode_file(clip, trace.audio.sample_rate)?;
    let input = checkpoint.processor.prepare(
        &audio.samples,
        &trace.prompt.text,
        trace.prompt.system.as_deref(),
    )?;
    if input.input_ids != trace.input.ids {
        bail!(
            "{}: gives other prompt ids than trace {} records ({} ids, the trace {}); measure \
             with the model that made the trace",
            checkpoint.dir.display(),
            trace.id,
            input.input_ids.len(),
            trace.input.ids.len()
        );
    }
    Ok((audio.samples, input))
}

/// Refuses to measure `trace` with a checkpoint that did not make it (another config.json, whose
/// SHA-256 `config_sha` is not the trace's) or that is loaded another way (dtype, quantization):
/// the actual pass would not give the run's distributions.
pub fn check_made_by(checkpoint: &Checkpoint, config_sha: &str, trace: &Trace) -> Result<()> {
    if trace.model.config_sha256 != config_sha {
        bail!(
            "made by {} (another config.json than {}): measure with the model that made it",
            trace.model.path,
            checkpoint.dir.display()
        );
    }
    let quantization = checkpoint
        .quantization
        .as_ref()
        .map(|q| q.format.name().to_owned());
    if trace.model.quantization != quantization
        || trace.model.dtype != checkpoint.precision.to_string()
    {
        let made = match &trace.model.quantization {
            Some(format) => format!("--quantize {format}"),
            None => format!("--dtype {}", trace.model.dtype),
        };
        bail!("made with {made}: load the model the same way");
    }
    Ok(())
}

/// What an answer says, for telling whether two answers differ: for a benchmark item the choice
/// the official matcher finds in it (so "B" and "(b)" agree), else its extracted text with case,
/// spaces and punctuation left out; `None` when it has no answer at all.
fn answer_key(text: &str, trace: &Trace) -> Option<String> {
    let extracted = extract_answer(text);
    if let Some(item) = &trace.benchmark {
        if let Some(choice) = item
            .choices
            .iter()
            .find(|choice| is_correct(&extracted, choice, &item.choices))
        {
            return Some(choice.clone());
        }
    }
    let normalised: String = extracted
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    (!normalised.is_empty()).then_some(normalised)
}

/// Greedy, with the trace's token limits and stop ids, no capture.
fn regeneration_options(trace: &Trace) -> GenerateOptions {
    let params = &trace.generation.params;
    GenerateOptions {
        sampling: Sampling::Greedy,
        max_new_tokens: params.max_new_tokens,
        min_new_tokens: params.min_new_tokens,
        stop_ids: params.stop_ids.clone(),
        capture: CaptureOptions {
            enabled: false,
            per_head_maps: false,
            prompt: false,
        },
    }
}

/// Generates from `start`; `kept_text` is the text of the tokens the context keeps after the
/// prompt, which the answer is extracted from together with the new text. `on_token` sees how
/// many tokens are new after each one and may stop the generation (`StopReason::Cancelled`).
fn regenerate(
    checkpoint: &mut Checkpoint,
    start: Continuation,
    input: &PreparedInput,
    options: &GenerateOptions,
    kept_text: &str,
    trace: &Trace,
    mut on_token: impl FnMut(usize) -> ControlFlow<()>,
) -> Result<Regeneration> {
    let generation = generate_continuation(
        &mut checkpoint.model,
        start,
        input.audio_span.clone(),
        options,
        |event| match event {
            GenerationEvent::Token { index, .. } => on_token(index + 1),
            GenerationEvent::Prompt { .. } => ControlFlow::Continue(()),
        },
    )?;
    let text = format!(
        "{kept_text}{}",
        checkpoint.processor.decode(&generation.ids)?
    );
    let answer = trace.benchmark.as_ref().map(|item| score(&text, item));
    Ok(Regeneration {
        ids: generation.ids,
        text,
        stop_reason: stop_record(generation.stopped_by),
        answer,
    })
}

/// One regeneration per step, from its first token with the audio hidden from there on. The
/// original prompt and generation are run into the cache once; steps are taken from the last to
/// the first, so the cache cut back to each step's start still holds only original rows.
fn interventions(
    checkpoint: &mut Checkpoint,
    trace: &Trace,
    input: &PreparedInput,
    options: &GenerateOptions,
) -> Result<Vec<Intervention>> {
    let generated = &trace.generation.ids;
    if generated.is_empty() || trace.steps.is_empty() {
        return Ok(Vec::new());
    }
    let prompt = input.input_ids.len();
    let embeds = checkpoint.embed_input(input)?;
    let context = Tensor::cat(&[embeds, checkpoint.model.embed_tokens(generated)?], 0)?;
    // The original rows into the cache: every context row but the last.
    let rows = context.dim(0)?;
    prefill_context(&mut checkpoint.model, &context.narrow(0, 0, rows - 1)?)?;
    let original_answer = answer_key(&trace.generation.text, trace);
    let mut interventions = Vec::new();
    for step in trace.steps.iter().rev() {
        let from_token = step.tokens[0];
        let kept_rows = prompt + from_token;
        let kept_text = trace
            .generation
            .text
            .get(..step.bytes[0])
            .context("a step's byte range lies inside the text")?;
        let start = Continuation {
            context: &context.narrow(0, 0, kept_rows)?,
            cached_rows: kept_rows - 1,
            hide_audio_from: Some(kept_rows - 1),
        };
        let regeneration = regenerate(
            checkpoint,
            start,
            input,
            &remaining_limits(options, from_token),
            kept_text,
            trace,
            |_| ControlFlow::Continue(()),
        )?;
        interventions.push(Intervention {
            from_step: step.index,
            from_token,
            answer_changed: answer_key(&regeneration.text, trace) != original_answer,
            regeneration,
        });
    }
    interventions.reverse();
    Ok(interventions)
}

/// The token limits left for a regeneration that keeps `kept_tokens` generated tokens.
fn remaining_limits(options: &GenerateOptions, kept_tokens: usize) -> GenerateOptions {
    GenerateOptions {
        max_new_tokens: options.max_new_tokens.saturating_sub(kept_tokens).max(1),
        min_new_tokens: options.min_new_tokens.saturating_sub(kept_tokens),
        ..options.clone()
    }
}

/// One step's intervention alone: `trace`'s generation regenerated from the start of step
/// `step` with the audio hidden from every new token, as `hide_audio_from_steps` makes it for
/// every step. `on_token` sees how many tokens are new after each one; `Break` stops the
/// generation, and the intervention then says `StopReason::Cancelled`.
pub fn intervene(
    checkpoint: &mut Checkpoint,
    trace: &Trace,
    clip: &Path,
    step: usize,
    on_token: impl FnMut(usize) -> ControlFlow<()>,
) -> Result<Intervention> {
    let chosen = trace
        .steps
        .get(step)
        .with_context(|| format!("trace {} has no step {step}", trace.id))?;
    let (_, input) = prepare_again(checkpoint, trace, clip)?;
    let from_token = chosen.tokens[0];
    let kept_rows = input.input_ids.len() + from_token;
    let embeds = checkpoint.embed_input(&input)?;
    let kept_ids = &trace.generation.ids[..from_token.min(trace.generation.ids.len())];
    let context = if kept_ids.is_empty() {
        embeds
    } else {
        Tensor::cat(&[embeds, checkpoint.model.embed_tokens(kept_ids)?], 0)?
    };
    let kept_text = trace
        .generation
        .text
        .get(..chosen.bytes[0])
        .context("a step's byte range lies inside the text")?;
    // The kept rows see the audio as they did; the last of them (which predicts the step's
    // first token) and every new one do not.
    let start = Continuation {
        context: &context,
        cached_rows: 0,
        hide_audio_from: Some(kept_rows - 1),
    };
    let options = remaining_limits(&regeneration_options(trace), from_token);
    let regeneration = regenerate(
        checkpoint, start, &input, &options, kept_text, trace, on_token,
    )?;
    Ok(Intervention {
        from_step: chosen.index,
        from_token,
        answer_changed: answer_key(&regeneration.text, trace)
            != answer_key(&trace.generation.text, trace),
        regeneration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActualRows, ComparedRows, OcclusionRows};

    fn rows(value: f32) -> ComparedRows {
        ComparedRows {
            delta: vec![value; 2],
            kl: vec![value; 2],
            top1: vec![1, 2],
        }
    }

    /// Measuring masked on arrays that held silence and occlusion keeps both beside it; a
    /// counterfactual measured again replaces the held one.
    #[test]
    fn measuring_more_keeps_what_was_held() {
        let actual = ActualRows {
            log_prob: vec![-1.0, -2.0],
            top1: vec![1, 2],
        };
        let occlusion = Some(OcclusionRows {
            tokens: 2,
            windows: 1,
            delta: vec![0.5; 2],
            kl: vec![0.1; 2],
        });
        let held = Evidence {
            actual: actual.clone(),
            counterfactuals: vec![
                (Counterfactual::Silence, rows(1.0)),
                (Counterfactual::Masked, rows(3.0)),
            ],
            occlusion: occlusion.clone(),
        };
        let measured = Evidence {
            actual,
            counterfactuals: vec![(Counterfactual::Masked, rows(2.0))],
            occlusion: None,
        };
        let kept = keep_held(held, measured);
        assert_eq!(
            kept.counterfactuals,
            vec![
                (Counterfactual::Masked, rows(2.0)),
                (Counterfactual::Silence, rows(1.0))
            ]
        );
        assert_eq!(kept.occlusion, occlusion);
    }
}
