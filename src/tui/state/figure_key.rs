//! `W`: the view as a figure. The state checks that there is something a figure can draw (an
//! example with attention, under an attention metric) and asks the caller to write it; the
//! caller says where it went.

use super::{Effect, Inspector, StepMetric};

impl Inspector {
    /// Asks for the current view (both sides in a comparison) to be written as a figure, or
    /// says why it cannot be.
    pub(super) fn write_figure(&mut self) -> Effect {
        let Some(example) = self.example() else {
            return Effect::None;
        };
        if example.attention.is_none() {
            self.message = Some("no attention to draw: a figure needs the attention arrays".into());
            return Effect::None;
        }
        if let StepMetric::Reliance(..) = self.metric {
            self.message = Some(
                "figures draw attention metrics: m to ratio, sink-corrected or focus first".into(),
            );
            return Effect::None;
        }
        Effect::WriteFigure
    }

    /// Where the figure went, or why it was not written.
    pub fn on_figure_written(&mut self, outcome: Result<String, String>) {
        self.message = Some(match outcome {
            Ok(path) => format!("figure written to {path}"),
            Err(reason) => format!("no figure: {reason}"),
        });
    }
}
