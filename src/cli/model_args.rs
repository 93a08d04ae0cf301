//! Arguments shared by the commands that run the model, and the steps they share: loading the
//! checkpoint and turning a clip and a prompt into model inputs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;

use super::model_choice::model_choice;
use crate::audio::{decode_file, DecodedAudio};
use crate::model::{Checkpoint, DeviceKind, LoadOptions, Precision, PreparedInput, Quantization};

#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Checkpoint directory (Hugging Face layout: config.json, safetensors, tokenizer.json, ...).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

impl ModelArgs {
    /// Loads the checkpoint for a run of `new_tokens` tokens on `audio_seconds` of audio (the
    /// memory check's workload; `None`: the encoder's whole window).
    pub fn load(&self, new_tokens: usize, audio_seconds: Option<f64>) -> Result<Checkpoint> {
        self.load_measuring(new_tokens, audio_seconds, false)
    }

    /// `load`, for a run whose reliance or occlusion will be measured (`evidence`): the logits
    /// those passes hold count in the memory check.
    pub fn load_measuring(
        &self,
        new_tokens: usize,
        audio_seconds: Option<f64>,
        evidence: bool,
    ) -> Result<Checkpoint> {
        let options = LoadOptions {
            evidence,
            ..self.load.options(new_tokens, audio_seconds)
        };
        let checkpoint = Checkpoint::load_with(&self.model, &options)?;
        if let Some(report) = &checkpoint.quantization {
            let source = match (&report.cache_file, report.from_cache) {
                (Some(file), true) => format!("read from {}", file.display()),
                (Some(file), false) => format!("cached in {}", file.display()),
                (None, _) => "not cached".to_owned(),
            };
            let fallback = match report.fallback {
                0 => String::new(),
                n => format!(", {n} as q5_0 (rows not whole blocks of 256)"),
            };
            eprintln!(
                "{}: {} decoder layers as {}{fallback}, {} kept {:?}; {source}; loaded in {:.1} s",
                self.model.display(),
                report.layers,
                report.format.name(),
                report.kept_dense,
                checkpoint.precision,
                checkpoint.load_seconds
            );
        }
        Ok(checkpoint)
    }
}

/// How the weights are kept and where the model runs.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// dtype of the weights (default: as the checkpoint stores them). On the CPU activations are
    /// f32 whatever this is; on a GPU they are in this dtype.
    #[arg(long, value_parser = model_choice::<Precision>())]
    pub dtype: Option<Precision>,
    /// Quantize the decoder's linear layers and head at load time (GGML formats; cached in the
    /// user's cache directory, so only the first load pays for it).
    #[arg(long, value_parser = model_choice::<Quantization>(), value_name = "FORMAT")]
    pub quantize: Option<Quantization>,
    /// Keep the KV cache in f16 (half the memory of f32; rounds keys and values).
    #[arg(long)]
    pub kv_cache_f16: bool,
    /// Where quantized layers are cached (default: $AUSCULT_CACHE_DIR, else the user cache
    /// directory's auscult/).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Load even when the memory estimate says the run will not fit.
    #[arg(long)]
    pub force: bool,
    /// Where the model runs.
    #[arg(long, value_parser = model_choice::<DeviceKind>(), default_value_t = DeviceKind::Cpu)]
    pub device: DeviceKind,
}

impl LoadArgs {
    pub fn options(&self, new_tokens: usize, audio_seconds: Option<f64>) -> LoadOptions {
        LoadOptions {
            precision: self.dtype,
            quantize: self.quantize,
            device: self.device,
            cache: true,
            cache_dir: self.cache_dir.clone(),
            kv_cache_f16: self.kv_cache_f16,
            force: self.force,
            audio_seconds,
            new_tokens,
            evidence: false,
        }
    }
}

/// The clip's length in seconds, for the memory check (`None` when it cannot be read: the load
/// then assumes the whole window, and the clip's own error comes when it is used).
pub fn clip_seconds(path: &Path) -> Option<f64> {
    decode_file(path, 16_000).ok().map(|a| a.duration_seconds())
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
