//! Qwen2-Audio and the Qwen2.5-Omni thinker against transformers (eager attention, float32) on
//! the tiny fixture checkpoints made by `scripts/make_qwen2_audio_fixtures.py` and
//! `scripts/make_qwen2_5_omni_fixtures.py` (a full Omni layout with talker and token2wav, and a
//! thinker-only one; clips shorter than one encoder chunk and spanning several): token ids,
//! logits, attention probabilities, captured reductions and greedy generation.

use crate::common;

use std::ops::ControlFlow;

use auscult::audio::decode_file;
use auscult::model::{
    generate, CaptureOptions, Checkpoint, DeviceKind, GenerateOptions, Precision, Sampling,
};
use auscult::tensor_dump::Dump;
use common::fixture;
use common::parity_checks::{
    check_full_forward, check_reductions, checked_input, reduced_prompt_rows, CheckedInput,
};

const LOGITS_TOLERANCE: f32 = 1e-3;
const ATTENTION_TOLERANCE: f32 = 1e-4;

/// Every case of one fixture checkpoint (`tests/fixtures/<name>`), teacher-forced and generated.
fn check_checkpoint(name: &str) {
    let dir = fixture(name);
    let mut checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    for case in common::parity_cases(&dir) {
        let label = format!("{name}/{}", case.file);
        let reference = Dump::read(&dir.join(&case.file)).unwrap();
        // Processor: the same text, the same ids, the same span; then the same audio rows.
        let CheckedInput {
            input,
            embeds,
            audio_difference,
        } = checked_input(&label, &checkpoint, &case, &reference, LOGITS_TOLERANCE);
        let seq = input.input_ids.len();

        // Teacher-forced forward with full attention.
        let model = &mut checkpoint.model;
        let (logits_difference, attention_difference) = check_full_forward(
            &label,
            model,
            &embeds,
            &reference,
            (LOGITS_TOLERANCE, ATTENTION_TOLERANCE),
        );
        // For the record (`cargo test --test all model_parity:: -- --nocapture`).
        eprintln!(
            "{label}: max |diff| audio rows {audio_difference:.2e}, logits {logits_difference:.2e}, attention {attention_difference:.2e}"
        );

        // Reduced capture over the prompt equals the reference attention reduced the same way.
        let rows = reduced_prompt_rows(&label, model, &embeds, input.audio_span.clone());
        // The reference keeps the attention of every query row.
        let every_row: Vec<usize> = (0..seq).collect();
        check_reductions(
            &label,
            &rows,
            &reference,
            &every_row,
            seq,
            input.audio_span.clone(),
            ATTENTION_TOLERANCE,
        );

        // Greedy generation of 24 tokens, with capture on, equals transformers' generate.
        let expected: Vec<u32> = common::token_ids(&reference, "generated_ids");
        common::check_greedy_generation(
            &label,
            &mut checkpoint,
            &embeds,
            input.audio_span.clone(),
            &expected,
            &rows.last_rows(1),
        );
    }
}

#[test]
fn tiny_a_matches_transformers() {
    check_checkpoint("qwen2_audio/tiny_a");
}

#[test]
fn tiny_b_matches_transformers() {
    check_checkpoint("qwen2_audio/tiny_b");
}

/// A full Qwen2.5-Omni layout (`qwen2_5_omni`: thinker, talker, token2wav, vision tower), of which
/// only the thinker's audio tower, decoder and head are read.
#[test]
fn omni_full_layout_matches_transformers() {
    check_checkpoint("qwen2_5_omni/full");
}

/// A thinker-only Qwen2.5-Omni checkpoint (`qwen2_5_omni_thinker`).
#[test]
fn omni_thinker_layout_matches_transformers() {
    check_checkpoint("qwen2_5_omni/thinker");
}

#[test]
fn a_callback_can_cancel_generation_and_stop_ids_end_it() {
    let dir = fixture("qwen2_audio/tiny_a");
    let mut checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    let audio = decode_file(&fixture("audio/mel/short.wav"), 16_000).unwrap();
    let input = checkpoint
        .processor
        .prepare(&audio.samples, "What sound is this?", None)
        .unwrap();
    let embeds = checkpoint.embed_input(&input).unwrap();
    let mut params = GenerateOptions {
        sampling: Sampling::Greedy,
        max_new_tokens: 24,
        min_new_tokens: 0,
        stop_ids: vec![],
        capture: CaptureOptions::default(),
    };
    // Generates to the end with `params`, no callback.
    let run = |checkpoint: &mut Checkpoint, params: &GenerateOptions| {
        generate(
            &mut checkpoint.model,
            &embeds,
            input.audio_span.clone(),
            params,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
    };
    let mut seen = 0;
    let cancelled = generate(
        &mut checkpoint.model,
        &embeds,
        input.audio_span.clone(),
        &params,
        |_| {
            seen += 1;
            if seen == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(cancelled.stopped_by, auscult::model::StoppedBy::Cancelled);
    assert_eq!(cancelled.ids.len(), 3);
    assert_eq!(cancelled.attention.unwrap().rows, 3);

    // The fixture's fourth greedy token, made a stop id, ends the run there (and is kept).
    let full = run(&mut checkpoint, &params);
    params.stop_ids = vec![full.ids[3]];
    let stopped = run(&mut checkpoint, &params);
    let first_stop = full.ids.iter().position(|&id| id == full.ids[3]).unwrap();
    assert_eq!(stopped.stopped_by, auscult::model::StoppedBy::StopToken);
    assert_eq!(stopped.ids, full.ids[..=first_stop]);
    // min_new_tokens keeps the stop id from ending the run early.
    params.min_new_tokens = 24;
    let forced = run(&mut checkpoint, &params);
    assert_eq!(forced.ids.len(), 24);
    assert!(!forced.ids.contains(&full.ids[3]));
}
