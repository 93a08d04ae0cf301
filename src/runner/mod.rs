//! One example, from a clip and a prompt to a finished trace: the pipeline `run`, `batch` and the
//! inspector's live mode share.
//!
//! It decodes the clip, builds the model inputs, generates with capture, splits the steps,
//! extracts and scores the answer when the example is a benchmark item, and fills a `Trace` and
//! its attention arrays. Writing them is the caller's business.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::audio::decode_file;
use crate::benchmark::answer::score;
use crate::model::{
    generate, AttentionRows, Checkpoint, GenerateOptions, GenerationEvent, ModelError, TextStream,
    Timings,
};
use crate::trace::{
    file_sha256, AudioIdentity, BenchmarkRecord, ExpertsRecord, InputRecord, ModelIdentity,
    PromptRecord, SidecarArrays, StepRules, StopReason, Trace, TraceStart,
};

mod evidence;
mod records;
use records::{params_record, stop_record, timings_record};

pub use evidence::{add_evidence, check_made_by, intervene, EvidenceOptions, OcclusionSettings};

/// What to run: a clip, the prompt text, and the benchmark item it comes from (if any).
pub struct ExampleInput<'a> {
    pub id: String,
    pub audio: &'a Path,
    /// The user turn's text after the audio.
    pub prompt: String,
    pub system: Option<String>,
    pub benchmark: Option<BenchmarkRecord>,
    /// How the generated text is cut into steps.
    pub step_rules: StepRules,
}

/// The checkpoint as a trace names it.
fn model_identity(checkpoint: &Checkpoint) -> Result<ModelIdentity> {
    let config = &checkpoint.config;
    Ok(ModelIdentity {
        path: checkpoint.dir.display().to_string(),
        model_type: config.model_type.clone(),
        config_sha256: file_sha256(&checkpoint.dir.join("config.json"))?,
        dtype: checkpoint.precision.to_string(),
        quantization: checkpoint
            .quantization
            .as_ref()
            .map(|q| q.format.name().to_owned()),
        device: if checkpoint.device.is_cpu() {
            "cpu"
        } else {
            "cuda"
        }
        .to_owned(),
        layers: config.text_config.num_hidden_layers,
        heads: config.text_config.num_attention_heads,
        kv_heads: config.text_config.num_key_value_heads(),
        experts: (config.text_config.num_experts > 0).then_some(ExpertsRecord {
            count: config.text_config.num_experts,
            top_k: config.text_config.num_experts_per_tok,
        }),
    })
}

/// Streamed while an example runs: the trace before generation (model, clip, prompt, inputs),
/// then each token as it is chosen, with its text piece and attention row.
pub enum Progress<'a> {
    Prepared {
        trace: &'a Trace,
    },
    Token {
        index: usize,
        id: u32,
        piece: &'a str,
        /// The token's attention row (capture on).
        attention: Option<&'a AttentionRows>,
    },
}

/// Runs `example` and returns its trace and attention arrays (`None` with capture off). The
/// trace's `attention.sidecar` is `sidecar_name`. `on_progress` returning `Break` cancels (at
/// `Prepared`, before the model runs: no tokens, stop reason `Cancelled`).
pub fn run_example(
    checkpoint: &mut Checkpoint,
    example: &ExampleInput,
    options: &GenerateOptions,
    sidecar_name: &str,
    mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<(Trace, Option<SidecarArrays>)> {
    let mel_config = checkpoint.processor.mel_config().clone();
    let audio = decode_file(example.audio, mel_config.sampling_rate)?;
    let input = checkpoint
        .processor
        .prepare(&audio.samples, &example.prompt, example.system.as_deref())
        .with_context(|| example.audio.display().to_string())?;
    let mut trace = Trace::begin(TraceStart {
        id: example.id.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        model: model_identity(checkpoint)?,
        audio: AudioIdentity {
            path: example.audio.display().to_string(),
            sha256: file_sha256(example.audio).with_context(|| "hashing the clip")?,
            duration_seconds: audio.duration_seconds(),
            sample_rate: mel_config.sampling_rate,
            window_seconds: checkpoint.window_seconds(audio.duration_seconds()),
            truncated: input.mel.truncated,
            seconds_per_audio_token: checkpoint.seconds_per_audio_token(),
        },
        prompt: PromptRecord {
            text: example.prompt.clone(),
            question: example.benchmark.as_ref().map(|b| b.question.clone()),
            choices: example
                .benchmark
                .as_ref()
                .map(|b| b.choices.clone())
                .unwrap_or_default(),
            system: example.system.clone(),
            rendered: input.rendered.clone(),
        },
        input: InputRecord {
            ids: input.input_ids.clone(),
            audio_span: [input.audio_span.start, input.audio_span.end],
        },
        params: params_record(options),
        benchmark: example.benchmark.clone(),
    });
    trace.timings = timings_record(checkpoint.load_seconds, &Timings::default());
    // A cancel before the model runs returns the trace with nothing generated.
    if on_progress(Progress::Prepared { trace: &trace }).is_break() {
        trace.generation.stop_reason = StopReason::Cancelled;
        return Ok((trace, None));
    }

    let started = Instant::now();
    let embeds = checkpoint.embed_input(&input)?;
    let embed_seconds = started.elapsed().as_secs_f64();

    let processor = &checkpoint.processor;
    let mut stream = TextStream::new(processor);
    let mut pieces: Vec<String> = Vec::new();
    let mut stream_error: Option<ModelError> = None;
    let generation = generate(
        &mut checkpoint.model,
        &embeds,
        input.audio_span.clone(),
        options,
        |event| {
            let GenerationEvent::Token {
                index,
                id,
                attention,
            } = event
            else {
                return ControlFlow::Continue(());
            };
            match stream.push(id) {
                Ok(piece) => {
                    let flow = on_progress(Progress::Token {
                        index,
                        id,
                        piece: &piece,
                        attention,
                    });
                    pieces.push(piece);
                    flow
                }
                Err(e) => {
                    stream_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
    )?;
    if let Some(e) = stream_error {
        return Err(e.into());
    }
    let tail = stream.finish()?;
    if let Some(last) = pieces.last_mut() {
        last.push_str(&tail);
    }
    // Every token event pushed a piece (a stop token's and a held-back partial character's are
    // empty), so there is one piece offset per generated id.
    debug_assert_eq!(pieces.len(), generation.ids.len());
    let text = processor.decode(&generation.ids)?;

    trace.answer = example.benchmark.as_ref().map(|item| score(&text, item));
    if let Some(rows) = &generation.attention {
        trace.record_attention(sidecar_name, rows, generation.prompt_attention.as_ref());
    }
    trace.timings = timings_record(checkpoint.load_seconds, &generation.timings);
    trace.timings.prefill_seconds += embed_seconds;
    trace.timings.audio_encoder_seconds = embed_seconds;
    trace.record_generation(
        generation.ids,
        text,
        &pieces,
        stop_record(generation.stopped_by),
        &example.step_rules,
    );
    let arrays = generation.attention.map(|rows| SidecarArrays {
        generated: rows,
        prompt: generation.prompt_attention,
        evidence: None,
    });
    Ok((trace, arrays))
}
