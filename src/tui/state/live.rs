//! A live run's events applied to the state: the run's example is the state's last; tokens grow
//! its text, steps and attention rows; the selection follows the newest step unless the user
//! moved away from it. Once it ends, the evidence asked for on the command line is measured (by
//! the model worker, which keeps the run's checkpoint), and `s` saves it as a trace.

use super::{Effect, EvidenceJob, Example, Inspector, LiveEvent, ModelStatus};
use crate::runner::EvidenceOptions;
use crate::trace::{split_steps, StepRules, StopReason};

/// Where a live run stands.
#[derive(Debug, Clone)]
pub struct LiveStatus {
    /// "loading the model", "generating, 12 tokens", "finished: …", "cancelled …", "failed: …".
    pub phase: String,
    pub running: bool,
    /// Where the finished run was saved, once it is.
    pub saved: Option<String>,
    /// How the streamed text is cut into steps (the run's own rules).
    pub rules: StepRules,
    /// Each streamed token's text.
    pub pieces: Vec<String>,
    /// Evidence to measure once the run has finished (`inspect --model … --reliance …`).
    pub measure_after: EvidenceOptions,
}

impl LiveStatus {
    pub fn failed(&self) -> bool {
        self.phase.starts_with("failed: ")
    }
}

impl Inspector {
    /// The state of a live run that has not reported anything yet.
    pub fn for_live_run(rules: StepRules) -> Self {
        let mut state = Inspector::new(Vec::new());
        state.live = Some(LiveStatus {
            phase: "loading the model".into(),
            running: true,
            saved: None,
            rules,
            pieces: Vec::new(),
            measure_after: EvidenceOptions::default(),
        });
        // The run's checkpoint takes evidence jobs once the run is over.
        state.model = ModelStatus::Loading;
        state
    }

    /// Applies a live run's event (ignored when the state is not a live run's); returns the
    /// evidence job to hand out when a finished run has evidence to measure.
    pub fn on_live(&mut self, event: LiveEvent) -> Effect {
        let Some(live) = self.live.as_mut() else {
            return Effect::None;
        };
        match event {
            LiveEvent::Loaded { seconds } => {
                live.phase = format!("model loaded in {seconds:.1} s, encoding the clip");
            }
            LiveEvent::Prepared(trace) => {
                self.examples.push(Example::new(*trace, None));
                self.current = self.examples.len() - 1;
                self.step = 0;
                live.phase = "generating".into();
            }
            LiveEvent::Token { id, piece, row } => {
                let Some(example) = self.examples.last_mut() else {
                    return Effect::None;
                };
                let following = self.step + 1 >= example.trace.steps.len();
                let generation = &mut example.trace.generation;
                generation.piece_offsets.push(generation.text.len());
                generation.text.push_str(&piece);
                generation.ids.push(id);
                live.pieces.push(piece);
                example.trace.steps = split_steps(&live.pieces, &live.rules);
                if example.truth.is_some() {
                    example.refresh_named_events();
                }
                match (&mut example.attention, row) {
                    (Some(rows), Some(row)) => rows.append(&row),
                    (attention @ None, Some(row)) => *attention = Some(row),
                    (_, None) => {}
                }
                if following {
                    self.step = example.trace.steps.len().saturating_sub(1);
                }
                live.phase = format!("generating, {} tokens", live.pieces.len());
            }
            LiveEvent::Finished(trace, rows) => {
                let tokens = trace.generation.ids.len();
                let cancelled = trace.generation.stop_reason == StopReason::Cancelled;
                live.phase = if cancelled {
                    format!("cancelled after {tokens} tokens")
                } else {
                    format!(
                        "finished: {tokens} tokens, {:.1} tokens/s",
                        trace.timings.decode_tokens_per_second
                    )
                };
                live.running = false;
                let options = live.measure_after.clone();
                if let Some(example) = self.examples.last_mut() {
                    example.trace = *trace;
                    example.set_attention(rows);
                    example.refresh_named_events();
                    self.step = self.step.min(example.trace.steps.len().saturating_sub(1));
                    if !options.is_empty() && !cancelled {
                        let example = self.examples.len() - 1;
                        return self.start_job(EvidenceJob::Measure { example, options });
                    }
                }
            }
            LiveEvent::Stopped(reason) => {
                live.phase = reason;
                live.running = false;
            }
            LiveEvent::Failed(reason) => {
                live.phase = format!("failed: {reason}");
                live.running = false;
            }
        }
        Effect::None
    }

    /// `s`: saves a live run that ended well (the caller writes it, then calls `on_saved`).
    pub(super) fn save_run(&mut self) -> Effect {
        match &self.live {
            Some(live) if live.running => self.message = Some("the run is still going".into()),
            Some(live) if self.examples.is_empty() || live.failed() => {
                self.message = Some("the run failed: nothing to save".into())
            }
            Some(_) => return Effect::SaveRun,
            None => self.message = Some("only a live run can be saved".into()),
        }
        Effect::None
    }

    /// What became of `Effect::SaveRun`: the path written, or why not.
    pub fn on_saved(&mut self, outcome: Result<String, String>) {
        self.message = Some(match outcome {
            Ok(path) => {
                if let Some(live) = &mut self.live {
                    live.saved = Some(path.clone());
                }
                format!("saved {path}")
            }
            Err(reason) => format!("not saved: {reason}"),
        });
    }
}
