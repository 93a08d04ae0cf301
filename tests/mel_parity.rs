//! Log-mel parity with Hugging Face's `WhisperFeatureExtractor` on the same samples: features
//! within 1e-3 and identical masks, for clips shorter than, within and longer than the window, at
//! 128 bins / 30 s and 80 bins / 10 s. References come from `scripts/make_audio_fixtures.py`.

use crate::common;

use auscult::audio::{decode_file, MelConfig, MelExtractor};
use auscult::tensor_dump::Dump;
use common::{fixture, max_abs_difference, stderr, CommandLine};

const TOLERANCE: f32 = 1e-3;

fn check(clip: &str, setting: &str) {
    let config = MelConfig::from_preprocessor_config(&fixture(&format!(
        "audio/mel/preprocessor_config.{setting}.json"
    )))
    .unwrap();
    let audio = decode_file(
        &fixture(&format!("audio/mel/{clip}.wav")),
        config.sampling_rate,
    )
    .unwrap();
    assert_eq!(
        audio.source_rate, 16_000,
        "fixtures are at the model's rate"
    );
    let mel = MelExtractor::new(config.clone())
        .unwrap()
        .extract(&audio.samples);

    let reference =
        Dump::read(&fixture(&format!("audio/mel/{clip}.{setting}.safetensors"))).unwrap();
    assert_eq!(
        reference.shape("features").unwrap(),
        vec![mel.n_mels, mel.frames]
    );
    let difference = max_abs_difference(&mel.features, &reference.f32("features").unwrap());
    println!("{clip} {setting}: max |difference| {difference:.2e}");
    assert!(difference <= TOLERANCE, "{clip} {setting}: {difference}");
    assert_eq!(mel.mask, reference.i64("mask").unwrap(), "{clip} {setting}");
    let window = config.window_samples();
    assert_eq!(mel.truncated, audio.samples.len() > window);
}

#[test]
fn short_clip_128_bins_30_s() {
    check("short", "n128_c30");
}

#[test]
fn short_clip_80_bins_10_s() {
    check("short", "n80_c10");
}

#[test]
fn mid_clip_128_bins_30_s() {
    check("mid", "n128_c30");
}

#[test]
fn mid_clip_80_bins_10_s() {
    check("mid", "n80_c10");
}

#[test]
fn long_clip_128_bins_30_s() {
    check("long", "n128_c30");
}

#[test]
fn long_clip_80_bins_10_s() {
    check("long", "n80_c10");
}

/// The command writes the documented tensors, takes settings from flags, and warns (without
/// failing) that a long clip is cut.
#[test]
fn mel_command_writes_samples_features_and_mask() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.safetensors");
    let clip = fixture("audio/mel/long.wav");
    let output = CommandLine::new("mel")
        .arg(&clip)
        .out(&out)
        .option("--n-mels", "80")
        .option("--chunk-seconds", "10")
        .succeeds();
    assert!(
        stderr(&output).contains("the model sees only the first 10 s"),
        "{}",
        stderr(&output)
    );
    let dump = Dump::read(&out).unwrap();
    assert_eq!(dump.shape("samples").unwrap(), vec![504_000]);
    assert_eq!(dump.shape("features").unwrap(), vec![80, 1000]);
    let reference = Dump::read(&fixture("audio/mel/long.n80_c10.safetensors")).unwrap();
    let difference = max_abs_difference(
        &dump.f32("features").unwrap(),
        &reference.f32("features").unwrap(),
    );
    assert!(difference <= TOLERANCE);
    assert_eq!(dump.i64("mask").unwrap(), reference.i64("mask").unwrap());
}

/// `--model DIR` reads the front end from DIR/preprocessor_config.json.
#[test]
fn mel_command_reads_the_models_preprocessor_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("audio/mel/preprocessor_config.n80_c10.json"),
        dir.path().join("preprocessor_config.json"),
    )
    .unwrap();
    let out = dir.path().join("mid.safetensors");
    CommandLine::new("mel")
        .arg(fixture("audio/mel/mid.wav"))
        .out(&out)
        .model(dir.path())
        .succeeds();
    let dump = Dump::read(&out).unwrap();
    assert_eq!(dump.shape("features").unwrap(), vec![80, 1000]);
    assert_eq!(dump.shape("samples").unwrap(), vec![64_000]);
    assert_eq!(dump.i64("mask").unwrap().iter().sum::<i64>(), 400);
}
