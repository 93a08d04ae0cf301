//! What one training step of the demo model costs on this machine: a fresh demo checkpoint, the
//! model built with differentiable kernels, a batch of synthetic items, the next-token loss on
//! the assistant's tokens, and its backward pass (no optimizer update). For planning
//! `auscult demo train`.
//!
//! `cargo run --release --example demo_train_step [-- BATCH]` (default 16).

use std::time::Instant;

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use auscult::model::config::Qwen2AudioConfig;
use auscult::model::kernels::Kernels;
use auscult::model::{CaptureRequest, Logits, Processor, Qwen2Audio};
use auscult::synth::checkpoint::init_checkpoint;
use auscult::synth::events::render;
use auscult::synth::question::Item;
use auscult::synth::tokenizer::{demo_prompt, demo_tokenizer};

fn main() -> Result<()> {
    let batch: usize = std::env::args()
        .nth(1)
        .map(|b| b.parse())
        .transpose()?
        .unwrap_or(16);
    let dir = tempfile::tempdir()?;
    let tokenizer = demo_tokenizer(0..2000)?;
    init_checkpoint(dir.path(), &tokenizer, 0)?;
    let config = Qwen2AudioConfig::load(&dir.path().join("config.json"))?;
    let mut varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let mut model = Qwen2Audio::load_with(&config, vb, Kernels::Differentiable)?;
    varmap.load(dir.path().join("model.safetensors"))?;
    let processor = Processor::load(dir.path(), config.audio_token_index)?;

    for repeat in 0..3 {
        let started = Instant::now();
        let mut losses = Vec::new();
        let mut tokens = 0;
        for k in 0..batch {
            let item = Item::generate((repeat * batch + k) as u64);
            let samples = render(
                &item.events,
                item.seconds,
                &mut ChaCha8Rng::seed_from_u64(item.seed),
            );
            let input = processor.prepare(&samples, &demo_prompt(&item), None)?;
            let target = format!("{}<|im_end|>", item.target_text());
            let target_ids = processor
                .tokenizer()
                .encode(target.as_str(), false)
                .map_err(anyhow::Error::msg)?
                .get_ids()
                .to_vec();
            let ids: Vec<u32> = input.input_ids.iter().chain(&target_ids).copied().collect();
            tokens += ids.len();
            let mel = &input.mel;
            let features =
                Tensor::from_slice(&mel.features, (mel.n_mels, mel.frames), &Device::Cpu)?;
            model.clear_kv_cache();
            let audio = model.encode_audio(&features, input.valid_frames)?;
            let embeds = model.embed_prompt(&ids, &audio)?;
            let (logits, _) = model.forward_embeds(&embeds, &CaptureRequest::Off, Logits::All)?;
            let predicted = logits.narrow(0, input.input_ids.len() - 1, target_ids.len())?;
            let wanted = Tensor::new(target_ids.as_slice(), &Device::Cpu)?;
            losses.push(candle_nn::loss::cross_entropy(&predicted, &wanted)?);
        }
        let forward = started.elapsed().as_secs_f64();
        let loss = (Tensor::stack(&losses, 0)?.sum_all()? / batch as f64)?;
        let grads = loss.backward()?;
        let total = started.elapsed().as_secs_f64();
        println!(
            "batch {batch}, {tokens} tokens: forward {forward:.2} s, forward + backward {total:.2} s, loss {:.3}, {} gradients",
            loss.to_scalar::<f32>()?,
            varmap
                .all_vars()
                .iter()
                .filter(|v| grads.get(v.as_tensor()).is_some())
                .count()
        );
    }
    Ok(())
}
