//! Generation: decoding with the KV cache, attention capture for every generated token,
//! streaming to a callback, and cancellation.
//!
//! The record for generated token `t` is the attention of the query row whose logits chose `t`
//! (the prompt's last row for the first token, then each previous token's row), which is what
//! transformers' `generate(output_attentions=True)` returns per step. The next token is chosen
//! by `sampler`. These are runtime types: the trace's records of them are `trace::generation`'s,
//! filled by the runner.

use std::ops::{ControlFlow, Range};
use std::time::Instant;

use candle_core::{Result, Tensor};

use super::audio_lm::AudioLm;
use super::capture::{AttentionRows, CaptureRequest, LayerCapture, ReducedLayer};
use super::decoder::Logits;
use super::prefill::run_context;
use super::sampler::{Sampler, Sampling};

/// What attention to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureOptions {
    /// Record generated tokens' attention (off only to measure its cost).
    pub enabled: bool,
    /// Also keep each head's audio map, not only the head mean.
    pub per_head_maps: bool,
    /// Also record the prompt tokens' rows.
    pub prompt: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            per_head_maps: false,
            prompt: false,
        }
    }
}

/// How to generate: the sampling, how many tokens, what stops the run, what to capture.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    pub sampling: Sampling,
    pub max_new_tokens: usize,
    /// Stop ids cannot end the run before this many tokens (transformers' `min_new_tokens`:
    /// their logits are set to -inf).
    pub min_new_tokens: usize,
    pub stop_ids: Vec<u32>,
    pub capture: CaptureOptions,
}

impl GenerateOptions {
    /// Greedy decoding of at most `max_new_tokens`, stopping at `stop_ids`, with the default
    /// capture (generated tokens' head-mean rows).
    pub fn greedy(max_new_tokens: usize, stop_ids: Vec<u32>) -> Self {
        Self {
            sampling: Sampling::Greedy,
            max_new_tokens,
            min_new_tokens: 0,
            stop_ids,
            capture: CaptureOptions::default(),
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoppedBy {
    StopToken,
    MaxNewTokens,
    Cancelled,
}

/// One streamed piece of a running generation.
#[derive(Debug)]
pub enum GenerationEvent<'a> {
    /// The prompt's own attention rows (only with `CaptureOptions::prompt`).
    Prompt { attention: &'a AttentionRows },
    /// A new token and, with capture on, its attention record (one row).
    Token {
        index: usize,
        id: u32,
        attention: Option<&'a AttentionRows>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Encoder, scatter and the prompt's forward pass.
    pub prefill_seconds: f64,
    /// Every forward pass after the prompt's.
    pub decode_seconds: f64,
    /// Generated tokens after the first per decode second.
    pub decode_tokens_per_second: f64,
}

#[derive(Debug, Clone)]
pub struct Generation {
    /// Generated ids, the stop token included when one ended the run.
    pub ids: Vec<u32>,
    pub stopped_by: StoppedBy,
    /// One row per generated token (capture on).
    pub attention: Option<AttentionRows>,
    /// One row per prompt token (prompt capture on).
    pub prompt_attention: Option<AttentionRows>,
    pub timings: Timings,
}

/// Where a generation starts: `context` rows (a prompt, then any generated tokens kept) of which
/// the first `cached_rows` are already in the KV cache (0: a fresh run, the cache cleared), and
/// the position from which on the audio keys are hidden from every row (`None`: never).
#[derive(Debug, Clone, Copy)]
pub struct Continuation<'a> {
    pub context: &'a Tensor,
    pub cached_rows: usize,
    pub hide_audio_from: Option<usize>,
}

/// Generates from prompt embeddings `(seq, hidden)` whose audio tokens sit at `audio_span`.
/// `on_event` sees every token as it is chosen; returning `Break` cancels the run.
pub fn generate(
    model: &mut AudioLm,
    prompt_embeds: &Tensor,
    audio_span: Range<usize>,
    options: &GenerateOptions,
    on_event: impl FnMut(GenerationEvent) -> ControlFlow<()>,
) -> Result<Generation> {
    let start = Continuation {
        context: prompt_embeds,
        cached_rows: 0,
        hide_audio_from: None,
    };
    generate_continuation(model, start, audio_span, options, on_event)
}

/// Generates after `start.context`, as `generate` does after a prompt: the cache is cut back to
/// the rows it shares with the context (or cleared), the rest of the context is run, and from
/// `start.hide_audio_from` on no row sees the audio keys (prompt capture needs a fresh, unhidden
/// run: it records every context row).
pub fn generate_continuation(
    model: &mut AudioLm,
    start: Continuation,
    audio_span: Range<usize>,
    options: &GenerateOptions,
    mut on_event: impl FnMut(GenerationEvent) -> ControlFlow<()>,
) -> Result<Generation> {
    let started = Instant::now();
    let prompt_embeds = start.context;
    if options.capture.prompt && (start.cached_rows > 0 || start.hide_audio_from.is_some()) {
        candle_core::bail!("prompt capture records a whole fresh prompt, not a continuation");
    }
    let capture_rows = |last_row_only| {
        if options.capture.enabled {
            CaptureRequest::Reduced {
                audio_span: audio_span.clone(),
                per_head_maps: options.capture.per_head_maps,
                last_row_only,
            }
        } else {
            CaptureRequest::Off
        }
    };
    // The prompt's rows are reduced only when asked for; its last row always is.
    let prompt_capture = capture_rows(!options.capture.prompt);
    let capture = capture_rows(false);
    let mut sampler = Sampler::new(&options.sampling);
    if start.cached_rows == 0 {
        // The last generated token is never fed back, so the cache holds at most this many.
        model.reserve_kv_cache(prompt_embeds.dim(0)? + options.max_new_tokens.saturating_sub(1));
    } else {
        model.truncate_kv_cache(start.cached_rows)?;
    }
    let hidden = start.hide_audio_from.map(|h| (h, &audio_span));
    let (logits, captured) = run_context(
        model,
        prompt_embeds,
        start.cached_rows,
        hidden,
        &prompt_capture,
    )?;
    let mut prompt_attention = None;
    let mut row = None;
    let mut stopped_by = StoppedBy::MaxNewTokens;
    if options.capture.enabled {
        let prompt_rows = AttentionRows::from_layers(&reduced(captured)?)?;
        row = Some(prompt_rows.last_rows(1));
        if options.capture.prompt {
            let event = GenerationEvent::Prompt {
                attention: &prompt_rows,
            };
            if on_event(event).is_break() {
                stopped_by = StoppedBy::Cancelled;
            }
            prompt_attention = Some(prompt_rows);
        }
    }
    let prefill_seconds = started.elapsed().as_secs_f64();

    let decode_started = Instant::now();
    let mut ids = Vec::new();
    let mut attention = row.as_ref().map(AttentionRows::empty_like);
    let mut logits = logits;
    while stopped_by != StoppedBy::Cancelled && ids.len() < options.max_new_tokens {
        let mut scores = logits.flatten_all()?.to_vec1::<f32>()?;
        if ids.len() < options.min_new_tokens {
            for &stop in &options.stop_ids {
                if let Some(score) = scores.get_mut(stop as usize) {
                    *score = f32::NEG_INFINITY;
                }
            }
        }
        let id = sampler.next(&scores) as u32;
        ids.push(id);
        if let (Some(all), Some(row)) = (attention.as_mut(), row.as_ref()) {
            all.append(row);
        }
        let event = GenerationEvent::Token {
            index: ids.len() - 1,
            id,
            attention: row.as_ref(),
        };
        if on_event(event).is_break() {
            stopped_by = StoppedBy::Cancelled;
            break;
        }
        if options.stop_ids.contains(&id) {
            stopped_by = StoppedBy::StopToken;
            break;
        }
        if ids.len() == options.max_new_tokens {
            break;
        }
        // The prompt's rows, then every generated token but this one, are in the cache.
        let pos = prompt_embeds.dim(0)? + ids.len() - 1;
        let hidden_keys = start
            .hide_audio_from
            .filter(|&h| pos >= h)
            .map(|_| &audio_span);
        let embeds = model.embed_tokens(&[id])?;
        let (next_logits, captured) =
            model.forward_embeds_hiding(&embeds, pos, hidden_keys, &capture, Logits::Last)?;
        logits = next_logits;
        if options.capture.enabled {
            row = Some(AttentionRows::from_layers(&reduced(captured)?)?);
        }
    }
    let decode_seconds = decode_started.elapsed().as_secs_f64();
    let decoded_after_first = ids.len().saturating_sub(1);
    Ok(Generation {
        ids,
        stopped_by,
        attention,
        prompt_attention,
        timings: Timings {
            prefill_seconds,
            decode_seconds,
            decode_tokens_per_second: if decode_seconds > 0.0 {
                decoded_after_first as f64 / decode_seconds
            } else {
                0.0
            },
        },
    })
}

pub(super) fn reduced(captured: Vec<LayerCapture>) -> Result<Vec<ReducedLayer>> {
    captured
        .into_iter()
        .map(|c| match c {
            LayerCapture::Reduced(r) => Ok(r),
            _ => candle_core::bail!("the decoder returned no reduced capture"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::reliance::teacher_forced_logits;
    use crate::model::sampler::argmax;

    /// A greedy run with the audio hidden from the prompt's last row on is what teacher forcing
    /// with the audio masked would choose; a continuation from a kept cache gives what the same
    /// context run afresh gives, and without hiding it reproduces the original run.
    #[test]
    fn hidden_audio_runs_agree_with_teacher_forcing_and_fresh_contexts() {
        let (mut checkpoint, input, embeds) =
            crate::model::test_support::fixture_with_clip("qwen2_audio/tiny_a", "mid.wav");
        let prompt = embeds.dim(0).unwrap();
        let span = input.audio_span.clone();
        let mut options = GenerateOptions::greedy(40, vec![]);
        options.capture.enabled = false;
        let go = |_: GenerationEvent| ControlFlow::Continue(());
        let model = &mut checkpoint.model;
        let original = generate(model, &embeds, span.clone(), &options, go)
            .unwrap()
            .ids;

        let masked_start = Continuation {
            context: &embeds,
            cached_rows: 0,
            hide_audio_from: Some(prompt - 1),
        };
        let masked = generate_continuation(model, masked_start, span.clone(), &options, go)
            .unwrap()
            .ids;
        assert_ne!(masked, original, "hiding the audio changes this generation");
        let forced =
            teacher_forced_logits(model, &embeds, &masked, Some(span.clone()), false).unwrap();
        let top1: Vec<u32> = forced.iter().map(|row| argmax(row) as u32).collect();
        assert_eq!(top1, masked);

        // From token 10 on: the kept cache (a run of the original first) and a fresh context.
        let kept = 10;
        let context = Tensor::cat(
            &[
                embeds.clone(),
                model.embed_tokens(&original[..kept]).unwrap(),
            ],
            0,
        )
        .unwrap();
        let rest = GenerateOptions::greedy(40 - kept, vec![]);
        let rest = GenerateOptions {
            capture: options.capture,
            ..rest
        };
        let mut continuations = Vec::new();
        for (cached_rows, hide_audio_from) in [
            (prompt + kept - 1, Some(prompt + kept - 1)),
            (0, Some(prompt + kept - 1)),
            (prompt + kept - 1, None),
        ] {
            if cached_rows > 0 {
                generate(model, &embeds, span.clone(), &options, go).unwrap();
            }
            let start = Continuation {
                context: &context,
                cached_rows,
                hide_audio_from,
            };
            continuations.push(
                generate_continuation(model, start, span.clone(), &rest, go)
                    .unwrap()
                    .ids,
            );
        }
        assert_eq!(continuations[0], continuations[1]);
        assert_eq!(continuations[2], original[kept..]);
    }
}
