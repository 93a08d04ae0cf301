//! Helpers shared by the integration tests: fixture paths and running the binary.

#![allow(dead_code)]

pub mod openai_server;
#[cfg(unix)]
pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use auscult::tensor_dump::Dump;

/// `tests/fixtures/<relative>`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// The finished traces of a traces file (failed items left out).
pub fn finished_traces(path: &Path) -> Vec<auscult::trace::Trace> {
    auscult::trace::read_traces(path)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
        .lines
        .into_iter()
        .filter_map(|line| match line {
            auscult::trace::TraceLine::Done(trace) => Some(*trace),
            auscult::trace::TraceLine::Failed(_) => None,
        })
        .collect()
}

/// Runs the `auscult` binary with `args`.
pub fn auscult(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auscult"))
        .args(args)
        .output()
        .expect("the auscult binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Largest absolute element-wise difference of two equally long arrays.
pub fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Checks the error contract of a failed run (exit code 1, one line starting `error: `, no
/// panic, each of `fragments` in it) and returns the message.
pub fn expect_one_line_error(output: &Output, fragments: &[&str]) -> String {
    let message = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; stderr: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert_eq!(message.lines().count(), 1, "one line: {message:?}");
    assert!(message.starts_with("error: "), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment:?} in {message}");
    }
    message
}

/// A reference dump's token ids (`input_ids`, `generated_ids`), stored as I64, as ids.
pub fn token_ids(dump: &Dump, name: &str) -> Vec<u32> {
    dump.i64(name)
        .unwrap_or_else(|e| panic!("{name} in the reference: {e}"))
        .iter()
        .map(|&i| u32::try_from(i).expect("a token id"))
        .collect()
}

/// Greedy generation with capture on gives `expected` (transformers' `generate`), streamed in
/// order, one attention row per token, the first being the prompt's last row `prompt_last`.
pub fn check_greedy_generation(
    label: &str,
    checkpoint: &mut auscult::model::Checkpoint,
    embeds: &candle_core::Tensor,
    audio_span: std::ops::Range<usize>,
    expected: &[u32],
    prompt_last: &auscult::model::AttentionRows,
) {
    use auscult::model::{generate, CaptureOptions, GenerateOptions, GenerationEvent, Sampling};
    let params = GenerateOptions {
        sampling: Sampling::Greedy,
        max_new_tokens: expected.len(),
        min_new_tokens: 0,
        stop_ids: checkpoint.generation.eos_token_id.clone(),
        capture: CaptureOptions::default(),
    };
    let mut streamed = Vec::new();
    let generation = generate(
        &mut checkpoint.model,
        embeds,
        audio_span,
        &params,
        |event| {
            if let GenerationEvent::Token { id, .. } = event {
                streamed.push(id);
            }
            std::ops::ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(generation.ids, expected, "{label}: greedy ids");
    assert_eq!(streamed, expected, "{label}: streamed ids");
    let attention = generation.attention.expect("capture was on");
    assert_eq!(
        attention.rows,
        expected.len(),
        "{label}: one attention row per token"
    );
    assert_eq!(
        attention.audio_ratio[..prompt_last.audio_ratio.len()],
        prompt_last.audio_ratio[..],
        "{label}: the first token's record is the prompt's last row"
    );
}

/// One case of a parity fixture's `cases.json`: the clip, the prompt and the reference dump.
pub struct ParityCase {
    pub file: String,
    pub clip: String,
    pub prompt: String,
    /// The system turn (`None`: the template's default).
    pub system: Option<String>,
    pub rendered: String,
}

/// The cases listed in `dir/cases.json`.
pub fn parity_cases(dir: &Path) -> Vec<ParityCase> {
    let text = std::fs::read_to_string(dir.join("cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ParityCase {
            file: c["file"].as_str().unwrap().to_owned(),
            clip: c["clip"].as_str().unwrap().to_owned(),
            prompt: c["prompt"].as_str().unwrap().to_owned(),
            system: c["system_prompt"].as_str().map(str::to_owned),
            rendered: c["rendered_prompt"].as_str().unwrap().to_owned(),
        })
        .collect()
}
