//! `auscult forward`: one teacher-forced pass over the chat-templated prompt, written as tensors
//! for checking against other implementations.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::model_args::{check_output, clip_seconds, prepare_input, ModelArgs};
use crate::model::{CaptureRequest, LayerCapture, Logits};
use crate::tensor_dump::{write_dump, DumpTensor};

#[derive(Debug, Args)]
pub struct ForwardArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Audio file: WAV, FLAC, MP3, Ogg Vorbis or AAC/M4A.
    #[arg(long, value_name = "FILE")]
    pub audio: PathBuf,
    /// Text of the user turn after the audio, sent verbatim.
    #[arg(long, value_name = "TEXT")]
    pub prompt: String,
    /// A system turn (the chat template's default when absent).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Where to write the safetensors file.
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: PathBuf,
    /// Also write every layer's full attention probabilities, `attn.{layer}` F32 [heads, seq, seq].
    /// For checking only: this is the one place auscult builds full attention matrices.
    #[arg(long)]
    pub full_attention: bool,
}

pub fn run(args: ForwardArgs) -> Result<()> {
    check_output(&args.out, &[&args.audio])?;
    let mut checkpoint = args.model.load(1, clip_seconds(&args.audio))?;
    let (_, input) = prepare_input(
        &checkpoint,
        &args.audio,
        &args.prompt,
        args.system.as_deref(),
    )?;
    let embeds = checkpoint.embed_input(&input)?;
    let request = if args.full_attention {
        CaptureRequest::Full
    } else {
        CaptureRequest::Off
    };
    checkpoint.model.clear_kv_cache();
    let (logits, captured) = checkpoint
        .model
        .forward_embeds(&embeds, 0, &request, Logits::All)?;
    let (seq, vocab) = logits.dims2()?;

    let ids: Vec<i64> = input.input_ids.iter().map(|&i| i64::from(i)).collect();
    let span = [input.audio_span.start as i64, input.audio_span.end as i64];
    let mut tensors = vec![
        ("input_ids".to_owned(), DumpTensor::i64(vec![seq], &ids)),
        (
            "logits".to_owned(),
            DumpTensor::f32(vec![seq, vocab], &logits.flatten_all()?.to_vec1::<f32>()?),
        ),
        ("audio_span".to_owned(), DumpTensor::i64(vec![2], &span)),
    ];
    for (layer, capture) in captured.into_iter().enumerate() {
        if let LayerCapture::Full(probs) = capture {
            let shape = probs.dims().to_vec(); // (heads, seq, seq)
            let values = probs.flatten_all()?.to_vec1::<f32>()?;
            tensors.push((format!("attn.{layer}"), DumpTensor::f32(shape, &values)));
        }
    }
    let metadata = HashMap::from([
        ("rendered_prompt".to_owned(), input.rendered.clone()),
        ("model".to_owned(), args.model.model.display().to_string()),
        ("audio".to_owned(), args.audio.display().to_string()),
    ]);
    write_dump(&args.out, &tensors, metadata)?;
    eprintln!(
        "{}: {seq} tokens ({} audio at {}..{}), logits [{seq}, {vocab}]{}",
        args.out.display(),
        input.audio_span.len(),
        input.audio_span.start,
        input.audio_span.end,
        if args.full_attention {
            ", full attention"
        } else {
            ""
        }
    );
    Ok(())
}
