//! Decoding parity: every supported format decodes (to 16 kHz mono) to what a reference decoder
//! (ffmpeg, then soxr high-quality resampling) gives for the same file. Fixtures and references
//! come from `scripts/make_audio_fixtures.py`.

use crate::common;

use auscult::audio::decode_file;
use auscult::tensor_dump::Dump;
use common::{fixture, max_abs_difference};

/// Largest alignment shift searched: 50 ms at 16 kHz.
const MAX_SHIFT: isize = 800;

/// Signal-to-difference ratio in dB of `ours` against `reference`, over their overlap, with
/// `ours` shifted by `shift` samples.
fn sdr_db(reference: &[f32], ours: &[f32], shift: isize) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (i, &r) in reference.iter().enumerate() {
        let j = i as isize + shift;
        if j < 0 || j as usize >= ours.len() {
            continue;
        }
        let o = ours[j as usize];
        signal += f64::from(r) * f64::from(r);
        noise += f64::from(r - o) * f64::from(r - o);
    }
    10.0 * (signal / noise.max(1e-30)).log10()
}

struct Agreement {
    length_error_percent: f64,
    best_shift: isize,
    sdr: f64,
}

fn compare(name: &str) -> Agreement {
    let path = fixture(&format!("audio/decode/{name}"));
    let decoded = decode_file(&path, 16_000).expect("fixture decodes");
    let reference = Dump::read(&fixture(&format!("audio/decode/{name}.ref.safetensors")))
        .unwrap()
        .f32("samples")
        .unwrap();
    let ours = &decoded.samples;
    let length_error_percent =
        100.0 * (ours.len() as f64 - reference.len() as f64).abs() / reference.len() as f64;
    // Align on a one-second window from the middle of the clip, then score the whole clip.
    let middle = reference.len() / 2 - 8_000;
    let window = &reference[middle..middle + 16_000];
    let best_shift = (-MAX_SHIFT..=MAX_SHIFT)
        .max_by(|&a, &b| {
            let score =
                |shift: isize| sdr_db(window, &ours[(middle as isize + shift) as usize..], 0);
            score(a).total_cmp(&score(b))
        })
        .unwrap_or(0);
    let sdr = sdr_db(&reference, ours, best_shift);
    println!(
        "{name}: {} vs {} samples ({length_error_percent:.3} %), shift {best_shift}, SDR {sdr:.1} dB",
        ours.len(),
        reference.len()
    );
    Agreement {
        length_error_percent,
        best_shift,
        sdr,
    }
}

fn assert_agrees(name: &str) {
    let a = compare(name);
    assert!(
        a.length_error_percent <= 0.5,
        "{name}: length differs by {:.3} %",
        a.length_error_percent
    );
    assert!(
        a.sdr >= 95.0,
        "{name}: SDR {:.1} dB (best shift {})",
        a.sdr,
        a.best_shift
    );
}

/// Lossless files decode to exactly what ffmpeg gives, so after soxr HQ they must match the
/// reference sample for sample, to float rounding (its channel mean and resampling ran in f64),
/// with no shift and librosa's length (the reference has soxr's, at most one sample shorter).
fn assert_matches_exactly(name: &str) {
    let decoded = decode_file(&fixture(&format!("audio/decode/{name}")), 16_000).unwrap();
    let reference = Dump::read(&fixture(&format!("audio/decode/{name}.ref.safetensors")))
        .unwrap()
        .f32("samples")
        .unwrap();
    let ours = &decoded.samples;
    let expected_len =
        (decoded.source.len() as f64 * (16_000.0 / f64::from(decoded.source_rate))).ceil();
    assert_eq!(
        ours.len(),
        expected_len as usize,
        "{name}: librosa's length"
    );
    assert!(
        ours.len().abs_diff(reference.len()) <= 1,
        "{name}: {} samples against {}",
        ours.len(),
        reference.len()
    );
    let n = ours.len().min(reference.len());
    let worst = max_abs_difference(&reference[..n], &ours[..n]);
    println!("{name}: max |Δ| {worst:.2e} against ffmpeg + soxr HQ");
    assert!(worst <= 5e-7, "{name}: max |Δ| {worst:.2e}");
}

#[test]
fn lossless_files_match_the_reference_resampling_sample_for_sample() {
    for name in [
        "wav_u8.wav",
        "wav_s16.wav",
        "wav_s24.wav",
        "wav_s32.wav",
        "wav_f32.wav",
        "flac_s16.flac",
        "flac_s24.flac",
    ] {
        assert_matches_exactly(name);
    }
}

#[test]
fn wav_unsigned_8_bit() {
    assert_agrees("wav_u8.wav");
}

#[test]
fn wav_signed_16_bit() {
    assert_agrees("wav_s16.wav");
}

#[test]
fn wav_signed_24_bit() {
    assert_agrees("wav_s24.wav");
}

#[test]
fn wav_signed_32_bit() {
    assert_agrees("wav_s32.wav");
}

#[test]
fn wav_float_32_bit() {
    assert_agrees("wav_f32.wav");
}

#[test]
fn flac_16_bit() {
    assert_agrees("flac_s16.flac");
}

#[test]
fn flac_24_bit() {
    assert_agrees("flac_s24.flac");
}

#[test]
fn mp3_gapless() {
    assert_agrees("mp3.mp3");
}

#[test]
fn ogg_vorbis() {
    assert_agrees("ogg_vorbis.ogg");
}

#[test]
fn aac_in_m4a() {
    assert_agrees("aac.m4a");
}

#[test]
fn stereo_is_mixed_to_mono_and_original_rate_is_kept() {
    let decoded = decode_file(&fixture("audio/decode/wav_s24.wav"), 16_000).unwrap();
    assert_eq!(decoded.source_channels, 2);
    assert_eq!(decoded.source_rate, 48_000);
    assert_eq!(decoded.rate, 16_000);
    assert_eq!(decoded.source.len(), decoded.samples.len() * 3);
}
