//! Judging one trace: send its prompt, read the answer, retry with back-off until the answer is
//! JSON that fits the schema or the retries run out. Always ends in a [`JudgeLine`]: a success
//! line with labels or a failure line with the last reason, never a panic or a lost trace.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::answer::{extract_json, labels_from_answer};
use super::client::{ChatClient, ChatError, ChatReply, FormatLadder, ResponseFormat};
use super::{JudgeLine, JudgeRun};
use crate::trace::LabelSource;

/// A trace ready to be judged.
pub struct JudgeJob {
    pub id: String,
    pub prompt: String,
    pub step_count: usize,
    /// `N_tgt`, when the caption lists its events.
    pub targets: Option<usize>,
}

/// What every job of a run shares.
pub struct JudgeContext {
    pub client: ChatClient,
    pub ladder: FormatLadder,
    pub schema: Value,
    pub model: String,
    pub prompt_sha256: String,
    /// Tries after the first failed one.
    pub retries: u32,
    /// The first back-off; each next one doubles, up to [`MAX_BACKOFF`].
    pub retry_delay: Duration,
}

/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

impl JudgeContext {
    /// `judge:<model>`, the source of every label this run writes.
    pub fn source(&self) -> LabelSource {
        LabelSource::judge(&self.model)
    }

    /// The `judge` record of a line.
    pub fn run_record(
        &self,
        response_format: Option<ResponseFormat>,
        attempts: u32,
        started: Instant,
    ) -> JudgeRun {
        JudgeRun {
            model: self.model.clone(),
            endpoint: self.client.url().to_owned(),
            prompt_sha256: self.prompt_sha256.clone(),
            response_format,
            attempts,
            seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.retry_delay.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// Judges one trace.
pub fn judge_trace(job: &JudgeJob, context: &JudgeContext) -> JudgeLine {
    let started = Instant::now();
    let mut attempts = 0u32;
    let mut failures = 0u32;
    let outcome = loop {
        let format = context.ladder.current();
        attempts += 1;
        let reason = match context
            .client
            .complete(&job.prompt, format, &context.schema)
        {
            Ok(reply) => match labels_from_reply(&reply, job, context) {
                Ok(labels) => break (format, Ok(labels)),
                Err(reason) => reason,
            },
            // A rejected format is the server's answer to the request, not to the trace: step
            // down at once, without counting a failure.
            Err(ChatError::FormatRejected(_)) if context.ladder.step_down_from(format) => continue,
            Err(ChatError::FormatRejected(reason) | ChatError::Transient(reason)) => reason,
            Err(ChatError::Permanent(reason)) => break (format, Err(reason)),
        };
        failures += 1;
        if failures > context.retries {
            break (format, Err(reason));
        }
        std::thread::sleep(context.backoff(failures));
    };
    let (format, result) = outcome;
    let judge = context.run_record(Some(format), attempts, started);
    match result {
        Ok(labels) => JudgeLine {
            id: job.id.clone(),
            labels: Some(labels),
            error: None,
            judge,
        },
        Err(reason) => JudgeLine {
            id: job.id.clone(),
            labels: None,
            error: Some(format!(
                "{reason} ({attempts} attempt{})",
                if attempts == 1 { "" } else { "s" }
            )),
            judge,
        },
    }
}

/// The labels in a reply, or why there are none (`refused: …`, `invalid JSON: …`, `schema: …`).
fn labels_from_reply(
    reply: &ChatReply,
    job: &JudgeJob,
    context: &JudgeContext,
) -> Result<crate::trace::TraceLabels, String> {
    if let Some(refusal) = &reply.refusal {
        return Err(format!("refused: {refusal}"));
    }
    let content = reply.content.as_deref().unwrap_or_default();
    let cut_off = if reply.finish_reason.as_deref() == Some("length") {
        " (the answer was cut off at --max-tokens)"
    } else {
        ""
    };
    let Some(answer) = extract_json(content) else {
        let why = match serde_json::from_str::<Value>(content.trim()) {
            Err(error) if !content.trim().is_empty() => error.to_string(),
            _ => "no JSON object in the answer".to_owned(),
        };
        let excerpt: String = content.chars().take(120).collect();
        return Err(format!("invalid JSON: {why}{cut_off}: {excerpt:?}"));
    };
    labels_from_answer(answer, job.step_count, &context.source(), job.targets)
        .map_err(|reason| format!("schema: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let context = JudgeContext {
            client: ChatClient::new(
                "http://127.0.0.1:9/v1/chat/completions".into(),
                "m".into(),
                None,
                0,
                16,
                Duration::from_secs(1),
            ),
            ladder: FormatLadder::default(),
            schema: Value::Null,
            model: "m".into(),
            prompt_sha256: String::new(),
            retries: 3,
            retry_delay: Duration::from_millis(500),
        };
        let waits: Vec<f64> = (1..=6).map(|k| context.backoff(k).as_secs_f64()).collect();
        assert_eq!(waits, vec![0.5, 1.0, 2.0, 4.0, 8.0, 8.0]);
    }
}
