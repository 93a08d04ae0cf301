//! How far one model's outputs drift from another's on the same input: what quantizing the
//! weights changes in the numbers auscult shows.
//!
//! Both models are run teacher-forced over the same token sequence (the prompt, then the exact
//! model's greedy tokens), so every position sees the same context and the differences are the
//! weights' alone: next-token logits (max |Δ|, KL divergence, top-1 agreement), each generated
//! token's audio ratio (mean over layers and heads) and its audio maps (Pearson over every
//! token, layer and audio frame). Free-running greedy agreement (how many tokens two models
//! generate alike before they part) is `agreement_length`. `pearson` lives here, the lowest layer
//! that needs it; reports use it from here.

use std::ops::Range;

use candle_core::{Result, Tensor};

use super::audio_lm::AudioLm;
use super::capture::{AttentionRows, CaptureRequest, LayerCapture};
use super::decoder::Logits;

/// One model's next-token logits and attention at every generated position, teacher-forced.
#[derive(Debug, Clone)]
pub struct TeacherForced {
    /// Row `t`: the logits that choose generated token `t` (vocabulary wide).
    pub logits: Vec<Vec<f32>>,
    /// Row `t`: the attention record of generated token `t` (the same query row).
    pub attention: AttentionRows,
}

/// Runs `model` over `prompt_embeds` and then `generated[..n - 1]`, and returns what chose each
/// of the `n` generated tokens. The KV cache is cleared before and after.
pub fn teacher_forced(
    model: &mut AudioLm,
    prompt_embeds: &Tensor,
    audio_span: Range<usize>,
    generated: &[u32],
) -> Result<TeacherForced> {
    if generated.is_empty() {
        candle_core::bail!("teacher forcing needs at least one generated token");
    }
    let capture = |last_row_only| CaptureRequest::Reduced {
        audio_span: audio_span.clone(),
        per_head_maps: false,
        last_row_only,
    };
    model.clear_kv_cache();
    let (first_logits, first_layers) =
        model.forward_embeds(prompt_embeds, 0, &capture(true), Logits::Last)?;
    let mut logits = logit_rows(&first_logits)?;
    let mut attention = attention_rows(&first_layers)?;
    let rest = &generated[..generated.len() - 1];
    if !rest.is_empty() {
        let (rest_logits, rest_layers) =
            model.forward_tokens(rest, prompt_embeds.dim(0)?, &capture(false), Logits::All)?;
        logits.extend(logit_rows(&rest_logits)?);
        attention.append(&attention_rows(&rest_layers)?);
    }
    model.clear_kv_cache();
    Ok(TeacherForced { logits, attention })
}

/// The decoder's logits, (query rows, vocabulary) in f32, as host rows.
fn logit_rows(logits: &Tensor) -> Result<Vec<Vec<f32>>> {
    logits.to_vec2()
}

fn attention_rows(layers: &[LayerCapture]) -> Result<AttentionRows> {
    let reduced: Vec<_> = layers
        .iter()
        .map(|layer| match layer {
            LayerCapture::Reduced(reduced) => Ok(reduced.clone()),
            _ => Err(candle_core::Error::Msg(
                "teacher forcing asked for reduced capture".into(),
            )),
        })
        .collect::<Result<_>>()?;
    AttentionRows::from_layers(&reduced)
}

/// What changed from the exact model's outputs to another's, over the same positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    pub positions: usize,
    /// Largest |Δ| of any logit at any position.
    pub logits_max_abs: f32,
    /// KL(exact ‖ other) of the next-token distributions, in nats: mean and largest.
    pub kl_mean: f64,
    pub kl_max: f64,
    /// Share of positions where both pick the same most likely token.
    pub top1_agreement: f64,
    /// |Δ| of each token's audio ratio (mean over layers and heads): mean and largest.
    pub audio_ratio_mean_abs: f64,
    pub audio_ratio_max_abs: f64,
    /// Pearson correlation of the audio maps (every token, layer and audio frame); `None` when a
    /// map is constant.
    pub map_pearson: Option<f64>,
}

/// Compares `other` with `exact` position by position (the same teacher-forced sequence).
pub fn drift(exact: &TeacherForced, other: &TeacherForced) -> Drift {
    assert_eq!(exact.logits.len(), other.logits.len(), "same positions");
    let positions = exact.logits.len();
    let mut logits_max_abs = 0f32;
    let (mut kl_sum, mut kl_max, mut same_top1) = (0f64, 0f64, 0usize);
    for (a, b) in exact.logits.iter().zip(&other.logits) {
        for (x, y) in a.iter().zip(b) {
            logits_max_abs = logits_max_abs.max((x - y).abs());
        }
        let kl = kl_divergence(a, b);
        kl_sum += kl;
        kl_max = kl_max.max(kl);
        same_top1 += usize::from(super::sampler::argmax(a) == super::sampler::argmax(b));
    }
    let ratio_gaps: Vec<f64> = token_audio_ratios(&exact.attention)
        .iter()
        .zip(token_audio_ratios(&other.attention))
        .map(|(a, b)| (a - b).abs())
        .collect();
    let map_pairs: Vec<(f64, f64)> = exact
        .attention
        .audio_map
        .iter()
        .zip(&other.attention.audio_map)
        .map(|(&a, &b)| (f64::from(a), f64::from(b)))
        .collect();
    Drift {
        positions,
        logits_max_abs,
        kl_mean: kl_sum / positions.max(1) as f64,
        kl_max,
        top1_agreement: same_top1 as f64 / positions.max(1) as f64,
        audio_ratio_mean_abs: ratio_gaps.iter().sum::<f64>() / ratio_gaps.len().max(1) as f64,
        audio_ratio_max_abs: ratio_gaps.iter().copied().fold(0.0, f64::max),
        map_pearson: pearson(&map_pairs),
    }
}

/// Pearson correlation; `None` when either side is constant or there are fewer than 3 pairs.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// KL(p ‖ q) in nats for the softmax distributions of logits `p` and `q` (log-sum-exp in f64).
pub fn kl_divergence(p_logits: &[f32], q_logits: &[f32]) -> f64 {
    let (log_p, log_q) = (log_softmax(p_logits), log_softmax(q_logits));
    let kl: f64 = log_p
        .iter()
        .zip(&log_q)
        .map(|(lp, lq)| lp.exp() * (lp - lq))
        .sum();
    kl.max(0.0)
}

/// Log-softmax of logits, in f64 (log-sum-exp after the maximum).
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let log_sum = logits
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln();
    logits.iter().map(|&x| x as f64 - max - log_sum).collect()
}

/// Each row's audio ratio averaged over layers and heads.
fn token_audio_ratios(rows: &AttentionRows) -> Vec<f64> {
    let per_row = rows.layers * rows.heads;
    rows.audio_ratio
        .chunks(per_row.max(1))
        .map(|row| row.iter().map(|&r| f64::from(r)).sum::<f64>() / per_row.max(1) as f64)
        .collect()
}

/// How many tokens two generations share from the start.
pub fn agreement_length(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_zero_for_equal_logits_and_positive_otherwise() {
        let p = [1.0, 2.0, 3.0];
        assert!(kl_divergence(&p, &p).abs() < 1e-12);
        // Shifting every logit leaves the distribution alone.
        assert!(kl_divergence(&p, &[11.0, 12.0, 13.0]).abs() < 1e-12);
        // Two-outcome case by hand: p = (0.5, 0.5), q = softmax(0, ln 3) = (0.25, 0.75).
        let kl = kl_divergence(&[0.0, 0.0], &[0.0, 3f32.ln()]);
        let expected = 0.5 * (0.5f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.75).ln();
        assert!((kl - expected).abs() < 1e-7, "{kl} vs {expected}");
    }

    #[test]
    fn agreement_counts_the_shared_prefix() {
        assert_eq!(agreement_length(&[1, 2, 3, 4], &[1, 2, 5, 4]), 2);
        assert_eq!(agreement_length(&[1, 2], &[1, 2, 3]), 2);
        assert_eq!(agreement_length(&[], &[1]), 0);
    }
}
