//! Inspector state and its one update function: state in, action in, state out. Rendering reads
//! this state and never changes it.

use serde::{Deserialize, Serialize};

use crate::model::AttentionRows;
use crate::trace::metrics::{AttentionView, Heads, Metric, Selection};
use crate::trace::Trace;

/// Everything the user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NextStep,
    PreviousStep,
    FirstStep,
    LastStep,
    NextExample,
    PreviousExample,
    /// All layers → layer 0 → layer 1 → … → all layers.
    NextLayer,
    PreviousLayer,
    /// Mean over heads → max → head 0 → head 1 → … → mean.
    NextHeads,
    /// Ratio → sink-corrected → focus → ratio.
    NextMetric,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    TogglePlay,
    /// Play the part of the clip the selected step attended to most.
    PlayStepWindow,
    ToggleHelp,
    Quit,
}

/// What the caller must do after an update (the state itself never touches the sound device).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    TogglePlayback,
    /// Play this range of the clip, in seconds.
    PlayRange(f64, f64),
}

/// One trace and its attention, as the inspector holds it.
pub struct Example {
    pub trace: Trace,
    pub attention: Option<AttentionRows>,
}

pub struct Inspector {
    pub examples: Vec<Example>,
    pub current: usize,
    pub step: usize,
    pub layer: Option<usize>,
    pub heads: Heads,
    pub metric: Metric,
    /// Visible part of the clip, as fractions of its length.
    pub view: (f64, f64),
    pub help: bool,
    pub quit: bool,
    /// A one-line message for the status bar (why an action did nothing, say).
    pub message: Option<String>,
}

/// Smallest visible fraction of the clip when zooming in.
const MIN_VIEW: f64 = 1.0 / 64.0;

impl Inspector {
    pub fn new(examples: Vec<Example>) -> Self {
        Self {
            examples,
            current: 0,
            step: 0,
            layer: None,
            heads: Heads::Mean,
            metric: Metric::Ratio,
            view: (0.0, 1.0),
            help: false,
            quit: false,
            message: None,
        }
    }

    pub fn example(&self) -> Option<&Example> {
        self.examples.get(self.current)
    }

    /// The layer and head selection in force.
    pub fn selection(&self) -> Selection {
        Selection {
            layers: self.layer.into_iter().collect(),
            heads: self.heads,
        }
    }

    fn dims(&self) -> (usize, usize, usize, bool) {
        self.example()
            .and_then(|e| e.attention.as_ref())
            .map_or((0, 0, 0, false), |a| {
                (a.layers, a.heads, a.audio_tokens, a.head_maps.is_some())
            })
    }

    fn steps(&self) -> usize {
        self.example().map_or(0, |e| e.trace.steps.len())
    }

    /// Applies `action`; returns what the caller must do outside the state.
    pub fn update(&mut self, action: Action) -> Effect {
        self.message = None;
        let last_step = self.steps().saturating_sub(1);
        let (layers, heads, _, head_maps) = self.dims();
        match action {
            Action::NextStep => self.step = (self.step + 1).min(last_step),
            Action::PreviousStep => self.step = self.step.saturating_sub(1),
            Action::FirstStep => self.step = 0,
            Action::LastStep => self.step = last_step,
            Action::NextExample | Action::PreviousExample => {
                let n = self.examples.len();
                if n > 0 {
                    self.current = if action == Action::NextExample {
                        (self.current + 1) % n
                    } else {
                        (self.current + n - 1) % n
                    };
                    self.step = 0;
                    self.view = (0.0, 1.0);
                }
            }
            Action::NextLayer => {
                self.layer = match self.layer {
                    None if layers > 0 => Some(0),
                    Some(l) if l + 1 < layers => Some(l + 1),
                    _ => None,
                }
            }
            Action::PreviousLayer => {
                self.layer = match self.layer {
                    None if layers > 0 => Some(layers - 1),
                    Some(0) | None => None,
                    Some(l) => Some(l - 1),
                }
            }
            Action::NextHeads => {
                self.heads = match self.heads {
                    Heads::Mean => Heads::Max,
                    Heads::Max if heads > 0 => Heads::One(0),
                    Heads::One(h) if h + 1 < heads => Heads::One(h + 1),
                    _ => Heads::Mean,
                };
                if self.heads != Heads::Mean && !head_maps {
                    self.message = Some(
                        "this trace has no per-head maps: the heatmap stays the head mean".into(),
                    );
                }
            }
            Action::NextMetric => {
                self.metric = match self.metric {
                    Metric::Ratio => Metric::SinkCorrected,
                    Metric::SinkCorrected => Metric::Focus,
                    Metric::Focus => Metric::Ratio,
                }
            }
            Action::ZoomIn | Action::ZoomOut => {
                let (start, end) = self.view;
                let centre = (start + end) / 2.0;
                let width = if action == Action::ZoomIn {
                    ((end - start) / 2.0).max(MIN_VIEW)
                } else {
                    ((end - start) * 2.0).min(1.0)
                };
                let start = (centre - width / 2.0).clamp(0.0, 1.0 - width);
                self.view = (start, start + width);
            }
            Action::PanLeft | Action::PanRight => {
                let (start, end) = self.view;
                let width = end - start;
                let shift = if action == Action::PanLeft {
                    -width / 4.0
                } else {
                    width / 4.0
                };
                let start = (start + shift).clamp(0.0, 1.0 - width);
                self.view = (start, start + width);
            }
            Action::TogglePlay => return Effect::TogglePlayback,
            Action::PlayStepWindow => match self.step_window() {
                Some((from, to)) => return Effect::PlayRange(from, to),
                None => self.message = Some("no attention captured for this step".into()),
            },
            Action::ToggleHelp => self.help = !self.help,
            Action::Quit => self.quit = true,
        }
        Effect::None
    }

    /// The part of the clip the selected step attended to most, in seconds: the run of audio
    /// tokens around the step map's peak that stay above half of it.
    pub fn step_window(&self) -> Option<(f64, f64)> {
        let example = self.example()?;
        let rows = example.attention.as_ref()?;
        let step = example.trace.steps.get(self.step)?;
        let view = AttentionView::new(rows, example.trace.input.ids.len());
        let selection = Selection {
            heads: if rows.head_maps.is_some() {
                self.heads
            } else {
                Heads::Mean
            },
            ..self.selection()
        };
        let map = view.span_map(step.tokens, &selection).ok()?;
        let (peak, &top) = map.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        if top <= 0.0 {
            return None;
        }
        let above = |j: &usize| map[*j] >= top / 2.0;
        let first = (0..=peak)
            .rev()
            .take_while(|j| above(j))
            .last()
            .unwrap_or(peak);
        let last = (peak..map.len())
            .take_while(|j| above(j))
            .last()
            .unwrap_or(peak);
        let per_token = example.trace.audio.seconds_per_audio_token;
        let end = ((last + 1) as f64 * per_token).min(example.trace.audio.duration_seconds);
        Some((first as f64 * per_token, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::example::{example_trace, tones_spec};

    fn inspector() -> Inspector {
        let (trace, arrays) = example_trace(&tones_spec());
        let (other, other_arrays) = example_trace(&tones_spec());
        Inspector::new(vec![
            Example {
                trace,
                attention: Some(arrays.generated),
            },
            Example {
                trace: other,
                attention: Some(other_arrays.generated),
            },
        ])
    }

    #[test]
    fn steps_and_examples() {
        let mut state = inspector();
        state.update(Action::PreviousStep);
        assert_eq!(state.step, 0);
        state.update(Action::LastStep);
        assert_eq!(state.step, 11);
        state.update(Action::NextStep);
        assert_eq!(state.step, 11, "stays on the last step");
        state.update(Action::NextExample);
        assert_eq!((state.current, state.step), (1, 0));
        state.update(Action::NextExample);
        assert_eq!(state.current, 0, "wraps");
        state.update(Action::PreviousExample);
        assert_eq!(state.current, 1);
    }

    #[test]
    fn layers_heads_and_metrics_cycle() {
        let mut state = inspector();
        let layers: Vec<Option<usize>> = (0..6)
            .map(|_| {
                state.update(Action::NextLayer);
                state.layer
            })
            .collect();
        assert_eq!(
            layers,
            vec![Some(0), Some(1), Some(2), Some(3), None, Some(0)]
        );
        state.update(Action::PreviousLayer);
        assert_eq!(state.layer, None);
        state.update(Action::PreviousLayer);
        assert_eq!(state.layer, Some(3));
        assert_eq!(state.selection().layers, vec![3]);

        let heads: Vec<Heads> = (0..6)
            .map(|_| {
                state.update(Action::NextHeads);
                state.heads
            })
            .collect();
        assert_eq!(
            heads,
            vec![
                Heads::Max,
                Heads::One(0),
                Heads::One(1),
                Heads::One(2),
                Heads::One(3),
                Heads::Mean
            ]
        );
        state.update(Action::NextMetric);
        assert_eq!(state.metric, Metric::SinkCorrected);
        state.update(Action::NextMetric);
        state.update(Action::NextMetric);
        assert_eq!(state.metric, Metric::Ratio);
    }

    #[test]
    fn zoom_and_pan_stay_inside_the_clip() {
        let mut state = inspector();
        state.update(Action::ZoomIn);
        assert_eq!(state.view, (0.25, 0.75));
        state.update(Action::PanLeft);
        assert_eq!(state.view, (0.125, 0.625));
        for _ in 0..10 {
            state.update(Action::PanLeft);
        }
        assert_eq!(state.view, (0.0, 0.5));
        for _ in 0..20 {
            state.update(Action::ZoomIn);
        }
        assert!((state.view.1 - state.view.0 - MIN_VIEW).abs() < 1e-12);
        for _ in 0..20 {
            state.update(Action::ZoomOut);
        }
        assert_eq!(state.view, (0.0, 1.0));
    }

    #[test]
    fn the_step_window_is_where_the_step_looked() {
        let mut state = inspector();
        state.step = 1; // "At 0.0 s there is a steady tone": the first 0.6 s
        let Effect::PlayRange(from, to) = state.update(Action::PlayStepWindow) else {
            panic!("a range to play");
        };
        assert!(from < 0.2 && to > 0.3 && to < 1.0, "{from}..{to}");
        state.step = 5; // the sweep, 2.3–3.5 s
        let Effect::PlayRange(from, to) = state.update(Action::PlayStepWindow) else {
            panic!("a range to play");
        };
        // Later steps look less sharply, but the window is centred on the sweep.
        let centre = (from + to) / 2.0;
        assert!(centre > 2.3 && centre < 3.5 && to <= 3.5, "{from}..{to}");
        assert_eq!(state.update(Action::TogglePlay), Effect::TogglePlayback);
    }

    #[test]
    fn help_quit_and_messages() {
        let mut state = inspector();
        state.examples[0].attention.as_mut().unwrap().head_maps = None;
        state.update(Action::NextHeads);
        assert!(state
            .message
            .as_deref()
            .unwrap()
            .contains("no per-head maps"));
        state.update(Action::ToggleHelp);
        assert!(state.help && state.message.is_none());
        state.update(Action::Quit);
        assert!(state.quit);
    }
}
