//! `auscult demo eval` on a fresh (untrained) demo checkpoint: the JSON report has every field
//! the issue names, its numbers agree with the traces it writes, and bad input is one line.

use std::path::Path;
use std::process::Command;

use auscult::synth::evaluation::eval_item_seed;
use auscult::trace::{read_traces, TraceLine};

fn auscult(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_auscult"))
        .args(args)
        .output()
        .unwrap()
}

fn fresh_model(dir: &Path) -> String {
    let model = dir.join("model");
    let made = auscult(&[
        "demo",
        "init",
        "--out",
        model.to_str().unwrap(),
        "--seed",
        "2",
    ]);
    assert!(made.status.success(), "{made:?}");
    model.to_str().unwrap().to_owned()
}

#[test]
fn eval_reports_the_metrics_of_the_traces_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let model = fresh_model(dir.path());
    let out = dir.path().join("eval");
    let run = auscult(&[
        "demo",
        "eval",
        "--model",
        &model,
        "--seed",
        "9",
        "--n",
        "3",
        "--max-new-tokens",
        "12",
        "--workers",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for key in [
        "n",
        "answer_accuracy",
        "acc_per",
        "err_per",
        "err_use",
        "err_omit",
    ] {
        assert!(report.get(key).is_some(), "{key} missing: {report}");
    }
    assert_eq!(report["n"], 3);
    assert_eq!(report["item_seeds"][0], eval_item_seed(9, 0));

    // The traces, in item order, each labelled by the checker and with its sidecar.
    let traces = read_traces(&out.join("traces.jsonl")).unwrap();
    let traces: Vec<_> = traces
        .lines
        .into_iter()
        .map(|line| match line {
            TraceLine::Done(trace) => trace,
            TraceLine::Failed(failed) => panic!("{}", failed.error),
        })
        .collect();
    assert_eq!(traces.len(), 3);
    let mut correct = 0;
    for (i, trace) in traces.iter().enumerate() {
        assert_eq!(trace.id, format!("synth-{}", eval_item_seed(9, i)));
        assert!(trace.generation.ids.len() <= 12);
        assert!(trace.labels.is_some());
        let sidecar = out.join(&trace.attention.as_ref().unwrap().sidecar);
        assert!(sidecar.exists(), "{}", sidecar.display());
        correct += usize::from(trace.answer.as_ref().unwrap().correct);
    }
    let accuracy = report["answer_accuracy"].as_f64().unwrap();
    assert!((accuracy - correct as f64 / 3.0).abs() < 1e-12, "{report}");
}

#[test]
fn eval_bad_input_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-model");
    let run = auscult(&[
        "demo",
        "eval",
        "--model",
        missing.to_str().unwrap(),
        "--n",
        "1",
    ]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no-model"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let model = fresh_model(dir.path());
    let run = auscult(&["demo", "eval", "--model", &model, "--seed", "9999999999"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--seed"), "{stderr}");
}
