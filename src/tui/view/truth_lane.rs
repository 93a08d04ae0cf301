//! The truth lane: the clip's ground-truth events as labelled spans, one row under the time
//! axis and over the same columns as the heatmap, so a step's row can be read against what was
//! really there. The event the selected step names is drawn heavy and reversed; the left column
//! says where the events come from and which one the step names.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::tui::layout::{Regions, LEFT_COLUMN};
use crate::tui::palette::Palette;
use crate::tui::state::Inspector;

pub(super) fn render(state: &Inspector, palette: Palette, regions: &Regions, buf: &mut Buffer) {
    let (Some(area), Some(example)) = (regions.events, state.example()) else {
        return;
    };
    let Some(truth) = &example.truth else {
        return;
    };
    let named = example.named_event(state.step);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let left = match named {
        Some(index) => format!("names: {}", truth.events[index].name),
        None => format!("events ({})", truth.source_name()),
    };
    let left: String = left.chars().take(LEFT_COLUMN as usize - 1).collect();
    buf.set_string(area.x, area.y, left, dim);

    let columns = regions.time_columns();
    let duration = example.trace.audio.duration_seconds;
    let order = (0..truth.events.len())
        .filter(|&i| Some(i) != named)
        .chain(named);
    for index in order {
        let event = &truth.events[index];
        let Some((from, to)) = span_columns(state.view, duration, columns, event.start, event.end)
        else {
            continue;
        };
        let highlighted = Some(index) == named;
        let style = if highlighted {
            palette
                .fg(Style::new(), Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            palette.fg(Style::new(), Color::Cyan)
        };
        let cells = span_text(&event.name, usize::from(to - from), highlighted);
        buf.set_string(columns.x + from, area.y, cells, style);
    }
}

/// The columns `[from, to)` an event from `start` to `end` seconds covers in the visible part of
/// the clip: at least one, clipped to the view; `None` when it is out of view.
fn span_columns(
    view: (f64, f64),
    duration: f64,
    columns: Rect,
    start: f64,
    end: f64,
) -> Option<(u16, u16)> {
    if duration <= 0.0 || columns.width == 0 {
        return None;
    }
    let width = f64::from(columns.width);
    let column = |seconds: f64| (seconds / duration - view.0) / (view.1 - view.0) * width;
    let (from, to) = (column(start), column(end));
    if to < 0.0 || from >= width {
        return None;
    }
    let from = from.floor().clamp(0.0, width - 1.0) as u16;
    let to = (to.ceil().clamp(0.0, width) as u16).max(from + 1);
    Some((from, to))
}

/// The cells of one span `width` wide: its ends marked, its name inside as far as it fits, the
/// rest a line (heavy for the event the selected step names, which also shows without colour).
fn span_text(name: &str, width: usize, highlighted: bool) -> String {
    let (open, line, close) = if highlighted {
        ('┣', '━', '┫')
    } else {
        ('├', '─', '┤')
    };
    match width {
        0 => String::new(),
        1 => line.to_string(),
        2 => format!("{open}{close}"),
        _ => {
            let inner = width - 2;
            let label: String = name.chars().take(inner).collect();
            let fill = inner - label.chars().count();
            format!(
                "{open}{label}{}{close}",
                std::iter::repeat_n(line, fill).collect::<String>()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_keeps_its_ends_and_fits_its_name() {
        assert_eq!(span_text("low tone", 12, false), "├low tone──┤");
        assert_eq!(span_text("low tone", 6, true), "┣low ┫");
        assert_eq!(span_text("low tone", 2, false), "├┤");
        assert_eq!(span_text("low tone", 1, false), "─");
    }

    #[test]
    fn spans_land_on_the_columns_of_their_seconds() {
        let columns = Rect::new(24, 0, 40, 1);
        // 4 s over 40 columns: 10 columns a second.
        assert_eq!(
            span_columns((0.0, 1.0), 4.0, columns, 1.0, 1.5),
            Some((10, 15))
        );
        // A very short event still gets a column; one out of view none.
        assert_eq!(
            span_columns((0.0, 1.0), 4.0, columns, 2.0, 2.01),
            Some((20, 21))
        );
        assert_eq!(span_columns((0.5, 1.0), 4.0, columns, 0.5, 1.0), None);
        // Zoomed in on the second half (20 columns a second): an event across the middle is
        // clipped at the left.
        assert_eq!(
            span_columns((0.5, 1.0), 4.0, columns, 1.5, 2.5),
            Some((0, 10))
        );
    }
}
