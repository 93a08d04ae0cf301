//! Benchmarks of the audio front end: what it costs to turn a 30 s clip into the 128 × 3000
//! log-mel features the model sees.
//!
//! At start-up the bench writes two deterministic 30.0 s 16-bit WAV files into a temporary
//! directory (tones, a log chirp and LCG noise): one stereo at 44.1 kHz, one mono at 16 kHz.
//! Groups:
//!
//! - `decode_resample_mel/44k1_stereo_30s`: the whole pipeline, `decode_file` of the 44.1 kHz
//!   stereo file to 16 kHz, then `MelExtractor::extract`.
//! - `decode_only/44k1_stereo_30s`: `decode_file` of the 44.1 kHz stereo file at its own rate,
//!   so that no resampling happens (symphonia decode + down-mix only).
//!   `decode_only/16k_mono_30s`: `decode_file` of the 16 kHz mono file at 16 kHz (no resampling).
//! - `resample/44k1_to_16k_30s`: `resample` of 30 s of in-memory mono 44.1 kHz samples.
//! - `mel/128x3000`: `MelExtractor::extract` (default config) of 30 s of in-memory 16 kHz
//!   samples.
//!
//! Run with
//!
//! ```text
//! cargo bench --bench audio_front_end
//! cargo bench --bench audio_front_end -- mel/   # one group only
//! ```
//!
//! Each group takes 10 samples over about 5 s, so the whole run stays within a few minutes on a
//! small machine; criterion reports the time per call.

use std::f64::consts::TAU;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use auscult::audio::{decode_file, resample, MelConfig, MelExtractor};
use criterion::{criterion_group, criterion_main, Criterion};

const SECONDS: f64 = 30.0;
const SOURCE_RATE: u32 = 44_100;
const MODEL_RATE: u32 = 16_000;

/// A small linear congruential generator (Knuth's MMIX constants), for reproducible noise
/// without a `rand` dependency.
struct Lcg(u64);

impl Lcg {
    /// Uniform in [-1, 1).
    fn next_unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The top 53 bits, as a fraction in [0, 1).
        let fraction = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        2.0 * fraction - 1.0
    }
}

/// One channel of the test signal at `rate` Hz: two steady tones, a log chirp from 100 Hz to
/// 7 kHz over the clip, and low-level noise. `channel` shifts the tones' phases and the noise
/// seed, so the two stereo channels differ.
fn test_signal(rate: u32, channel: u32) -> Vec<f64> {
    let n = (SECONDS * f64::from(rate)) as usize;
    let rate = f64::from(rate);
    let (chirp_lo, chirp_hi) = (100.0f64, 7_000.0f64);
    let growth = (chirp_hi / chirp_lo).ln() / SECONDS;
    let phase_shift = f64::from(channel) * 0.7;
    let mut noise = Lcg(0x5eed_0000 + u64::from(channel));
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let tones = 0.20 * (TAU * 440.0 * t + phase_shift).sin()
                + 0.10 * (TAU * 2_750.0 * t + 2.0 * phase_shift).sin();
            // Phase of an exponential chirp: integral of f0 * e^(g t).
            let chirp = 0.25 * (TAU * chirp_lo * ((growth * t).exp() - 1.0) / growth).sin();
            tones + chirp + 0.05 * noise.next_unit()
        })
        .collect()
}

/// Writes `channels` (equal lengths) as an interleaved 16-bit PCM WAV file.
fn write_wav(path: &Path, rate: u32, channels: &[Vec<f64>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create the bench WAV file");
    for i in 0..channels[0].len() {
        for channel in channels {
            let quantised = (channel[i] * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16;
            writer
                .write_sample(quantised)
                .expect("write a sample to the bench WAV file");
        }
    }
    writer.finalize().expect("finish the bench WAV file");
}

fn audio_front_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("create a temporary directory for the bench audio");
    let stereo_path = dir.path().join("stereo_44k1_30s.wav");
    let mono_path = dir.path().join("mono_16k_30s.wav");
    write_wav(
        &stereo_path,
        SOURCE_RATE,
        &[test_signal(SOURCE_RATE, 0), test_signal(SOURCE_RATE, 1)],
    );
    write_wav(&mono_path, MODEL_RATE, &[test_signal(MODEL_RATE, 0)]);

    let extractor =
        MelExtractor::new(MelConfig::default()).expect("the default mel config is valid");

    // In-memory inputs for the resample and mel groups: decoded once here, outside the timing.
    let source_44k1 = decode_file(&stereo_path, SOURCE_RATE)
        .expect("decode the 44.1 kHz bench file")
        .source;
    let samples_16k = decode_file(&mono_path, MODEL_RATE)
        .expect("decode the 16 kHz bench file")
        .samples;
    assert_eq!(
        source_44k1.len(),
        (SECONDS * f64::from(SOURCE_RATE)) as usize
    );
    assert_eq!(
        samples_16k.len(),
        (SECONDS * f64::from(MODEL_RATE)) as usize
    );

    let configure = |group: &mut criterion::BenchmarkGroup<'_, _>| {
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
    };

    let mut group = c.benchmark_group("decode_resample_mel");
    configure(&mut group);
    group.bench_function("44k1_stereo_30s", |b| {
        b.iter(|| {
            let audio = decode_file(black_box(&stereo_path), MODEL_RATE)
                .expect("decode and resample the 44.1 kHz bench file");
            extractor.extract(&audio.samples)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("decode_only");
    configure(&mut group);
    // Decoding at the file's own rate: `resample` returns a copy and does no filtering.
    group.bench_function("44k1_stereo_30s", |b| {
        b.iter(|| {
            decode_file(black_box(&stereo_path), SOURCE_RATE)
                .expect("decode the 44.1 kHz bench file")
        })
    });
    group.bench_function("16k_mono_30s", |b| {
        b.iter(|| {
            decode_file(black_box(&mono_path), MODEL_RATE).expect("decode the 16 kHz bench file")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("resample");
    configure(&mut group);
    group.bench_function("44k1_to_16k_30s", |b| {
        b.iter(|| {
            resample(black_box(&source_44k1), SOURCE_RATE, MODEL_RATE)
                .expect("resample 44.1 kHz to 16 kHz")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mel");
    configure(&mut group);
    group.bench_function("128x3000", |b| {
        b.iter(|| extractor.extract(black_box(&samples_16k)))
    });
    group.finish();
}

criterion_group!(benches, audio_front_end);
criterion_main!(benches);
