//! What the judge is given: an API key from a named variable, a single JSON trace, an endpoint
//! that cannot be reached, bad inputs (one-line errors naming the file), `--print-prompt`, and a
//! refused key that stops the run without touching other label files.

use super::*;

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
