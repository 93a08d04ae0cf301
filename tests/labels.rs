//! `auscult label agree`, `auscult label export` and `report` on labels: annotators' journals
//! written through the library beside a copy of the bundled traces file, read back by the
//! commands; kappa values against hand-computed ones; bad label files.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use auscult::cafe::journal::LabelOp;
use auscult::cafe::journal_file::{journal_path, open_journal};
use auscult::cafe::CafeCounts;
use auscult::trace::CafeLabel;
use auscult::trace::Trace;
use common::folder_copy::copy_files;
use common::{expect_one_line_error, repo_path, stderr, stdout, CommandLine};

/// A copy of the bundled traces file and its sidecars.
fn traces_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bundled = repo_path("assets/demo");
    copy_files(&bundled, dir.path(), |name| name == "demo-set.jsonl");
    copy_files(
        &bundled.join("demo-set.attn"),
        &dir.path().join("demo-set.attn"),
        |_| true,
    );
    let path = dir.path().join("demo-set.jsonl");
    (dir, path)
}

fn traces(path: &Path) -> Vec<Trace> {
    common::finished_traces(path)
}

/// The first four claims the checker listed in the first trace: (trace id, step, event).
fn four_claims(path: &Path) -> Vec<(String, usize, String)> {
    let trace = &traces(path)[0];
    trace
        .labels
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .take(4)
        .map(|l| (trace.id.clone(), l.step, l.event.clone()))
        .collect()
}

/// Writes `annotator`'s journal: `labels[i]` on claim `i`.
fn label(traces: &Path, annotator: &str, labels: &[CafeLabel]) -> PathBuf {
    let path = journal_path(traces, annotator);
    let mut opened = open_journal(&path, annotator).unwrap();
    for ((trace, step, event), &label) in four_claims(traces).into_iter().zip(labels) {
        opened
            .writer
            .as_mut()
            .unwrap()
            .append(&trace, LabelOp::Label { step, event, label })
            .unwrap();
    }
    path
}

use CafeLabel::{Hallucinated as H, Matched as M, Misused as S, Neutral as N};

#[test]
fn agree_gives_hand_computed_kappas() {
    let (_dir, traces) = traces_copy();
    let ann = label(&traces, "ann", &[M, H, S, N]);
    let bob = label(&traces, "bob", &[M, S, S, N]);
    let eve = label(&traces, "eve", &[M, S, S, N]);
    // A claim only ann labelled is left out.
    let mut opened = open_journal(&ann, "ann").unwrap();
    opened
        .writer
        .as_mut()
        .unwrap()
        .append(
            "demo-tones",
            LabelOp::Label {
                step: 0,
                event: "only ann".into(),
                label: M,
            },
        )
        .unwrap();
    drop(opened);

    let output = CommandLine::new("label agree")
        .arg(&ann)
        .arg(&bob)
        .succeeds();
    let text = stdout(&output);
    // ann M H S N, bob M S S N: p_o = 3/4; p_e = (1·1 + 1·0 + 1·2 + 1·1)/16 = 1/4;
    // κ = (3/4 − 1/4)/(3/4) = 2/3.
    assert!(
        text.contains(
            "human:ann vs human:bob: Cohen's kappa 0.667 over 4 claims (observed agreement 0.750)"
        ),
        "{text}"
    );
    assert!(
        text.contains("4 claims labelled by all (1 by only some, left out)"),
        "{text}"
    );
    // Confusion row "hallucinated": ann's HAL went to bob's MIS.
    let row = text
        .lines()
        .rev()
        .find(|l| l.starts_with("hallucinated"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["hallucinated", "0", "0", "1", "0"], "{text}");

    let output = CommandLine::new("label agree")
        .arg(&ann)
        .arg(&bob)
        .arg(&eve)
        .arg("--json")
        .succeeds();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Items [M M M], [H S S], [S S S], [N N N]: P_i = 1, 1/3, 1, 1 → mean 10/12;
    // p = 3/12, 1/12, 5/12, 3/12 → P_e = 44/144; κ = (120 − 44)/(144 − 44) = 0.76.
    let fleiss = json["fleiss"].as_f64().unwrap();
    assert!((fleiss - 0.76).abs() < 1e-12, "{fleiss}");
    assert_eq!(json["pairs"].as_array().unwrap().len(), 3);
    assert_eq!(
        json["pairs"][2]["kappa"].as_f64(),
        Some(1.0),
        "bob and eve agree"
    );
    assert_eq!(json["items"], 4);
}

#[test]
fn export_merges_every_source_with_the_step_text_and_report_counts_it() {
    let (dir, traces_path) = traces_copy();
    label(&traces_path, "ann", &[H, H, S, N]);
    let all = traces(&traces_path);
    let first = &all[0];
    let claims = four_claims(&traces_path);

    let output = CommandLine::new("label export")
        .arg(&traces_path)
        .succeeds();
    assert!(
        stderr(&output).contains("journal of human:ann, 1 traces"),
        "{}",
        stderr(&output)
    );
    let rows: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let human: Vec<&serde_json::Value> = rows.iter().filter(|r| r["source"] == "human").collect();
    assert_eq!(human.len(), 4);
    for (row, (trace, step, event)) in human.iter().zip(&claims) {
        assert_eq!(row["trace"], trace.as_str());
        assert_eq!(row["event"], event.as_str());
        assert_eq!(row["annotator"], "ann");
        assert_eq!(
            row["step_text"],
            first.steps[*step].text.as_str(),
            "the step's text, not only its number"
        );
    }
    assert_eq!(human[0]["label"], "hallucinated");
    // Without --all, one row per claim: the checker's label of a claim ann labelled is gone.
    let auto_rows = rows
        .iter()
        .filter(|r| r["source"] == "auto" && r["trace"] == first.id.as_str())
        .count();
    let auto_claims = first.labels.as_ref().unwrap().steps.len();
    assert_eq!(auto_rows, auto_claims - 4);

    let csv_path = dir.path().join("labels.csv");
    CommandLine::new("label export")
        .arg(&traces_path)
        .option("--format", "csv")
        .arg("--all")
        .out(&csv_path)
        .succeeds();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "trace",
            "step",
            "step_text",
            "event",
            "label",
            "source",
            "annotator",
            "note",
            "counts",
            "targets"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(
        records.len(),
        rows.len() + 4,
        "--all keeps the overridden labels"
    );
    assert!(records.iter().any(|r| &r[5] == "auto" && &r[8] == "false"));
    // Never over an existing file.
    let again = CommandLine::new("label export")
        .arg(&traces_path)
        .out(&csv_path)
        .run();
    expect_one_line_error(
        &again,
        &["labels.csv", "already exists", "never overwritten"],
    );

    // report on a copy of the traces without the journal, given the export: the same CAFE
    // counts as the traces' labels with ann's added.
    let export_path = dir.path().join("export.jsonl");
    CommandLine::new("label export")
        .arg(&traces_path)
        .out(&export_path)
        .succeeds();
    let (_other_dir, bare) = traces_copy();
    let out = dir.path().join("report");
    CommandLine::new("report")
        .arg(&bare)
        .option("--labels", &export_path)
        .out(&out)
        .succeeds();
    let mut expected = CafeCounts::default();
    for trace in &all {
        let mut labels = trace.labels.clone().unwrap();
        if trace.id == first.id {
            for ((_, step, event), label) in claims.iter().zip([H, H, S, N]) {
                labels.steps.push(auscult::trace::StepLabel {
                    step: *step,
                    event: event.clone(),
                    label,
                    source: "human:ann".parse().unwrap(),
                    note: None,
                });
            }
        }
        expected.add(&CafeCounts::of(&labels));
    }
    let cafe = std::fs::read_to_string(out.join("cafe.csv")).unwrap();
    let values: BTreeMap<&str, &str> = cafe
        .lines()
        .next()
        .unwrap()
        .split(',')
        .zip(cafe.lines().nth(1).unwrap().split(','))
        .collect();
    assert_eq!(
        values["hallucinated"],
        expected.hallucinated.to_string(),
        "{cafe}"
    );
    assert_eq!(values["matched"], expected.matched.to_string(), "{cafe}");
    assert_eq!(values["misused"], expected.misused.to_string(), "{cafe}");
    assert_eq!(values["neutral"], expected.neutral.to_string(), "{cafe}");
    // The same export beside ann's own journal: her labels count once, from the journal.
    let out = dir.path().join("report-with-journal");
    let output = CommandLine::new("report")
        .arg(&traces_path)
        .option("--labels", &export_path)
        .out(&out)
        .succeeds();
    assert!(
        stderr(&output)
            .contains("4 labels of annotators whose journals are beside the traces left out"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(out.join("cafe.csv")).unwrap(), cafe);
    // The human labels changed the counts (the test would not notice otherwise).
    let mut without = CafeCounts::default();
    for trace in &all {
        without.add(&CafeCounts::of(trace.labels.as_ref().unwrap()));
    }
    assert_ne!(without, expected);
}

#[test]
fn bad_label_files_are_named() {
    let (dir, traces_path) = traces_copy();
    let ann = label(&traces_path, "ann", &[M, H, S, N]);
    // A corrupt line in the middle: reported by number, the rest kept.
    let text = std::fs::read_to_string(&ann).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"seq\": 2, \"time\": ";
    std::fs::write(&ann, lines.join("\n") + "\n").unwrap();
    let output = CommandLine::new("label export")
        .arg(&traces_path)
        .succeeds();
    assert!(
        stderr(&output).contains("demo-set.ann.labels.jsonl:2: not a journal entry"),
        "{}",
        stderr(&output)
    );
    let human_rows = stdout(&output)
        .lines()
        .filter(|l| l.contains("\"source\":\"human\""))
        .count();
    assert_eq!(human_rows, 3, "the other three labels kept");

    let bob = label(&traces_path, "bob", &[M, H, S, N]);
    let copy = dir.path().join("copy.labels.jsonl");
    std::fs::copy(&bob, &copy).unwrap();
    let output = CommandLine::new("label agree").arg(&bob).arg(&copy).run();
    expect_one_line_error(&output, &["both human:bob", "different raters"]);

    let output = CommandLine::new("label agree")
        .arg(&bob)
        .arg("missing.jsonl")
        .run();
    expect_one_line_error(&output, &["missing.jsonl", "cannot read"]);

    let not_labels = dir.path().join("notes.jsonl");
    std::fs::write(&not_labels, "{\"hello\": 1}\n").unwrap();
    let output = CommandLine::new("label agree")
        .arg(&bob)
        .arg(&not_labels)
        .run();
    expect_one_line_error(&output, &["notes.jsonl", "not a label file"]);

    let mixed = dir.path().join("mixed.jsonl");
    CommandLine::new("label export")
        .arg(&traces_path)
        .arg("--all")
        .out(&mixed)
        .succeeds();
    let output = CommandLine::new("label agree").arg(&bob).arg(&mixed).run();
    expect_one_line_error(&output, &["mixed.jsonl", "one rater per file"]);

    let output = CommandLine::new("inspect")
        .arg(&traces_path)
        .option("--annotator", "a/b")
        .run();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    assert!(
        stderr(&output).contains("annotator name \"a/b\""),
        "{}",
        stderr(&output)
    );
}

/// A judge's output joins the traces' labels (its source `judge:<model>` under the human's, over
/// the checker's); a later failure line for a trace takes its labels back; the judge can be a
/// rater in `agree`.
#[test]
fn judge_output_joins_export_and_agreement() {
    use auscult::cafe::judge::{JudgeLine, JudgeRun};
    use auscult::trace::{StepLabel, TraceLabels};
    let (dir, traces_path) = traces_copy();
    let ann = label(&traces_path, "ann", &[M, H, S, N]);
    let all = traces(&traces_path);
    let claims = four_claims(&traces_path);
    let run = JudgeRun {
        model: "qwen".into(),
        endpoint: "http://127.0.0.1:1/v1/chat/completions".into(),
        prompt_sha256: String::new(),
        response_format: None,
        attempts: 1,
        seconds: 0.1,
    };
    let judged = |id: &str, labels: &[CafeLabel]| JudgeLine {
        id: id.into(),
        labels: Some(TraceLabels {
            steps: claims
                .iter()
                .zip(labels)
                .map(|((_, step, event), &label)| StepLabel {
                    step: *step,
                    event: event.clone(),
                    label,
                    source: "judge:qwen".parse().unwrap(),
                    note: None,
                })
                .collect(),
            missed: Vec::new(),
            targets: None,
        }),
        error: None,
        judge: run.clone(),
    };
    let failed = JudgeLine {
        id: all[1].id.clone(),
        labels: None,
        error: Some("HTTP 500 (4 attempts)".into()),
        judge: run.clone(),
    };
    let mut second = judged(&all[1].id, &[H, H, H, H]);
    second.id = all[1].id.clone();
    let judge_path = dir.path().join("judge.jsonl");
    let lines = [judged(&all[0].id, &[M, S, S, N]), second, failed];
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();
    std::fs::write(&judge_path, text).unwrap();

    let output = CommandLine::new("label export")
        .arg(&traces_path)
        .option("--labels", &judge_path)
        .arg("--all")
        .succeeds();
    let rows: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let judge_rows: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["source"] == "judge").collect();
    assert_eq!(
        judge_rows.len(),
        4,
        "the second trace's labels were taken back"
    );
    assert!(judge_rows
        .iter()
        .all(|r| r["annotator"] == "qwen" && r["trace"] == all[0].id.as_str()));
    // Where ann labelled too, ann's label counts and the judge's does not.
    assert!(judge_rows.iter().all(|r| r["counts"] == false));

    let output = CommandLine::new("label agree")
        .arg(&ann)
        .arg(&judge_path)
        .succeeds();
    let text = stdout(&output);
    assert!(
        text.contains("human:ann vs judge:qwen: Cohen's kappa 0.667 over 4 claims"),
        "{text}"
    );
}
