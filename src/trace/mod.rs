//! Traces: one run of one model on one clip and prompt, as files people and programs read.
//!
//! A trace is JSON (`auscult.trace/1`, its JSON Schema in `schema/`) for everything a person
//! reads, plus a safetensors sidecar for the attention and evidence arrays (`sidecar`). Readers
//! refuse unknown schema versions with a clear message. `tui`, `report` and `cafe` read these
//! files and never run the model.
//!
//! This module owns every type a trace file stores: the trace and its records (here), the
//! generation record (`generation`), the causal-evidence record (`evidence`), CAFE labels
//! (`labels`), the traces file's lines (`lines`) and the sidecar's arrays (`sidecar`), so the
//! trace format changes here and nowhere else. (The annotation journal, the judge's output and
//! label exports are `cafe`'s own files.) A trace is begun with `Trace::begin` and filled with
//! `record_generation` and `record_attention`, by the runner and by the example traces alike.
//! `steps` cuts a generation into steps; `metrics` computes the attention quantities over the
//! sidecar's rows, `evidence_metrics` the causal ones, `expert_metrics` a mixture-of-experts
//! decoder's routing.

mod evidence;
pub mod evidence_metrics;
pub mod expert_metrics;
mod generation;
mod labels;
mod lines;
pub mod metrics;
mod sidecar;
pub mod steps;

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::AttentionRows;

pub use evidence::{
    CounterfactualAnswer, EvidenceRecord, Intervention, OcclusionRecord, Regeneration,
};
pub use generation::{CaptureSettings, Decoding, GenerationParams, GenerationRecord, StopReason};
pub use labels::{CafeLabel, LabelSource, MissedEvent, SourceKind, StepLabel, TraceLabels};
pub use lines::{append_line, read_traces, FailedItem, RawTraces, TraceLine, TracesFile};
pub use sidecar::{read_sidecar, sidecar_path, write_sidecar, SidecarArrays};
pub use steps::{piece_offsets, split_steps, Step, StepKind, StepRules};

/// The schema id written in every trace.
pub const TRACE_SCHEMA: &str = "auscult.trace/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trace {
    pub schema: String,
    /// The example's id (a benchmark id, or the clip's file stem).
    pub id: String,
    /// When the run finished (RFC 3339, UTC).
    pub created: String,
    pub auscult_version: String,
    pub model: ModelIdentity,
    pub audio: AudioIdentity,
    pub prompt: PromptRecord,
    pub input: InputRecord,
    pub generation: GenerationRecord,
    /// Reasoning steps (`steps::split_steps` with the default rules).
    pub steps: Vec<Step>,
    /// The benchmark item this run answers (`batch`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<BenchmarkRecord>,
    /// The extracted final answer and its verdict (benchmark items only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerRecord>,
    /// CAFE labels of the steps' audio claims, from any source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<TraceLabels>,
    pub timings: TraceTimings,
    /// What the attention sidecar holds; `None` when capture was off.
    pub attention: Option<AttentionRecord>,
    /// Causal evidence measured for this trace (`run --reliance`, `auscult reliance`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelIdentity {
    /// Checkpoint directory as given.
    pub path: String,
    /// `model_type` of config.json.
    #[serde(rename = "family")]
    pub model_type: String,
    /// SHA-256 of config.json.
    pub config_sha256: String,
    /// dtype of the weights kept dense (`f32`, `bf16`, `f16`).
    pub dtype: String,
    /// The GGML format the decoder's linear layers were quantized to at load time (`q8_0`,
    /// `q4_k`); absent when the weights are the checkpoint's own. Quantization changes the numbers
    /// a trace holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    pub device: String,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    /// The decoder's mixture of experts; absent for a dense decoder (and in traces written before
    /// it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<ExpertsRecord>,
}

/// A mixture-of-experts decoder's routing, as the sidecar's `gen.experts` (and `prompt.experts`)
/// ids read against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExpertsRecord {
    /// Experts in each sparse layer: the ids run from 0 to `count - 1`.
    pub count: usize,
    /// Experts the router picks for each token in each sparse layer.
    pub top_k: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AudioIdentity {
    pub path: String,
    pub sha256: String,
    pub duration_seconds: f64,
    /// Rate the model hears (and the sample rate of the time axis).
    pub sample_rate: u32,
    /// The encoder's window; a longer clip is cut to it. A front end that neither pads nor cuts
    /// (Qwen3-Omni's) hears the whole clip: its duration.
    pub window_seconds: f64,
    pub truncated: bool,
    /// Seconds of audio per audio token (0.04 for Qwen2-Audio and Qwen2.5-Omni, 1/13 for
    /// Qwen3-Omni).
    pub seconds_per_audio_token: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PromptRecord {
    /// The user turn's text after the audio, verbatim.
    pub text: String,
    #[serde(default)]
    pub question: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub system: Option<String>,
    /// The chat-templated prompt before audio-token expansion.
    pub rendered: String,
}

impl PromptRecord {
    /// The choices lettered as a benchmark asks them, joined by `separator`: "(A) one  (B) two".
    pub fn lettered_choices(&self, separator: &str) -> String {
        self.choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("({}) {c}", (b'A' + (i % 26) as u8) as char))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InputRecord {
    /// Prompt token ids after audio-token expansion.
    pub ids: Vec<u32>,
    /// First audio-token position and one past the last.
    pub audio_span: [usize; 2],
}

/// A benchmark item (MMAU or MMAR record), as read from the benchmark file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenchmarkRecord {
    pub id: String,
    pub question: String,
    pub choices: Vec<String>,
    pub answer: String,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub difficulty: Option<String>,
    /// The benchmark file and its SHA-256 (benchmarks change between releases).
    pub file: String,
    pub file_sha256: String,
    /// Position of the record in the file (0-based).
    pub index: usize,
}

/// The final answer extracted from the generated text, and the official matcher's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnswerRecord {
    pub extracted: String,
    pub correct: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TraceTimings {
    pub load_seconds: f64,
    /// Everything before the first generated token: the audio encoder, then the decoder over
    /// the prompt.
    pub prefill_seconds: f64,
    /// The audio encoder's share of `prefill_seconds` (absent in traces written before it was
    /// recorded).
    #[serde(default)]
    pub audio_encoder_seconds: f64,
    pub decode_seconds: f64,
    pub decode_tokens_per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttentionRecord {
    /// The sidecar's file name, beside the trace.
    pub sidecar: String,
    pub layers: usize,
    pub heads: usize,
    pub audio_tokens: usize,
    /// Rows in `gen.*`: one per generated token, the attention of the query row whose logits
    /// chose it.
    pub generated_rows: usize,
    /// Rows in `prompt.*` (0 when prompt capture was off).
    pub prompt_rows: usize,
    pub per_head_maps: bool,
}

/// What a run is about, known before the model generates anything.
#[derive(Debug, Clone)]
pub struct TraceStart {
    pub id: String,
    /// When the run was made (RFC 3339, UTC): the runner stamps it as the trace begins.
    pub created: String,
    pub model: ModelIdentity,
    pub audio: AudioIdentity,
    pub prompt: PromptRecord,
    pub input: InputRecord,
    pub params: GenerationParams,
    pub benchmark: Option<BenchmarkRecord>,
}

impl Trace {
    /// The one way a trace begins (the runner and the synthetic examples both start here): what
    /// the run is about, nothing generated yet (stop reason `max_new_tokens` until
    /// `record_generation` says otherwise), no answer, labels, timings or attention.
    pub fn begin(start: TraceStart) -> Self {
        Self {
            schema: TRACE_SCHEMA.to_owned(),
            id: start.id,
            created: start.created,
            auscult_version: env!("CARGO_PKG_VERSION").to_owned(),
            model: start.model,
            audio: start.audio,
            prompt: start.prompt,
            input: start.input,
            generation: GenerationRecord {
                ids: Vec::new(),
                text: String::new(),
                piece_offsets: Vec::new(),
                stop_reason: StopReason::MaxNewTokens,
                params: start.params,
            },
            steps: Vec::new(),
            benchmark: start.benchmark,
            answer: None,
            labels: None,
            timings: TraceTimings::default(),
            attention: None,
            evidence: None,
        }
    }

    /// Records what was generated: the ids, the decoded text, each token's text piece (for the
    /// piece offsets and the steps, cut by `rules`) and why it stopped.
    pub fn record_generation(
        &mut self,
        ids: Vec<u32>,
        text: String,
        pieces: &[String],
        stop_reason: StopReason,
        rules: &StepRules,
    ) {
        self.generation.ids = ids;
        self.generation.text = text;
        self.generation.piece_offsets = piece_offsets(pieces);
        self.generation.stop_reason = stop_reason;
        self.steps = split_steps(pieces, rules);
    }

    /// Records what the attention sidecar `sidecar` holds: the generated tokens' rows and, when
    /// captured, the prompt's.
    pub fn record_attention(
        &mut self,
        sidecar: &str,
        generated: &AttentionRows,
        prompt: Option<&AttentionRows>,
    ) {
        self.attention = Some(AttentionRecord {
            sidecar: sidecar.to_owned(),
            layers: generated.layers,
            heads: generated.heads,
            audio_tokens: generated.audio_tokens,
            generated_rows: generated.rows,
            prompt_rows: prompt.map_or(0, |p| p.rows),
            per_head_maps: generated.head_maps.is_some(),
        });
    }

    /// Where the trace's clip is, if it can be found: the path it records (relative to where
    /// the trace was made), else that path beside the trace file (`trace_dir` is its folder) or
    /// in the source checkout (the bundled examples).
    pub fn find_clip(&self, trace_dir: &Path) -> Option<std::path::PathBuf> {
        let recorded = std::path::PathBuf::from(&self.audio.path);
        [
            recorded.clone(),
            trace_dir.join(&recorded),
            Path::new(env!("CARGO_MANIFEST_DIR")).join(&recorded),
        ]
        .into_iter()
        .find(|p| p.is_file())
    }

    /// Reads a trace, refusing other schema versions.
    pub fn read(path: &Path) -> Result<Self> {
        let text = read_trace_text(path)?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(TRACE_SCHEMA) => {}
            Some(other) => bail!(
                "{}: trace schema {other:?} is not supported by this auscult (it reads {TRACE_SCHEMA})",
                path.display()
            ),
            None => bail!("{}: not an auscult trace (no \"schema\" field)", path.display()),
        }
        serde_json::from_value(value)
            .with_context(|| format!("{}: malformed trace", path.display()))
    }

    /// Writes the trace as pretty JSON, whole or not at all after a crash (`durable::write`).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::durable::write(path, text.as_bytes())
    }
}

/// A trace file's text; a file that is not text (an audio clip, a sidecar) is named as such, with
/// what to pass instead.
pub fn read_trace_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    String::from_utf8(bytes).map_err(|error| {
        let hint = if crate::audio::looks_like_audio(error.as_bytes()) {
            "it looks like audio: to run a model on a clip, pass --model DIR --audio FILE"
        } else {
            "traces are the .json files `auscult run` writes and the .jsonl files of `auscult batch`"
        };
        anyhow::anyhow!("{}: not a trace (not JSON text); {hint}", path.display())
    })
}

/// SHA-256 of a file's bytes, in hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The JSON Schema of a traces-file line (a trace or a failed item), derived from these types.
/// `schema/auscult.trace.schema.json` holds it; a test keeps the file equal to this.
pub fn trace_json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(TraceFileLine)).expect("a schema serializes");
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), serde_json::Value::String(TRACE_SCHEMA.into()));
    }
    schema
}

/// One line of a traces file, for the schema: a finished trace or a failed item.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TraceFileLine {
    Trace(Box<Trace>),
    Failed(Box<FailedItem>),
}
