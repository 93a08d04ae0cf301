//! The step × time heatmap: one row per step, its cells on the clip's time axis coloured by how
//! much the step attends to each moment, with the step's value, a bar, and its CAFE tag at the
//! left. The selected step stays in view and is marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::{kind_letter, number, step_label};
use crate::trace::metrics::AttentionView;
use crate::tui::layout::{column_time, first_visible_step, time_column, LEFT_COLUMN};
use crate::tui::palette::{shade, Palette};
use crate::tui::state::Inspector;

/// Cells of the value bar.
const BAR: usize = 6;

pub(super) fn render(
    state: &Inspector,
    palette: Palette,
    values: &[Option<f32>],
    area: Rect,
    buf: &mut Buffer,
) {
    let Some(example) = state.example() else {
        return;
    };
    let trace = &example.trace;
    let rows_visible = area.height as usize;
    let first = first_visible_step(state.step, rows_visible);
    let width = area.width.saturating_sub(LEFT_COLUMN);
    let duration = trace.audio.duration_seconds;
    let view = example
        .attention
        .as_ref()
        .map(|rows| AttentionView::new(rows, trace.input.ids.len()));
    let selection = state.map_selection();
    let steps = trace.steps.len();
    let shown = first.min(steps)..(first + rows_visible).min(steps);
    let maps: Vec<Option<Vec<f32>>> = trace.steps[shown.clone()]
        .iter()
        .map(|s| {
            view.as_ref()
                .and_then(|v| v.span_map(s.tokens, &selection).ok())
        })
        .collect();
    // One scale for every visible row, so rows compare; bars scale over all steps.
    let map_max = maps
        .iter()
        .flatten()
        .flat_map(|m| m.iter().copied())
        .fold(0f32, f32::max)
        .max(1e-9);
    let value_max = values
        .iter()
        .flatten()
        .copied()
        .fold(0f32, f32::max)
        .max(1e-9);
    let playhead = time_column(state.view, duration, width, state.playhead)
        .filter(|_| state.playing || state.playhead > 0.0);

    for (row, index) in shown.enumerate() {
        let y = area.y + row as u16;
        let step = &trace.steps[index];
        let selected = index == state.step;
        let value = values.get(index).copied().flatten();
        let bar_len = value.map_or(0, |v| ((v / value_max) * BAR as f32).round() as usize);
        let bar = format!("{:<BAR$}", "■".repeat(bar_len.min(BAR)));
        let value_text = format!(
            "{:>5}",
            value.map_or("-  ".to_owned(), |v| number::fit(v, 5, 2))
        );
        let marker = if selected { '▶' } else { ' ' };
        let left = format!(
            "{marker}{index:>3} {} {value_text} {bar}",
            kind_letter(step.kind)
        );
        let row_style = if selected {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        buf.set_string(area.x, y, &left, row_style);
        if let Some(label) = step_label(state, index) {
            buf.set_string(
                area.x + LEFT_COLUMN - 4,
                y,
                label.short(),
                palette.label_style(label),
            );
        }
        let Some(map) = maps[row].as_ref().filter(|m| !m.is_empty()) else {
            buf.set_string(
                area.x + LEFT_COLUMN,
                y,
                "(no attention captured)",
                Style::new().add_modifier(Modifier::DIM),
            );
            continue;
        };
        for column in 0..width {
            let time = column_time(state.view, duration, width, column);
            let j = ((time / trace.audio.seconds_per_audio_token) as usize).min(map.len() - 1);
            let v = map[j] / map_max;
            let cell = &mut buf[(area.x + LEFT_COLUMN + column, y)];
            match (palette.ramp(state.scale, v), palette.uses_shades()) {
                (Some(colour), false) => {
                    cell.set_char(' ').set_bg(colour);
                }
                (colour, _) => {
                    cell.set_char(shade(v));
                    if let Some(colour) = colour {
                        cell.set_fg(colour);
                    }
                }
            }
            if playhead == Some(column) {
                cell.set_char('│');
                if let Some(white) = palette.named(Color::White) {
                    cell.set_fg(white);
                }
            }
        }
    }
}
