//! The clip's time line: the log-mel spectrogram strip (two pixels per cell with half blocks,
//! low frequencies at the bottom) and the time axis below it, both over the visible part of the
//! clip, with the playhead drawn across them.

use ratatui::buffer::Buffer;
use ratatui::style::{Modifier, Style};

use crate::tui::layout::{column_time, time_column, Regions, LEFT_COLUMN};
use crate::tui::palette::{shade, Palette};
use crate::tui::state::Inspector;

pub(super) fn render(state: &Inspector, palette: Palette, regions: &Regions, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let duration = example.trace.audio.duration_seconds;
    let columns = regions.time_columns();
    let dim = Style::new().add_modifier(Modifier::DIM);
    let strip = regions.strip;
    let play_mark = if state.playing { "▶" } else { "■" };
    buf.set_string(
        strip.x,
        strip.y,
        format!("{play_mark} {:.1}/{duration:.1}s", state.playhead),
        dim,
    );
    match &example.spectrogram {
        Some(picture) => {
            let pixels = u32::from(strip.height) * 2;
            for column in 0..columns.width {
                let half =
                    (state.view.1 - state.view.0) * duration / f64::from(columns.width) / 2.0;
                let centre = column_time(state.view, duration, columns.width, column);
                let time = (centre - half, centre + half);
                for row in 0..strip.height {
                    // Pixel 0 is the top of the strip, i.e. the highest band.
                    let band = |pixel: u32| {
                        let low = 1.0 - f64::from(pixel + 1) / f64::from(pixels);
                        picture.level(time, (low, low + 1.0 / f64::from(pixels)))
                    };
                    let upper = band(u32::from(row) * 2);
                    let lower = band(u32::from(row) * 2 + 1);
                    let cell = &mut buf[(columns.x + column, strip.y + row)];
                    match (palette.ramp(state.scale, upper), palette.uses_shades()) {
                        (Some(top), false) => {
                            let bottom = palette.ramp(state.scale, lower).unwrap_or(top);
                            cell.set_char('▀').set_fg(top).set_bg(bottom);
                        }
                        (colour, _) => {
                            cell.set_char(shade((upper + lower) / 2.0));
                            if let Some(colour) = colour {
                                cell.set_fg(colour);
                            }
                        }
                    }
                }
            }
        }
        None => {
            buf.set_string(
                columns.x,
                strip.y,
                "(clip not found: no spectrogram; the playhead runs silently)",
                dim,
            );
        }
    }
    render_axis(state, regions, buf);
    // The playhead: a bar through the strip and the axis.
    if let Some(column) = time_column(state.view, duration, columns.width, state.playhead) {
        let x = columns.x + column;
        for y in strip.y..strip.bottom() {
            let cell = &mut buf[(x, y)];
            cell.set_char('┃');
            if let Some(colour) = palette.named(ratatui::style::Color::White) {
                cell.set_fg(colour);
            }
        }
        buf[(x, regions.axis.y)].set_char('▲');
    }
}

fn render_axis(state: &Inspector, regions: &Regions, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let duration = example.trace.audio.duration_seconds;
    let area = regions.axis;
    let columns = regions.time_columns();
    let dim = Style::new().add_modifier(Modifier::DIM);
    buf.set_string(
        area.x,
        area.y,
        format!(
            "{:<width$}",
            "step kind value  CAFE",
            width = LEFT_COLUMN as usize
        ),
        dim,
    );
    // A labelled tick every ~10 columns; the step between labels is a round number of seconds.
    let width = columns.width;
    let span = (state.view.1 - state.view.0) * duration;
    let per_label = nice_step(span / (f64::from(width) / 10.0).max(1.0));
    let first = (state.view.0 * duration / per_label).ceil() * per_label;
    let decimals = if per_label >= 1.0 {
        0
    } else {
        1 + (-per_label.log10()).floor() as usize
    };
    let mut next_free = 0;
    let mut time = first;
    while time <= state.view.1 * duration + 1e-9 {
        if let Some(column) = time_column(state.view, duration, width, time) {
            let label = format!("╵{time:.decimals$}s");
            if column >= next_free && column as usize + label.chars().count() <= width as usize {
                buf.set_string(columns.x + column, area.y, &label, dim);
                next_free = column + label.chars().count() as u16 + 1;
            }
        }
        time += per_label;
    }
    // The window `p` is playing: the axis under it is a reversed band, its labels still legible.
    let view_seconds = (state.view.0 * duration, state.view.1 * duration);
    if let Some(window) = state
        .play_window
        .filter(|w| w.to > view_seconds.0 && w.from < view_seconds.1)
    {
        let column_of = |seconds: f64| {
            let fraction = (seconds / duration - state.view.0) / (state.view.1 - state.view.0);
            (fraction * f64::from(width))
                .floor()
                .clamp(0.0, f64::from(width))
        };
        let (from, to) = (column_of(window.from), column_of(window.to));
        for column in (from as u16)..(to.max(from + 1.0) as u16).min(width) {
            let cell = &mut buf[(columns.x + column, area.y)];
            cell.modifier.remove(Modifier::DIM);
            cell.modifier.insert(Modifier::REVERSED);
        }
    }
}

/// The smallest of 1, 2 or 5 × 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw)
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_fall_on_round_seconds() {
        assert_eq!(super::nice_step(0.37), 0.5);
        assert_eq!(super::nice_step(1.2), 2.0);
        assert_eq!(super::nice_step(4.0), 5.0);
        assert_eq!(super::nice_step(6.0), 10.0);
    }
}
