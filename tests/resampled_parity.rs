//! End-to-end parity on clips that are not at 16 kHz: auscult decodes and resamples each clip
//! itself (symphonia, libsoxr HQ) and must give the token ids, logits and attention that
//! transformers gives when the clip is loaded the way users' notebooks load it
//! (`librosa.load(path, sr=16000)`, or ffmpeg + `soxr.resample(…, "HQ")` for AAC in MP4, which
//! libsndfile cannot read). One clip per format (MP3 at 44.1 kHz, Ogg Vorbis at 22.05 kHz, FLAC
//! at 32 kHz, AAC/m4a at 48 kHz, 24-bit WAV at 8 kHz), on the tiny Qwen2-Audio checkpoint
//! `qwen2_audio/tiny_a` and the Qwen2.5-Omni thinker `qwen2_5_omni/thinker`. Fixtures:
//! `tests/fixtures/resampled/`, made by `scripts/make_resampled_parity_fixtures.py`; the
//! references keep the logits of every 4th audio row and of every row after the clip, and the
//! attention of the rows after the clip (every layer, head and key). `cargo test --test all
//! resampled_parity -- --nocapture` prints the table.

use crate::common;

use auscult::audio::decode_file;
use auscult::model::{CaptureRequest, Checkpoint, DeviceKind, LayerCapture, Logits, Precision};
use auscult::tensor_dump::Dump;
use common::parity_checks::{audio_rows_difference, check_processor};
use common::{fixture, max_abs_difference, repo_path};

const LOGITS_TOLERANCE: f32 = 1e-3;
const ATTENTION_TOLERANCE: f32 = 1e-4;

/// The measured differences of one case.
struct Outcome {
    label: String,
    audio_rows: f32,
    logits: f32,
    attention: f32,
}

/// Decodes, prepares and runs every case of `tests/fixtures/resampled/<name>` and compares it
/// with the reference; prints the table, then asserts the tolerances.
fn check_cases(name: &str) {
    let dir = fixture(&format!("resampled/{name}"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let checkpoint_dir = repo_path(json["checkpoint"].as_str().unwrap());
    let mut checkpoint =
        Checkpoint::load(&checkpoint_dir, Precision::F32, DeviceKind::Cpu).unwrap();
    let rate = checkpoint.processor.mel_config().sampling_rate;
    assert_eq!(rate, 16_000, "{name}: the model's rate");

    let cases = common::parity_cases(&dir);
    let details = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5, "{name}: one case per format");
    let mut rates: Vec<u64> = details
        .iter()
        .map(|d| d["source_rate"].as_u64().unwrap())
        .collect();
    rates.sort_unstable();
    assert_eq!(
        rates,
        [8_000, 22_050, 32_000, 44_100, 48_000],
        "{name}: rates"
    );

    let mut table = vec![format!(
        "{name}: {:<15} {:<36} {:>8} {:<12} {:>7} {:>12} {:>12} {:>12}",
        "format", "container", "rate Hz", "loader", "tokens", "audio rows", "logits", "attention"
    )];
    let mut outcomes = Vec::new();
    for (case, detail) in cases.iter().zip(details) {
        let label = format!("{name}/{}", case.file);
        let reference = Dump::read(&dir.join(&case.file)).unwrap();

        // Decoding: the file's own rate and channels, librosa's length at 16 kHz.
        let audio = decode_file(&case.clip_path(), rate).unwrap();
        let source_rate = detail["source_rate"].as_u64().unwrap();
        assert_eq!(u64::from(audio.source_rate), source_rate, "{label}: rate");
        assert_ne!(
            audio.source_rate, rate,
            "{label}: the clip must need resampling"
        );
        assert_eq!(
            audio.source_channels as u64,
            detail["source_channels"].as_u64().unwrap(),
            "{label}: channels"
        );
        assert_eq!(
            audio.samples.len() as u64,
            detail["samples_16k"].as_u64().unwrap(),
            "{label}: samples at 16 kHz"
        );

        // Processor: the same text, mel frames, ids and span.
        let input = checkpoint
            .processor
            .prepare(&audio.samples, &case.prompt, case.system.as_deref())
            .unwrap();
        check_processor(&label, &input, case, &reference);
        assert_eq!(
            input.valid_frames as u64,
            detail["valid_mel_frames"].as_u64().unwrap(),
            "{label}: valid mel frames"
        );
        let seq = input.input_ids.len();
        let span = input.audio_span.clone();
        assert!(
            !span.is_empty() && span.end < seq,
            "{label}: text after the clip"
        );

        // The audio rows that replace the <|AUDIO|> embeddings.
        let embeds = checkpoint.embed_input(&input).unwrap();
        let audio_rows = audio_rows_difference(&label, &embeds, span.clone(), &reference);

        // Teacher-forced forward with full attention.
        let model = &mut checkpoint.model;
        model.clear_kv_cache();
        let (logits, captured) = model
            .forward_embeds(&embeds, 0, &CaptureRequest::Full, Logits::All)
            .unwrap();
        let (rows, vocab) = logits.dims2().unwrap();
        assert_eq!(rows, seq, "{label}: one logits row per position");
        let logits = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let kept_rows = reference.i64("logits_rows").unwrap();
        assert!(
            kept_rows.contains(&(span.start as i64)) && kept_rows.contains(&(seq as i64 - 1)),
            "{label}: the reference keeps audio and text rows"
        );
        let ours_logits: Vec<f32> = kept_rows
            .iter()
            .flat_map(|&row| &logits[row as usize * vocab..(row as usize + 1) * vocab])
            .copied()
            .collect();
        let theirs_logits = reference.f32("logits").unwrap();
        assert_eq!(
            reference.shape("logits").unwrap(),
            [kept_rows.len(), vocab],
            "{label}: logits shape"
        );
        let logits_difference = max_abs_difference(&ours_logits, &theirs_logits);

        assert!(
            !captured.is_empty() && !reference.has(&format!("attn.{}", captured.len())),
            "{label}: one reference attention per layer"
        );
        let mut attention_difference: f32 = 0.0;
        for (layer, capture) in captured.iter().enumerate() {
            let LayerCapture::Full(probs) = capture else {
                panic!("{label}: layer {layer} captured no full attention");
            };
            let (heads, q, k) = probs.dims3().unwrap();
            assert_eq!((q, k), (seq, seq), "{label}: layer {layer} attention shape");
            // The query rows after the clip, every key.
            let ours = probs
                .narrow(1, span.end, seq - span.end)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let name = format!("attn.{layer}");
            assert_eq!(
                reference.shape(&name).unwrap(),
                [heads, seq - span.end, seq],
                "{label}: {name} shape"
            );
            let theirs = reference.f32(&name).unwrap();
            assert!(!theirs.is_empty(), "{label}: empty {name}");
            attention_difference = attention_difference.max(max_abs_difference(&ours, &theirs));
        }

        table.push(format!(
            "{name}: {:<15} {:<36} {:>8} {:<12} {:>7} {:>12.2e} {:>12.2e} {:>12.2e}",
            detail["format"].as_str().unwrap(),
            detail["container"].as_str().unwrap(),
            source_rate,
            detail["loader_short"].as_str().unwrap(),
            span.len(),
            audio_rows,
            logits_difference,
            attention_difference
        ));
        outcomes.push(Outcome {
            label,
            audio_rows,
            logits: logits_difference,
            attention: attention_difference,
        });
    }
    // For the record (`-- --nocapture`): one line per case, max |Δ| against transformers.
    eprintln!("{}", table.join("\n"));

    for o in &outcomes {
        assert!(
            o.audio_rows <= LOGITS_TOLERANCE,
            "{}: audio rows differ by {:.2e}",
            o.label,
            o.audio_rows
        );
        assert!(
            o.logits <= LOGITS_TOLERANCE,
            "{}: logits differ by {:.2e}",
            o.label,
            o.logits
        );
        assert!(
            o.attention <= ATTENTION_TOLERANCE,
            "{}: attention differs by {:.2e}",
            o.label,
            o.attention
        );
    }
}

#[test]
fn qwen2_audio_matches_transformers_on_resampled_clips() {
    check_cases("qwen2_audio_tiny_a");
}

#[test]
fn omni_thinker_matches_transformers_on_resampled_clips() {
    check_cases("qwen2_5_omni_thinker");
}
