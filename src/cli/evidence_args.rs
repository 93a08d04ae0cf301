//! Causal-evidence settings shared by `run`, `batch` and `reliance`: which counterfactuals,
//! occlusion windows, the answer without the audio, and the interventions.

use clap::Args;

use crate::model::Counterfactual;
use crate::runner::{EvidenceOptions, OcclusionSettings};

#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceArgs {
    /// Per-token audio reliance: run the generated tokens again without the audio and store, per
    /// token, the log-probability drop, the KL divergence and the top-1 flip. Comma-separated:
    /// silence (the clip replaced by digital silence), masked (the audio hidden from the
    /// generated positions).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_counterfactual)]
    pub reliance: Vec<Counterfactual>,
    /// Occlusion: the same per-token effect of zeroing each window of this length (for example
    /// 0.5s), one pass per window.
    #[arg(long, value_name = "SECONDS", value_parser = parse_window)]
    pub occlusion_window: Option<f64>,
    /// Step between occlusion windows (default: the window's length, so they tile the clip).
    #[arg(long, value_name = "SECONDS", value_parser = parse_window, requires = "occlusion_window")]
    pub occlusion_hop: Option<f64>,
    /// Regenerate the answer without the audio (silence or masked; greedy, the same limits) and
    /// score it like the real one.
    #[arg(long, value_name = "COUNTERFACTUAL", value_parser = parse_counterfactual)]
    pub counterfactual_answer: Option<Counterfactual>,
    /// Regenerate from the start of every step with the audio hidden from there on, and record
    /// whether the answer changes. Costly: one generation per step, up to the whole token budget
    /// each.
    #[arg(long)]
    pub hide_audio_from_steps: bool,
}

impl EvidenceArgs {
    /// The options, refused where they need attention capture that `no_capture` turns off.
    pub fn options_with_capture(&self, no_capture: bool) -> anyhow::Result<EvidenceOptions> {
        let options = self.options();
        if no_capture && options.needs_sidecar() {
            anyhow::bail!(
                "--reliance and --occlusion-window store their arrays beside the attention: drop \
                 --no-capture"
            );
        }
        Ok(options)
    }

    pub fn options(&self) -> EvidenceOptions {
        EvidenceOptions {
            reliance: dedup(&self.reliance),
            occlusion: self.occlusion_window.map(|window| OcclusionSettings {
                window_seconds: window,
                hop_seconds: self.occlusion_hop.unwrap_or(window),
            }),
            counterfactual_answer: self.counterfactual_answer,
            hide_audio_from_steps: self.hide_audio_from_steps,
        }
    }
}

/// The counterfactuals in the order given, each once.
fn dedup(counterfactuals: &[Counterfactual]) -> Vec<Counterfactual> {
    let mut once = Vec::new();
    for c in counterfactuals {
        if !once.contains(c) {
            once.push(*c);
        }
    }
    once
}

fn parse_counterfactual(text: &str) -> Result<Counterfactual, String> {
    text.trim().parse().map_err(|_| {
        let names: Vec<String> = Counterfactual::ALL
            .iter()
            .map(ToString::to_string)
            .collect();
        format!(
            "{text:?} is not a counterfactual (one of: {})",
            names.join(", ")
        )
    })
}

/// Shortest occlusion window and hop: one mel frame (10 ms). Shorter ones would zero no whole
/// frame and cost a full pass each.
const SHORTEST_WINDOW: f64 = 0.01;

/// An occlusion window or hop: seconds, at least `SHORTEST_WINDOW`.
fn parse_window(text: &str) -> Result<f64, String> {
    let seconds = parse_seconds(text)?;
    if seconds + 1e-12 < SHORTEST_WINDOW {
        return Err(format!(
            "{text:?} is shorter than one mel frame (10 ms): occlusion windows are one pass each"
        ));
    }
    Ok(seconds)
}

/// Seconds: `0.5`, `0.5s` or `500ms`, positive.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = if let Some(ms) = trimmed.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = trimmed.strip_suffix('s') {
        (s, 1.0)
    } else {
        (trimmed, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value * scale),
        _ => Err(format!(
            "{text:?} is not a positive duration (for example 0.5s or 500ms)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_seconds_or_milliseconds() {
        assert_eq!(parse_seconds("0.5s"), Ok(0.5));
        assert_eq!(parse_seconds("0.25"), Ok(0.25));
        assert_eq!(parse_seconds("500ms"), Ok(0.5));
        for bad in ["0s", "-1", "fast", "", "infs"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_window("10ms"), Ok(0.01));
        assert!(parse_window("1ms").unwrap_err().contains("one mel frame"));
        assert!(parse_counterfactual("noise")
            .unwrap_err()
            .contains("silence, masked"));
        assert_eq!(
            dedup(&[
                Counterfactual::Masked,
                Counterfactual::Silence,
                Counterfactual::Masked
            ]),
            vec![Counterfactual::Masked, Counterfactual::Silence]
        );
    }
}
