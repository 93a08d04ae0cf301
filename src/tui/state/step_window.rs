//! The part of the clip a step attended to most, in seconds: what `p` plays and where zooming
//! centres. It is the run of audio tokens around the peak of the step's attention map that stay
//! above half of that peak, so one loud token does not stand for the whole sound.

use super::Inspector;
use crate::trace::metrics::AttentionView;

impl Inspector {
    /// The selected step's window, `(from, to)` in seconds; `None` without attention, or when
    /// the step's map is all zero.
    pub fn step_window(&self) -> Option<(f64, f64)> {
        let example = self.example()?;
        let rows = example.attention.as_ref()?;
        let step = example.trace.steps.get(self.step)?;
        let view = AttentionView::new(rows, example.trace.input.ids.len());
        let map = view.span_map(step.tokens, &self.map_selection()).ok()?;
        let (first, last) = half_peak_run(&map)?;
        let per_token = example.trace.audio.seconds_per_audio_token;
        let end = ((last + 1) as f64 * per_token).min(example.trace.audio.duration_seconds);
        Some((first as f64 * per_token, end))
    }
}

/// The first and last index of the run around `map`'s peak whose values stay at or above half
/// the peak; `None` for an empty map or a peak of zero or less.
fn half_peak_run(map: &[f32]) -> Option<(usize, usize)> {
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
    Some((first, last))
}
