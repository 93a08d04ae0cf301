//! A synthetic router for the example traces: the experts a mixture-of-experts decoder (Qwen3-Omni's
//! thinker: top 8 of 128) would have picked for each generated token in each layer. A few
//! "listening" experts are favoured the more a token attends to the audio, every other pick is
//! spread over the rest, so the steps that find their event lean on the same few experts. It
//! fills `AttentionRows::experts` as the model's capture does.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{example_trace, ExampleSpec};
use crate::model::AttentionRows;
use crate::trace::{ExpertsRecord, SidecarArrays, Trace};

/// The experts favoured when a token listens, in every layer.
const LISTENING: [u16; 3] = [17, 3, 88];

/// `example_trace(spec)` as a mixture-of-experts decoder of `experts.count` experts, picking
/// `experts.top_k` per token, would have made it: the same text and attention, the model named
/// `qwen3_omni_moe` with its experts, and each generated token's expert ids (every layer sparse).
pub fn example_trace_with_experts(
    spec: &ExampleSpec,
    experts: ExpertsRecord,
) -> (Trace, SidecarArrays) {
    let (mut trace, mut arrays) = example_trace(spec);
    trace.model.model_type = "qwen3_omni_moe".into();
    trace.model.experts = Some(experts);
    route(&mut arrays.generated, experts, spec.seed);
    (trace, arrays)
}

/// Fills `rows.experts`: for each token and layer, `top_k` distinct experts drawn in proportion
/// to their weights (1 each, more for `LISTENING` the larger the token's head-mean audio ratio
/// in that layer), most probable first; deterministic for `seed`.
fn route(rows: &mut AttentionRows, experts: ExpertsRecord, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6578_7065_7274);
    let (layers, heads) = (rows.layers, rows.heads.max(1));
    let mut ids = Vec::with_capacity(rows.rows * layers * experts.top_k);
    for t in 0..rows.rows {
        for l in 0..layers {
            let at = (t * layers + l) * heads;
            let ratio = rows.audio_ratio[at..at + heads].iter().sum::<f32>() / heads as f32;
            let pull = 1.0 + 300.0 * f64::from(ratio).powi(2);
            // Sampling without replacement by the Gumbel trick: the top k of log w + Gumbel noise.
            let mut scored: Vec<(f64, u16)> = (0..experts.count)
                .map(|e| {
                    let e = e as u16;
                    let weight = if LISTENING.contains(&e) { pull } else { 1.0 };
                    let uniform: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
                    (weight.ln() - (-uniform.ln()).ln(), e)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            ids.extend(scored.iter().take(experts.top_k).map(|&(_, e)| e));
        }
    }
    rows.experts = Some(ids);
    rows.top_k = experts.top_k;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::tones_spec;
    use crate::trace::expert_metrics::expert_shares;

    #[test]
    fn steps_that_listen_lean_on_the_listening_experts() {
        let experts = ExpertsRecord {
            count: 128,
            top_k: 8,
        };
        let (trace, arrays) = example_trace_with_experts(&tones_spec(), experts);
        let rows = &arrays.generated;
        assert_eq!(rows.top_k, 8);
        let ids = rows.experts.as_ref().unwrap();
        assert_eq!(ids.len(), rows.rows * rows.layers * 8);
        assert!(ids.iter().all(|&e| e < 128));
        for slot in ids.chunks(8) {
            let mut distinct = slot.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 8, "{slot:?}");
        }
        let share = |step: usize, expert: u16| {
            expert_shares(rows, trace.steps[step].tokens, &[])
                .unwrap()
                .shares
                .iter()
                .find(|s| s.expert == expert)
                .map_or(0.0, |s| s.share)
        };
        // Step 1 finds the first tone; step 9, late in the chain, hardly listens.
        assert!(
            share(1, 17) > 2.0 * share(9, 17),
            "{} {}",
            share(1, 17),
            share(9, 17)
        );
        assert!(share(1, 17) > 4.0 * 8.0 / 128.0);
        // The attention is the dense example's; deterministic.
        let (dense_trace, dense) = example_trace(&tones_spec());
        assert_eq!(rows.audio_ratio, dense.generated.audio_ratio);
        assert_eq!(trace.steps, dense_trace.steps);
        assert_eq!(example_trace_with_experts(&tones_spec(), experts).1, arrays);
    }

    #[test]
    fn the_experts_record_survives_json_and_traces_without_it_still_load() {
        let experts = ExpertsRecord {
            count: 128,
            top_k: 8,
        };
        let (trace, _) = example_trace_with_experts(&tones_spec(), experts);
        let json = serde_json::to_value(&trace).unwrap();
        assert_eq!(
            json["model"]["experts"],
            serde_json::json!({"count": 128, "top_k": 8})
        );
        assert_eq!(
            serde_json::from_value::<Trace>(json.clone()).unwrap(),
            trace
        );
        let mut old = json;
        old["model"].as_object_mut().unwrap().remove("experts");
        let read: Trace = serde_json::from_value(old).unwrap();
        assert_eq!(read.model.experts, None);
        // A dense trace writes no experts field at all.
        let (dense, _) = example_trace(&tones_spec());
        let json = serde_json::to_value(&dense).unwrap();
        assert!(json["model"].get("experts").is_none());
    }
}
