//! One optimizer step: the batch's items run forward and backward on worker threads (each a whole
//! item, on its own copy of the model over the shared variables), their gradients are summed in
//! item order (so the result does not depend on which thread finished first), clipped, and
//! applied.

use anyhow::{Context, Result};
use candle_core::{Device, Tensor, Var};

use super::examples::{training_item_seed, TrainingExample};
use super::run::Run;
use super::schedule::learning_rate;
use super::LogLine;
use crate::model::{AudioLm, CaptureRequest, Logits, Processor};
use crate::synth::prompts::PromptStyle;
use crate::synth::question::Item;

/// One item's summed next-token loss over its target tokens, their number, and the gradient of
/// that sum for every trained variable.
struct ItemGradients {
    loss_sum: f64,
    tokens: usize,
    grads: Vec<Tensor>,
}

fn item_gradients(
    model: &mut AudioLm,
    processor: &Processor,
    trained: &[Var],
    seed: u64,
    style: PromptStyle,
) -> Result<ItemGradients> {
    let item = Item::generate(seed);
    let example = TrainingExample::new(&item, style, processor)?;
    let audio = model.encode_audio(&example.features, example.valid_frames)?;
    let embeds = model.embed_prompt(&example.ids, &audio)?;
    // Differentiable kernels keep no KV cache: every item starts at position 0.
    let (logits, _) = model.forward_embeds(&embeds, 0, &CaptureRequest::Off, Logits::All)?;
    let tokens = example.target_ids.len();
    let predicted = logits.narrow(0, example.prompt_len - 1, tokens)?;
    let wanted = Tensor::new(example.target_ids.as_slice(), &Device::Cpu)?;
    let loss = (candle_nn::loss::cross_entropy(&predicted, &wanted)? * tokens as f64)?;
    let store = loss.backward()?;
    // Detached: a gradient otherwise keeps the step's whole graph alive through anything made
    // from it (the optimizer's moments), and memory grows by that graph every step.
    let grads = trained
        .iter()
        .map(|var| match store.get(var.as_tensor()) {
            Some(grad) => Ok(grad.detach()),
            None => var.as_tensor().zeros_like(),
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(ItemGradients {
        loss_sum: f64::from(loss.to_scalar::<f32>()?),
        tokens,
        grads,
    })
}

impl Run {
    /// Trains on the next batch and returns its log line.
    pub fn step(&mut self, workers: usize) -> Result<LogLine> {
        let step = self.state.step;
        let batch = self.state.batch;
        let seeds: Vec<u64> = (0..batch)
            .map(|index| training_item_seed(self.state.seed, step, index))
            .collect();
        let processor = &self.processor;
        let trained = &self.trained;
        let prompts = &self.state.prompts;
        let mut results: Vec<Option<Result<ItemGradients>>> = (0..batch).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .models
                .iter_mut()
                .take(workers)
                .enumerate()
                .map(|(worker, model)| {
                    let seeds = &seeds;
                    scope.spawn(move || {
                        (worker..seeds.len())
                            .step_by(workers)
                            .map(|index| {
                                (
                                    index,
                                    item_gradients(
                                        model,
                                        processor,
                                        trained,
                                        seeds[index],
                                        prompts[index % prompts.len()],
                                    ),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A worker that panicked is a bug in the model code: let it show.
                for (index, result) in handle.join().expect("a training worker panicked") {
                    results[index] = Some(result);
                }
            }
        });
        let items = results
            .into_iter()
            .zip(&seeds)
            .map(|(result, seed)| {
                result
                    // Workers take indices w, w + W, …: together every index.
                    .expect("every item has a worker")
                    .with_context(|| format!("training item {seed}"))
            })
            .collect::<Result<Vec<_>>>()?;

        let tokens: usize = items.iter().map(|i| i.tokens).sum();
        let loss = items.iter().map(|i| i.loss_sum).sum::<f64>() / tokens as f64;
        let mut grads = Vec::with_capacity(self.trained.len());
        for variable in 0..self.trained.len() {
            let mut sum = items[0].grads[variable].clone();
            for item in &items[1..] {
                sum = (sum + &item.grads[variable])?;
            }
            grads.push((sum / tokens as f64)?);
        }
        let mut squares = 0f64;
        for grad in &grads {
            squares += f64::from(grad.sqr()?.sum_all()?.to_scalar::<f32>()?);
        }
        let grad_norm = squares.sqrt();
        if grad_norm > self.state.clip_norm {
            let scale = self.state.clip_norm / grad_norm;
            grads = grads
                .iter()
                .map(|g| g * scale)
                .collect::<candle_core::Result<_>>()?;
        }
        let rate = learning_rate(
            step,
            self.state.steps,
            self.state.peak_learning_rate,
            self.state.warmup_steps,
        );
        self.optimizer.step(&grads, rate)?;
        self.state.step += 1;
        Ok(LogLine {
            step: self.state.step,
            loss,
            learning_rate: rate,
            grad_norm,
            tokens,
            seconds: 0.0,
        })
    }
}
