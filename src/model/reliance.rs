//! Causal evidence: how much each generated token depends on the audio, measured by running the
//! same tokens again with the audio taken away (teacher forcing).
//!
//! For generated tokens `y_0 … y_{T-1}` after a prompt of `P` tokens, the rows at positions
//! `P-1 … P+T-2` of the sequence `prompt ++ y_<T-1` give the next-token distributions that chose
//! them. A *counterfactual* runs those rows with the audio removed:
//! - `silence`: the clip replaced by digital silence of the same length, through the same front
//!   end and encoder (the prompt's ids are unchanged; its audio rows differ);
//! - `masked`: the real prompt, but the audio tokens' keys hidden from the `T` rows that predict
//!   generated tokens, in every layer (the prompt's own rows still see the audio, so what the
//!   question's tokens took from it still reaches the answer: `masked` measures what the
//!   generated positions read from the audio directly, `silence` everything the audio gave);
//! - an occlusion window: the clip with one window of samples zeroed before the front end.
//!
//! For each token `t`: `delta[t] = log p(y_t | audio) − log p(y_t | counterfactual)`,
//! `kl[t] = KL(p(· | audio) ‖ p(· | counterfactual))` in nats, and the counterfactual's top-1 token
//! (a flip where it is not the actual top-1). The actual pass is teacher-forced too, so a trace
//! made long ago is measured the same way as a fresh run, and its top-1 equals the generated
//! ids for a greedy trace.
//!
//! Cost: one teacher-forced pass over prompt and generation for the actual distributions, one
//! more per `silence` or occlusion window (the encoder and the prompt run again), and only the
//! generated rows for `masked` (the prompt's cache is cut back and reused). The actual logits of
//! every generated row are kept on the host until the passes end, `4 × vocab` bytes per token
//! (0.6 MB for Qwen's 151,936 ids), and a counterfactual's are compared block by block
//! (`evidence_bytes`, which the memory check counts).

use std::ops::Range;
use std::time::Instant;

use candle_core::{Result, Tensor};

use super::audio_lm::AudioLm;
use super::capture::CaptureRequest;
use super::checkpoint::Checkpoint;
use super::decoder::Logits;
use super::drift::log_softmax;
use super::error::ModelError;
use super::processor::PreparedInput;
use super::sampler::argmax;

/// Generated rows run at a time: bounds the (rows × vocabulary) logits and the attention scores
/// of one call.
const TAIL_ROWS: usize = 128;

/// Host memory the passes hold for `tokens` generated tokens over a vocabulary of `vocab`: the
/// actual logits of every token and one counterfactual block.
pub fn evidence_bytes(tokens: usize, vocab: usize) -> u64 {
    ((tokens + TAIL_ROWS.min(tokens)) * vocab * 4) as u64
}

/// A way of taking the audio away.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::Display, strum::EnumString,
)]
#[strum(serialize_all = "lowercase")]
pub enum Counterfactual {
    /// Digital silence of the clip's length through the front end.
    Silence,
    /// The audio tokens' keys hidden from every row that predicts a generated token.
    Masked,
}

impl Counterfactual {
    /// Every counterfactual, in the order they are run and stored.
    pub const ALL: [Counterfactual; 2] = [Counterfactual::Silence, Counterfactual::Masked];
}

/// The actual pass: each generated token's log-probability and the top-1 of its row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActualRows {
    pub log_prob: Vec<f32>,
    pub top1: Vec<u32>,
}

/// One counterfactual against the actual pass, per generated token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComparedRows {
    /// `log p(y_t | audio) − log p(y_t | counterfactual)`.
    pub delta: Vec<f32>,
    /// `KL(p(· | audio) ‖ p(· | counterfactual))`, nats.
    pub kl: Vec<f32>,
    /// The counterfactual's top-1 token.
    pub top1: Vec<u32>,
}

/// Occlusion windows over the clip, in samples at the model's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct OcclusionWindows {
    pub windows: Vec<Range<usize>>,
}

impl OcclusionWindows {
    /// Windows of `window` samples every `hop` samples over a clip of `samples`, the last one
    /// cut at the clip's end (at least one window for any non-empty clip).
    pub fn sliding(samples: usize, window: usize, hop: usize) -> Self {
        let (window, hop) = (window.max(1), hop.max(1));
        let mut windows = Vec::new();
        let mut start = 0;
        while start < samples {
            windows.push(start..(start + window).min(samples));
            if start + window >= samples {
                break;
            }
            start += hop;
        }
        Self { windows }
    }
}

/// Per window, per token: row-major `[tokens, windows]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcclusionRows {
    pub tokens: usize,
    pub windows: usize,
    pub delta: Vec<f32>,
    pub kl: Vec<f32>,
}

/// What to measure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceRequest {
    pub counterfactuals: Vec<Counterfactual>,
    pub occlusion: Option<OcclusionWindows>,
}

/// Seconds each kind of pass took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceTimings {
    pub actual_seconds: f64,
    pub counterfactual_seconds: Vec<(Counterfactual, f64)>,
    pub occlusion_seconds: f64,
}

/// Everything measured for one generation (`T` generated tokens).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub actual: ActualRows,
    pub counterfactuals: Vec<(Counterfactual, ComparedRows)>,
    pub occlusion: Option<OcclusionRows>,
}

impl Evidence {
    /// Generated tokens the arrays cover.
    pub fn tokens(&self) -> usize {
        self.actual.log_prob.len()
    }

    /// The rows of `counterfactual`, if it was measured.
    pub fn compared(&self, counterfactual: Counterfactual) -> Option<&ComparedRows> {
        self.counterfactuals
            .iter()
            .find(|(c, _)| *c == counterfactual)
            .map(|(_, rows)| rows)
    }
}

/// Runs the passes `request` asks for over `generated`, the tokens generated after `input`
/// (prepared from `samples`, the clip at the model's rate). The KV cache is left holding the
/// last pass.
pub fn measure_evidence(
    checkpoint: &mut Checkpoint,
    samples: &[f32],
    input: &PreparedInput,
    generated: &[u32],
    request: &EvidenceRequest,
) -> std::result::Result<(Evidence, EvidenceTimings), ModelError> {
    let mut evidence = Evidence::default();
    let mut timings = EvidenceTimings::default();
    if generated.is_empty() {
        evidence.counterfactuals = request
            .counterfactuals
            .iter()
            .map(|&c| (c, ComparedRows::default()))
            .collect();
        evidence.occlusion = request.occlusion.as_ref().map(|w| OcclusionRows {
            windows: w.windows.len(),
            ..OcclusionRows::default()
        });
        return Ok((evidence, timings));
    }
    let started = Instant::now();
    let embeds = checkpoint.embed_input(input)?;
    let actual = teacher_forced_logits(&mut checkpoint.model, &embeds, generated, None, false)?;
    evidence.actual = ActualRows {
        log_prob: actual
            .iter()
            .zip(generated)
            .map(|(row, &id)| log_softmax(row)[id as usize] as f32)
            .collect(),
        top1: actual.iter().map(|row| argmax(row) as u32).collect(),
    };
    timings.actual_seconds = started.elapsed().as_secs_f64();

    // `masked` reuses the actual prompt's cache: run it first.
    let mut order = request.counterfactuals.clone();
    order.sort_by_key(|c| *c != Counterfactual::Masked);
    for counterfactual in order {
        let started = Instant::now();
        let compared = match counterfactual {
            Counterfactual::Masked => {
                let audio = input.audio_span.clone();
                let mut compared = ComparedRows::default();
                teacher_forced_blocks(
                    &mut checkpoint.model,
                    &embeds,
                    generated,
                    Some(audio),
                    true,
                    |start, block| compare_block(&actual, start, &block, generated, &mut compared),
                )?;
                compared
            }
            Counterfactual::Silence => {
                let silent = vec![0.0; samples.len()];
                altered_comparison(checkpoint, &silent, input, generated, &actual)?
            }
        };
        evidence.counterfactuals.push((counterfactual, compared));
        timings
            .counterfactual_seconds
            .push((counterfactual, started.elapsed().as_secs_f64()));
    }
    // Stored in the order asked for.
    evidence
        .counterfactuals
        .sort_by_key(|(c, _)| request.counterfactuals.iter().position(|asked| asked == c));

    if let Some(occlusion) = &request.occlusion {
        let started = Instant::now();
        let (tokens, windows) = (generated.len(), occlusion.windows.len());
        let mut rows = OcclusionRows {
            tokens,
            windows,
            delta: vec![0.0; tokens * windows],
            kl: vec![0.0; tokens * windows],
        };
        for (w, window) in occlusion.windows.iter().enumerate() {
            let mut occluded = samples.to_vec();
            let end = window.end.min(occluded.len());
            occluded[window.start.min(end)..end].fill(0.0);
            let compared = altered_comparison(checkpoint, &occluded, input, generated, &actual)?;
            for t in 0..tokens {
                rows.delta[t * windows + w] = compared.delta[t];
                rows.kl[t * windows + w] = compared.kl[t];
            }
        }
        evidence.occlusion = Some(rows);
        timings.occlusion_seconds = started.elapsed().as_secs_f64();
    }
    Ok((evidence, timings))
}

/// The generated rows with the clip replaced by `altered` samples (same length: the prompt's ids
/// must come out the same), compared with the actual rows block by block.
fn altered_comparison(
    checkpoint: &mut Checkpoint,
    altered: &[f32],
    input: &PreparedInput,
    generated: &[u32],
    actual: &[Vec<f32>],
) -> std::result::Result<ComparedRows, ModelError> {
    let altered_input = checkpoint.processor.prepare_like(altered, input)?;
    if altered_input.input_ids != input.input_ids {
        return Err(ModelError::Input(format!(
            "the altered clip gave {} prompt tokens where the clip gave {}: a counterfactual must \
             keep the audio's length",
            altered_input.input_ids.len(),
            input.input_ids.len()
        )));
    }
    let embeds = checkpoint.embed_input(&altered_input)?;
    let mut compared = ComparedRows::default();
    teacher_forced_blocks(
        &mut checkpoint.model,
        &embeds,
        generated,
        None,
        false,
        |start, block| compare_block(actual, start, &block, generated, &mut compared),
    )?;
    Ok(compared)
}

/// Logits (one host row per generated token) of the rows that predict `generated` after the
/// prompt `embeds` (P rows): the prompt's first `P-1` rows are run into the cache (or, with
/// `reuse_prompt`, the cache is cut back to them), then the prompt's last row and every
/// generated token but the last, `TAIL_ROWS` at a time, with `hidden_keys` hidden from them.
pub fn teacher_forced_logits(
    model: &mut AudioLm,
    embeds: &Tensor,
    generated: &[u32],
    hidden_keys: Option<Range<usize>>,
    reuse_prompt: bool,
) -> Result<Vec<Vec<f32>>> {
    let mut rows = Vec::with_capacity(generated.len());
    teacher_forced_blocks(
        model,
        embeds,
        generated,
        hidden_keys,
        reuse_prompt,
        |_, block| rows.extend(block),
    )?;
    Ok(rows)
}

/// `teacher_forced_logits`, handing each block of at most `TAIL_ROWS` rows to `on_block` with
/// the index of its first generated token, so a counterfactual pass holds one block at a time.
fn teacher_forced_blocks(
    model: &mut AudioLm,
    embeds: &Tensor,
    generated: &[u32],
    hidden_keys: Option<Range<usize>>,
    reuse_prompt: bool,
    mut on_block: impl FnMut(usize, Vec<Vec<f32>>),
) -> Result<()> {
    let prompt_rows = embeds.dim(0)?;
    if prompt_rows < 2 || generated.is_empty() {
        candle_core::bail!("teacher forcing needs a prompt of 2 rows or more and a generation");
    }
    let prefix = prompt_rows - 1;
    if reuse_prompt && model.cached_positions() >= prefix {
        model.truncate_kv_cache(prefix)?;
    } else {
        model.reserve_kv_cache(prompt_rows + generated.len());
        super::prefill::prefill(
            model,
            &embeds.narrow(0, 0, prefix)?,
            0,
            &CaptureRequest::Off,
            super::prefill::PREFILL_ROWS,
        )?;
    }
    let last_prompt_row = embeds.narrow(0, prefix, 1)?;
    // One generated token: no token of it is fed back (and an empty lookup fails on CUDA).
    let tail = match &generated[..generated.len() - 1] {
        [] => last_prompt_row,
        fed_back => Tensor::cat(&[last_prompt_row, model.embed_tokens(fed_back)?], 0)?,
    }; // (T, hidden)
    let mut start = 0;
    while start < generated.len() {
        let len = TAIL_ROWS.min(generated.len() - start);
        let (logits, _) = model.forward_embeds_hiding(
            &tail.narrow(0, start, len)?,
            prefix + start,
            hidden_keys.as_ref(),
            &CaptureRequest::Off,
            Logits::All,
        )?;
        on_block(start, logits.to_vec2::<f32>()?);
        start += len;
    }
    Ok(())
}

/// Compares a block of counterfactual rows, the first for generated token `start`, with the
/// actual ones, token by token, appending to `compared`.
fn compare_block(
    actual: &[Vec<f32>],
    start: usize,
    counterfactual: &[Vec<f32>],
    generated: &[u32],
    compared: &mut ComparedRows,
) {
    let actual = &actual[start..];
    let generated = &generated[start..];
    for ((p, q), &id) in actual.iter().zip(counterfactual).zip(generated) {
        let (log_p, log_q) = (log_softmax(p), log_softmax(q));
        compared
            .delta
            .push((log_p[id as usize] - log_q[id as usize]) as f32);
        let kl: f64 = log_p
            .iter()
            .zip(&log_q)
            .map(|(lp, lq)| lp.exp() * (lp - lq))
            .sum();
        // Rounding can make a zero divergence slightly negative; a NaN stays visible.
        compared
            .kl
            .push(if kl.is_nan() { kl } else { kl.max(0.0) } as f32);
        compared.top1.push(argmax(q) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{generate, GenerateOptions};

    fn largest_gap(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// The teacher-forced rows equal one pass over prompt and generation (blocks, the prefix
    /// prefill and the cut-back cache change nothing), their top-1 is the greedy generation, and
    /// `masked` from a cut-back cache equals `masked` from a fresh one.
    #[test]
    fn teacher_forced_rows_match_one_pass_and_the_greedy_ids() {
        let (mut checkpoint, input, embeds) =
            crate::model::test_support::fixture_with_clip("qwen2_audio/tiny_b", "short.wav");
        let mut options = GenerateOptions::greedy(150, vec![]);
        options.capture.enabled = false;
        let generated = generate(
            &mut checkpoint.model,
            &embeds,
            input.audio_span.clone(),
            &options,
            |_| std::ops::ControlFlow::Continue(()),
        )
        .unwrap()
        .ids;
        assert!(
            generated.len() > TAIL_ROWS,
            "several blocks of generated rows"
        );
        let model = &mut checkpoint.model;

        let actual = teacher_forced_logits(model, &embeds, &generated, None, false).unwrap();
        let top1: Vec<u32> = actual.iter().map(|row| argmax(row) as u32).collect();
        assert_eq!(top1, generated);

        model.clear_kv_cache();
        let whole = Tensor::cat(
            &[
                embeds.clone(),
                model
                    .embed_tokens(&generated[..generated.len() - 1])
                    .unwrap(),
            ],
            0,
        )
        .unwrap();
        let (logits, _) = model
            .forward_embeds(&whole, 0, &CaptureRequest::Off, Logits::All)
            .unwrap();
        let prompt = embeds.dim(0).unwrap();
        let one_pass = logits
            .narrow(0, prompt - 1, generated.len())
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert!(largest_gap(&actual, &one_pass) < 1e-4);

        let audio = Some(input.audio_span.clone());
        let fresh =
            teacher_forced_logits(model, &embeds, &generated, audio.clone(), false).unwrap();
        let reused = teacher_forced_logits(model, &embeds, &generated, audio, true).unwrap();
        assert_eq!(model.cached_positions(), prompt + generated.len() - 1);
        assert!(largest_gap(&fresh, &reused) < 1e-5);
        assert!(
            largest_gap(&fresh, &actual) > 1e-2,
            "hiding the audio changes the logits"
        );
    }

    #[test]
    fn sliding_windows_cover_the_clip_and_stop_at_its_end() {
        let windows = OcclusionWindows::sliding(10, 4, 2).windows;
        assert_eq!(windows, vec![0..4, 2..6, 4..8, 6..10]);
        let windows = OcclusionWindows::sliding(9, 4, 4).windows;
        assert_eq!(windows, vec![0..4, 4..8, 8..9]);
        assert_eq!(OcclusionWindows::sliding(3, 8, 8).windows, vec![0..3]);
        assert!(OcclusionWindows::sliding(0, 8, 8).windows.is_empty());
    }

    #[test]
    fn counterfactual_names_round_trip() {
        for c in Counterfactual::ALL {
            assert_eq!(c.to_string().parse::<Counterfactual>().unwrap(), c);
        }
        assert_eq!("silence".parse(), Ok(Counterfactual::Silence));
        assert!("noise".parse::<Counterfactual>().is_err());
    }
}
