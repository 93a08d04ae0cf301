//! Arguments shared by the commands that run the model, and the steps they share: loading the
//! checkpoint and turning a clip and a prompt into model inputs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;

use crate::audio::{decode_file, DecodedAudio};
use crate::model::{Checkpoint, DeviceKind, Precision, PreparedInput};

#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Checkpoint directory (Hugging Face layout: config.json, safetensors, tokenizer.json, ...).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Precision of weights and compute.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub dtype: Precision,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    pub device: DeviceKind,
}

impl ModelArgs {
    pub fn load(&self) -> Result<Checkpoint> {
        Ok(Checkpoint::load(&self.model, self.dtype, self.device)?)
    }
}

/// Decodes `audio` at the model's rate and builds the inputs for `prompt`, warning when the clip
/// is longer than the encoder's window.
pub fn prepare_input(
    checkpoint: &Checkpoint,
    audio_path: &Path,
    prompt: &str,
    system: Option<&str>,
) -> Result<(DecodedAudio, PreparedInput)> {
    let mel_config = checkpoint.processor.mel_config();
    let audio = decode_file(audio_path, mel_config.sampling_rate)?;
    let input = checkpoint
        .processor
        .prepare(&audio.samples, prompt, system)?;
    if input.mel.truncated {
        eprintln!(
            "warning: {}: the clip is {:.2} s long; the model hears only the first {} s",
            audio_path.display(),
            audio.duration_seconds(),
            mel_config.chunk_length
        );
    }
    Ok((audio, input))
}

/// Refuses an output path that would overwrite one of the inputs.
pub fn check_output(out: &Path, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        if out == *input {
            bail!("{}: --out would overwrite an input file", out.display());
        }
    }
    if out.is_dir() {
        bail!("{}: --out is a directory; give a file name", out.display());
    }
    Ok(())
}
