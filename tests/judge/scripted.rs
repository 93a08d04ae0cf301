//! The scripted run: good answers, answers that need a retry, answers that never work, a trace
//! without caption, and a rerun that retries only the failures.

use super::*;

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
