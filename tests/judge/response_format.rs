//! Servers that reject a `response_format`: the client steps down the ladder (JSON schema, then
//! JSON object, then none, with the JSON found in prose).

use super::*;

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
