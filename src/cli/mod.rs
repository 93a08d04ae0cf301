//! The command line: argument definitions (clap derive) and dispatch to each subcommand.
//!
//! Each subcommand lives in its own file and returns `anyhow::Result`; `main` turns an error into
//! one line on stderr and a non-zero exit.

mod mel;
mod play;

use clap::{Parser, Subcommand};

/// Listen to what your audio-language model listens to.
///
/// auscult inspects audio-language models (Qwen2-Audio, Qwen2.5-Omni): it plays a clip, runs the
/// model, and shows how much each reasoning step attends to each moment of the audio.
#[derive(Debug, Parser)]
#[command(name = "auscult", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Mel(args)) => mel::run(args),
        Some(Command::Play(args)) => play::run(args),
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            Ok(())
        }
    }
}
