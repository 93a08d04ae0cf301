//! `run`, `batch`, `report` and `inspect` on the Qwen2.5-Omni fixture checkpoints
//! (`scripts/make_qwen2_5_omni_fixtures.py`): the same commands and the same trace format as for
//! Qwen2-Audio, the greedy ids equal to transformers' thinker `generate`.

use crate::common;

use std::path::{Path, PathBuf};

use auscult::tensor_dump::Dump;
use auscult::trace::{read_sidecar, read_traces, sidecar_path, Trace, TraceLine};
use common::folder_copy::{copy_files, not_a_reference};
use common::{fixture, parity_case, CommandLine};

#[test]
fn run_on_both_layouts_generates_what_transformers_does() {
    let dir = tempfile::tempdir().unwrap();
    for layout in ["full", "thinker"] {
        let checkpoint = fixture(&format!("qwen2_5_omni/{layout}"));
        for index in 0..3 {
            let out = dir.path().join(format!("{layout}-{index}.json"));
            CommandLine::new("run")
                .model(&checkpoint)
                .case(&parity_case(&checkpoint, index))
                .max_new_tokens(24)
                .arg("--greedy")
                .out(&out)
                .succeeds();
            let trace = Trace::read(&out).unwrap();
            let reference =
                Dump::read(&checkpoint.join(format!("case_{index}.safetensors"))).unwrap();
            let label = format!("{layout} case {index}");
            assert_eq!(
                trace.input.ids,
                common::token_ids(&reference, "input_ids"),
                "{label}"
            );
            assert_eq!(
                trace.generation.ids,
                common::token_ids(&reference, "generated_ids"),
                "{label}"
            );
            let expected_family = match layout {
                "full" => "qwen2_5_omni",
                _ => "qwen2_5_omni_thinker",
            };
            assert_eq!(trace.model.model_type, expected_family);
            let sidecar = read_sidecar(&sidecar_path(&out)).unwrap();
            let span = trace.input.audio_span;
            assert_eq!(sidecar.generated.audio_tokens, span[1] - span[0]);
            assert_eq!(sidecar.generated.rows, 24);
            assert_eq!(trace.audio.seconds_per_audio_token, 0.04);
        }
    }
}

/// A benchmark file of the fixture clips in MMAU's format.
fn mini_benchmark(dir: &Path) -> PathBuf {
    let clips = fixture("audio/mel");
    let records: Vec<serde_json::Value> = ["short.wav", "mid.wav", "long.wav"]
        .iter()
        .enumerate()
        .map(|(i, clip)| {
            serde_json::json!({
                "id": format!("omni-{i}"),
                "audio_id": clips.join(clip).display().to_string(),
                "question": "Is the pitch rising or falling?",
                "choices": ["Rising", "Falling"],
                "answer": "Rising",
                "task": "sound",
                "category": "Perception",
                "difficulty": "easy",
            })
        })
        .collect();
    let path = dir.join("mmau-omni.json");
    std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    path
}

#[test]
fn batch_report_and_inspect_take_an_omni_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let traces = dir.path().join("traces.jsonl");
    CommandLine::new("batch")
        .model(fixture("qwen2_5_omni/thinker"))
        .option("--data", &data)
        .out(&traces)
        .max_new_tokens(12)
        .succeeds();
    let file = read_traces(&traces).unwrap();
    let done: Vec<&Trace> = file
        .lines
        .iter()
        .map(|line| match line {
            TraceLine::Done(trace) => trace.as_ref(),
            TraceLine::Failed(failed) => panic!("{}: {}", failed.id, failed.error),
        })
        .collect();
    assert_eq!(done.len(), 3);
    // 25 audio tokens a second: 0.3 s → 7, 4 s → 100, the 5 s window → 125.
    let audio_tokens: Vec<usize> = done
        .iter()
        .map(|t| t.input.audio_span[1] - t.input.audio_span[0])
        .collect();
    assert_eq!(audio_tokens, [7, 100, 125]);
    assert!(done.iter().all(|t| t.answer.is_some()));

    let report = dir.path().join("report");
    CommandLine::new("report")
        .arg(&traces)
        .out(&report)
        .succeeds();
    assert!(report.join("step_decay.csv").is_file());

    // The inspector opens the traces (its drawing is tested on Qwen2-Audio traces; here: it
    // starts on an Omni trace and quits cleanly).
    #[cfg(unix)]
    {
        let mut pty = common::pty::Pty::spawn(&["inspect", traces.to_str().unwrap()], &[]);
        pty.wait_for("the question and the family", |s| {
            let text = s.contents();
            text.contains("Is the pitch rising or falling?") && text.contains("qwen2_5_omni")
        });
        pty.quit_cleanly();
    }
}

/// The inspector runs an Omni checkpoint live.
#[cfg(unix)]
#[test]
fn inspect_runs_an_omni_checkpoint_live() {
    let checkpoint = fixture("qwen2_5_omni/full");
    let case = parity_case(&checkpoint, 1);
    let inspect = CommandLine::new("inspect")
        .model(&checkpoint)
        .audio(case.clip_path())
        .prompt(&case.prompt)
        .max_new_tokens(12);
    let mut pty = common::pty::Pty::spawn(&inspect.strs(), &[]);
    // All 12 tokens in, and their attention drawn (a step's title says its token count).
    pty.wait_for("the finished live run", |s| {
        s.contents().contains("· 12 tokens ·")
    });
    pty.quit_cleanly();
}

/// A copy of the thinker fixture without `files`.
fn thinker_without(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_files(&fixture("qwen2_5_omni/thinker"), dir.path(), |name| {
        not_a_reference(name) && !files.contains(&name)
    });
    dir
}

/// transformers 5's `save_pretrained` writes the front end's settings only inside
/// `processor_config.json`; they are read from there, and an Omni checkpoint with neither file
/// is refused rather than given Qwen2-Audio's 30 s window.
#[test]
fn omni_front_end_settings_come_from_the_checkpoint_or_it_is_refused() {
    use auscult::audio::decode_file;
    use auscult::model::{Checkpoint, DeviceKind, Precision};
    let nested = thinker_without(&["preprocessor_config.json"]);
    let checkpoint = Checkpoint::load(nested.path(), Precision::F32, DeviceKind::Cpu).unwrap();
    assert_eq!(checkpoint.processor.mel_config().chunk_length, 5);
    let clip = fixture("audio/mel/long.wav"); // 31.5 s: cut to the 5 s window, not 30 s
    let audio = decode_file(&clip, 16_000).unwrap();
    let input = checkpoint
        .processor
        .prepare(&audio.samples, "Describe the audio.", None)
        .unwrap();
    assert_eq!(input.audio_span.len(), 125);

    let bare = thinker_without(&["preprocessor_config.json", "processor_config.json"]);
    let error = Checkpoint::load(bare.path(), Precision::F32, DeviceKind::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("config.json") && error.contains("needs its own preprocessor_config.json"),
        "{error}"
    );
    let no_template = thinker_without(&["chat_template.jinja"]);
    let error = Checkpoint::load(no_template.path(), Precision::F32, DeviceKind::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("a chat template"), "{error}");
}
