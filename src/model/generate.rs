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

/// Generates from prompt embeddings `(seq, hidden)` whose audio tokens sit at `audio_span`.
/// `on_event` sees every token as it is chosen; returning `Break` cancels the run.
pub fn generate(
    model: &mut AudioLm,
    prompt_embeds: &Tensor,
    audio_span: Range<usize>,
    options: &GenerateOptions,
    mut on_event: impl FnMut(GenerationEvent) -> ControlFlow<()>,
) -> Result<Generation> {
    let started = Instant::now();
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
    // The last generated token is never fed back, so the cache holds at most this many.
    model.reserve_kv_cache(prompt_embeds.dim(0)? + options.max_new_tokens.saturating_sub(1));

    let (logits, captured) = prefill(model, prompt_embeds, &prompt_capture, PREFILL_ROWS)?;
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
        let (next_logits, captured) = model.forward_tokens(&[id], pos, &capture, Logits::Last)?;
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

/// Query rows the prompt is run in at a time: a 300 s Qwen2.5-Omni clip makes a prompt of about
/// 7,600 tokens, whose attention scores and probabilities for all rows at once would take about
/// 6.5 GB per layer of a 28-head model; in blocks of 2,048 rows, about 1.7 GB. Shorter prompts
/// (every Qwen2-Audio prompt) run in one pass.
pub(super) const PREFILL_ROWS: usize = 2048;

/// Runs the prompt through the decoder from position 0 (the cache cleared) in blocks of at most
/// `block_rows` query rows, each after the KV cache the earlier ones filled (the same attention rows, the same logits up to float
/// rounding). Where every prompt row's attention is to be captured, it runs in one pass (a block's
/// rows see only part of the audio span).
pub(super) fn prefill(
    model: &mut AudioLm,
    embeds: &Tensor,
    capture: &CaptureRequest,
    block_rows: usize,
) -> Result<(Tensor, Vec<LayerCapture>)> {
    let rows = embeds.dim(0)?;
    let every_row = matches!(
        capture,
        CaptureRequest::Reduced {
            last_row_only: false,
            ..
        } | CaptureRequest::Full
    );
    if rows <= block_rows || every_row {
        return model.forward_embeds(embeds, 0, capture, Logits::Last);
    }
    let mut start = 0;
    loop {
        let len = block_rows.min(rows - start);
        let block = embeds.narrow(0, start, len)?; // (len, hidden): rows start..start + len
        if start + len == rows {
            return model.forward_embeds(&block, start, capture, Logits::Last);
        }
        model.forward_embeds(&block, start, &CaptureRequest::Off, Logits::Last)?;
        start += len;
    }
}

fn reduced(captured: Vec<LayerCapture>) -> Result<Vec<ReducedLayer>> {
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

    /// A prompt run in blocks through the KV cache gives the one-pass logits and last-row
    /// capture (up to float rounding) and fills the cache with every row; asked for every prompt
    /// row's attention, it runs in one pass.
    #[test]
    fn a_prompt_in_blocks_gives_what_one_pass_gives() {
        use crate::model::{Checkpoint, DeviceKind, Precision};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checkpoint = Checkpoint::load(
            &root.join("tests/fixtures/qwen2_audio/tiny_a"),
            Precision::F32,
            DeviceKind::Cpu,
        )
        .unwrap();
        let rate = checkpoint.processor.mel_config().sampling_rate;
        let audio = crate::audio::decode_file(&root.join("tests/fixtures/audio/mel/mid.wav"), rate)
            .unwrap();
        let input = checkpoint
            .processor
            .prepare(&audio.samples, "What sound is this?", None)
            .unwrap();
        let embeds = checkpoint.embed_input(&input).unwrap();
        let rows = embeds.dim(0).unwrap();
        assert!(rows > 3 * 32, "{rows} prompt rows: several blocks of 32");
        let last_row = CaptureRequest::Reduced {
            audio_span: input.audio_span.clone(),
            per_head_maps: true,
            last_row_only: true,
        };
        let model = &mut checkpoint.model;
        let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let mut outcomes = Vec::new();
        for block in [rows, 32] {
            model.clear_kv_cache();
            let (logits, captured) = prefill(model, &embeds, &last_row, block).unwrap();
            assert_eq!(model.cached_positions(), rows);
            let capture = AttentionRows::from_layers(&reduced(captured).unwrap()).unwrap();
            outcomes.push((values(&logits), capture));
        }
        let (one_pass, blocks) = (&outcomes[0], &outcomes[1]);
        let largest = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max)
        };
        assert!(largest(&one_pass.0, &blocks.0) < 1e-5);
        assert_eq!(blocks.1.rows, 1);
        assert!(largest(&one_pass.1.audio_ratio, &blocks.1.audio_ratio) < 1e-6);
        assert!(largest(&one_pass.1.audio_map, &blocks.1.audio_map) < 1e-6);

        // Every row wanted: one pass even with a small block.
        let every_row = CaptureRequest::Reduced {
            audio_span: input.audio_span.clone(),
            per_head_maps: false,
            last_row_only: false,
        };
        model.clear_kv_cache();
        let (_, captured) = prefill(model, &embeds, &every_row, 32).unwrap();
        let all = AttentionRows::from_layers(&reduced(captured).unwrap()).unwrap();
        assert_eq!(all.rows, rows);
    }
}
