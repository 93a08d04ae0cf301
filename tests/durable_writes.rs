//! What `run` and `batch` write is whole or absent, whenever they are killed: each is killed with
//! SIGKILL at 25 moments spread over an uninterrupted run's length (a seeded draw, so a failure
//! replays), and every file left must read back whole: a trace and its sidecar, traces lines and
//! their sidecars.
#![cfg(unix)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use auscult::trace::{read_sidecar, read_traces, Trace, TraceLine};
use common::{fixture, repo_path, CommandLine};
use rand::{Rng, SeedableRng};

const KILLS: usize = 25;

fn tones() -> PathBuf {
    repo_path("assets/demo/tones.wav")
}

fn run_args(out: &Path) -> CommandLine {
    CommandLine::new("run")
        .model(fixture("qwen2_audio/tiny_a"))
        .audio(tones())
        .prompt("What is this?")
        .max_new_tokens(24)
        .out(out)
}

/// Four MMAU items over the demo clip, written beside it in `dir`.
fn batch_args(dir: &Path, out: &Path) -> CommandLine {
    std::fs::copy(tones(), dir.join("tones.wav")).unwrap();
    let records: Vec<_> = (0..4)
        .map(|i| {
            serde_json::json!({
                "id": format!("item-{i}"), "audio_id": "./tones.wav",
                "question": "What do you hear?", "choices": ["Tones", "Speech"],
                "answer": "Tones"
            })
        })
        .collect();
    let data = dir.join("items.json");
    std::fs::write(&data, serde_json::to_string(&records).unwrap()).unwrap();
    CommandLine::new("batch")
        .model(fixture("qwen2_audio/tiny_a"))
        .option("--data", &data)
        .out(out)
        .max_new_tokens(12)
}

/// Runs auscult to the end, for its length.
fn uninterrupted(args: &CommandLine) -> Duration {
    let started = Instant::now();
    args.succeeds();
    started.elapsed()
}

/// Starts auscult and kills it with SIGKILL after `delay` (if it is still running). The delay is
/// the moment under test, drawn over the run's length, not a wait for the run to get somewhere.
fn killed_after(args: &CommandLine, delay: Duration) {
    let mut child = args
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL on unix
    child.wait().unwrap();
}

/// The trace at `path` and its sidecar are each whole or absent, and a trace never names a
/// sidecar that is not there (the sidecar is written first).
fn check_run_files(path: &Path) -> bool {
    if !path.exists() {
        return false;
    }
    let trace = Trace::read(path).unwrap_or_else(|e| panic!("a cut trace: {e:#}"));
    let record = trace.attention.as_ref().expect("capture is on");
    let sidecar = path.parent().unwrap().join(&record.sidecar);
    read_sidecar(&sidecar).unwrap_or_else(|e| panic!("a cut sidecar: {e:#}"));
    true
}

/// Every line of the traces file is whole and every finished item's sidecar reads back.
fn check_batch_files(path: &Path) -> usize {
    if !path.exists() {
        return 0;
    }
    let file = read_traces(path).unwrap();
    assert!(file.skipped.is_empty(), "cut lines: {:?}", file.skipped);
    for line in &file.lines {
        if let TraceLine::Done(trace) = line {
            let record = trace.attention.as_ref().expect("capture is on");
            let sidecar = path.parent().unwrap().join(&record.sidecar);
            read_sidecar(&sidecar).unwrap_or_else(|e| panic!("a cut sidecar: {e:#}"));
        }
    }
    file.lines.len()
}

#[test]
fn run_killed_at_any_moment_leaves_a_whole_trace_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let full = uninterrupted(&run_args(&dir.path().join("whole.json")));
    assert!(check_run_files(&dir.path().join("whole.json")));
    let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let mut written = 0;
    for kill in 0..KILLS {
        let out = dir.path().join(format!("killed-{kill}.json"));
        let delay = full.mul_f64(random.random_range(0.0..1.1));
        killed_after(&run_args(&out), delay);
        written += usize::from(check_run_files(&out));
    }
    // Kills spread over the whole run: some before the trace was written, some after.
    assert!(written < KILLS, "every run finished before its kill");
    eprintln!("run: {KILLS} kills, {written} left a trace (run takes {full:?})");
}

#[test]
fn batch_killed_at_any_moment_leaves_only_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let full = uninterrupted(&batch_args(dir.path(), &dir.path().join("whole.jsonl")));
    assert_eq!(check_batch_files(&dir.path().join("whole.jsonl")), 4);
    let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let mut lines = Vec::new();
    for kill in 0..KILLS {
        let out = dir.path().join(format!("killed-{kill}.jsonl"));
        let delay = full.mul_f64(random.random_range(0.0..1.1));
        killed_after(&batch_args(dir.path(), &out), delay);
        lines.push(check_batch_files(&out));
    }
    assert!(
        lines.iter().any(|&n| n < 4),
        "every batch finished before its kill: {lines:?}"
    );
    eprintln!("batch: {KILLS} kills left {lines:?} lines (batch takes {full:?})");
}
