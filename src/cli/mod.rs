//! The command line: argument definitions (clap derive) and dispatch to each subcommand.
//!
//! Each subcommand lives in its own file and returns `anyhow::Result`; `main` turns an error into
//! one line on stderr and a non-zero exit.

mod batch;
mod bundled;
mod demo;
mod evidence_args;
mod figure;
mod forward;
mod generation_args;
pub(crate) mod inspect;
mod judge;
mod label;
mod mel;
mod memory_log;
mod model_args;
mod model_choice;
mod play;
mod progress;
mod prompt_args;
mod reliance;
mod report;
mod run;

use clap::{Parser, Subcommand};

/// Listen to what your audio-language model listens to.
///
/// auscult inspects audio-language models (Qwen2-Audio, Qwen2.5-Omni, Qwen3-Omni): it plays a
/// clip, runs the model, and shows how much each reasoning step attends to each moment of the
/// audio.
#[derive(Debug, Parser)]
#[command(name = "auscult", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open traces in the inspector: each reasoning step beside where in the clip it looked.
    ///
    /// With no arguments, `auscult` runs the bundled demo model live on a bundled example clip.
    Inspect(inspect::InspectArgs),
    /// Compute log-mel features of an audio file, exactly as Hugging Face's
    /// WhisperFeatureExtractor does, and write them to a safetensors file.
    ///
    /// The file holds `samples` F32 [n] (mono at the model's rate, before padding), `features`
    /// F32 [n_mels, frames] and `mask` I64 [frames] (1 where the frame holds audio). Settings
    /// come from the model's preprocessor_config.json with --model, otherwise from --n-mels and
    /// --chunk-seconds (default 128 bins, 30 s: Qwen2-Audio).
    Mel(mel::MelArgs),
    /// Play an audio file (or a range of it) and show the playhead.
    ///
    /// Without a sound device (over SSH, on a server, or in a build without sound) the playhead
    /// runs on a silent clock and auscult says so once.
    Play(play::PlayArgs),
    /// One teacher-forced forward pass over the chat-templated prompt, written as tensors.
    ///
    /// The file holds `input_ids` I64 [seq], `logits` F32 [seq, vocab] and `audio_span` I64 [2]
    /// (first audio-token position, one past the last); with --full-attention also `attn.{layer}`
    /// F32 [heads, seq, seq]. For checking auscult against other implementations.
    Forward(forward::ForwardArgs),
    /// Generate for one clip and prompt, headless, and write a trace with its attention.
    ///
    /// The trace (auscult.trace/1 JSON) holds the prompt, the generated ids and text, model and
    /// audio identity, parameters and timings; the sidecar beside it (.attn.safetensors) holds
    /// per-token audio ratios, sink mass and audio maps for every layer.
    Run(run::RunArgs),
    /// Causal evidence for traces made earlier: does each token need the audio, and which part?
    ///
    /// Runs each trace's generated tokens again with the model that made it, with the audio
    /// taken away (digital silence, or the audio hidden from the generated positions), and stores
    /// per token the log-probability drop, the KL divergence and whether the top-1 token flips
    /// (`reliance.*` in the sidecar); optionally occlusion windows, the answer without the audio
    /// and the interventions (see the flags). Traces and sidecars are updated in place.
    Reliance(reliance::RelianceArgs),
    /// Run a whole benchmark (MMAU or MMAR format), one trace per item, resumable.
    ///
    /// Traces are appended to a JSON Lines file as each item finishes; attention sidecars go to a
    /// folder beside it. Failed items are recorded with their error and the run goes on.
    Batch(batch::BatchArgs),
    /// Accuracy, perception-decay curves and plots over traces files.
    ///
    /// Writes CSV tables, SVG plots and a report.md that embeds them to --out, and prints a
    /// compact summary.
    Report(report::ReportArgs),
    /// A trace's view as a figure (SVG or PNG): spectrogram, truth events, the step × time
    /// heatmap with its colour bar, step labels and texts, and the decay curve.
    ///
    /// The numbers are the inspector's, with the settings given (--layers, --heads, --metric,
    /// --scale, --window); --compare draws a second trace under the first on the same time axis
    /// and colour scale, both decay curves in one chart.
    Figure(figure::FigureArgs),
    /// CAFE labels for traces from an LLM judge behind an OpenAI-compatible endpoint.
    ///
    /// Each trace's steps, its question and a caption of its clip go into a prompt (a template:
    /// --print-prompt shows the default); the judge labels every audio claim matched,
    /// hallucinated, misused or neutral and lists missed events. One line per trace is appended
    /// to --out; a rerun skips labelled traces and retries failed ones.
    Judge(judge::JudgeArgs),
    /// Labels outside the inspector: agreement between annotators, and export.
    Label(label::LabelArgs),
    /// The bundled demo model: a small audio-language model trained on synthetic tasks.
    Demo(demo::DemoArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Mel(args)) => mel::run(args),
        Some(Command::Play(args)) => play::run(args),
        Some(Command::Forward(args)) => forward::run(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Reliance(args)) => reliance::run(args),
        Some(Command::Batch(args)) => batch::run(args),
        Some(Command::Report(args)) => report::run(args),
        Some(Command::Figure(args)) => figure::run(args),
        Some(Command::Judge(args)) => judge::run(args),
        Some(Command::Label(args)) => label::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        None => inspect::run_demo(),
    }
}
