//! What one training step of the demo model costs with candle's default threading: a fresh demo
//! checkpoint, the model built with differentiable kernels, a batch of synthetic items run one
//! after another, the next-token loss on the assistant's tokens, and one backward pass (no
//! optimizer update). `auscult demo train` runs items on worker threads instead (see its
//! `--workers`); this measures the baseline it was chosen against.
//!
//! `cargo run --release --example demo_train_step [-- BATCH]` (default 16).

use std::time::Instant;

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use auscult::model::config::ModelConfig;
use auscult::model::kernels::Kernels;
use auscult::model::{AudioLm, CaptureRequest, LinearLoader, Logits, Processor};
use auscult::synth::demo_checkpoint::init_checkpoint;
use auscult::synth::question::Item;
use auscult::synth::tokenizer::demo_tokenizer;
use auscult::synth::training::TrainingExample;

fn main() -> Result<()> {
    let batch: usize = std::env::args()
        .nth(1)
        .map(|b| b.parse())
        .transpose()?
        .unwrap_or(16);
    let dir = tempfile::tempdir()?;
    let tokenizer = demo_tokenizer(0..2000)?;
    init_checkpoint(dir.path(), &tokenizer, 0)?;
    let config = ModelConfig::load(&dir.path().join("config.json"))?;
    let mut varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let linears = LinearLoader::dense(DType::F32);
    let mut model = AudioLm::load_with(&config, vb, Kernels::Differentiable, &linears, &linears)?;
    varmap.load(dir.path().join("model.safetensors"))?;
    let processor = Processor::load(
        dir.path(),
        config.audio_token_index,
        config.audio_token_rate(),
    )?;

    for repeat in 0..3 {
        let started = Instant::now();
        let mut losses = Vec::new();
        let mut tokens = 0;
        for k in 0..batch {
            let item = Item::generate((repeat * batch + k) as u64);
            let example = TrainingExample::new(
                &item,
                auscult::synth::prompts::PromptStyle::Demo,
                &processor,
            )?;
            tokens += example.ids.len();
            let audio = model.encode_audio(&example.features, example.valid_frames)?;
            let embeds = model.embed_prompt(&example.ids, &audio)?;
            let (logits, _) =
                model.forward_embeds(&embeds, 0, &CaptureRequest::Off, Logits::All)?;
            let predicted = logits.narrow(0, example.prompt_len - 1, example.target_ids.len())?;
            let wanted = Tensor::new(example.target_ids.as_slice(), &Device::Cpu)?;
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
