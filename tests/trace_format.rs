//! The trace format `auscult.trace/1`: the committed JSON Schema matches the types, real traces
//! and failed items validate against it, traces round-trip, and other versions are refused.

use crate::common;

use std::path::Path;

use auscult::trace::{read_traces, trace_json_schema, Trace, TraceLine};
use common::{auscult, fixture, update_mode, CommandLine};

const SCHEMA_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/auscult.trace.schema.json"
);

/// Regenerate with `UPDATE_SCHEMA=1 cargo test --test all trace_format::`: the test then rewrites
/// the file from the types and fails, saying so; run it again without the variable to check.
#[test]
fn the_committed_schema_is_the_types_schema() {
    let generated = serde_json::to_string_pretty(&trace_json_schema()).unwrap() + "\n";
    if update_mode::requested("UPDATE_SCHEMA") {
        std::fs::write(SCHEMA_FILE, &generated).unwrap();
        update_mode::rewrote("UPDATE_SCHEMA", "schema/auscult.trace.schema.json");
    }
    let committed =
        std::fs::read_to_string(SCHEMA_FILE).expect("schema/auscult.trace.schema.json exists");
    assert_eq!(
        committed, generated,
        "the committed schema is not the types' schema: \
         run UPDATE_SCHEMA=1 cargo test --test all trace_format::, then again without it"
    );
}

fn run_trace(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("trace.json");
    CommandLine::new("run")
        .model(fixture("qwen2_audio/tiny_a"))
        .audio(fixture("audio/mel/short.wav"))
        .option("--question", "Which is it?")
        .option("--choices", "A,B")
        .max_new_tokens(8)
        .arg("--capture-prompt")
        .out(&out)
        .succeeds();
    out
}

#[test]
fn traces_and_failed_items_validate_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = run_trace(dir.path());
    let schema = serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();

    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut broken = value.clone();
    broken.as_object_mut().unwrap().remove("generation");
    assert!(!validator.is_valid(&broken));

    let failed = serde_json::json!({
        "schema": "auscult.trace/1", "id": "x", "created": "2026-11-26T00:00:00Z",
        "audio_path": "x.wav", "error": "x.wav: no such file"
    });
    assert!(validator.is_valid(&failed));

    let trace = Trace::read(&path).unwrap();
    let copy = dir.path().join("copy.json");
    trace.write(&copy).unwrap();
    assert_eq!(Trace::read(&copy).unwrap(), trace);
    // As a traces-file line too.
    let lines = dir.path().join("t.jsonl");
    std::fs::write(&lines, serde_json::to_string(&trace).unwrap() + "\n").unwrap();
    assert_eq!(
        read_traces(&lines).unwrap().lines,
        vec![TraceLine::Done(Box::new(trace))]
    );
}

#[test]
fn other_versions_and_non_traces_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = run_trace(dir.path());
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("auscult.trace/1", "auscult.trace/2");
    let future = dir.path().join("future.json");
    std::fs::write(&future, text).unwrap();
    let error = format!("{:#}", Trace::read(&future).unwrap_err());
    assert!(
        error.contains("future.json") && error.contains("\"auscult.trace/2\" is not supported"),
        "{error}"
    );
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"hello\": 1}").unwrap();
    let error = format!("{:#}", Trace::read(&other).unwrap_err());
    assert!(error.contains("not an auscult trace"), "{error}");
}

#[test]
fn inspect_refuses_missing_or_empty_traces_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = auscult(&["inspect", missing.to_str().unwrap()]);
    common::expect_one_line_error(&output, &["missing.json"]);
    let failed_only = dir.path().join("failed.jsonl");
    std::fs::write(
        &failed_only,
        "{\"schema\": \"auscult.trace/1\", \"id\": \"x\", \"created\": \"t\", \"error\": \"x.wav: gone\"}\n",
    )
    .unwrap();
    let output = auscult(&["inspect", failed_only.to_str().unwrap()]);
    common::expect_one_line_error(&output, &["failed.jsonl", "no finished traces"]);
}
