//! `auscult judge` end to end against a scripted OpenAI-compatible server on 127.0.0.1: good
//! answers, answers that need a retry (not JSON, too slow), answers that never work (HTTP 500,
//! schema-breaking, refusals), a trace without caption, a server that rejects the
//! `response_format` (the client steps down the ladder), resuming a run, and the one-line errors
//! for bad inputs.

use crate::common;

mod inputs;
mod response_format;
mod scripted;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Duration;

use auscult::cafe::judge::{read_judge_lines, JudgeLine, ResponseFormat};
use auscult::trace::CafeLabel;
use auscult::trace::Trace;
use common::openai_server::{OpenAiServer, Reply, Request};
use common::{expect_one_line_error, repo_path, stderr, CommandLine};
use serde_json::json;

const MODEL: &str = "test-judge";

/// The environment variables that would send loopback requests through a proxy.
const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// `command`, to talk to the test server directly even where a proxy is set.
fn command_without_proxy(command: &CommandLine) -> Command {
    let mut command = command.command();
    for variable in PROXY_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Runs `command` to the end, talking to the test server directly even where a proxy is set.
fn without_proxy(command: &CommandLine) -> Output {
    command_without_proxy(command)
        .output()
        .expect("the auscult binary runs")
}

/// The bundled examples' finished traces.
fn example_traces() -> Vec<Trace> {
    common::finished_traces(&repo_path("assets/examples/traces.jsonl"))
}

/// A traces file with one example trace per id (cycling through the examples) and one failed
/// item, which the judge must skip.
fn write_traces(dir: &Path, ids: &[&str]) -> PathBuf {
    let examples = example_traces();
    let mut text = String::new();
    for (index, id) in ids.iter().enumerate() {
        let mut trace = examples[index % examples.len()].clone();
        trace.id = (*id).to_owned();
        text.push_str(&serde_json::to_string(&trace).unwrap());
        text.push('\n');
    }
    let failed = json!({"schema": "auscult.trace/1", "id": "crashed", "created": "2026-01-01T00:00:00Z", "error": "out of memory"});
    text.push_str(&format!("{failed}\n"));
    let path = dir.join("traces.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// A captions file: each id's caption carries the marker `[case=ID]` the server scripts on;
/// ids in `with_events` list two events.
fn write_captions(dir: &Path, name: &str, ids: &[&str], with_events: &[&str]) -> PathBuf {
    let mut text = String::new();
    for id in ids {
        let mut line = json!({"id": id, "caption": format!("[case={id}] A rising chirp, then a noise burst.")});
        if with_events.contains(id) {
            line["events"] = json!(["rising chirp", "noise burst"]);
        }
        text.push_str(&format!("{line}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The case a request is about, from the marker in its prompt.
fn case_of(request: &Request) -> String {
    let prompt = request.prompt();
    let start = prompt.find("[case=").expect("a case marker in the prompt") + "[case=".len();
    let end = start + prompt[start..].find(']').unwrap();
    prompt[start..end].to_owned()
}

/// The scripted good answer: two claims and one missed event.
fn good_answer() -> String {
    json!({
        "claims": [
            {"step": 1, "event": "rising chirp", "label": "matched"},
            {"step": 0, "event": "announces listening", "label": "neutral"}
        ],
        "missed": ["noise burst"]
    })
    .to_string()
}

fn requests_per_case(server: &OpenAiServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in server.requests() {
        *counts.entry(case_of(&request)).or_insert(0) += 1;
    }
    counts
}

/// The last line of each id, and the file's skipped-line warnings.
fn last_lines(path: &Path) -> (HashMap<String, JudgeLine>, Vec<String>) {
    let (lines, skipped) = read_judge_lines(path).unwrap();
    let last = lines
        .into_iter()
        .map(|line| (line.id.clone(), line))
        .collect();
    (last, skipped)
}

/// `auscult judge` of `traces` with `captions`, asking `endpoint`, writing `out`.
fn judge_command(traces: &Path, captions: &Path, endpoint: &str, out: &Path) -> CommandLine {
    CommandLine::new("judge")
        .arg(traces)
        .option("--captions", captions)
        .option("--endpoint", endpoint)
        .model(MODEL)
        .out(out)
}

/// `auscult judge` against the test server, with a one-second timeout and one quick retry.
fn judge(
    traces: &Path,
    captions: &Path,
    server: &OpenAiServer,
    out: &Path,
    extra: &[&str],
) -> Output {
    without_proxy(
        &judge_command(traces, captions, &server.url, out)
            .option("--timeout", "1")
            .option("--retries", "1")
            .option("--retry-delay-ms", "10")
            .args(extra),
    )
}

const CASES: [&str; 9] = [
    "good",
    "good-no-events",
    "fenced",
    "malformed",
    "slow",
    "http500",
    "schema",
    "refusal",
    "uncaptioned",
];
