//! A synthetic attention generator for the example traces: attention that finds the event each
//! step talks about and fades along the chain, as a model's does in the paper's plots. It fills
//! the same arrays (`model::AttentionRows`) the model's capture fills, so every view and metric
//! reads it as it reads a real run's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ExampleSpec;
use crate::model::AttentionRows;
use crate::trace::Step;

/// The attention rows (with per-head maps) of `tokens_count` generated tokens cut into `steps`
/// (one per line of `spec`), over `n_audio` audio tokens; deterministic for `spec.seed`.
pub fn synthetic_attention(
    spec: &ExampleSpec,
    steps: &[Step],
    tokens_count: usize,
    n_audio: usize,
) -> AttentionRows {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let seconds_per_token = spec.clip_seconds / n_audio as f64;
    // Which event each token's step is about (steps are the lines, in order).
    let line_of_token: Vec<usize> = {
        let mut owner = vec![0; tokens_count];
        for (index, step) in steps.iter().enumerate() {
            owner[step.tokens[0]..step.tokens[1]]
                .iter_mut()
                .for_each(|o| *o = index.min(spec.lines.len() - 1));
        }
        owner
    };
    let (layers, heads, tokens) = (spec.layers, spec.heads, tokens_count);
    // Some heads look at audio far more than others; deeper layers a little less.
    let head_bias: Vec<f64> = (0..layers * heads)
        .map(|i| {
            let layer = i / heads;
            let audio_head = rng.random::<f64>() < 0.35;
            let base = if audio_head { 0.45 } else { 0.12 };
            base * (1.0 - 0.12 * layer as f64) * (0.8 + 0.4 * rng.random::<f64>())
        })
        .collect();
    let mut rows = AttentionRows {
        rows: tokens,
        layers,
        heads,
        audio_tokens: n_audio,
        audio_ratio: Vec::with_capacity(tokens * layers * heads),
        sink_mass: Vec::with_capacity(tokens * layers * heads),
        audio_map: Vec::with_capacity(tokens * layers * n_audio),
        head_maps: Some(Vec::with_capacity(tokens * layers * heads * n_audio)),
        experts: None,
        top_k: 0,
    };
    for (t, &line) in line_of_token.iter().enumerate() {
        let progress = t as f64 / tokens.max(1) as f64;
        // Perception decay: attention to the audio fades along the chain.
        let fade = 0.3 + 0.7 * (-2.2 * progress).exp();
        let event = spec.lines[line].1.map(|e| &spec.events[e]);
        for l in 0..layers {
            let mut layer_map = vec![0f64; n_audio];
            for h in 0..heads {
                let jitter = 0.85 + 0.3 * rng.random::<f64>();
                let ratio = (head_bias[l * heads + h] * fade * jitter).min(0.9);
                let sink = (0.25 + 0.35 * rng.random::<f64>()).min(0.98 - ratio);
                // Where it looks: a bump on the step's event, wider and weaker as the chain goes
                // on, over a floor spread across the clip.
                let mut map: Vec<f64> = (0..n_audio)
                    .map(|j| {
                        let time = (j as f64 + 0.5) * seconds_per_token;
                        let floor = 0.15 + 0.1 * rng.random::<f64>();
                        let bump = event.map_or(0.0, |e| {
                            let centre = (e.start + e.end) / 2.0;
                            let width = (e.end - e.start) / 2.0 * (1.0 + 2.5 * progress) + 0.05;
                            (1.0 - 0.6 * progress)
                                * 4.0
                                * (-((time - centre) / width).powi(2)).exp()
                        });
                        floor + bump
                    })
                    .collect();
                let total: f64 = map.iter().sum();
                map.iter_mut().for_each(|m| *m *= ratio / total);
                rows.audio_ratio.push(ratio as f32);
                rows.sink_mass.push(sink as f32);
                for (acc, m) in layer_map.iter_mut().zip(&map) {
                    *acc += m / heads as f64;
                }
                rows.head_maps
                    .as_mut()
                    .expect("built with head maps")
                    .extend(map.iter().map(|&m| m as f32));
            }
            rows.audio_map.extend(layer_map.iter().map(|&m| m as f32));
        }
    }
    rows
}
