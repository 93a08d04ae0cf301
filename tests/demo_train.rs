//! `auscult demo train`: a run stopped at any step and resumed continues the same loss curve to
//! the same weights, and the command refuses what it cannot do in one line.

use crate::common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use auscult::synth::training::{train, LogLine, TrainOptions};
use common::auscult;

fn options(out: &Path, steps: usize) -> TrainOptions {
    let mut options = TrainOptions::new(out.to_owned());
    options.steps = Some(steps);
    options.seed = 3;
    options.batch = 2;
    options.snapshot_every = 2;
    options.workers = 1;
    options
}

fn log(out: &Path) -> Vec<LogLine> {
    std::fs::read_to_string(out.join("training/log.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Loss, learning rate and gradient norm of each step (not its duration).
fn curve(lines: &[LogLine]) -> Vec<(usize, f64, f64, f64)> {
    lines
        .iter()
        .map(|l| (l.step, l.loss, l.learning_rate, l.grad_norm))
        .collect()
}

#[test]
fn a_stopped_run_resumes_on_the_same_loss_curve_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let never = AtomicBool::new(false);

    let straight = dir.path().join("straight");
    let outcome = train(&options(&straight, 5), &never, &mut |_, _| {}).unwrap();
    assert!(!outcome.interrupted);
    assert_eq!(outcome.state.step, 5);
    let reference = curve(&log(&straight));
    assert_eq!(reference.len(), 5);
    // Untrained, the loss is about ln(vocabulary); five steps of warm-up already lower it.
    assert!(
        reference[0].1 > 4.0 && reference[0].1 < 5.5,
        "{reference:?}"
    );
    assert!(reference[4].1 < reference[0].1, "{reference:?}");

    // Stopped after step 3 (between checkpoints: the checkpoint of step 2 is not the last
    // state, so the stop itself must save one).
    let stopped = dir.path().join("stopped");
    let stop = AtomicBool::new(false);
    let outcome = train(&options(&stopped, 5), &stop, &mut |line, _| {
        if line.step == 3 {
            stop.store(true, Ordering::Relaxed);
        }
    })
    .unwrap();
    assert!(outcome.interrupted);
    assert_eq!(outcome.state.step, 3);
    // A log line written after the last checkpoint (as by a run killed mid-step) is dropped on
    // resume and written again.
    let mut text = std::fs::read_to_string(stopped.join("training/log.jsonl")).unwrap();
    text.push_str("{\"step\":4,\"loss\":9.9,\"learning_rate\":0.0,\"grad_norm\":0.0,\"tokens\":1,\"seconds\":0.0}\n{\"step\":5,\"lo");
    std::fs::write(stopped.join("training/log.jsonl"), text).unwrap();

    let mut resume = options(&stopped, 5);
    resume.resume = true;
    resume.steps = None;
    let outcome = train(&resume, &never, &mut |_, _| {}).unwrap();
    assert_eq!(outcome.state.step, 5);
    assert_eq!(curve(&log(&stopped)), reference);
    for name in ["model.safetensors", "training/checkpoint/model.safetensors"] {
        assert_eq!(
            std::fs::read(straight.join(name)).unwrap(),
            std::fs::read(stopped.join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read(straight.join("training/checkpoint/optimizer.safetensors")).unwrap(),
        std::fs::read(stopped.join("training/checkpoint/optimizer.safetensors")).unwrap()
    );
}

#[test]
fn train_refuses_an_occupied_directory_and_a_resume_without_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = dir.path().to_str().unwrap();
    let occupied = auscult(&["demo", "train", "--out", out, "--steps", "1"]);
    assert_eq!(occupied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&occupied.stderr);
    assert!(
        stderr.contains(out) && stderr.contains("--resume"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );

    let resumed = auscult(&["demo", "train", "--out", out, "--resume"]);
    assert_eq!(resumed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(out) && stderr.contains("no training checkpoint"),
        "{stderr}"
    );
}
