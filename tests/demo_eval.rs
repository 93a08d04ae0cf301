//! `auscult demo eval` on a fresh (untrained) demo checkpoint: the JSON report has every field
//! the issue names, its numbers agree with the traces it writes, and bad input is one line.

use crate::common;

use std::path::Path;

use auscult::synth::evaluation::eval_item_seed;
use auscult::trace::{read_traces, TraceLine};
use common::CommandLine;

fn fresh_model(dir: &Path) -> String {
    let model = dir.join("model");
    let made = CommandLine::new("demo init")
        .out(&model)
        .option("--seed", "2")
        .run();
    assert!(made.status.success(), "{made:?}");
    model.to_str().unwrap().to_owned()
}

#[test]
fn eval_reports_the_metrics_of_the_traces_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let model = fresh_model(dir.path());
    let out = dir.path().join("eval");
    let run = CommandLine::new("demo eval")
        .model(&model)
        .option("--seed", "9")
        .option("--n", "3")
        .max_new_tokens(12)
        .option("--workers", "2")
        .arg("--json")
        .out(&out)
        .succeeds();
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
    let run = CommandLine::new("demo eval")
        .model(&missing)
        .option("--n", "1")
        .run();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no-model"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let model = fresh_model(dir.path());
    let run = CommandLine::new("demo eval")
        .model(&model)
        .option("--seed", "9999999999")
        .run();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--seed"), "{stderr}");
}
