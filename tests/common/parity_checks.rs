//! The comparisons every parity test makes against a transformers reference dump: the processor's
//! prompt, ids and audio span; the audio rows; the teacher-forced logits and attention; the
//! captured attention reductions; and greedy generation.

use std::ops::Range;

use auscult::audio::decode_file;
use auscult::model::{
    AttentionRows, AudioLm, CaptureRequest, Checkpoint, LayerCapture, Logits, PreparedInput,
};
use auscult::tensor_dump::Dump;
use candle_core::Tensor;

use super::parity_cases::{token_ids, ParityCase};

/// Largest absolute element-wise difference of two equally long arrays.
pub fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The processor gave the reference's rendered prompt, input ids and audio span.
pub fn check_processor(label: &str, input: &PreparedInput, case: &ParityCase, reference: &Dump) {
    assert_eq!(input.rendered, case.rendered, "{label}: rendered prompt");
    let reference_ids: Vec<u32> = token_ids(reference, "input_ids");
    assert_eq!(input.input_ids, reference_ids, "{label}: input_ids");
    let span = reference.i64("audio_span").unwrap();
    assert_eq!(
        input.audio_span,
        span[0] as usize..span[1] as usize,
        "{label}: audio span"
    );
}

/// A case as the model takes it in, checked on the way against the reference.
pub struct CheckedInput {
    pub input: PreparedInput,
    pub embeds: Tensor,
    /// The largest difference of the audio rows from the reference's.
    pub audio_difference: f32,
}

/// Decodes and prepares `case` for `checkpoint` and embeds it, checking the processor's prompt,
/// ids and span ([`check_processor`]) and the audio rows within `tolerance`.
pub fn checked_input(
    label: &str,
    checkpoint: &Checkpoint,
    case: &ParityCase,
    reference: &Dump,
    tolerance: f32,
) -> CheckedInput {
    let rate = checkpoint.processor.mel_config().sampling_rate;
    let audio = decode_file(&case.clip_path(), rate).unwrap();
    let input = checkpoint
        .processor
        .prepare(&audio.samples, &case.prompt, case.system.as_deref())
        .unwrap();
    check_processor(label, &input, case, reference);
    let embeds = checkpoint.embed_input(&input).unwrap();
    let audio_difference =
        audio_rows_difference(label, &embeds, input.audio_span.clone(), reference);
    assert!(
        audio_difference <= tolerance,
        "{label}: audio rows differ by {audio_difference}"
    );
    CheckedInput {
        input,
        embeds,
        audio_difference,
    }
}

/// The largest difference between the audio rows of `embeds` (the rows at `span`, which replace
/// the `<|AUDIO|>` embeddings) and the reference's `audio_embeds`.
pub fn audio_rows_difference(
    label: &str,
    embeds: &Tensor,
    span: Range<usize>,
    reference: &Dump,
) -> f32 {
    let ours = embeds
        .narrow(0, span.start, span.len())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let theirs = reference.f32("audio_embeds").unwrap();
    assert!(!theirs.is_empty(), "{label}: no audio rows");
    max_abs_difference(&ours, &theirs)
}

/// One teacher-forced pass over `embeds` keeping full attention: its logits and every layer's
/// attention probabilities against the reference's `logits` and `attn.{layer}`, within the
/// tolerances. Returns the largest differences (logits, attention).
pub fn check_full_forward(
    label: &str,
    model: &mut AudioLm,
    embeds: &Tensor,
    reference: &Dump,
    (logits_tolerance, attention_tolerance): (f32, f32),
) -> (f32, f32) {
    model.clear_kv_cache();
    let (logits, captured) = model
        .forward_embeds(embeds, 0, &CaptureRequest::Full, Logits::All)
        .unwrap();
    let logits = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let logits_difference = max_abs_difference(&logits, &reference.f32("logits").unwrap());
    assert!(
        logits_difference <= logits_tolerance,
        "{label}: logits differ by {logits_difference}"
    );
    let mut attention_difference: f32 = 0.0;
    for (layer, capture) in captured.iter().enumerate() {
        let LayerCapture::Full(probs) = capture else {
            panic!("{label}: layer {layer} captured no full attention");
        };
        let ours = probs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let theirs = reference.f32(&format!("attn.{layer}")).unwrap();
        let difference = max_abs_difference(&ours, &theirs);
        assert!(
            difference <= attention_tolerance,
            "{label}: layer {layer} attention differs by {difference}"
        );
        attention_difference = attention_difference.max(difference);
    }
    (logits_difference, attention_difference)
}

/// A pass over `embeds` capturing every prompt row reduced (with per-head maps), as attention
/// rows.
pub fn reduced_prompt_rows(
    label: &str,
    model: &mut AudioLm,
    embeds: &Tensor,
    audio_span: Range<usize>,
) -> AttentionRows {
    model.clear_kv_cache();
    let request = CaptureRequest::Reduced {
        audio_span,
        per_head_maps: true,
        last_row_only: false,
    };
    let (_, captured) = model
        .forward_embeds(embeds, 0, &request, Logits::Last)
        .unwrap();
    reduced_rows(label, captured)
}

/// The per-layer reductions of a reduced capture, as attention rows.
pub fn reduced_rows(label: &str, captured: Vec<LayerCapture>) -> AttentionRows {
    let reduced: Vec<_> = captured
        .into_iter()
        .map(|c| match c {
            LayerCapture::Reduced(r) => r,
            _ => panic!("{label}: no reduced capture"),
        })
        .collect();
    AttentionRows::from_layers(&reduced).unwrap()
}

/// Reduces the reference attention `(heads, query rows, seq)` (the query rows `query_rows` of a
/// `seq`-long prompt; all of them where the reference keeps every row) per layer as the capture
/// does, compares it with `rows` within `tolerance` and returns the largest difference.
pub fn check_reductions(
    label: &str,
    rows: &AttentionRows,
    reference: &Dump,
    query_rows: &[usize],
    seq: usize,
    span: Range<usize>,
    tolerance: f32,
) -> f32 {
    let shape = reference.shape("attn.0").unwrap();
    let heads = shape[0];
    assert_eq!(
        shape,
        [heads, query_rows.len(), seq],
        "{label}: reference shape"
    );
    assert_eq!(
        (rows.rows, rows.heads, rows.audio_tokens),
        (seq, heads, span.len()),
        "{label}: capture sizes"
    );
    let n_audio = span.len();
    let kept = query_rows.len();
    let mut worst: f32 = 0.0;
    for layer in 0..rows.layers {
        let attn = reference.f32(&format!("attn.{layer}")).unwrap();
        let at = |h: usize, i: usize, k: usize| attn[(h * kept + i) * seq + k];
        for (i, &q) in query_rows.iter().enumerate() {
            for h in 0..heads {
                let ratio: f32 = span.clone().map(|k| at(h, i, k)).sum();
                let index = (q * rows.layers + layer) * heads + h;
                worst = worst.max((rows.audio_ratio[index] - ratio).abs());
                worst = worst.max((rows.sink_mass[index] - at(h, i, 0)).abs());
                let head_maps = rows.head_maps.as_ref().unwrap();
                for (j, k) in span.clone().enumerate() {
                    let index = ((q * rows.layers + layer) * heads + h) * n_audio + j;
                    worst = worst.max((head_maps[index] - at(h, i, k)).abs());
                }
            }
            for (j, k) in span.clone().enumerate() {
                let mean = (0..heads).map(|h| at(h, i, k)).sum::<f32>() / heads as f32;
                let index = (q * rows.layers + layer) * n_audio + j;
                worst = worst.max((rows.audio_map[index] - mean).abs());
            }
        }
    }
    assert!(
        worst <= tolerance,
        "{label}: captured reductions differ by {worst}"
    );
    worst
}

/// Greedy generation with capture on gives `expected` (transformers' `generate`), streamed in
/// order, one attention row per token, the first being the prompt's last row `prompt_last`.
pub fn check_greedy_generation(
    label: &str,
    checkpoint: &mut auscult::model::Checkpoint,
    embeds: &Tensor,
    audio_span: Range<usize>,
    expected: &[u32],
    prompt_last: &AttentionRows,
) {
    use auscult::model::{generate, CaptureOptions, GenerateOptions, GenerationEvent, Sampling};
    let params = GenerateOptions {
        sampling: Sampling::Greedy,
        max_new_tokens: expected.len(),
        min_new_tokens: 0,
        stop_ids: checkpoint.generation.eos_token_id.clone(),
        capture: CaptureOptions::default(),
    };
    let mut streamed = Vec::new();
    let generation = generate(
        &mut checkpoint.model,
        embeds,
        audio_span,
        &params,
        |event| {
            if let GenerationEvent::Token { id, .. } = event {
                streamed.push(id);
            }
            std::ops::ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(generation.ids, expected, "{label}: greedy ids");
    assert_eq!(streamed, expected, "{label}: streamed ids");
    let attention = generation.attention.expect("capture was on");
    assert_eq!(
        attention.rows,
        expected.len(),
        "{label}: one attention row per token"
    );
    assert_eq!(
        attention.audio_ratio[..prompt_last.audio_ratio.len()],
        prompt_last.audio_ratio[..],
        "{label}: the first token's record is the prompt's last row"
    );
}
