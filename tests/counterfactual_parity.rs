//! The counterfactual passes against transformers, on the fixture checkpoints of both families
//! (`scripts/make_counterfactual_fixtures.py`, `tests/fixtures/counterfactual/`): the silent
//! clip's features, and the teacher-forced logits of the rows that predict the greedy
//! continuation with the real clip, with silence, with the audio keys masked from those rows,
//! and with one window of the clip zeroed; then the reliance arrays `measure_evidence` derives
//! from them (delta, KL, top-1) against the reference's, computed in float64 from its logits.

use crate::common;

use auscult::audio::decode_file;
use auscult::model::reliance::teacher_forced_logits;
use auscult::model::{
    measure_evidence, Checkpoint, Counterfactual, DeviceKind, EvidenceRequest, OcclusionWindows,
    Precision,
};
use auscult::tensor_dump::Dump;
use common::parity_cases::token_ids;
use common::{fixture, max_abs_difference};

const LOGITS_TOLERANCE: f32 = 1e-3;
const FEATURE_TOLERANCE: f32 = 1e-5;
/// Delta and KL come from two log-softmaxes of logits that agree within `LOGITS_TOLERANCE`.
const RELIANCE_TOLERANCE: f32 = 2e-3;

fn flat(rows: &[Vec<f32>]) -> Vec<f32> {
    rows.iter().flatten().copied().collect()
}

/// Every case of one fixture checkpoint against its counterfactual references.
fn check_checkpoint(model: &str, references: &str) {
    let dir = fixture(model);
    let mut checkpoint = Checkpoint::load(&dir, Precision::F32, DeviceKind::Cpu).unwrap();
    for (k, case) in common::parity_cases(&dir).iter().enumerate() {
        let label = format!("{references}/case_{k}");
        let reference =
            Dump::read(&fixture(references).join(format!("case_{k}.safetensors"))).unwrap();
        let rate = checkpoint.processor.mel_config().sampling_rate;
        let samples = decode_file(&case.clip_path(), rate).unwrap().samples;
        let input = checkpoint
            .processor
            .prepare(&samples, &case.prompt, case.system.as_deref())
            .unwrap();
        assert_eq!(
            input.input_ids,
            token_ids(&reference, "input_ids"),
            "{label}"
        );
        let generated = token_ids(&reference, "generated_ids");
        let span = reference.i64("audio_span").unwrap();
        assert_eq!(input.audio_span, span[0] as usize..span[1] as usize);

        // The silent clip: the same ids, the reference's features over the clip's frames.
        let silent = checkpoint
            .processor
            .prepare_like(&vec![0.0; samples.len()], &input)
            .unwrap();
        assert_eq!(silent.input_ids, input.input_ids, "{label}: silence ids");
        let theirs = reference.f32("silence_input_features").unwrap();
        let shape = reference.shape("silence_input_features").unwrap();
        let (mels, valid) = (shape[0], shape[1]);
        assert_eq!(silent.valid_frames, valid, "{label}: silent frames");
        let ours: Vec<f32> = (0..mels)
            .flat_map(|m| {
                let row = m * silent.mel.frames;
                silent.mel.features[row..row + valid].to_vec()
            })
            .collect();
        let difference = max_abs_difference(&ours, &theirs);
        assert!(
            difference <= FEATURE_TOLERANCE,
            "{label}: silence features differ by {difference}"
        );

        // The teacher-forced logits of each pass.
        let window = reference.i64("occluded_window").unwrap();
        let window = window[0] as usize..window[1] as usize;
        let mut occluded = samples.clone();
        occluded[window.clone()].fill(0.0);
        let occluded = checkpoint
            .processor
            .prepare_like(&occluded, &input)
            .unwrap();
        let passes = [
            ("actual", &input, None),
            ("silence", &silent, None),
            ("masked", &input, Some(input.audio_span.clone())),
            ("occluded", &occluded, None),
        ];
        for (name, prepared, hidden) in passes {
            let embeds = checkpoint.embed_input(prepared).unwrap();
            let logits =
                teacher_forced_logits(&mut checkpoint.model, &embeds, &generated, hidden, false)
                    .unwrap();
            let difference = max_abs_difference(
                &flat(&logits),
                &reference.f32(&format!("{name}_logits")).unwrap(),
            );
            assert!(
                difference <= LOGITS_TOLERANCE,
                "{label}: {name} logits differ by {difference}"
            );
            eprintln!("{label}: {name} logits within {difference:.2e}");
        }

        // The reliance arrays, with the reference's window as the one occlusion window.
        let request = EvidenceRequest {
            counterfactuals: vec![Counterfactual::Silence, Counterfactual::Masked],
            occlusion: Some(OcclusionWindows {
                windows: vec![window],
            }),
        };
        let (evidence, _) =
            measure_evidence(&mut checkpoint, &samples, &input, &generated, &request).unwrap();
        let ids = |name: &str| token_ids(&reference, name);
        assert_eq!(evidence.actual.top1, ids("actual.top1"), "{label}");
        assert_eq!(evidence.actual.top1, generated, "{label}: greedy ids");
        let close = |ours: &[f32], name: &str| {
            let difference = max_abs_difference(ours, &reference.f32(name).unwrap());
            assert!(
                difference <= RELIANCE_TOLERANCE,
                "{label}: {name} differs by {difference}"
            );
            eprintln!("{label}: {name} within {difference:.2e}");
        };
        close(&evidence.actual.log_prob, "actual.log_prob");
        for (counterfactual, rows) in &evidence.counterfactuals {
            close(&rows.delta, &format!("{counterfactual}.delta"));
            close(&rows.kl, &format!("{counterfactual}.kl"));
            assert_eq!(rows.top1, ids(&format!("{counterfactual}.top1")), "{label}");
        }
        let occlusion = evidence.occlusion.unwrap();
        assert_eq!((occlusion.tokens, occlusion.windows), (generated.len(), 1));
        close(&occlusion.delta, "occluded.delta");
        close(&occlusion.kl, "occluded.kl");
    }
}

#[test]
fn qwen2_audio_counterfactuals_match_transformers() {
    check_checkpoint("qwen2_audio/tiny_a", "counterfactual/qwen2_audio_tiny_a");
    check_checkpoint("qwen2_audio/tiny_b", "counterfactual/qwen2_audio_tiny_b");
}

#[test]
fn qwen2_5_omni_counterfactuals_match_transformers() {
    check_checkpoint(
        "qwen2_5_omni/thinker",
        "counterfactual/qwen2_5_omni_thinker",
    );
}
