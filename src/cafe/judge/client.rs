//! One chat-completions request and what came back, and the `response_format` ladder.
//!
//! Servers differ in which structured-output request they accept: OpenAI and vLLM take
//! `{"type": "json_schema", "json_schema": {"name", "strict", "schema"}}`; llama-cpp-python's
//! server answers that with an HTTP 500 validation error and honours
//! `{"type": "json_object", "schema": …}`; some take neither. So requests start at the top rung
//! and step down when the server rejects the format; the rung that worked is shared by every
//! worker of the run, so only the first requests pay for finding it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How the request asks for JSON, best first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// `{"type": "json_schema", "json_schema": {"name", "strict": true, "schema"}}`.
    JsonSchema,
    /// `{"type": "json_object", "schema": …}` (llama.cpp servers constrain to the schema).
    JsonObject,
    /// No `response_format`: the prompt alone asks for JSON, which is then extracted.
    None,
}

impl ResponseFormat {
    const LADDER: [ResponseFormat; 3] = [Self::JsonSchema, Self::JsonObject, Self::None];

    /// The rung below this one.
    pub fn next(self) -> Option<Self> {
        Self::LADDER.get(self.rung() + 1).copied()
    }

    fn rung(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object",
            Self::None => "none",
        }
    }

    /// The request's `response_format` value, if this rung sends one.
    fn request_value(self, schema: &Value) -> Option<Value> {
        match self {
            Self::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": { "name": "cafe_labels", "strict": true, "schema": schema }
            })),
            Self::JsonObject => Some(json!({ "type": "json_object", "schema": schema })),
            Self::None => None,
        }
    }
}

/// The rung to start from, shared by the run's workers; it only ever moves down.
#[derive(Debug, Default)]
pub struct FormatLadder(AtomicU8);

impl FormatLadder {
    pub fn current(&self) -> ResponseFormat {
        let rung = usize::from(self.0.load(Ordering::SeqCst));
        ResponseFormat::LADDER[rung.min(ResponseFormat::LADDER.len() - 1)]
    }

    /// The server rejected `rejected`: later requests start below it. `false` at the bottom.
    pub fn step_down_from(&self, rejected: ResponseFormat) -> bool {
        match rejected.next() {
            Some(below) => {
                self.0.fetch_max(below as u8, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// The chat-completions URL for `--endpoint`: a URL ending in `/chat/completions` is used as
/// is, one ending in `/v1` gets `/chat/completions`, anything else `/v1/chat/completions`.
pub fn chat_completions_url(endpoint: &str) -> Result<String, String> {
    let base = endpoint.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "--endpoint {endpoint:?}: expected an http:// or https:// URL, such as http://127.0.0.1:8080"
        ));
    }
    Ok(if base.ends_with("/chat/completions") {
        base.to_owned()
    } else if base.ends_with("/v1") {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    })
}

/// The parts of a chat completion the judge reads.
#[derive(Debug, Default)]
pub struct ChatReply {
    pub content: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
}

/// Why a request gave no reply.
#[derive(Debug, PartialEq)]
pub enum ChatError {
    /// The server refused the `response_format`: try the next rung.
    FormatRejected(String),
    /// Worth trying again: a timeout, a dropped connection, HTTP 429 or 5xx, a garbled reply.
    Transient(String),
    /// Trying again will not help (HTTP 401, 404, …).
    Permanent(String),
}

/// Sends chat completions to one endpoint with one model.
pub struct ChatClient {
    agent: ureq::Agent,
    url: String,
    model: String,
    api_key: Option<String>,
    seed: u64,
    max_tokens: u32,
    timeout: Duration,
}

/// How much of an error body goes into a failure line.
const BODY_EXCERPT_CHARS: usize = 200;

impl ChatClient {
    pub fn new(
        url: String,
        model: String,
        api_key: Option<String>,
        seed: u64,
        max_tokens: u32,
        timeout: Duration,
    ) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            url,
            model,
            api_key,
            seed,
            max_tokens,
            timeout,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One request: `prompt` as the only user message, asking for JSON in `format`.
    pub fn complete(
        &self,
        prompt: &str,
        format: ResponseFormat,
        schema: &Value,
    ) -> Result<ChatReply, ChatError> {
        let mut body = json!({
            "model": self.model,
            "messages": [{ "role": "user", "content": prompt }],
            "temperature": 0,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        });
        if let Some(value) = format.request_value(schema) {
            body["response_format"] = value;
        }
        let mut request = self.agent.post(&self.url);
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request
            .send_json(&body)
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.transport_error(e))?;
        if !(200..300).contains(&status) {
            return Err(classify_status(status, &text, format));
        }
        parse_reply(&text).map_err(ChatError::Transient)
    }

    fn transport_error(&self, error: ureq::Error) -> ChatError {
        match error {
            ureq::Error::Timeout(_) => {
                ChatError::Transient(format!("timed out after {} s", self.timeout.as_secs_f64()))
            }
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                ChatError::Permanent(format!("bad request to {}: {error}", self.url))
            }
            other => ChatError::Transient(format!("connection failed ({}): {other}", self.url)),
        }
    }
}

/// An HTTP error status, sorted into "step down the ladder", "retry" and "give up".
fn classify_status(status: u16, body: &str, format: ResponseFormat) -> ChatError {
    let excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
    let message = format!("HTTP {status}: {}", excerpt.replace('\n', " ").trim());
    let lower = body.to_lowercase();
    let about_format = ["response_format", "json_schema", "json_object"]
        .iter()
        .any(|word| lower.contains(word));
    if format != ResponseFormat::None && matches!(status, 400 | 422 | 500) && about_format {
        ChatError::FormatRejected(message)
    } else if status == 408 || status == 429 || status >= 500 {
        ChatError::Transient(message)
    } else {
        ChatError::Permanent(message)
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// `choices[0].message` of a chat completion.
fn parse_reply(body: &str) -> Result<ChatReply, String> {
    let completion: Completion = serde_json::from_str(body).map_err(|e| {
        let excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
        format!(
            "not a chat completion ({e}): {}",
            excerpt.replace('\n', " ")
        )
    })?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or("a chat completion with no choices")?;
    Ok(ChatReply {
        content: choice.message.content,
        refusal: choice.message.refusal.filter(|r| !r.trim().is_empty()),
        finish_reason: choice.finish_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_become_chat_completions_urls() {
        let cases = [
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
            (
                "http://127.0.0.1:8080/",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
            (
                "https://api.example.com/v1",
                "https://api.example.com/v1/chat/completions",
            ),
            (
                "https://api.example.com/v1/",
                "https://api.example.com/v1/chat/completions",
            ),
            (
                "http://h/openai/v1/chat/completions",
                "http://h/openai/v1/chat/completions",
            ),
            ("http://h/proxy", "http://h/proxy/v1/chat/completions"),
        ];
        for (endpoint, url) in cases {
            assert_eq!(
                chat_completions_url(endpoint).as_deref(),
                Ok(url),
                "{endpoint}"
            );
        }
        assert!(chat_completions_url("127.0.0.1:8080").is_err());
    }

    #[test]
    fn the_ladder_only_moves_down_and_stops_at_none() {
        let ladder = FormatLadder::default();
        assert_eq!(ladder.current(), ResponseFormat::JsonSchema);
        assert!(ladder.step_down_from(ResponseFormat::JsonSchema));
        assert_eq!(ladder.current(), ResponseFormat::JsonObject);
        // A late rejection of the top rung from another worker does not move it back up.
        assert!(ladder.step_down_from(ResponseFormat::JsonSchema));
        assert_eq!(ladder.current(), ResponseFormat::JsonObject);
        assert!(ladder.step_down_from(ResponseFormat::JsonObject));
        assert_eq!(ladder.current(), ResponseFormat::None);
        assert!(!ladder.step_down_from(ResponseFormat::None));
        assert_eq!(ladder.current(), ResponseFormat::None);
    }

    #[test]
    fn statuses_are_sorted_into_step_down_retry_and_give_up() {
        let llama_cpp = r#"{"error": {"message": "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "Input should be 'text' or 'json_object'"}]"}}"#;
        assert!(matches!(
            classify_status(500, llama_cpp, ResponseFormat::JsonSchema),
            ChatError::FormatRejected(m) if m.starts_with("HTTP 500: ")
        ));
        assert!(matches!(
            classify_status(500, llama_cpp, ResponseFormat::None),
            ChatError::Transient(_)
        ));
        assert!(matches!(
            classify_status(500, "out of memory", ResponseFormat::JsonSchema),
            ChatError::Transient(_)
        ));
        assert!(matches!(
            classify_status(429, "slow down", ResponseFormat::JsonObject),
            ChatError::Transient(_)
        ));
        assert!(matches!(
            classify_status(401, "bad key", ResponseFormat::JsonObject),
            ChatError::Permanent(m) if m == "HTTP 401: bad key"
        ));
        let long = "x".repeat(1000);
        match classify_status(503, &long, ResponseFormat::JsonSchema) {
            ChatError::Transient(m) => assert_eq!(m.len(), "HTTP 503: ".len() + 200),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replies_are_read_from_the_first_choice() {
        let reply = parse_reply(
            r#"{"choices": [{"message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}]}"#,
        )
        .unwrap();
        assert_eq!(reply.content.as_deref(), Some("{}"));
        assert_eq!(reply.refusal, None);
        let refused =
            parse_reply(r#"{"choices": [{"message": {"content": null, "refusal": "I can't"}}]}"#)
                .unwrap();
        assert_eq!(refused.refusal.as_deref(), Some("I can't"));
        assert!(parse_reply(r#"{"choices": []}"#).is_err());
        assert!(parse_reply("<html>gateway</html>").is_err());
    }
}
