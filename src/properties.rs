//! Property tests over everything users or models feed auscult (issue 15): generated text into
//! the step splitter, the answer extractor and the MMAU/MMAR matcher and the demo's CAFE checker;
//! mutated real files (bit flips, cuts, inserted and overwritten bytes, wrong headers) into the
//! trace and traces readers, journal replay, `config.json`, tokenizer and chat-template loading,
//! benchmark records, the captions file, the settings file and the audio decoder. Each must return
//! a value or an error, never panic.
//!
//! 10,000 cases a target by default, from a fixed seed; `PROPTEST_CASES` sets another count and
//! `PROPTEST_RANDOM=1` a fresh draw (`scripts/properties_long.sh` runs 100 times as many, drawn
//! afresh). Failures found become named regression tests in the `found` module at the end.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per target: `PROPTEST_CASES`, else 10,000. The draw is seeded (the same cases every run,
/// so the suite never fails by chance) unless `PROPTEST_RANDOM=1`, as the long script sets.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let random = std::env::var_os("PROPTEST_RANDOM").is_some_and(|v| v == "1");
    ProptestConfig {
        cases,
        rng_seed: if random {
            proptest::test_runner::RngSeed::Random
        } else {
            proptest::test_runner::RngSeed::Fixed(15)
        },
        // Failures are kept as named tests below, not as files proptest writes into src/.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    Overwrite(Index, u8),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    CutAt(Index),
    /// A header from another format written over the start.
    WrongHeader(&'static [u8]),
}

const HEADERS: &[&[u8]] = &[
    b"RIFF\xff\xff\xff\xffWAVEfmt ",
    b"fLaC\x00\x00\x00\x22",
    b"OggS\x00\x02",
    b"ID3\x04\x00\x00",
    b"\xff\xfb\x90\x00",
    b"\x00\x00\x00\x20ftypM4A ",
    b"{\"schema\": \"auscult.trace/9\"}",
    b"[",
    b"\xef\xbb\xbf",
    b"\x00",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Overwrite(at, byte)),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => (any::<Index>(), 1usize..64).prop_map(|(at, n)| Mutation::Remove(at, n)),
        1 => any::<Index>().prop_map(Mutation::CutAt),
        1 => prop::sample::select(HEADERS).prop_map(Mutation::WrongHeader),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..6)
}

fn mutate(original: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for mutation in mutations {
        let len = bytes.len().max(1);
        match mutation {
            Mutation::FlipBit(at, bit) if !bytes.is_empty() => {
                bytes[at.index(len)] ^= 1 << bit;
            }
            Mutation::Overwrite(at, byte) if !bytes.is_empty() => bytes[at.index(len)] = *byte,
            Mutation::Insert(at, inserted) => {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, inserted.iter().copied());
            }
            Mutation::Remove(at, n) if !bytes.is_empty() => {
                let at = at.index(len);
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::CutAt(at) => bytes.truncate(at.index(bytes.len() + 1)),
            Mutation::WrongHeader(header) => {
                let n = header.len().min(bytes.len());
                bytes[..n].copy_from_slice(&header[..n]);
            }
            _ => {}
        }
    }
    bytes
}

fn repository(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read(relative: &str) -> Vec<u8> {
    std::fs::read(repository(relative)).unwrap()
}

/// Text a model could write: step markers, tags, list items, answers and characters whose
/// lower case has another length, mixed with anything.
fn model_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "\\PC{0,6}",
        1 => prop::sample::select(vec![
            "Step 1:", "step 2.", "**Step 3**", " STEP 4: ", "<think>", "</think>", "<answer>",
            "</answer>", "\n", "\n\n", "- ", "* ", "1. ", "2) ", "ẞ", "İ", "ǅ", "ﬁ", "Σ", "ς",
            "\u{0307}", "\u{200d}", "\r\n", ". ", "? ", "Sound 1 at 0.5 s:", "Answer: (B)",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Cuts `text` into pieces on character boundaries, as a tokenizer would.
fn as_pieces(text: &str, cuts: &[Index]) -> Vec<String> {
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|cut| boundaries[cut.index(boundaries.len())])
        .collect();
    at.extend([0, text.len()]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| text[w[0]..w[1]].to_owned()).collect()
}

/// Writes `bytes` to a fresh file named `name` in a temporary folder.
fn temporary_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

mod text {
    use super::*;
    use crate::benchmark::answer::{extract_answer, is_correct};
    use crate::trace::steps::{split_steps, StepRules};

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn the_step_splitter_tiles_any_text(
            text in model_text(),
            cuts in prop::collection::vec(any::<Index>(), 0..16),
            line_breaks in any::<bool>(),
            long_paragraph_chars in prop::sample::select(vec![0usize, 1, 7, 80]),
        ) {
            let pieces = as_pieces(&text, &cuts);
            let rules = StepRules { line_breaks, long_paragraph_chars, ..StepRules::default() };
            let steps = split_steps(&pieces, &rules);
            // Steps come in order without overlapping, on character boundaries, each holding its
            // text trimmed; together they hold every character that is not white space.
            let (mut end, mut token_end) = (0, 0);
            let mut covered = vec![false; text.len()];
            for step in &steps {
                let [start, stop] = step.bytes;
                prop_assert!(end <= start && start <= stop && stop <= text.len(), "{:?}", steps);
                prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(stop));
                prop_assert!(token_end <= step.tokens[0] && step.tokens[0] <= step.tokens[1]);
                prop_assert!(step.tokens[1] <= pieces.len());
                prop_assert_eq!(step.text.as_str(), text[start..stop].trim());
                covered[start..stop].iter_mut().for_each(|c| *c = true);
                (end, token_end) = (stop, step.tokens[1]);
            }
            for (at, c) in text.char_indices() {
                prop_assert!(c.is_whitespace() || covered[at], "{:?} at {} left out: {:?}", c, at, steps);
            }
        }

        #[test]
        fn answers_are_extracted_and_matched_from_any_text(
            text in model_text(),
            choices in prop::collection::vec("\\PC{0,12}", 0..5),
            answer in "\\PC{0,12}",
        ) {
            let extracted = extract_answer(&text);
            let _ = is_correct(&extracted, &answer, &choices);
            let _ = is_correct(&text, &answer, &choices);
        }

        #[test]
        fn the_stated_answer_among_plain_choices_is_correct(
            words in prop::collection::btree_set("[A-Za-z]{2,9}", 2..5),
            pick in any::<Index>(),
            filler in "[a-z ]{0,20}",
        ) {
            let choices: Vec<String> = words.into_iter().collect();
            // Choices that differ only in case are one answer to the matcher.
            let lowered: std::collections::BTreeSet<String> =
                choices.iter().map(|c| c.to_lowercase()).collect();
            prop_assume!(lowered.len() == choices.len());
            let answer = &choices[pick.index(choices.len())];
            let text = format!("{filler}<answer>{answer}</answer>");
            prop_assert!(is_correct(&extract_answer(&text), answer, &choices), "{}", text);
        }

        #[test]
        fn the_demo_checker_reads_any_line(line in model_text()) {
            let _ = crate::synth::phrasing::parse_perception(&line);
            let _ = crate::synth::phrasing::parse_count(&line);
        }
    }
}

mod files {
    use super::*;

    /// One trace line of the bundled demo set, the whole set, and the bundled single trace.
    fn demo_set() -> Vec<u8> {
        read("assets/demo/demo-set.jsonl")
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_mutated_trace_reads_or_is_refused(m in mutations()) {
            let (_dir, path) =
                temporary_file("t.json", &mutate(&read("assets/demo/demo-tones.json"), &m));
            let _ = crate::trace::Trace::read(&path);
        }

        #[test]
        fn a_mutated_traces_file_reads_or_is_refused(m in mutations()) {
            let (_dir, path) = temporary_file("t.jsonl", &mutate(&demo_set(), &m));
            let _ = crate::trace::read_traces(&path);
        }

        #[test]
        fn a_mutated_journal_replays_or_is_refused(m in mutations(), mine in any::<bool>()) {
            let (_dir, path) = temporary_file("t.ann.labels.jsonl", &mutate(&journal(), &m));
            let _ = crate::cafe::journal_file::read_journal(&path, mine.then_some("ann"));
        }

        #[test]
        fn a_mutated_model_config_loads_or_is_refused(m in mutations(), omni in any::<bool>()) {
            let original = if omni {
                read("tests/fixtures/qwen2_5_omni/thinker/config.json")
            } else {
                read("tests/fixtures/qwen2_audio/tiny_a/config.json")
            };
            let (_dir, path) = temporary_file("config.json", &mutate(&original, &m));
            let _ = crate::model::config::ModelConfig::load(&path);
        }

        #[test]
        fn a_mutated_benchmark_file_reads_or_is_refused(m in mutations(), mmar in any::<bool>()) {
            let original = if mmar { MMAR.as_bytes() } else { MMAU.as_bytes() };
            let (_dir, path) = temporary_file("items.json", &mutate(original, &m));
            if let Ok(benchmark) = crate::benchmark::records::read_benchmark(&path, None) {
                for item in benchmark.items.iter().flatten() {
                    // A record read is one that can be asked and scored.
                    prop_assert!(item.record.choices.contains(&item.record.answer));
                }
            }
        }

        #[test]
        fn a_mutated_captions_file_reads_or_is_refused(m in mutations()) {
            let (_dir, path) = temporary_file("captions.jsonl", &mutate(CAPTIONS.as_bytes(), &m));
            let _ = crate::cafe::judge::read_captions(&path);
        }

        #[test]
        fn a_mutated_settings_file_parses_or_is_refused(m in mutations()) {
            let bytes = mutate(SETTINGS.as_bytes(), &m);
            let _ = crate::tui::config::Config::parse(&String::from_utf8_lossy(&bytes));
        }
    }

    /// A journal with labels, an undo and a redo, written by the journal itself.
    fn journal() -> Vec<u8> {
        use crate::cafe::journal::LabelOp;
        use crate::trace::CafeLabel;
        static JOURNAL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        JOURNAL
            .get_or_init(|| {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("t.ann.labels.jsonl");
                let mut opened = crate::cafe::journal_file::open_journal(&path, "ann").unwrap();
                let writer = opened.writer.as_mut().unwrap();
                for (step, label) in [(0, CafeLabel::Matched), (1, CafeLabel::Hallucinated)] {
                    let event = "tone".into();
                    writer
                        .append("demo-1", LabelOp::Label { step, event, label })
                        .unwrap();
                }
                writer
                    .append("demo-1", LabelOp::Undo { target: 2 })
                    .unwrap();
                writer
                    .append("demo-1", LabelOp::Redo { target: 2 })
                    .unwrap();
                std::fs::read(&path).unwrap()
            })
            .clone()
    }

    const MMAU: &str = r#"[
 {"id": "a1", "audio_id": "./clip.wav", "question": "What is heard?",
  "choices": ["Dog", "Cat"], "answer": "Dog", "task": "sound",
  "category": ["Perception"], "sub-category": "Counting", "difficulty": "easy"},
 {"id": 7, "audio_id": "./x/y.flac", "question": "Q?", "choices": ["1", "2", "3"], "answer": "3"}
]"#;
    const MMAR: &str = r#"{"id": "m1", "audio_path": "./a.wav", "question": "Q?", "choices": ["A", "B"], "answer": "B", "modality": "music", "category": "Semantic", "sub-category": "Genre"}
{"audio_path": "./b.wav", "question": "Q?", "choices": ["yes", "no"], "answer": "no"}
"#;
    const CAPTIONS: &str = r#"{"id": "a1", "caption": "A dog barks twice.", "events": ["bark", "bark"]}
{"id": 7, "caption": "Rain."}
"#;
    const SETTINGS: &str = r#"{"keys": {"x": "quit", "q": "next_step"}, "colour": "256", "scale": "magma", "annotator": "ann"}"#;
}

mod model_files {
    use super::*;

    /// A copy of the tiny checkpoint's text-side files (no weights) with one file mutated.
    pub(super) fn checkpoint_with(name: &str, bytes: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "chat_template.jinja",
            "preprocessor_config.json",
            "processor_config.json",
        ] {
            let source = repository("tests/fixtures/qwen2_audio/tiny_a").join(file);
            std::fs::copy(source, dir.path().join(file)).unwrap();
        }
        std::fs::write(dir.path().join(name), bytes).unwrap();
        dir
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_mutated_tokenizer_or_template_loads_or_is_refused(
            m in mutations(),
            which in prop::sample::select(vec![
                "tokenizer.json",
                "tokenizer_config.json",
                "chat_template.jinja",
                "preprocessor_config.json",
                "processor_config.json",
            ]),
        ) {
            let original = read(&format!("tests/fixtures/qwen2_audio/tiny_a/{which}"));
            let dir = checkpoint_with(which, &mutate(&original, &m));
            if let Ok(processor) = crate::model::Processor::load(dir.path(), 483, crate::model::AudioTokenRate::Pooled) {
                // A loaded processor renders and tokenizes a prompt, or says why not.
                if let Ok(rendered) = processor.render("What is this?", None) {
                    let _ = processor.tokenizer().encode(rendered, false);
                }
            }
        }
    }
}

mod audio {
    use super::*;

    /// The first 12 KB of each bundled decoder fixture: headers and the first frames.
    fn clip_start(name: &str) -> Vec<u8> {
        let mut bytes = read(&format!("tests/fixtures/audio/decode/{name}"));
        bytes.truncate(12 * 1024);
        bytes
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_mutated_clip_decodes_or_is_refused(
            m in mutations(),
            name in prop::sample::select(vec![
                "wav_s16.wav", "wav_s24.wav", "wav_f32.wav", "wav_u8.wav", "flac_s16.flac",
                "mp3.mp3", "ogg_vorbis.ogg", "aac.m4a",
            ]),
        ) {
            let (_dir, path) = temporary_file(name, &mutate(&clip_start(name), &m));
            if let Ok(decoded) = crate::audio::decode_file(&path, 16_000) {
                prop_assert!(decoded.samples.iter().all(|s| s.is_finite()));
            }
        }
    }
}

/// What the properties found, kept as named tests.
mod found {
    use super::*;

    /// A FLAC frame damaged so (3 bytes inserted at 5,770, 11 removed at 3,166 of the first
    /// 12 KB of `flac_s16.flac`) overflowed an addition inside symphonia's FLAC decoder: a panic
    /// in debug builds, silent wrapping in release. Now a "corrupt audio data" error, or samples.
    #[test]
    fn a_damaged_flac_frame_is_corrupt_data_not_a_panic() {
        let mut bytes = read("tests/fixtures/audio/decode/flac_s16.flac");
        bytes.truncate(12 * 1024);
        bytes.splice(5_770..5_770, [161, 190, 67]);
        bytes.drain(3_166..3_177);
        let (_dir, path) = temporary_file("damaged.flac", &bytes);
        match crate::audio::decode_file(&path, 16_000) {
            Ok(decoded) => assert!(decoded.samples.iter().all(|s| s.is_finite())),
            Err(error) => {
                let message = error.to_string();
                assert!(message.contains("damaged.flac"), "{message}");
            }
        }
    }

    /// tokenizers 0.23 `expect`s a `decoder` (and a `normalizer`) of the right shape and panicked
    /// on one that is not: now an error naming `tokenizer.json`.
    #[test]
    fn a_tokenizer_with_a_malformed_decoder_is_refused_without_a_panic() {
        let original: serde_json::Value =
            serde_json::from_slice(&read("tests/fixtures/qwen2_audio/tiny_a/tokenizer.json"))
                .unwrap();
        let mut caught_a_library_panic = false;
        for (field, bad) in [
            ("decoder", serde_json::json!({"type": 5})),
            (
                "decoder",
                serde_json::json!({"type": "ByteLevel", "add_prefix_space": "x"}),
            ),
            (
                "normalizer",
                serde_json::json!({"type": "Precompiled", "precompiled_charsmap": 1}),
            ),
            ("normalizer", serde_json::json!({"type": 7})),
        ] {
            let mut tokenizer = original.clone();
            tokenizer[field] = bad.clone();
            let dir =
                model_files::checkpoint_with("tokenizer.json", tokenizer.to_string().as_bytes());
            let error = crate::model::Processor::load(
                dir.path(),
                483,
                crate::model::AudioTokenRate::Pooled,
            )
            .err()
            .unwrap_or_else(|| panic!("{field} = {bad} was accepted"));
            let message = error.to_string();
            assert!(message.contains("tokenizer.json"), "{message}");
            caught_a_library_panic |= message.contains("gave up on it");
        }
        assert!(
            caught_a_library_panic,
            "none of the shapes reached the library's panic"
        );
    }

    /// A float WAV whose samples are finite but huge (a flipped exponent bit) made the resampler's
    /// sums overflow into infinities: now refused, naming the sample.
    #[test]
    fn a_float_wav_with_huge_samples_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 22_050,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..2_205 {
            writer
                .write_sample(if i == 1_000 { 3.0e38f32 } else { 0.1 })
                .unwrap();
        }
        writer.finalize().unwrap();
        let error = crate::audio::decode_file(&path, 16_000)
            .unwrap_err()
            .to_string();
        assert!(error.contains("huge.wav: sample 1000"), "{error}");
        assert!(error.contains("over 1e6"), "{error}");
    }
}
