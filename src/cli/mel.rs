//! `auscult mel`: log-mel features of one clip, written for other implementations to check.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::audio::{decode_file, MelConfig, MelExtractor};
use crate::tensor_dump::{write_dump, DumpTensor};

#[derive(Debug, Args)]
pub struct MelArgs {
    /// Audio file: WAV, FLAC, MP3, Ogg Vorbis or AAC/M4A.
    pub audio: PathBuf,
    /// Where to write the safetensors file.
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: PathBuf,
    /// Checkpoint directory whose preprocessor_config.json sets the front end.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["n_mels", "chunk_seconds"])]
    pub model: Option<PathBuf>,
    /// Number of mel bins (128 for Qwen2-Audio, 80 for classic Whisper).
    #[arg(long, value_name = "N")]
    pub n_mels: Option<usize>,
    /// Window length in seconds; longer clips are cut, shorter ones zero-padded.
    #[arg(long, value_name = "S")]
    pub chunk_seconds: Option<usize>,
}

pub fn run(args: MelArgs) -> Result<()> {
    let config = match &args.model {
        Some(dir) => MelConfig::from_preprocessor_config(&dir.join("preprocessor_config.json"))?,
        None => {
            let defaults = MelConfig::default();
            MelConfig {
                feature_size: args.n_mels.unwrap_or(defaults.feature_size),
                chunk_length: args.chunk_seconds.unwrap_or(defaults.chunk_length),
                ..defaults
            }
        }
    };
    if args.out == args.audio {
        bail!(
            "{}: --out would overwrite the input audio",
            args.out.display()
        );
    }
    let extractor = MelExtractor::new(config)
        .map_err(|e| anyhow::anyhow!("invalid front-end settings: {e}"))?;
    let config = extractor.config();
    let audio = decode_file(&args.audio, config.sampling_rate)?;
    let mel = extractor.extract(&audio.samples);
    if mel.truncated {
        eprintln!(
            "warning: {}: the clip is {:.2} s long; the model sees only the first {} s",
            args.audio.display(),
            audio.duration_seconds(),
            config.chunk_length
        );
    }

    let metadata = HashMap::from([
        ("source".to_string(), args.audio.display().to_string()),
        ("source_rate".to_string(), audio.source_rate.to_string()),
        (
            "sampling_rate".to_string(),
            config.sampling_rate.to_string(),
        ),
        ("feature_size".to_string(), config.feature_size.to_string()),
        ("chunk_length".to_string(), config.chunk_length.to_string()),
        ("n_fft".to_string(), config.n_fft.to_string()),
        ("hop_length".to_string(), config.hop_length.to_string()),
        ("auscult".to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ]);
    write_dump(
        &args.out,
        &[
            (
                "samples",
                DumpTensor::f32(vec![audio.samples.len()], &audio.samples),
            ),
            (
                "features",
                DumpTensor::f32(vec![mel.n_mels, mel.frames], &mel.features),
            ),
            ("mask", DumpTensor::i64(vec![mel.frames], &mel.mask)),
        ],
        metadata,
    )?;
    let valid: i64 = mel.mask.iter().sum();
    println!(
        "{}: {} mel bins x {} frames ({} valid) from {:.2} s of audio ({} Hz, {} channel{})",
        args.out.display(),
        mel.n_mels,
        mel.frames,
        valid,
        audio.duration_seconds(),
        audio.source_rate,
        audio.source_channels,
        if audio.source_channels == 1 { "" } else { "s" }
    );
    Ok(())
}
