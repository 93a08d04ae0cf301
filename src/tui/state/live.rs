//! A live run's events applied to the state: the run's example is the state's last; tokens grow
//! its text, steps and attention rows; the selection follows the newest step unless the user
//! moved away from it.

use super::{Example, Inspector, LiveEvent, LiveStatus};
use crate::trace::{split_steps, StepRules};

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
        });
        state
    }

    /// Applies a live run's event (ignored when the state is not a live run's).
    pub fn on_live(&mut self, event: LiveEvent) {
        let Some(live) = self.live.as_mut() else {
            return;
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
                    return;
                };
                let following = self.step + 1 >= example.trace.steps.len();
                let generation = &mut example.trace.generation;
                generation.piece_offsets.push(generation.text.len());
                generation.text.push_str(&piece);
                generation.ids.push(id);
                live.pieces.push(piece);
                example.trace.steps = split_steps(&live.pieces, &live.rules);
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
                live.phase = if trace.generation.stop_reason == crate::trace::StopReason::Cancelled
                {
                    format!("cancelled after {tokens} tokens")
                } else {
                    format!(
                        "finished: {tokens} tokens, {:.1} tokens/s",
                        trace.timings.decode_tokens_per_second
                    )
                };
                live.running = false;
                if let Some(example) = self.examples.last_mut() {
                    example.trace = *trace;
                    example.attention = rows;
                    self.step = self.step.min(example.trace.steps.len().saturating_sub(1));
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
    }
}
