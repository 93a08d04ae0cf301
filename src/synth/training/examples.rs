//! Training examples made on the fly: which items a step trains on (seeds that evaluation never
//! uses), and each item as the model's inputs with the assistant's tokens to predict.

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::Processor;
use crate::synth::events::render;
use crate::synth::prompts::PromptStyle;
use crate::synth::question::Item;

/// Training item seeds have this bit set; evaluation seeds (`demo eval --seed`, the bundled
/// examples, the tests) stay below it, so no evaluated item was ever trained on.
pub const TRAINING_SEED_BIT: u64 = 1 << 63;

/// The seed of the `index`-th item of optimizer step `step` in the run of `run_seed`.
pub fn training_item_seed(run_seed: u64, step: usize, index: usize) -> u64 {
    // Steps and indices stay far below 2^24 and 2^16; run seeds below 2^23.
    TRAINING_SEED_BIT | ((run_seed & 0x7f_ffff) << 40) | ((step as u64) << 16) | index as u64
}

/// One item as the model sees it in training.
pub struct TrainingExample {
    /// Log-mel features (n_mels, frames).
    pub features: Tensor,
    pub valid_frames: usize,
    /// Prompt and target ids, in order.
    pub ids: Vec<u32>,
    pub prompt_len: usize,
    /// What the assistant writes for the prompt (reasoning and answer, or the answer alone),
    /// then `<|im_end|>`.
    pub target_ids: Vec<u32>,
}

impl TrainingExample {
    /// `item` asked in `style`.
    pub fn new(item: &Item, style: PromptStyle, processor: &Processor) -> Result<Self> {
        let samples = render(
            &item.events,
            item.seconds,
            &mut ChaCha8Rng::seed_from_u64(item.seed),
        );
        let input = processor.prepare(&samples, &style.user_prompt(item), None)?;
        let target = format!("{}<|im_end|>", style.target_text(item));
        let target_ids = processor
            .tokenizer()
            .encode(target.as_str(), false)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("cannot tokenize the target of item {}", item.seed))?
            .get_ids()
            .to_vec();
        let prompt_len = input.input_ids.len();
        let ids = input.input_ids.iter().chain(&target_ids).copied().collect();
        let mel = &input.mel;
        let features = Tensor::from_slice(&mel.features, (mel.n_mels, mel.frames), &Device::Cpu)?;
        Ok(Self {
            features,
            valid_frames: input.valid_frames,
            ids,
            prompt_len,
            target_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_seeds_are_distinct_and_never_evaluation_seeds() {
        let mut seen = std::collections::HashSet::new();
        for run in [0, 1, 7] {
            for step in [0, 1, 4999] {
                for index in 0..32 {
                    let seed = training_item_seed(run, step, index);
                    assert!(seed >= TRAINING_SEED_BIT);
                    assert!(seen.insert(seed));
                }
            }
        }
    }
}
