//! The step × time heatmap: one row per step, its cells on the clip's time axis coloured by how
//! much the step attends to each moment (attention mode) or by how much its tokens lose when that
//! moment is zeroed (evidence mode: the occlusion strips), with the step's value, a bar, and its
//! CAFE tag at the left. The selected step stays in view and is marked. In attention mode, the
//! selected step's occlusion strip can show under it, on the same time columns.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::values::occlusion_strip;
use super::{kind_letter, number, step_label};
use crate::trace::metrics::AttentionView;
use crate::tui::layout::{column_time, first_visible_step, time_column, LEFT_COLUMN};
use crate::tui::palette::{shade, Palette};
use crate::tui::state::{Example, HeatmapMode, Inspector};

/// Cells of the value bar.
const BAR: usize = 6;

pub(super) fn render(
    state: &Inspector,
    palette: Palette,
    values: &[Option<f32>],
    area: Rect,
    buf: &mut Buffer,
) {
    if let Some(rows) = prepare(state, values, area) {
        draw(state, palette, values, &rows, area, buf);
    }
}

/// The cells of the steps a heatmap shows, and what its colours and bars scale to (two
/// heatmaps compared share both scales: see `share_scales`).
pub(super) struct HeatmapRows {
    first: usize,
    rows: Vec<Result<RowCells, &'static str>>,
    /// The value at the top of the colour scale.
    cell_max: f32,
    /// The value of a full bar.
    value_max: f32,
}

/// One colour scale and one bar scale for two heatmaps: the larger of each.
pub(super) fn share_scales(a: &mut HeatmapRows, b: &mut HeatmapRows) {
    let cell_max = a.cell_max.max(b.cell_max);
    let value_max = a.value_max.max(b.value_max);
    for rows in [a, b] {
        rows.cell_max = cell_max;
        rows.value_max = value_max;
    }
}

/// The rows visible in `area` (the selected step kept in view) and their scales.
pub(super) fn prepare(
    state: &Inspector,
    values: &[Option<f32>],
    area: Rect,
) -> Option<HeatmapRows> {
    let example = state.example()?;
    let trace = &example.trace;
    let rows_visible = area.height as usize;
    let first = first_visible_step(state.step, rows_visible);
    let width = area.width.saturating_sub(LEFT_COLUMN);
    let duration = trace.audio.duration_seconds;
    let times: Vec<f64> = (0..width)
        .map(|column| column_time(state.view, duration, width, column))
        .collect();
    let steps = trace.steps.len();
    let shown = first.min(steps)..(first + rows_visible).min(steps);
    let rows: Vec<Result<RowCells, &str>> = shown
        .map(|index| row_cells(state, example, index, &times))
        .collect();
    // One scale for every visible row (over the whole clip, not just the part in view), so rows
    // compare; bars scale over all steps.
    let cell_max = rows
        .iter()
        .flatten()
        .map(|row| row.max)
        .fold(0f32, f32::max)
        .max(1e-9);
    let value_max = values
        .iter()
        .flatten()
        .copied()
        .fold(0f32, f32::max)
        .max(1e-9);
    Some(HeatmapRows {
        first,
        rows,
        cell_max,
        value_max,
    })
}

/// Draws prepared rows.
pub(super) fn draw(
    state: &Inspector,
    palette: Palette,
    values: &[Option<f32>],
    prepared: &HeatmapRows,
    area: Rect,
    buf: &mut Buffer,
) {
    let Some(example) = state.example() else {
        return;
    };
    let trace = &example.trace;
    let width = area.width.saturating_sub(LEFT_COLUMN);
    let duration = trace.audio.duration_seconds;
    let HeatmapRows {
        first,
        rows,
        cell_max,
        value_max,
    } = prepared;
    let (cell_max, value_max) = (*cell_max, *value_max);
    let shown = *first..first + rows.len();
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
        let cells = match &rows[row] {
            Ok(row) => &row.cells,
            Err(why) => {
                buf.set_string(
                    area.x + LEFT_COLUMN,
                    y,
                    why,
                    Style::new().add_modifier(Modifier::DIM),
                );
                continue;
            }
        };
        for (column, value) in (0..width).zip(cells) {
            let cell = &mut buf[(area.x + LEFT_COLUMN + column, y)];
            draw_cell(cell, state, palette, value.map(|v| v.max(0.0) / cell_max));
            if playhead == Some(column) {
                cell.set_char('│');
                if let Some(white) = palette.named(Color::White) {
                    cell.set_fg(white);
                }
            }
        }
    }
}

/// The selected step's occlusion strip, on the heatmap's time columns (under the heatmap, in
/// the attention mode), scaled to its own largest drop.
pub(super) fn render_occlusion_strip(
    state: &Inspector,
    palette: Palette,
    area: Rect,
    buf: &mut Buffer,
) {
    let Some(example) = state.example() else {
        return;
    };
    let width = area.width.saturating_sub(LEFT_COLUMN);
    let duration = example.trace.audio.duration_seconds;
    let times: Vec<f64> = (0..width)
        .map(|column| column_time(state.view, duration, width, column))
        .collect();
    let dim = Style::new().add_modifier(Modifier::DIM);
    let row = match occlusion_row(example, state.step, &times) {
        Some(row) => row,
        None => {
            buf.set_string(
                area.x,
                area.y,
                format!(" {:>3} occlusion Δ", state.step),
                dim,
            );
            buf.set_string(
                area.x + LEFT_COLUMN,
                area.y,
                "(this step's occlusion arrays are not loaded)",
                dim,
            );
            return;
        }
    };
    let label = format!(
        " {:>3} occlusion Δ ≤{}",
        state.step,
        number::fit(row.max, 5, 2)
    );
    buf.set_string(area.x, area.y, label, dim);
    let scale = row.max.max(1e-9);
    for (column, value) in (0..width).zip(&row.cells) {
        let cell = &mut buf[(area.x + LEFT_COLUMN + column, area.y)];
        draw_cell(cell, state, palette, value.map(|v| v.max(0.0) / scale));
    }
}

/// A heatmap row: a value per time column (`None` where nothing covers that moment) and the
/// row's largest value over the whole clip.
struct RowCells {
    cells: Vec<Option<f32>>,
    max: f32,
}

/// Step `index`'s row in the heatmap's mode, or why there is none.
fn row_cells(
    state: &Inspector,
    example: &Example,
    index: usize,
    times: &[f64],
) -> Result<RowCells, &'static str> {
    let trace = &example.trace;
    match state.heatmap {
        HeatmapMode::Attention => {
            const NONE: &str = "(no attention captured)";
            let rows = example.attention.as_ref().ok_or(NONE)?;
            let view = AttentionView::new(rows, trace.input.ids.len());
            let map = example
                .step_maps
                .get(&view, trace.steps[index].tokens, &state.map_selection())
                .ok_or(NONE)?;
            let per_token = trace.audio.seconds_per_audio_token;
            let last = map.values.len() - 1;
            let cells = times
                .iter()
                .map(|time| Some(map.values[((time / per_token) as usize).min(last)]))
                .collect();
            Ok(RowCells {
                max: map.max,
                cells,
            })
        }
        HeatmapMode::Evidence => {
            occlusion_row(example, index, times).ok_or("(no occlusion for this step)")
        }
    }
}

/// Step `index`'s occlusion strip on the time columns at `times`.
fn occlusion_row(example: &Example, index: usize, times: &[f64]) -> Option<RowCells> {
    let strip = occlusion_strip(example, index)?;
    Some(RowCells {
        cells: times.iter().map(|&time| strip.at(time)).collect(),
        max: strip.max(),
    })
}

/// One time cell at `level` (0 to 1) of the colour scale: a coloured background, or a shade
/// where the palette has no colours; a blank dot where nothing was measured.
fn draw_cell(cell: &mut Cell, state: &Inspector, palette: Palette, level: Option<f32>) {
    let Some(v) = level else {
        cell.set_char('·')
            .set_style(Style::new().add_modifier(Modifier::DIM));
        return;
    };
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
}
