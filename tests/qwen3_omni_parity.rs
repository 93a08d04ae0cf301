//! The Qwen3-Omni thinker (`qwen3_omni_moe`) against transformers (eager attention, float32) on
//! the tiny checkpoints made by `scripts/make_qwen3_omni_fixtures.py` (an Instruct-like one with
//! renormalised top-2 of 4 experts and 128 mel bins, a Thinking-like one with top-3 of 6 experts
//! not renormalised and 80 mel bins; clips shorter than one encoder chunk, of whole chunks, and
//! with a padded last chunk over many attention windows): the unpadded log-mel features, token
//! ids, the encoder's rows after the convolutions and at its output, logits, attention
//! probabilities, the experts the router chose for every prompt token in every layer, captured
//! reductions and greedy generation; and `run` end to end, the experts in the sidecar.

use crate::common;

use auscult::model::{Checkpoint, DeviceKind, Precision};
use auscult::tensor_dump::Dump;
use candle_core::{Device, Tensor};
use common::parity_checks::{
    check_full_forward, check_reductions, checked_input, reduced_prompt_rows, CheckedInput,
};
use common::{fixture, max_abs_difference};

const LOGITS_TOLERANCE: f32 = 1e-3;
const ATTENTION_TOLERANCE: f32 = 1e-4;
/// The log-mel of a clip's own frames: float32 rounding of values near 1 (the padded front end's
/// parity test, `mel_parity`, allows 1e-3; unpadded clips here differ by up to 2e-5).
const FEATURE_TOLERANCE: f32 = 1e-4;

fn check_checkpoint(name: &str) {
    let dir = fixture(name);
    let mut checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    let text = &checkpoint.config.text_config;
    let (layers, top_k) = (text.num_hidden_layers, text.num_experts_per_tok);
    assert!(
        top_k > 1 && text.num_experts > top_k,
        "{name}: a real mixture"
    );
    for case in common::parity_cases(&dir) {
        let label = format!("{name}/{}", case.file);
        let reference = Dump::read(&dir.join(&case.file)).unwrap();
        let CheckedInput {
            input,
            embeds,
            audio_difference,
        } = checked_input(&label, &checkpoint, &case, &reference, LOGITS_TOLERANCE);
        let seq = input.input_ids.len();

        // The front end pads nothing: the clip's own frames, every one valid.
        let features = reference.f32("input_features").unwrap();
        assert_eq!(input.mel.features.len(), features.len(), "{label}: frames");
        assert!(input.mel.mask.iter().all(|&m| m == 1), "{label}: mask");
        let feature_difference = max_abs_difference(&input.mel.features, &features);
        assert!(
            feature_difference <= FEATURE_TOLERANCE,
            "{label}: log-mel differs by {feature_difference}"
        );

        // Teacher-forced forward with full attention.
        let model = &mut checkpoint.model;
        let (logits_difference, attention_difference) = check_full_forward(
            &label,
            model,
            &embeds,
            &reference,
            (LOGITS_TOLERANCE, ATTENTION_TOLERANCE),
        );

        // Reduced capture over the prompt: the reductions, and the router's choices.
        let rows = reduced_prompt_rows(&label, model, &embeds, input.audio_span.clone());
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
        assert_eq!(rows.top_k, top_k, "{label}: top_k");
        let experts = rows.experts.as_ref().expect("a mixture of experts");
        assert_eq!(experts.len(), seq * layers * top_k, "{label}: expert ids");
        let mut differing = 0;
        for layer in 0..layers {
            let theirs = reference.i64(&format!("router_topk.{layer}")).unwrap();
            for token in 0..seq {
                let ours = &experts[(token * layers + layer) * top_k..][..top_k];
                let theirs = &theirs[token * top_k..][..top_k];
                if ours.iter().zip(theirs).any(|(&a, &b)| i64::from(a) != b) {
                    differing += 1;
                }
            }
        }
        assert_eq!(
            differing, 0,
            "{label}: {differing} (token, layer) routings differ"
        );
        eprintln!(
            "{label}: max |diff| log-mel {feature_difference:.2e}, audio rows {audio_difference:.2e}, logits {logits_difference:.2e}, attention {attention_difference:.2e}; routing equal for {seq} tokens x {layers} layers"
        );

        // Greedy generation of 24 tokens, with capture on, equals transformers' generate; its
        // first row (the prompt's last) routes as the prompt pass did.
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

/// The encoder's packed rows after the convolutions and positions (before its layers), against
/// the reference's: where a chunk-padding mistake would show first.
fn check_encoder_stem(name: &str) {
    let dir = fixture(name);
    let checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    for case in common::parity_cases(&dir) {
        let label = format!("{name}/{}", case.file);
        let reference = Dump::read(&dir.join(&case.file)).unwrap();
        let rate = checkpoint.processor.mel_config().sampling_rate;
        let audio = auscult::audio::decode_file(&case.clip_path(), rate).unwrap();
        let input = checkpoint
            .processor
            .prepare(&audio.samples, &case.prompt, case.system.as_deref())
            .unwrap();
        let mel = &input.mel;
        let features =
            Tensor::from_slice(&mel.features, (mel.n_mels, mel.frames), &Device::Cpu).unwrap();
        let stem = checkpoint
            .model
            .encoder_stem(&features, input.valid_frames)
            .unwrap()
            .expect("an AuT encoder");
        let ours = stem.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let theirs = reference.f32("audio_after_convs").unwrap();
        assert_eq!(ours.len(), theirs.len(), "{label}: stem rows");
        let difference = max_abs_difference(&ours, &theirs);
        assert!(
            difference <= 1e-4,
            "{label}: encoder rows after the convolutions differ by {difference}"
        );
        eprintln!("{label}: max |diff| encoder rows after the convolutions {difference:.2e}");
    }
}

#[test]
fn instruct_layout_matches_transformers() {
    check_encoder_stem("qwen3_omni/instruct");
    check_checkpoint("qwen3_omni/instruct");
}

#[test]
fn thinking_layout_matches_transformers() {
    check_encoder_stem("qwen3_omni/thinking");
    check_checkpoint("qwen3_omni/thinking");
}

/// transformers' `_get_feat_extract_output_lengths`, pinned in the fixture for frame counts from
/// 1 to 30,000, against the processor's count.
#[test]
fn audio_token_counts_match_transformers() {
    let dir = fixture("qwen3_omni/instruct");
    let checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    let rate = checkpoint.config.audio_token_rate();
    let text = std::fs::read_to_string(dir.join("cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let counts = json["audio_token_counts"].as_object().unwrap();
    assert!(counts.len() >= 10);
    for (frames, tokens) in counts {
        let frames: usize = frames.parse().unwrap();
        assert_eq!(
            rate.count(frames) as u64,
            tokens.as_u64().unwrap(),
            "{frames} frames"
        );
    }
}

/// `run` on both Qwen3-Omni fixtures, end to end: transformers' greedy ids, the family and the
/// routing's sizes in the trace, 13 audio tokens a second, and in the sidecar the experts every
/// generated token was routed to in every layer, the first row as the teacher-forced pass routed
/// the prompt's last token.
#[test]
fn run_records_the_experts_of_every_generated_token() {
    use auscult::trace::{read_sidecar, sidecar_path, Trace};
    use common::{parity_case, CommandLine};
    let dir = tempfile::tempdir().unwrap();
    for (name, experts, top_k, layers) in [("instruct", 4, 2, 2), ("thinking", 6, 3, 3)] {
        let checkpoint = fixture(&format!("qwen3_omni/{name}"));
        let index = 1;
        let out = dir.path().join(format!("{name}.json"));
        CommandLine::new("run")
            .model(&checkpoint)
            .case(&parity_case(&checkpoint, index))
            .max_new_tokens(24)
            .arg("--greedy")
            .out(&out)
            .succeeds();
        let trace = Trace::read(&out).unwrap();
        let reference = Dump::read(&checkpoint.join(format!("case_{index}.safetensors"))).unwrap();
        assert_eq!(
            trace.generation.ids,
            common::token_ids(&reference, "generated_ids"),
            "{name}"
        );
        assert_eq!(trace.model.model_type, "qwen3_omni_moe");
        let record = trace.model.experts.expect("a mixture of experts");
        assert_eq!((record.count, record.top_k), (experts, top_k), "{name}");
        assert!((trace.audio.seconds_per_audio_token - 1.0 / 13.0).abs() < 1e-12);

        let sidecar = read_sidecar(&sidecar_path(&out)).unwrap();
        let rows = &sidecar.generated;
        assert_eq!((rows.rows, rows.layers, rows.top_k), (24, layers, top_k));
        let ids = rows.experts.as_ref().expect("expert ids in the sidecar");
        assert_eq!(ids.len(), 24 * layers * top_k);
        assert!(ids.iter().all(|&id| usize::from(id) < experts), "{name}");
        // Row 0 is the prompt's last token (its logits chose the first generated token).
        let last = reference.shape("input_ids").unwrap()[0] - 1;
        for layer in 0..layers {
            let theirs = reference.i64(&format!("router_topk.{layer}")).unwrap();
            let theirs: Vec<u16> = theirs[last * top_k..(last + 1) * top_k]
                .iter()
                .map(|&id| id as u16)
                .collect();
            assert_eq!(
                ids[layer * top_k..(layer + 1) * top_k],
                theirs[..],
                "{name} layer {layer}"
            );
        }
    }
}

/// A clip shorter than one FFT window, which transformers' unpadded front end cannot take
/// either, is refused in one line instead of becoming a token or two of padding.
#[test]
fn a_clip_shorter_than_one_fft_window_is_refused() {
    let dir = fixture("qwen3_omni/instruct");
    let checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    let error = checkpoint
        .processor
        .prepare(&[0.1; 300], "What is it?", None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("300 samples") && error.contains("400 samples"),
        "{error}"
    );
    // One window is enough: 400 samples give 2 frames, one audio token.
    let input = checkpoint
        .processor
        .prepare(&[0.1; 400], "What is it?", None)
        .unwrap();
    assert_eq!((input.valid_frames, input.audio_span.len()), (2, 1));
}
