//! `auscult run`: one headless generation, written as a trace and its attention sidecar.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::model_args::{check_output, prepare_input, ModelArgs};
use crate::benchmark::prompt::{benchmark_prompt, template_by_name};
use crate::model::{
    generate, CaptureSettings, Decoding, GenerationEvent, GenerationParams, ModelError, TextStream,
};
use crate::trace::{
    file_sha256, sidecar_path, split_steps, write_sidecar, AttentionRecord, AudioIdentity,
    GenerationRecord, InputRecord, ModelIdentity, PromptRecord, SidecarArrays, StepRules, Trace,
    TraceTimings, TRACE_SCHEMA,
};

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Audio file: WAV, FLAC, MP3, Ogg Vorbis or AAC/M4A.
    #[arg(long, value_name = "FILE")]
    pub audio: PathBuf,
    /// Text of the user turn after the audio, sent verbatim.
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "question",
        required_unless_present = "question"
    )]
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
    /// Template for --question: "r1-aqa", "r1-aqa-think", or text with {question} and {choices}.
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
    /// Print the text as it is generated.
    #[arg(long)]
    pub stream: bool,
    /// Where to write the trace; the attention sidecar goes beside it (`.attn.safetensors`).
    #[arg(long, value_name = "TRACE.json")]
    pub out: PathBuf,
}

impl RunArgs {
    fn decoding(&self) -> Result<Decoding> {
        let Some(temperature) = self.temperature else {
            return Ok(Decoding::Greedy);
        };
        let top_p = self.top_p.unwrap_or(1.0);
        if !(temperature > 0.0 && temperature.is_finite()) {
            bail!("--temperature must be a positive number, got {temperature}");
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            bail!("--top-p must be in (0, 1], got {top_p}");
        }
        Ok(Decoding::Sample {
            temperature,
            top_p,
            top_k: self.top_k.unwrap_or(0),
            seed: self.seed.unwrap_or(0),
        })
    }

    fn prompt_text(&self) -> String {
        match (&self.prompt, &self.question) {
            (Some(prompt), _) => prompt.clone(),
            (None, Some(question)) => benchmark_prompt(
                template_by_name(&self.prompt_template),
                question,
                &self.choices,
            ),
            (None, None) => unreachable!("clap requires --prompt or --question"),
        }
    }
}

pub fn run(args: RunArgs) -> Result<()> {
    check_output(&args.out, &[&args.audio])?;
    let sidecar = sidecar_path(&args.out);
    check_output(&sidecar, &[&args.audio])?;
    let decoding = args.decoding()?;
    let prompt = args.prompt_text();

    let mut checkpoint = args.model.load()?;
    let (audio, input) = prepare_input(&checkpoint, &args.audio, &prompt, args.system.as_deref())?;
    let params = GenerationParams {
        decoding,
        max_new_tokens: args.max_new_tokens,
        min_new_tokens: args.min_new_tokens,
        stop_ids: checkpoint.generation.eos_token_id.clone(),
        capture: CaptureSettings {
            enabled: !args.no_capture,
            per_head_maps: args.per_head_maps,
            prompt: args.capture_prompt,
        },
    };

    let prefill_started = std::time::Instant::now();
    let embeds = checkpoint.embed_input(&input)?;
    let embed_seconds = prefill_started.elapsed().as_secs_f64();
    let processor = &checkpoint.processor;
    let mut stream = TextStream::new(processor);
    let mut pieces: Vec<String> = Vec::new();
    let mut stream_error: Option<ModelError> = None;
    let mut stdout = std::io::stdout();
    let generation = generate(
        &mut checkpoint.model,
        &embeds,
        input.audio_span.clone(),
        &params,
        |event| {
            if let GenerationEvent::Token { id, .. } = event {
                match stream.push(id) {
                    Ok(piece) => {
                        if args.stream {
                            let _ = write!(stdout, "{piece}");
                            let _ = stdout.flush();
                        }
                        pieces.push(piece);
                    }
                    Err(e) => {
                        stream_error = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        },
    )?;
    if let Some(e) = stream_error {
        return Err(e.into());
    }
    let tail = stream.finish()?;
    if let Some(last) = pieces.last_mut() {
        last.push_str(&tail);
    }
    if args.stream {
        println!("{tail}");
    }
    let text = processor.decode(&generation.ids)?;

    let config = &checkpoint.config;
    let mel = processor.mel_config();
    let attention = match &generation.attention {
        Some(rows) => {
            write_sidecar(
                &sidecar,
                &SidecarArrays {
                    generated: rows.clone(),
                    prompt: generation.prompt_attention.clone(),
                },
            )?;
            Some(AttentionRecord {
                sidecar: sidecar
                    .file_name()
                    .context("the sidecar has a file name")?
                    .to_string_lossy()
                    .into_owned(),
                layers: rows.layers,
                heads: rows.heads,
                audio_tokens: rows.audio_tokens,
                generated_rows: rows.rows,
                prompt_rows: generation.prompt_attention.as_ref().map_or(0, |p| p.rows),
                per_head_maps: rows.head_maps.is_some(),
            })
        }
        None => None,
    };
    let mut timings = TraceTimings::new(checkpoint.load_seconds, &generation.timings);
    timings.prefill_seconds += embed_seconds;
    let trace = Trace {
        schema: TRACE_SCHEMA.to_owned(),
        id: args
            .audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        auscult_version: env!("CARGO_PKG_VERSION").to_owned(),
        model: ModelIdentity {
            path: args.model.model.display().to_string(),
            family: config.model_type.clone(),
            config_sha256: file_sha256(&checkpoint.dir.join("config.json"))?,
            dtype: format!("{:?}", args.model.dtype).to_lowercase(),
            device: format!("{:?}", args.model.device).to_lowercase(),
            layers: config.text_config.num_hidden_layers,
            heads: config.text_config.num_attention_heads,
            kv_heads: config.text_config.num_key_value_heads(),
        },
        audio: AudioIdentity {
            path: args.audio.display().to_string(),
            sha256: file_sha256(&args.audio)?,
            duration_seconds: audio.duration_seconds(),
            sample_rate: mel.sampling_rate,
            window_seconds: mel.chunk_length as f64,
            truncated: input.mel.truncated,
            seconds_per_audio_token: 4.0 * mel.hop_length as f64 / f64::from(mel.sampling_rate),
        },
        prompt: PromptRecord {
            text: prompt,
            question: args.question.clone(),
            choices: args.choices.clone(),
            system: args.system.clone(),
            rendered: input.rendered.clone(),
        },
        input: InputRecord {
            ids: input.input_ids.clone(),
            audio_span: [input.audio_span.start, input.audio_span.end],
        },
        steps: split_steps(&pieces, &StepRules::default()),
        generation: GenerationRecord {
            ids: generation.ids.clone(),
            text,
            stop_reason: generation.stop_reason,
            params,
        },
        timings,
        attention,
    };
    trace.write(&args.out)?;
    eprintln!(
        "{}: {} tokens ({:?}), prefill {:.2} s, decode {:.1} tokens/s",
        args.out.display(),
        generation.ids.len(),
        generation.stop_reason,
        trace.timings.prefill_seconds,
        generation.timings.decode_tokens_per_second
    );
    Ok(())
}
