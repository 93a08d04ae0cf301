//! Choosing the next token from logits: greedy (argmax) or sampled, following transformers'
//! logits processors in order: temperature, top-k, top-p.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampling {
    Greedy,
    Sample {
        temperature: f32,
        /// 1.0 keeps every token.
        top_p: f32,
        /// 0 keeps every token.
        top_k: usize,
        seed: u64,
    },
}

/// Chooses tokens from logits.
pub struct Sampler {
    sampling: Sampling,
    rng: ChaCha8Rng,
}

impl Sampler {
    pub fn new(sampling: &Sampling) -> Self {
        let seed = match sampling {
            Sampling::Sample { seed, .. } => *seed,
            Sampling::Greedy => 0,
        };
        Self {
            sampling: sampling.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub fn next(&mut self, logits: &[f32]) -> usize {
        match self.sampling {
            Sampling::Greedy => argmax(logits),
            Sampling::Sample {
                temperature,
                top_p,
                top_k,
                ..
            } => {
                let probs = filtered_probabilities(logits, temperature, top_k, top_p);
                let mut u: f64 = self.rng.random::<f64>();
                for &(index, p) in &probs {
                    u -= p;
                    if u < 0.0 {
                        return index;
                    }
                }
                probs.last().map_or(0, |&(index, _)| index)
            }
        }
    }
}

/// Index of the largest value (the first of equals, as `torch.argmax`).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// The tokens that survive temperature, top-k and top-p, with their renormalised probabilities,
/// most likely first. At least one token always survives.
pub fn filtered_probabilities(
    logits: &[f32],
    temperature: f32,
    top_k: usize,
    top_p: f32,
) -> Vec<(usize, f64)> {
    let temperature = f64::from(temperature.max(1e-5));
    let mut ranked: Vec<(usize, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i, f64::from(l) / temperature))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if top_k > 0 {
        ranked.truncate(top_k.max(1));
    }
    let max = ranked[0].1;
    let mut total = 0.0;
    for entry in &mut ranked {
        entry.1 = (entry.1 - max).exp();
        total += entry.1;
    }
    for entry in &mut ranked {
        entry.1 /= total;
    }
    if top_p < 1.0 {
        // Keep the smallest prefix whose mass reaches top_p (transformers' TopPLogitsWarper).
        let mut mass = 0.0;
        let keep = ranked
            .iter()
            .position(|&(_, p)| {
                mass += p;
                mass >= f64::from(top_p)
            })
            .map_or(ranked.len(), |i| i + 1);
        ranked.truncate(keep.max(1));
        let total: f64 = ranked.iter().map(|e| e.1).sum();
        for entry in &mut ranked {
            entry.1 /= total;
        }
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_equals() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    }

    #[test]
    fn top_k_and_top_p_cut_the_tail() {
        let logits = [0.0f32, 1.0, 2.0, 3.0];
        let k2 = filtered_probabilities(&logits, 1.0, 2, 1.0);
        assert_eq!(k2.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 2]);
        assert!((k2.iter().map(|e| e.1).sum::<f64>() - 1.0).abs() < 1e-12);
        // Probabilities are about 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps two.
        let p = filtered_probabilities(&logits, 1.0, 0, 0.8);
        assert_eq!(p.len(), 2);
        // A tiny top-p still keeps the best token.
        assert_eq!(filtered_probabilities(&logits, 1.0, 0, 0.0).len(), 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_tokens() {
        let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
        let sampling = Sampling::Sample {
            temperature: 1.0,
            top_p: 0.95,
            top_k: 20,
            seed: 7,
        };
        let draw = |d: &Sampling| {
            let mut s = Sampler::new(d);
            (0..20).map(|_| s.next(&logits)).collect::<Vec<_>>()
        };
        assert_eq!(draw(&sampling), draw(&sampling));
        let other = Sampling::Sample {
            temperature: 1.0,
            top_p: 0.95,
            top_k: 20,
            seed: 8,
        };
        assert_ne!(draw(&sampling), draw(&other));
    }
}
