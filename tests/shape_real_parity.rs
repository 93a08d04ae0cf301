//! Qwen2-Audio and the Qwen2.5-Omni thinker against transformers (eager attention, float32) on
//! shape-real checkpoints: Qwen2-Audio-7B-Instruct and Qwen2.5-Omni-7B with everything real
//! (tokenizer files, chat templates, front-end settings with Omni's 300 s window, config.json with
//! its quirks, the 150k vocabulary, special token ids, tensor names, sharded bf16 weights with an
//! index) except the widths and depths of the networks, and random weights. Made by
//! `scripts/make_shape_real_fixtures.py`; see `tests/fixtures/shape_real/README.md`.
//!
//! The bf16 weights are widened exactly (`Precision::F32`), as transformers does with
//! `dtype=float32`. Full logits over 150k ids for every prompt row would be tens of MB per case,
//! so a reference holds the last row's full logits and every row's logits at 128 columns; long
//! prompts keep the attention of a sample of query rows.

use crate::common;

use std::path::{Path, PathBuf};

use auscult::model::{CaptureRequest, Checkpoint, DeviceKind, LayerCapture, Logits, Precision};
use auscult::tensor_dump::Dump;
use candle_core::Tensor;
use common::folder_copy::copy_files;
use common::parity_checks::{check_reductions, checked_input, reduced_rows, CheckedInput};
use common::{fixture, max_abs_difference};

const LOGITS_TOLERANCE: f32 = 1e-3;
const ATTENTION_TOLERANCE: f32 = 1e-4;

/// What the real checkpoint's files say, and auscult must read from them.
struct Expected {
    vocab_size: usize,
    mel_frames: usize,
    stop_ids: &'static [u32],
}

const QWEN2_AUDIO: Expected = Expected {
    vocab_size: 156_032,
    mel_frames: 3_000,
    // No generation_config.json: config.json's text_config.eos_token_id.
    stop_ids: &[151_645],
};

const QWEN2_5_OMNI: Expected = Expected {
    vocab_size: 152_064,
    mel_frames: 30_000,
    // generation_config.json names no eos: the thinker config's eos_token_id.
    stop_ids: &[151_645],
};

fn indices(dump: &Dump, name: &str) -> Vec<usize> {
    dump.i64(name)
        .unwrap()
        .iter()
        .map(|&i| usize::try_from(i).unwrap())
        .collect()
}

/// Loads the checkpoint in `dir` and checks every case of `references` (a fixture folder with
/// `cases.json` and `case_k.safetensors`): processor, audio rows, logits, attention, captured
/// reductions and 24 greedy tokens.
fn check_checkpoint(label: &str, dir: &Path, references: &Path, expected: &Expected) {
    let mut checkpoint = Checkpoint::load(dir, Precision::F32, DeviceKind::Cpu).unwrap();
    // What the real files configure.
    assert_eq!(
        checkpoint.config.text_config.vocab_size,
        expected.vocab_size
    );
    assert_eq!(checkpoint.config.audio_token_index, 151_646);
    assert_eq!(
        checkpoint.processor.mel_config().frames(),
        expected.mel_frames
    );
    assert_eq!(checkpoint.processor.mel_config().feature_size, 128);
    assert_eq!(checkpoint.generation.eos_token_id, expected.stop_ids);

    for case in common::parity_cases(references) {
        let label = format!("{label}/{}", case.file);
        let reference = Dump::read(&references.join(&case.file)).unwrap();
        // Processor: the same text, the same ids, the same span; then the same audio rows.
        let CheckedInput {
            input,
            embeds,
            audio_difference,
        } = checked_input(&label, &checkpoint, &case, &reference, LOGITS_TOLERANCE);
        let seq = input.input_ids.len();

        // Teacher-forced forward with full attention.
        let model = &mut checkpoint.model;
        model.clear_kv_cache();
        let (logits, captured) = model
            .forward_embeds(&embeds, 0, &CaptureRequest::Full, Logits::All)
            .unwrap();
        let logits = logits.reshape((seq, expected.vocab_size)).unwrap();
        // The full rows the reference keeps (the last), then every row at the kept columns.
        let mut logits_difference: f32 = 0.0;
        let full_rows = indices(&reference, "logits_rows");
        let theirs = reference.f32("logits").unwrap();
        for (i, &row) in full_rows.iter().enumerate() {
            let ours = logits.get(row).unwrap().to_vec1::<f32>().unwrap();
            let theirs = &theirs[i * expected.vocab_size..(i + 1) * expected.vocab_size];
            logits_difference = logits_difference.max(max_abs_difference(&ours, theirs));
        }
        let columns: Vec<u32> = indices(&reference, "logits_columns")
            .into_iter()
            .map(|c| c as u32)
            .collect();
        let column_count = columns.len();
        let columns = Tensor::from_vec(columns, column_count, logits.device()).unwrap();
        let ours = logits
            .index_select(&columns, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        drop(logits);
        let theirs = reference.f32("logits_at_columns").unwrap();
        logits_difference = logits_difference.max(max_abs_difference(&ours, &theirs));
        assert!(
            logits_difference <= LOGITS_TOLERANCE,
            "{label}: logits differ by {logits_difference}"
        );

        let attention_rows = indices(&reference, "attn_rows");
        let query_rows = Tensor::from_vec(
            attention_rows.iter().map(|&r| r as u32).collect::<Vec<_>>(),
            attention_rows.len(),
            embeds.device(),
        )
        .unwrap();
        let mut attention_difference: f32 = 0.0;
        for (layer, capture) in captured.iter().enumerate() {
            let LayerCapture::Full(probs) = capture else {
                panic!("{label}: layer {layer} captured no full attention");
            };
            let ours = probs
                .index_select(&query_rows, 1)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let theirs = reference.f32(&format!("attn.{layer}")).unwrap();
            let difference = max_abs_difference(&ours, &theirs);
            assert!(
                difference <= ATTENTION_TOLERANCE,
                "{label}: layer {layer} attention differs by {difference}"
            );
            attention_difference = attention_difference.max(difference);
        }
        drop(captured);

        // Reduced capture over the prompt equals the reference attention reduced the same way.
        model.clear_kv_cache();
        let request = CaptureRequest::Reduced {
            audio_span: input.audio_span.clone(),
            per_head_maps: true,
            last_row_only: false,
        };
        let (_, captured) = model
            .forward_embeds(&embeds, 0, &request, Logits::Last)
            .unwrap();
        let rows = reduced_rows(&label, captured);
        let reduction_difference = check_reductions(
            &label,
            &rows,
            &reference,
            &attention_rows,
            seq,
            input.audio_span.clone(),
            ATTENTION_TOLERANCE,
        );

        // Greedy generation of 24 tokens, with capture on, equals transformers' generate.
        let expected_ids: Vec<u32> = common::token_ids(&reference, "generated_ids");
        common::check_greedy_generation(
            &label,
            &mut checkpoint,
            &embeds,
            input.audio_span.clone(),
            &expected_ids,
            &rows.last_rows(1),
        );

        // For the record (`cargo test --test all shape_real_parity:: -- --nocapture`).
        eprintln!(
            "{label}: seq {seq}, audio tokens {}, max |diff| audio rows {audio_difference:.2e}, \
             logits {logits_difference:.2e} ({} full rows, {column_count} columns of every row), \
             attention {attention_difference:.2e} ({} query rows), reductions {reduction_difference:.2e}; \
             {} greedy tokens equal",
            input.audio_span.len(),
            full_rows.len(),
            attention_rows.len(),
            expected_ids.len()
        );
    }
}

/// A temporary directory removed when dropped (also when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("auscult-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Qwen2-Audio-7B-Instruct with the hub's tensor names (`audio_tower.*`,
/// `multi_modal_projector.*`, `language_model.model.*`, `language_model.lm_head.weight`).
#[test]
fn qwen2_audio_hub_layout_matches_transformers() {
    let dir = fixture("shape_real/qwen2_audio_hub");
    check_checkpoint("qwen2_audio_hub", &dir, &dir, &QWEN2_AUDIO);
}

/// The same weights under transformers 5's internal names (`model.audio_tower.*`,
/// `model.multi_modal_projector.*`, `model.language_model.*`, `lm_head.weight`): the fixture
/// stores only those shards and their index; the other files are the hub layout's.
#[test]
fn qwen2_audio_transformers_5_names_match_transformers() {
    let hub = fixture("shape_real/qwen2_audio_hub");
    let v5 = fixture("shape_real/qwen2_audio_v5");
    let dir = TempDir::new("shape-real-qwen2-audio-v5");
    copy_files(&hub, &dir.0, |name| {
        let weights_or_reference = name.starts_with("model") || name.starts_with("case");
        !weights_or_reference
    });
    let shards = std::cell::Cell::new(0);
    copy_files(&v5, &dir.0, |name| {
        shards.set(shards.get() + usize::from(name.ends_with(".safetensors")));
        true
    });
    let shards = shards.get();
    assert!(shards > 1, "the v5 layout is sharded");
    check_checkpoint("qwen2_audio_v5", &dir.0, &hub, &QWEN2_AUDIO);
}

/// Qwen2.5-Omni-7B's full layout (thinker, talker, token2wav, vision tower), of which only the
/// thinker's audio tower, decoder and head are read; the 300 s front-end window.
#[test]
fn qwen2_5_omni_hub_layout_matches_transformers() {
    let dir = fixture("shape_real/qwen2_5_omni_hub");
    check_checkpoint("qwen2_5_omni_hub", &dir, &dir, &QWEN2_5_OMNI);
}
