//! What quantization changes, measured as `examples/quantization_quality.rs` measures it: the
//! demo model against itself drifts by nothing, and q8_0 drifts by a little, in every quantity.

use crate::common;

use auscult::model::drift::{drift, teacher_forced, TeacherForced};
use auscult::model::{
    generate, Checkpoint, DeviceKind, GenerateOptions, LoadOptions, Precision, Quantization,
};
use common::repo_path;

const TOKENS: usize = 16;

fn load(quantize: Option<Quantization>) -> Checkpoint {
    let mut options = LoadOptions::new(DeviceKind::Cpu);
    options.precision = Some(Precision::F32);
    options.quantize = quantize;
    options.cache = false;
    Checkpoint::load_with(&repo_path("assets/demo-model"), &options).unwrap()
}

/// The demo model's greedy tokens on a bundled example clip, then `checkpoint`'s teacher-forced
/// outputs over `forced` (or over those tokens).
fn outputs(checkpoint: &mut Checkpoint, forced: Option<&[u32]>) -> (Vec<u32>, TeacherForced) {
    let rate = checkpoint.processor.mel_config().sampling_rate;
    let audio = auscult::audio::decode_file(
        &repo_path("assets/examples/clips/synth-30064771072.wav"),
        rate,
    )
    .unwrap();
    let prompt = "How many sounds are there? Choose one: 1; 3; 4; 6.";
    let input = checkpoint
        .processor
        .prepare(&audio.samples, prompt, None)
        .unwrap();
    let embeds = checkpoint.embed_input(&input).unwrap();
    let mut params = GenerateOptions::greedy(TOKENS, vec![]);
    params.capture.enabled = false;
    let generation = generate(
        &mut checkpoint.model,
        &embeds,
        input.audio_span.clone(),
        &params,
        |_| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    let ids = generation.ids;
    let forced_outputs = teacher_forced(
        &mut checkpoint.model,
        &embeds,
        input.audio_span,
        forced.unwrap_or(&ids),
    )
    .unwrap();
    (ids, forced_outputs)
}

#[test]
fn a_model_does_not_drift_from_itself_and_q8_0_drifts_a_little() {
    let mut exact = load(None);
    let (ids, reference) = outputs(&mut exact, None);
    assert_eq!(ids.len(), TOKENS);
    assert_eq!(reference.logits.len(), TOKENS);
    assert_eq!(reference.attention.rows, TOKENS);

    // Teacher forcing reproduces the greedy choices it is fed.
    for (row, &id) in reference.logits.iter().zip(&ids) {
        assert_eq!(auscult::model::sampler::argmax(row), id as usize);
    }

    let (_, again) = outputs(&mut exact, Some(&ids));
    let same = drift(&reference, &again);
    assert_eq!(same.logits_max_abs, 0.0);
    assert!(same.kl_max < 1e-12, "{same:?}");
    assert_eq!(same.top1_agreement, 1.0);
    assert_eq!(same.audio_ratio_max_abs, 0.0);
    assert!((same.map_pearson.unwrap() - 1.0).abs() < 1e-12, "{same:?}");

    let mut quantized = load(Some(Quantization::Q8_0));
    let (_, q8) = outputs(&mut quantized, Some(&ids));
    let d = drift(&reference, &q8);
    assert_eq!(d.positions, TOKENS);
    // Different weights: something moved, but not far.
    assert!(d.logits_max_abs > 0.0 && d.logits_max_abs < 1.0, "{d:?}");
    assert!(d.kl_mean > 0.0 && d.kl_max < 1e-3, "{d:?}");
    assert!(
        d.audio_ratio_max_abs > 0.0 && d.audio_ratio_max_abs < 0.01,
        "{d:?}"
    );
    assert!(d.map_pearson.unwrap() > 0.999, "{d:?}");
}
