//! `auscult judge` end to end against a scripted OpenAI-compatible server on 127.0.0.1: good
//! answers, answers that need a retry (not JSON, too slow), answers that never work (HTTP 500,
//! schema-breaking, refusals), a trace without caption, a server that rejects the
//! `response_format` (the client steps down the ladder), resuming a run, and the one-line errors
//! for bad inputs.

use crate::common;

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

#[test]
fn scripted_answers_give_labels_or_failure_lines_and_a_rerun_retries_only_the_failures() {
    let dir = tempfile::tempdir().unwrap();
    let traces = write_traces(dir.path(), &CASES);
    let captioned: Vec<&str> = CASES
        .iter()
        .copied()
        .filter(|c| *c != "uncaptioned")
        .collect();
    let captions = write_captions(
        dir.path(),
        "captions.jsonl",
        &captioned,
        &["good", "malformed"],
    );
    let out = dir.path().join("labels.jsonl");

    let tries: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    let server = OpenAiServer::start(move |request| {
        let case = case_of(request);
        let attempt = {
            let mut tries = tries.lock().unwrap();
            let count = tries.entry(case.clone()).or_insert(0);
            *count += 1;
            *count
        };
        match (case.as_str(), attempt) {
            ("fenced", _) => Reply::content(&format!(
                "Here are the labels:\n```json\n{}\n```",
                good_answer()
            )),
            ("malformed", 1) => Reply::content("The steps look fine to me."),
            ("slow", 1) => Reply::content(&good_answer()).after(Duration::from_millis(1600)),
            ("http500", _) => Reply::status(500, r#"{"error": "internal error: model crashed"}"#),
            ("schema", _) => Reply::content(
                r#"{"claims": [{"step": 99, "event": "a dog", "label": "matched"}], "missed": []}"#,
            ),
            ("refusal", _) => Reply::refusal("I can't help with that."),
            _ => Reply::content(&good_answer()),
        }
    });
    let output = judge(&traces, &captions, &server, &out, &["--concurrency", "3"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message
            .contains("judged 5, failed 4, skipped (already done) 0; response_format: json_schema"),
        "{message}"
    );

    let (lines, skipped) = last_lines(&out);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(
        lines.len(),
        CASES.len(),
        "one line per finished trace, none for the failed item"
    );
    let source = format!("judge:{MODEL}");
    for case in ["good", "good-no-events", "fenced", "malformed", "slow"] {
        let line = &lines[case];
        let labels = line
            .labels
            .as_ref()
            .unwrap_or_else(|| panic!("{case}: {:?}", line.error));
        assert_eq!(labels.steps.len(), 2, "{case}");
        assert_eq!(
            (labels.steps[0].step, labels.steps[0].event.as_str()),
            (1, "rising chirp")
        );
        assert_eq!(labels.steps[0].label, CafeLabel::Matched);
        assert_eq!(labels.steps[1].label, CafeLabel::Neutral);
        assert!(
            labels.steps.iter().all(|s| s.source == source.as_str()),
            "{case}"
        );
        assert_eq!(labels.missed.len(), 1);
        assert_eq!(
            (
                labels.missed[0].event.as_str(),
                labels.missed[0].source.to_string()
            ),
            ("noise burst", source.clone())
        );
        assert_eq!(line.judge.model, MODEL);
        assert_eq!(
            line.judge.endpoint,
            format!("{}/v1/chat/completions", server.url)
        );
        assert_eq!(line.judge.response_format, Some(ResponseFormat::JsonSchema));
        assert_eq!(line.judge.prompt_sha256.len(), 64);
    }
    assert_eq!(lines["good"].labels.as_ref().unwrap().targets, Some(2));
    assert_eq!(
        lines["good-no-events"].labels.as_ref().unwrap().targets,
        None
    );
    assert_eq!(lines["good"].judge.attempts, 1);
    assert_eq!(lines["malformed"].judge.attempts, 2);
    assert_eq!(lines["slow"].judge.attempts, 2);
    assert!(
        lines["slow"].judge.seconds >= 1.0,
        "{:?}",
        lines["slow"].judge
    );

    let error = |case: &str| {
        lines[case]
            .error
            .clone()
            .unwrap_or_else(|| panic!("{case} should fail"))
    };
    let steps_of_schema_trace = example_traces()
        [CASES.iter().position(|c| *c == "schema").unwrap() % 4]
        .steps
        .len();
    assert!(
        error("http500").starts_with("HTTP 500: {\"error\": \"internal error: model crashed\"}"),
        "{}",
        error("http500")
    );
    assert!(
        error("http500").ends_with("(2 attempts)"),
        "{}",
        error("http500")
    );
    assert!(
        error("schema").contains(&format!(
            "schema: step 99 out of range (the trace has {steps_of_schema_trace} steps)"
        )),
        "{}",
        error("schema")
    );
    assert!(
        error("refusal").starts_with("refused: I can't help with that."),
        "{}",
        error("refusal")
    );
    assert!(
        error("uncaptioned").contains("no caption for this id in"),
        "{}",
        error("uncaptioned")
    );
    assert_eq!(lines["uncaptioned"].judge.attempts, 0);
    let counts = requests_per_case(&server);
    assert_eq!(counts.get("uncaptioned"), None);
    assert_eq!(
        (
            counts["good"],
            counts["http500"],
            counts["schema"],
            counts["refusal"]
        ),
        (1, 2, 2, 2)
    );
    drop(server);

    // A run killed while writing leaves a cut-off last line; the rerun must keep every byte.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&out)
        .and_then(|mut file| std::io::Write::write_all(&mut file, b"{\"id\": \"good\", \"lab"))
        .unwrap();
    let before = std::fs::read(&out).unwrap();

    let all_captioned = write_captions(dir.path(), "captions-all.jsonl", &CASES, &[]);
    let server = OpenAiServer::start(|_| Reply::content(&good_answer()));
    let output = judge(&traces, &all_captioned, &server, &out, &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message.contains("judged 4, failed 0, skipped (already done) 5"),
        "{message}"
    );
    let mut asked: Vec<String> = server.requests().iter().map(case_of).collect();
    asked.sort();
    assert_eq!(asked, ["http500", "refusal", "schema", "uncaptioned"]);

    let after = std::fs::read(&out).unwrap();
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "earlier lines are never rewritten"
    );
    assert_eq!(
        after[before.len()],
        b'\n',
        "the cut-off line is closed before appending"
    );
    let (lines, skipped) = last_lines(&out);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].contains(&format!("labels.jsonl:{}:", CASES.len() + 1)),
        "{skipped:?}"
    );
    for case in CASES {
        assert!(lines[case].succeeded(), "{case}: {:?}", lines[case].error);
    }

    // Everything labelled: a third run asks nothing.
    let output = judge(&traces, &all_captioned, &server, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing to do (9 traces already have labels)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.requests().len(), 4);
}

/// llama-cpp-python's answer to `"type": "json_schema"`.
const JSON_SCHEMA_REJECTED: &str = r#"{"error": {"message": "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]", "type": "internal_server_error"}}"#;

#[test]
fn a_server_that_rejects_json_schema_gets_json_object_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["one", "two", "three"];
    let traces = write_traces(dir.path(), &ids);
    let captions = write_captions(dir.path(), "captions.jsonl", &ids, &[]);
    let out = dir.path().join("labels.jsonl");
    let server = OpenAiServer::start(|request| match request.response_format() {
        Some("json_schema") => Reply::status(500, JSON_SCHEMA_REJECTED),
        _ => Reply::content(&good_answer()),
    });
    let output = judge(
        &traces,
        &captions,
        &server,
        &out,
        &["--concurrency", "1", "--seed", "7", "--max-tokens", "300"],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message.contains("judged 3, failed 0") && message.contains("response_format: json_object"),
        "{message}"
    );

    let requests = server.requests();
    let formats: Vec<Option<&str>> = requests.iter().map(Request::response_format).collect();
    assert_eq!(
        formats,
        [
            Some("json_schema"),
            Some("json_object"),
            Some("json_object"),
            Some("json_object")
        ]
    );
    let request = &requests[1];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.body["model"], MODEL);
    assert_eq!(request.body["temperature"], 0);
    assert_eq!(request.body["seed"], 7);
    assert_eq!(request.body["max_tokens"], 300);
    assert_eq!(request.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        request.body["response_format"]["schema"]["required"],
        json!(["claims", "missed"])
    );
    assert_eq!(request.authorization, None);

    let (lines, _) = read_judge_lines(&out).unwrap();
    assert!(lines
        .iter()
        .all(|l| l.judge.response_format == Some(ResponseFormat::JsonObject)));
    let attempts: Vec<u32> = lines.iter().map(|l| l.judge.attempts).collect();
    assert_eq!(
        attempts,
        [2, 1, 1],
        "only the first trace pays for finding the rung"
    );
}

#[test]
fn a_server_that_takes_no_response_format_gets_none_and_json_is_extracted_from_prose() {
    let dir = tempfile::tempdir().unwrap();
    let traces = write_traces(dir.path(), &["only"]);
    let captions = write_captions(dir.path(), "captions.jsonl", &["only"], &[]);
    let out = dir.path().join("labels.jsonl");
    let server = OpenAiServer::start(|request| match request.response_format() {
        Some(_) => Reply::status(400, r#"{"error": "response_format is not supported"}"#),
        None => Reply::content(&format!("Sure. {} Hope this helps.", good_answer())),
    });
    let output = judge(&traces, &captions, &server, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = server.requests();
    let formats: Vec<Option<&str>> = requests.iter().map(Request::response_format).collect();
    assert_eq!(formats, [Some("json_schema"), Some("json_object"), None]);
    let (lines, _) = read_judge_lines(&out).unwrap();
    assert_eq!(lines[0].judge.response_format, Some(ResponseFormat::None));
    assert_eq!(lines[0].labels.as_ref().unwrap().steps.len(), 2);
}

#[test]
fn an_api_key_is_sent_from_the_named_variable_and_a_single_json_trace_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = example_traces().remove(0);
    trace.id = "single".into();
    let trace_path = dir.path().join("single.json");
    std::fs::write(&trace_path, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    let captions = write_captions(dir.path(), "captions.jsonl", &["single"], &["single"]);
    let out = dir.path().join("labels.jsonl");
    let server = OpenAiServer::start(|_| Reply::content(&good_answer()));
    let run = |variable_value: Option<&str>| {
        let mut command = command_without_proxy(
            &judge_command(&trace_path, &captions, &format!("{}/v1", server.url), &out)
                .option("--api-key-env", "AUSCULT_TEST_JUDGE_KEY"),
        );
        command.env_remove("AUSCULT_TEST_JUDGE_KEY");
        if let Some(value) = variable_value {
            command.env("AUSCULT_TEST_JUDGE_KEY", value);
        }
        command.output().unwrap()
    };

    let output = run(None);
    expect_one_line_error(
        &output,
        &["--api-key-env AUSCULT_TEST_JUDGE_KEY", "not set"],
    );
    let output = run(Some(""));
    expect_one_line_error(&output, &["AUSCULT_TEST_JUDGE_KEY", "empty"]);
    assert!(
        server.requests().is_empty(),
        "no request before the key is known"
    );
    assert!(!out.exists());

    let output = run(Some("sekret"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].authorization.as_deref(), Some("Bearer sekret"));
    let (lines, _) = read_judge_lines(&out).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].id, "single");
    assert_eq!(lines[0].labels.as_ref().unwrap().targets, Some(2));
}

#[test]
fn an_unreachable_endpoint_records_failures_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["a", "b"];
    let traces = write_traces(dir.path(), &ids);
    let captions = write_captions(dir.path(), "captions.jsonl", &ids, &[]);
    let out = dir.path().join("labels.jsonl");
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{closed_port}");
    let output =
        without_proxy(&judge_command(&traces, &captions, &endpoint, &out).option("--retries", "0"));
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    assert!(message.contains("judged 0, failed 2"), "{message}");
    let last = message.lines().last().unwrap();
    assert!(
        last.starts_with("error: ") && last.contains("no trace got labels"),
        "{message}"
    );
    let (lines, _) = read_judge_lines(&out).unwrap();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let error = line.error.as_deref().unwrap();
        assert!(
            error.contains("connection failed") && error.ends_with("(1 attempt)"),
            "{error}"
        );
    }
}

#[test]
fn bad_inputs_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let traces = write_traces(dir.path(), &["a"]);
    let good_captions = write_captions(dir.path(), "captions.jsonl", &["a"], &[]);
    let bad_captions = dir.path().join("bad-captions.jsonl");
    std::fs::write(
        &bad_captions,
        "{\"id\": \"a\", \"caption\": \"x\"}\n{\"id\": \"b\", \"events\": []}\n",
    )
    .unwrap();
    let broken_prompt = dir.path().join("broken-prompt.md");
    std::fs::write(
        &broken_prompt,
        "Steps: {% for step in steps %}{{ step.text }}",
    )
    .unwrap();
    let out = dir.path().join("labels.jsonl");
    let server = OpenAiServer::start(|_| Reply::content(&good_answer()));

    let output = judge(&traces, &bad_captions, &server, &out, &[]);
    expect_one_line_error(&output, &["bad-captions.jsonl:2", "caption"]);
    let output = judge(
        &traces,
        &good_captions,
        &server,
        &out,
        &["--prompt", broken_prompt.to_str().unwrap()],
    );
    expect_one_line_error(&output, &["broken-prompt.md", "prompt template"]);
    let missing = dir.path().join("nowhere.jsonl");
    let output = judge(&missing, &good_captions, &server, &out, &[]);
    expect_one_line_error(&output, &["nowhere.jsonl", "cannot read"]);
    let output = without_proxy(&judge_command(
        &traces,
        &good_captions,
        "localhost:8080",
        &out,
    ));
    expect_one_line_error(&output, &["--endpoint", "http://"]);
    assert!(server.requests().is_empty());
    assert!(!out.exists());
}

#[test]
fn print_prompt_prints_the_default_template_and_needs_nothing_else() {
    let output = without_proxy(&CommandLine::new("judge").arg("--print-prompt"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shipped = std::fs::read_to_string(repo_path("prompts/judge.md")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), shipped);
    for variable in [
        "{{ caption }}",
        "{{ question }}",
        "{{ schema }}",
        "steps",
        "events",
        "choices",
    ] {
        assert!(shipped.contains(variable), "{variable}");
    }
}

/// A refused key fails every request alike: the run stops after the first answer instead of
/// sending one request per trace, and a rerun resumes; a model or prompt other than the one that
/// labelled the file is pointed out; `--out` must not be an annotator's journal.
#[test]
fn a_refused_key_stops_the_run_and_other_label_files_are_not_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["a", "b", "c", "d", "e"];
    let traces = write_traces(dir.path(), &ids);
    let captions = write_captions(dir.path(), "captions.jsonl", &ids, &[]);
    let out = dir.path().join("labels.jsonl");
    let server = OpenAiServer::start(|_| Reply::status(401, r#"{"error": "invalid api key"}"#));
    let output = judge(&traces, &captions, &server, &out, &["--concurrency", "1"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let last = message.lines().last().unwrap();
    for fragment in [
        "error: ",
        "HTTP 401",
        "stopped",
        "4 traces not tried",
        "resumes",
    ] {
        assert!(last.contains(fragment), "{fragment:?} in {message}");
    }
    assert_eq!(server.requests().len(), 1, "one request, not one per trace");

    let server = OpenAiServer::start(|_| Reply::content(&good_answer()));
    let output = judge(&traces, &captions, &server, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.requests().len(), 5);
    let prompt = dir.path().join("prompt.md");
    let default = std::fs::read_to_string(repo_path("prompts/judge.md")).unwrap();
    std::fs::write(&prompt, default + "\nBe brief.\n").unwrap();
    let output = judge(
        &traces,
        &captions,
        &server,
        &out,
        &["--prompt", prompt.to_str().unwrap()],
    );
    assert!(
        stderr(&output).contains("5 traces were labelled by another model or prompt"),
        "{}",
        stderr(&output)
    );

    let journal = dir.path().join("traces.ann.labels.jsonl");
    let entry = r#"{"seq":1,"time":"t","annotator":"ann","trace":"a","op":"label","step":0,"event":"x","label":"matched"}"#;
    std::fs::write(&journal, format!("{entry}\n")).unwrap();
    let output = judge(&traces, &captions, &server, &journal, &[]);
    expect_one_line_error(
        &output,
        &["traces.ann.labels.jsonl", "journal, not a judge's output"],
    );
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap(),
        format!("{entry}\n")
    );
}
