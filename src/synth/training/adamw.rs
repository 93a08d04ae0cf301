//! AdamW whose state can be saved and restored. candle-nn's `AdamW` keeps its moments private, so
//! a run resumed from a snapshot would restart them from zero and leave the loss curve; this
//! one is the same update (decoupled weight decay, bias-corrected moments) with its moments in a
//! safetensors file beside the weights.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor, Var};

pub const BETA1: f64 = 0.9;
pub const BETA2: f64 = 0.999;
pub const EPSILON: f64 = 1e-8;

/// One trained variable, its name in the weights file and its moments.
struct Slot {
    name: String,
    var: Var,
    first: Tensor,
    second: Tensor,
    decay: bool,
}

pub struct AdamW {
    slots: Vec<Slot>,
    /// Updates applied so far.
    pub steps: usize,
    weight_decay: f64,
}

impl AdamW {
    /// The optimizer over `vars` (name, variable), in the order given. Weight decay applies to
    /// matrices only, not to biases and norms.
    pub fn new(vars: Vec<(String, Var)>, weight_decay: f64) -> Result<Self> {
        let slots = vars
            .into_iter()
            .map(|(name, var)| {
                let zeros = var.as_tensor().zeros_like()?;
                Ok(Slot {
                    decay: var.as_tensor().rank() >= 2,
                    name,
                    var,
                    first: zeros.clone(),
                    second: zeros,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            slots,
            steps: 0,
            weight_decay,
        })
    }

    /// One update with `grads` (one per variable, in order) at learning rate `lr`.
    pub fn step(&mut self, grads: &[Tensor], lr: f64) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let correction1 = 1.0 - BETA1.powi(t);
        let correction2 = 1.0 - BETA2.powi(t);
        for (slot, grad) in self.slots.iter_mut().zip(grads) {
            // Moments are plain values: detached, so no step's graph outlives the step.
            let grad = grad.detach();
            slot.first = ((&slot.first * BETA1)? + (&grad * (1.0 - BETA1))?)?.detach();
            slot.second = ((&slot.second * BETA2)? + (grad.sqr()? * (1.0 - BETA2))?)?.detach();
            let update = ((&slot.first / correction1)?
                / ((&slot.second / correction2)?.sqrt()? + EPSILON)?)?;
            let theta = slot.var.as_tensor();
            let decayed = if slot.decay {
                (theta * (1.0 - lr * self.weight_decay))?
            } else {
                theta.clone()
            };
            slot.var.set(&(decayed - (update * lr)?)?)?;
        }
        Ok(())
    }

    /// Writes the moments and the step count to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for slot in &self.slots {
            tensors.insert(format!("{}.first", slot.name), slot.first.clone());
            tensors.insert(format!("{}.second", slot.name), slot.second.clone());
        }
        tensors.insert(
            "steps".into(),
            Tensor::new(&[self.steps as u32], &Device::Cpu)?,
        );
        candle_core::safetensors::save(&tensors, path)
            .with_context(|| format!("{}: cannot write the optimizer state", path.display()))
    }

    /// Restores what [`AdamW::save`] wrote.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let what = || format!("{}: not an optimizer state of this model", path.display());
        let mut tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("{}: cannot read the optimizer state", path.display()))?;
        for slot in &mut self.slots {
            for (suffix, moment) in [("first", &mut slot.first), ("second", &mut slot.second)] {
                let saved = tensors
                    .remove(&format!("{}.{suffix}", slot.name))
                    .with_context(what)?;
                anyhow::ensure!(saved.shape() == moment.shape(), what());
                *moment = saved;
            }
        }
        let steps = tensors.remove("steps").with_context(what)?;
        self.steps = steps.to_vec1::<u32>().with_context(what)?[0] as usize;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The update of one scalar by hand: after one step Adam moves by lr × sign(gradient).
    #[test]
    fn first_step_moves_by_the_learning_rate_and_decay_shrinks_matrices() {
        let matrix = Var::new(&[[1.0f32, -2.0]], &Device::Cpu).unwrap();
        let bias = Var::new(&[3.0f32], &Device::Cpu).unwrap();
        let mut adam = AdamW::new(
            vec![("w".into(), matrix.clone()), ("b".into(), bias.clone())],
            0.1,
        )
        .unwrap();
        // Gradients that carry a graph (as backward's do): made from a variable.
        let source = Var::new(&[[0.5f32, -4.0]], &Device::Cpu).unwrap();
        let grads = [
            (source.as_tensor() * 1.0).unwrap(),
            Tensor::new(&[2.0f32], &Device::Cpu).unwrap(),
        ];
        assert!(grads[0].track_op());
        adam.step(&grads, 0.01).unwrap();
        // The moments hold values, not graphs (a graph kept here grows every step).
        assert!(adam
            .slots
            .iter()
            .all(|s| !s.first.track_op() && !s.second.track_op()));
        let w = matrix.as_tensor().to_vec2::<f32>().unwrap();
        // (1 × (1 - 0.01 × 0.1)) - 0.01, (-2 × 0.999) + 0.01
        assert!((w[0][0] - (0.999 - 0.01)).abs() < 1e-6, "{w:?}");
        assert!((w[0][1] - (-1.998 + 0.01)).abs() < 1e-6, "{w:?}");
        let b = bias.as_tensor().to_vec1::<f32>().unwrap();
        assert!((b[0] - 2.99).abs() < 1e-6, "no decay on a bias: {b:?}");
    }

    #[test]
    fn a_saved_state_resumes_the_same_updates() {
        let dir = tempfile::tempdir().unwrap();
        let make = || Var::new(&[[1.0f32, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap();
        let grad = |k: f32| Tensor::new(&[[k, -k], [0.5 * k, 2.0]], &Device::Cpu).unwrap();

        let straight = make();
        let mut adam = AdamW::new(vec![("w".into(), straight.clone())], 0.01).unwrap();
        for k in 1..=4 {
            adam.step(&[grad(k as f32)], 0.1).unwrap();
        }

        let resumed = make();
        let mut first = AdamW::new(vec![("w".into(), resumed.clone())], 0.01).unwrap();
        for k in 1..=2 {
            first.step(&[grad(k as f32)], 0.1).unwrap();
        }
        first.save(&dir.path().join("opt.safetensors")).unwrap();
        let mut second = AdamW::new(vec![("w".into(), resumed.clone())], 0.01).unwrap();
        second.load(&dir.path().join("opt.safetensors")).unwrap();
        assert_eq!(second.steps, 2);
        for k in 3..=4 {
            second.step(&[grad(k as f32)], 0.1).unwrap();
        }
        assert_eq!(
            straight.as_tensor().to_vec2::<f32>().unwrap(),
            resumed.as_tensor().to_vec2::<f32>().unwrap()
        );
    }
}
