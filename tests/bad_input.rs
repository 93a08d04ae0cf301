//! Bad audio input: each case gets one line on stderr naming the file and the problem, a
//! non-zero exit, and no panic; nothing is written where the output would have gone.

use crate::common;

use std::path::{Path, PathBuf};

use common::{expect_one_line_error, stderr, CommandLine};

/// Runs `auscult mel` on `input` and checks the error contract; returns the error line.
fn mel_error(input: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let output = CommandLine::new("mel").arg(input).out(&out).run();
    let name = input.file_name().unwrap().to_str().unwrap();
    let message = expect_one_line_error(&output, &[name]);
    assert!(!out.exists(), "no output written");
    message
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn float_wav(dir: &Path, name: &str, samples: &[f32]) -> PathBuf {
    let path = dir.join(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    path
}

/// Deterministic pseudo-random bytes (a linear congruential generator).
fn noise_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u8
        })
        .collect()
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let message = mel_error(&dir.path().join("nowhere.wav"));
    assert!(message.contains("cannot read"), "{message}");
}

#[test]
fn directory() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("clips.wav");
    std::fs::create_dir(&sub).unwrap();
    assert!(mel_error(&sub).contains("is a directory"));
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let message = mel_error(&write(dir.path(), "empty.wav", b""));
    assert!(message.contains("is empty"), "{message}");
}

#[test]
fn truncated_header() {
    let dir = tempfile::tempdir().unwrap();
    // A RIFF/WAVE header cut in the middle of its fmt chunk.
    let message = mel_error(&write(
        dir.path(),
        "truncated.wav",
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00",
    ));
    assert!(
        message.contains("not a recognised audio file") || message.contains("corrupt"),
        "{message}"
    );
}

/// Five files of random bytes named `noise{seed}.{extension}` are each refused.
fn refuses_random_bytes(extension: &str) {
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=5 {
        let name = format!("noise{seed}.{extension}");
        let message = mel_error(&write(dir.path(), &name, &noise_bytes(64 * 1024, seed)));
        assert!(
            message.contains("not a recognised audio file") || message.contains("corrupt"),
            "{message}"
        );
    }
}

#[test]
fn random_bytes_named_wav() {
    refuses_random_bytes("wav");
}

#[test]
fn random_bytes_named_mp3() {
    // MP3 has no file header: a decoder scans for frame sync words, which random bytes contain.
    refuses_random_bytes("mp3");
}

#[test]
fn text_named_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let text = "These are the minutes of the meeting, not a song.\n".repeat(200);
    let message = mel_error(&write(dir.path(), "minutes.mp3", text.as_bytes()));
    assert!(message.contains("not a recognised audio file"), "{message}");
}

#[test]
fn wav_with_zero_samples() {
    let dir = tempfile::tempdir().unwrap();
    let message = mel_error(&float_wav(dir.path(), "silent.wav", &[]));
    assert!(message.contains("contains no audio samples"), "{message}");
}

#[test]
fn nan_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples = vec![0.1f32; 1600];
    samples[800] = f32::NAN;
    let message = mel_error(&float_wav(dir.path(), "nan.wav", &samples));
    assert!(
        message.ends_with("sample 800 (at 0.050 s) is NaN; audio must be finite and within ±1e6\n"),
        "{message}"
    );
}

#[test]
fn infinite_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples = vec![0.1f32; 1600];
    samples[16] = f32::NEG_INFINITY;
    let message = mel_error(&float_wav(dir.path(), "inf.wav", &samples));
    assert!(
        message.contains("sample 16 (at 0.001 s) is infinite"),
        "{message}"
    );
}

#[test]
fn output_over_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clip = float_wav(dir.path(), "clip.wav", &[0.1; 1600]);
    let before = std::fs::read(&clip).unwrap();
    let output = CommandLine::new("mel").arg(&clip).out(&clip).run();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("would overwrite the input audio"));
    assert_eq!(std::fs::read(&clip).unwrap(), before);
}

#[test]
fn broken_preprocessor_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("preprocessor_config.json"),
        "{\"feature_size\": ",
    )
    .unwrap();
    let clip = float_wav(dir.path(), "clip.wav", &[0.1; 1600]);
    let output = CommandLine::new("mel")
        .arg(&clip)
        .out(dir.path().join("o.safetensors"))
        .model(dir.path())
        .run();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(message.lines().count(), 1);
    assert!(
        message.contains("preprocessor_config.json: invalid JSON"),
        "{message}"
    );
}
