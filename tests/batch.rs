//! `auscult batch` end to end on a mini benchmark in MMAU format: generated clips, a fixture
//! checkpoint, failed items recorded without stopping the run, sharding, and a killed run
//! resumed to the same traces as an uninterrupted one.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use auscult::trace::{read_traces, TraceLine};
use common::polling::poll_until;
use common::{expect_one_line_error, fixture, stderr, CommandLine};

/// A clip of `seconds` with a tone gliding from `from_hz` to `to_hz`.
fn chirp(path: &Path, seconds: f32, from_hz: f32, to_hz: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let n = (seconds * 16_000.0) as usize;
    let mut phase = 0f32;
    for i in 0..n {
        let f = from_hz + (to_hz - from_hz) * i as f32 / n as f32;
        phase += 2.0 * std::f32::consts::PI * f / 16_000.0;
        writer
            .write_sample((phase.sin() * 12_000.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// Six MMAU records over generated clips, one of them with missing audio and one malformed.
pub fn mini_benchmark(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("audios")).unwrap();
    let mut records = Vec::new();
    for (i, (from, to)) in [
        (300.0, 900.0),
        (900.0, 300.0),
        (500.0, 500.0),
        (200.0, 1200.0),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("clip{i}.wav");
        chirp(
            &dir.join("audios").join(&name),
            1.0 + i as f32 * 0.5,
            *from,
            *to,
        );
        let answer = if to > from {
            "Rising"
        } else if to < from {
            "Falling"
        } else {
            "Steady"
        };
        records.push(serde_json::json!({
            "id": format!("item-{i}"), "audio_id": format!("./audios/{name}"),
            "question": "Is the pitch rising, falling or steady?",
            "choices": ["Rising", "Falling", "Steady"], "answer": answer,
            "task": if i % 2 == 0 { "sound" } else { "music" },
            "category": if i == 1 { serde_json::json!(["Perception"]) } else { serde_json::json!("Perception") },
            "difficulty": "easy"
        }));
    }
    records.push(serde_json::json!({
        "id": "missing-audio", "audio_id": "./audios/nowhere.wav", "question": "Q?",
        "choices": ["A", "B"], "answer": "A", "task": "sound"
    }));
    records.push(serde_json::json!({
        "id": "answer-not-a-choice", "audio_id": "./audios/clip0.wav", "question": "Q?",
        "choices": ["A", "B"], "answer": "C"
    }));
    let path = dir.join("mmau-mini.json");
    std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    path
}

/// `batch` on the tiny_a fixture, 12 new tokens unless `extra` says otherwise.
fn batch_args(data: &Path, out: &Path, extra: &[&str]) -> CommandLine {
    let args = CommandLine::new("batch")
        .model(fixture("qwen2_audio/tiny_a"))
        .option("--data", data)
        .out(out);
    let args = if extra.contains(&"--max-new-tokens") {
        args
    } else {
        args.max_new_tokens(12)
    };
    args.args(extra)
}

fn generated(path: &Path) -> Vec<(String, Option<Vec<u32>>)> {
    let file = read_traces(path).unwrap();
    assert!(file.skipped.is_empty(), "{:?}", file.skipped);
    let mut lines: Vec<_> = file
        .lines
        .iter()
        .map(|line| match line {
            TraceLine::Done(trace) => (trace.id.clone(), Some(trace.generation.ids.clone())),
            TraceLine::Failed(failed) => (failed.id.clone(), None),
        })
        .collect();
    lines.sort();
    lines
}

/// The whole mini benchmark in one run: the reference the other runs are compared with.
fn uninterrupted_run(dir: &Path, data: &Path) -> PathBuf {
    let whole = dir.join("whole.jsonl");
    batch_args(data, &whole, &[]).succeeds();
    whole
}

#[test]
fn a_mini_benchmark_runs_with_failures_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let out = dir.path().join("traces.jsonl");
    // stderr is a pipe here, as in a log file: the progress bar is hidden, the warnings are not.
    let said = stderr(&batch_args(&data, &out, &[]).succeeds());
    assert!(
        said.contains("warning: ") && said.contains("nowhere.wav"),
        "{said}"
    );
    let file = read_traces(&out).unwrap();
    assert_eq!(file.lines.len(), 6);
    let mut failures = Vec::new();
    for line in &file.lines {
        match line {
            TraceLine::Done(trace) => {
                let benchmark = trace.benchmark.as_ref().unwrap();
                assert_eq!(trace.id, benchmark.id);
                assert!(trace.answer.is_some());
                assert!(trace
                    .prompt
                    .text
                    .contains("['Rising', 'Falling', 'Steady']"));
                let sidecar = trace.attention.as_ref().unwrap().sidecar.clone();
                assert!(sidecar.starts_with("traces.attn/"), "{sidecar}");
                assert!(dir.path().join(&sidecar).exists());
                // One piece offset per generated id (a stop token's piece is empty), rising,
                // and each step starts where its first token's piece does.
                let generation = &trace.generation;
                let offsets = &generation.piece_offsets;
                assert_eq!(offsets.len(), generation.ids.len());
                assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
                for step in &trace.steps {
                    assert_eq!(offsets[step.tokens[0]], step.bytes[0], "{}", trace.id);
                }
            }
            TraceLine::Failed(failed) => failures.push((failed.id.clone(), failed.error.clone())),
        }
    }
    failures.sort();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0].0, "answer-not-a-choice");
    assert!(
        failures[0].1.contains("not among the choices"),
        "{}",
        failures[0].1
    );
    assert_eq!(failures[1].0, "missing-audio");
    assert!(failures[1].1.contains("nowhere.wav"), "{}", failures[1].1);

    // The file is not overwritten without --resume; with it, nothing is left to do.
    let again = batch_args(&data, &out, &[]).run();
    expect_one_line_error(&again, &["traces.jsonl", "already exists", "--resume"]);
    batch_args(&data, &out, &["--resume"]).succeeds();
    assert_eq!(read_traces(&out).unwrap().lines.len(), 6);
}

#[test]
fn shards_merge_by_concatenation_and_limit_counts_after_sharding() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let whole = uninterrupted_run(dir.path(), &data);
    let mut merged = String::new();
    for shard in ["0/2", "1/2"] {
        let out = dir.path().join(format!("shard{}.jsonl", &shard[..1]));
        batch_args(&data, &out, &["--shard", shard]).succeeds();
        merged.push_str(&std::fs::read_to_string(&out).unwrap());
    }
    let merged_path = dir.path().join("merged.jsonl");
    std::fs::write(&merged_path, merged).unwrap();
    assert_eq!(generated(&merged_path), generated(&whole));

    let limited = dir.path().join("limited.jsonl");
    batch_args(&data, &limited, &["--shard", "1/2", "--limit", "2"]).succeeds();
    let ids: Vec<String> = generated(&limited).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec!["item-1", "item-3"]);
}

#[test]
fn a_killed_run_resumes_to_the_same_traces() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let whole = uninterrupted_run(dir.path(), &data);

    let killed = dir.path().join("killed.jsonl");
    let mut child = batch_args(&data, &killed, &[])
        .command()
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first trace is on disk.
    let first_trace = poll_until(Duration::from_secs(60), || {
        std::fs::read_to_string(&killed).is_ok_and(|t| t.lines().count() >= 1)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(waited) = first_trace {
        panic!("no trace written in {waited:?}");
    }
    let before = read_traces(&killed).unwrap().lines.len();
    assert!(
        before < 6,
        "the run finished before it was killed; {before} lines"
    );

    batch_args(&data, &killed, &["--resume"]).succeeds();
    assert_eq!(generated(&killed), generated(&whole));
}

#[test]
fn report_over_a_batch_writes_tables_plots_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let traces = dir.path().join("traces.jsonl");
    batch_args(&data, &traces, &["--max-new-tokens", "40"]).succeeds();
    let file = read_traces(&traces).unwrap();
    let done: Vec<_> = file
        .lines
        .iter()
        .filter_map(|l| match l {
            TraceLine::Done(t) => Some(t),
            _ => None,
        })
        .collect();
    let correct = done
        .iter()
        .filter(|t| t.answer.as_ref().unwrap().correct)
        .count();

    // Swap one trace's sidecar for another's of a different length: reported, left out.
    let first = &done[0].attention.as_ref().unwrap().sidecar;
    let last = &done[3].attention.as_ref().unwrap().sidecar;
    assert_ne!(done[0].generation.ids.len(), 0);
    std::fs::copy(dir.path().join(last), dir.path().join(first)).unwrap();

    // Label two traces: 3 matched, 1 hallucinated, 1 misused claims; 1 missed of 5 targets.
    let mut labelled = String::new();
    for (n, line) in std::fs::read_to_string(&traces)
        .unwrap()
        .lines()
        .enumerate()
    {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if value.get("generation").is_some() && n < 2 {
            let claims = if n == 0 {
                serde_json::json!([
                    {"step": 0, "event": "a rising tone", "label": "matched", "source": "auto"},
                    {"step": 0, "event": "a dog", "label": "hallucinated", "source": "auto"},
                    {"step": 1, "event": "so it rises", "label": "neutral", "source": "auto"}
                ])
            } else {
                serde_json::json!([
                    {"step": 0, "event": "two tones", "label": "matched", "source": "judge:m"},
                    {"step": 0, "event": "two tones", "label": "misused", "source": "human:ann"},
                    {"step": 1, "event": "a chirp", "label": "matched", "source": "auto"},
                    {"step": 2, "event": "a click", "label": "matched", "source": "auto"}
                ])
            };
            let missed = if n == 0 {
                serde_json::json!([{"event": "noise", "source": "auto"}])
            } else {
                serde_json::json!([])
            };
            value["labels"] = serde_json::json!({"steps": claims, "missed": missed, "targets": if n == 0 { 2 } else { 3 }});
        }
        labelled.push_str(&serde_json::to_string(&value).unwrap());
        labelled.push('\n');
    }
    std::fs::write(&traces, labelled).unwrap();

    let out = dir.path().join("report");
    let output = CommandLine::new("report")
        .arg(&traces)
        .out(&out)
        .option("--bin-tokens", "8")
        .succeeds();
    let terminal = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(terminal.starts_with("4 traces, 2 failed"), "{terminal}");

    let accuracy = std::fs::read_to_string(out.join("accuracy.csv")).unwrap();
    assert!(
        accuracy
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("overall,all,4,{correct},")),
        "{accuracy}"
    );
    assert!(
        accuracy.contains("task,music,2,") && accuracy.contains("task,sound,2,"),
        "{accuracy}"
    );
    let tokens = std::fs::read_to_string(out.join("token_decay.csv")).unwrap();
    let first_bin = tokens.lines().nth(1).unwrap();
    assert!(first_bin.starts_with("all,0,"), "{tokens}");
    for plot in [
        "step_ratio.svg",
        "step_focus.svg",
        "token_ratio.svg",
        "token_focus.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(plot)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{plot}"
        );
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        markdown.contains("![Mean audio ratio of each reasoning step"),
        "{markdown}"
    );
    assert!(markdown.contains("does not match its trace"), "{markdown}");
    let cafe = std::fs::read_to_string(out.join("cafe.csv")).unwrap();
    assert_eq!(
        cafe.lines().nth(1).unwrap(),
        "2,3,1,1,1,1,5,0.6000,0.2000,0.2000,0.2000",
        "{cafe}"
    );
    assert!(
        markdown.contains("| 0.600 | 0.200 | 0.200 | 0.200 |"),
        "{markdown}"
    );
    let warning = stderr(&output);
    assert!(
        warning.contains(&done[0].id) && warning.contains("does not match its trace"),
        "{warning}"
    );
}

#[test]
fn resume_after_a_line_cut_short_keeps_every_complete_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = mini_benchmark(dir.path());
    let out = dir.path().join("cut.jsonl");
    batch_args(&data, &out, &["--limit", "2"]).succeeds();
    // A run killed while writing its third line leaves half a line and no newline.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str("{\"schema\": \"auscult.trace/1\", \"id\": \"item-2\", \"crea");
    std::fs::write(&out, text).unwrap();

    let output = batch_args(&data, &out, &["--resume"]).succeeds();
    assert!(
        stderr(&output).contains("cut.jsonl:3: truncated last line"),
        "{}",
        stderr(&output)
    );
    let file = read_traces(&out).unwrap();
    assert_eq!(file.lines.len(), 6, "every item once");
    assert_eq!(file.skipped.len(), 1);
    assert!(
        file.skipped[0].contains("cut.jsonl:3: not JSON"),
        "{:?}",
        file.skipped
    );
}

#[test]
fn a_run_in_which_no_item_ran_exits_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mmau-missing.json");
    let records = serde_json::json!([
        {"id": "gone-1", "audio_id": "./audios/nowhere.wav", "question": "Q?",
         "choices": ["A", "B"], "answer": "A"},
        {"id": "gone-2", "audio_id": "./audios/nowhere-either.wav", "question": "Q?",
         "choices": ["A", "B"], "answer": "B"}
    ]);
    std::fs::write(&data, records.to_string()).unwrap();
    let out = dir.path().join("traces.jsonl");
    let output = batch_args(&data, &out, &[]).run();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.contains("traces.jsonl: no item ran: all 2 failed"),
        "{text}"
    );
    // The failures are still recorded, one line each.
    assert_eq!(read_traces(&out).unwrap().lines.len(), 2);
}
