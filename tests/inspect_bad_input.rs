//! `auscult inspect` refuses bad input before it takes over the terminal: one line naming the
//! file and what is wrong, exit status 1, no panic.

use crate::common;

use std::path::Path;

use common::{auscult, auscult_command, expect_one_line_error, fixture, repo_path, CommandLine};

fn demo(name: &str) -> String {
    repo_path("assets/demo").join(name).display().to_string()
}

#[test]
fn a_missing_or_wrong_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = auscult(&["inspect", "--config", missing.to_str().unwrap()]);
    expect_one_line_error(&output, &["missing.json", "cannot read the config file"]);

    let typo = dir.path().join("typo.json");
    std::fs::write(&typo, r#"{"colours": "256"}"#).unwrap();
    let output = auscult(&["inspect", "--config", typo.to_str().unwrap()]);
    expect_one_line_error(&output, &["typo.json", "unknown field `colours`"]);

    // The same through $AUSCULT_CONFIG, with an action that does not exist.
    let bad_key = dir.path().join("keys.json");
    std::fs::write(&bad_key, r#"{"keys": {"q": "fly"}}"#).unwrap();
    let output = auscult_command(&["inspect", &demo("demo-tones.json")])
        .env("AUSCULT_CONFIG", &bad_key)
        .output()
        .unwrap();
    expect_one_line_error(&output, &["keys.json", "unknown variant `fly`"]);
}

#[test]
fn a_broken_sidecar_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("demo-tones.json");
    std::fs::copy(demo("demo-tones.json"), &trace).unwrap();
    let sidecar = std::fs::read(demo("demo-tones.attn.safetensors")).unwrap();
    std::fs::write(
        dir.path().join("demo-tones.attn.safetensors"),
        &sidecar[..sidecar.len() / 2],
    )
    .unwrap();
    let output = auscult(&["inspect", trace.to_str().unwrap()]);
    expect_one_line_error(&output, &["demo-tones.attn.safetensors"]);
}

/// `auscult inspect --model MODEL --audio AUDIO` with `extra` arguments.
fn live(model: &Path, audio: &str, extra: &[&str]) -> std::process::Output {
    CommandLine::new("inspect")
        .model(model)
        .audio(audio)
        .args(extra)
        .run()
}

#[test]
fn a_clip_or_a_binary_file_given_as_traces_says_what_it_is() {
    let output = auscult(&["inspect", &demo("tones.wav")]);
    expect_one_line_error(
        &output,
        &["tones.wav", "not a trace", "looks like audio", "--audio"],
    );
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("traces.jsonl");
    std::fs::write(&binary, [0x00, 0x9f, 0x92, 0x96, 0xff]).unwrap();
    let output = auscult(&["inspect", binary.to_str().unwrap()]);
    expect_one_line_error(&output, &["traces.jsonl", "not a trace", "auscult batch"]);
}

#[test]
fn a_live_run_checks_its_inputs_first() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("qwen2_audio/tiny_a");
    let prompt = ["--prompt", "What is this?"];
    let missing_audio = dir.path().join("gone.wav");
    let output = live(&model, missing_audio.to_str().unwrap(), &prompt);
    expect_one_line_error(&output, &["gone.wav", "no such audio file"]);

    let clip = demo("tones.wav");
    let output = live(&dir.path().join("no-model"), &clip, &prompt);
    expect_one_line_error(&output, &["no-model", "no such folder"]);

    let output = live(&model, &clip, &[]);
    expect_one_line_error(&output, &["needs --prompt or --question"]);

    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, r#"{"tagz": true}"#).unwrap();
    let output = live(
        &model,
        &clip,
        &[
            "--prompt",
            "What is this?",
            "--step-rules",
            rules.to_str().unwrap(),
        ],
    );
    expect_one_line_error(&output, &["rules.json"]);
}

#[test]
fn an_unknown_palette_is_refused_by_the_argument_parser() {
    let output = auscult(&["inspect", "--colour", "65536"]);
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let message = common::stderr(&output);
    assert!(
        message.contains("\"65536\" is not one of truecolor, 256, 16, none"),
        "{message}"
    );
}

/// `--model` goes with `--audio` (a live run) or with a trace (its model, for the evidence keys);
/// the evidence flags measure a live run only; a trace's model must be a checkpoint.
#[test]
fn a_model_needs_a_clip_or_a_trace_and_evidence_flags_need_a_live_run() {
    let model = fixture("qwen2_audio/tiny_a");
    let model = model.to_str().unwrap();
    let output = auscult(&["inspect", "--model", model]);
    expect_one_line_error(&output, &["--model needs --audio", "or a TRACE"]);

    let trace = demo("demo-tones.json");
    let output = auscult(&["inspect", &trace, "--reliance", "silence"]);
    expect_one_line_error(
        &output,
        &["measure a live run", "auscult reliance TRACES --model DIR"],
    );

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-model");
    let output = auscult(&["inspect", &trace, "--model", missing.to_str().unwrap()]);
    expect_one_line_error(&output, &["no-model", "no such folder"]);
}

#[test]
fn a_comparison_without_a_shared_item_or_file_is_refused() {
    // demo-tones.json and the bundled examples' traces ask different items.
    let examples = repo_path("assets/examples/traces.jsonl")
        .display()
        .to_string();
    let output = auscult(&["inspect", &demo("demo-tones.json"), "--compare", &examples]);
    expect_one_line_error(&output, &["traces.jsonl", "share no item id"]);
    let output = auscult(&[
        "inspect",
        &demo("demo-tones.json"),
        "--compare",
        "missing.jsonl",
    ]);
    expect_one_line_error(&output, &["missing.jsonl"]);
    // Comparing is for traces, and labels are only shown while comparing: usage errors.
    for args in [
        vec!["inspect", "--compare", &examples],
        vec![
            "inspect",
            &examples,
            "--compare",
            &examples,
            "--annotator",
            "ann",
        ],
    ] {
        let output = auscult(&args);
        assert_eq!(output.status.code(), Some(2), "a usage error: {args:?}");
        assert!(common::stderr(&output).contains("--compare"));
    }
}
