//! `auscult judge`: CAFE labels for a traces file from an LLM judge behind an OpenAI-compatible
//! chat-completions endpoint (the work is in `cafe::judge`; this file checks the arguments,
//! prints the summary and decides the exit status).
//!
//! Exit status: 0 when at least one trace got labels or nothing was left to do, even if other
//! traces failed (their failure lines are in the output and the summary lists them); 1 when
//! traces were tried and not one got labels (an unreachable endpoint, a wrong model name, a
//! broken prompt), so scripts notice.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cafe::judge::{
    chat_completions_url, run_judge, JudgeSettings, JudgeSummary, DEFAULT_PROMPT,
};

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Traces to label: a traces file from `batch` (JSON Lines) or one trace (`.json`).
    #[arg(value_name = "TRACES", required_unless_present = "print_prompt")]
    pub traces: Option<PathBuf>,
    /// Ground truth, JSON Lines: {"id": …, "caption": "…", "events": ["…", …]} per clip
    /// (`events` optional; their number is the trace's N_tgt). `id` matches the trace's id.
    #[arg(long, value_name = "FILE", required_unless_present = "print_prompt")]
    pub captions: Option<PathBuf>,
    /// The server: a base URL (`http://127.0.0.1:8080`), one ending in `/v1`, or the full
    /// `…/chat/completions` URL.
    #[arg(long, value_name = "URL", required_unless_present = "print_prompt")]
    pub endpoint: Option<String>,
    /// The model name sent to the server; labels get the source `judge:<model>`.
    #[arg(long, value_name = "NAME", required_unless_present = "print_prompt")]
    pub model: Option<String>,
    /// Send `Authorization: Bearer $VAR`, reading the key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Where to append labels (JSON Lines, one line per trace). Rerunning with the same file
    /// resumes: traces with labels are skipped, failed ones are tried again.
    #[arg(
        long,
        value_name = "LABELS.jsonl",
        required_unless_present = "print_prompt"
    )]
    pub out: Option<PathBuf>,
    /// A prompt template (minijinja) replacing the default; see --print-prompt.
    #[arg(long, value_name = "FILE")]
    pub prompt: Option<PathBuf>,
    /// Print the default prompt template and exit, to copy and change it.
    #[arg(long)]
    pub print_prompt: bool,
    /// Seconds one request may take, answer included.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, value_parser = positive_seconds)]
    pub timeout: f64,
    /// Tries after a failed one (timeouts, connection errors, HTTP 429/5xx, answers that are
    /// not JSON, break the schema or refuse).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// The first wait before a retry, in milliseconds; each next wait doubles, up to 8 s.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub retry_delay_ms: u64,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// The `seed` sent with every request (temperature is always 0).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// The `max_tokens` of every request.
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub max_tokens: u32,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds.is_finite() => Ok(seconds),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

pub fn run(args: JudgeArgs) -> Result<()> {
    if args.print_prompt {
        print!("{DEFAULT_PROMPT}");
        return Ok(());
    }
    let settings = settings(args)?;
    let summary = run_judge(&settings)?;
    print_summary(&settings, &summary);
    if summary.judged == 0 && !summary.failed.is_empty() {
        bail!(
            "{}: no trace got labels ({} failed; see the reasons above)",
            settings.out.display(),
            summary.failed.len()
        );
    }
    Ok(())
}

fn settings(args: JudgeArgs) -> Result<JudgeSettings> {
    let required = |name: &str| format!("{name} is required (or --print-prompt)");
    let endpoint = args.endpoint.with_context(|| required("--endpoint"))?;
    let api_key = match &args.api_key_env {
        None => None,
        Some(variable) => match std::env::var(variable) {
            Ok(key) if !key.trim().is_empty() => Some(key.trim().to_owned()),
            Ok(_) => bail!("--api-key-env {variable}: the environment variable is empty"),
            Err(_) => bail!("--api-key-env {variable}: the environment variable is not set"),
        },
    };
    Ok(JudgeSettings {
        traces: args.traces.with_context(|| required("TRACES"))?,
        captions: args.captions.with_context(|| required("--captions"))?,
        url: chat_completions_url(&endpoint).map_err(anyhow::Error::msg)?,
        model: args.model.with_context(|| required("--model"))?,
        api_key,
        out: args.out.with_context(|| required("--out"))?,
        prompt: args.prompt,
        timeout: Duration::from_secs_f64(args.timeout),
        retries: args.retries,
        retry_delay: Duration::from_millis(args.retry_delay_ms),
        concurrency: args.concurrency as usize,
        seed: args.seed,
        max_tokens: args.max_tokens,
    })
}

/// How many failure reasons the summary shows.
const REASONS_SHOWN: usize = 5;

fn print_summary(settings: &JudgeSettings, summary: &JudgeSummary) {
    if summary.judged == 0 && summary.failed.is_empty() {
        eprintln!(
            "{}: nothing to do ({} traces already have labels)",
            settings.out.display(),
            summary.skipped
        );
        return;
    }
    let format = summary
        .response_format
        .map_or("no request succeeded", |format| format.name());
    eprintln!(
        "{}: judged {}, failed {}, skipped (already done) {}; response_format: {format}",
        settings.out.display(),
        summary.judged,
        summary.failed.len(),
        summary.skipped
    );
    for (id, reason) in summary.failed.iter().take(REASONS_SHOWN) {
        eprintln!("  failed {id}: {reason}");
    }
    if summary.failed.len() > REASONS_SHOWN {
        eprintln!(
            "  … and {} more (their lines in the output say why)",
            summary.failed.len() - REASONS_SHOWN
        );
    }
}
