//! The example list of a traces file: one row per example the filters let through, with its
//! outcome, id, task, step count and error labels; the filters and search in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::cafe::{CafeCounts, CafeLabel};
use crate::tui::keys::KeyTable;
use crate::tui::layout::list_rows;
use crate::tui::palette::Palette;
use crate::tui::state::{Action, Inspector};

pub(super) fn render(
    state: &Inspector,
    keys: &KeyTable,
    palette: Palette,
    area: Rect,
    popup: bool,
    buf: &mut Buffer,
) {
    if popup {
        Clear.render(area, buf);
    }
    let visible = state.visible_examples();
    let title = format!(
        " examples {}/{} · {} ",
        visible.len(),
        state.examples.len(),
        state.filters.describe()
    );
    let footer = format!(
        " {} open · {} search · {} outcome · {} task · {} label · {} clear ",
        keys.key_for(Action::Open),
        keys.key_for(Action::Search),
        keys.key_for(Action::FilterOutcome),
        keys.key_for(Action::FilterTask),
        keys.key_for(Action::FilterLabel),
        keys.key_for(Action::ClearFilters),
    );
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(footer));
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = inner.height as usize;
    // The marked row stays in view.
    let (cursor, first) = list_rows(state, &visible, popup, rows);
    let wide = inner.width >= 60;
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(row, &index)| {
            let trace = &state.examples[index].trace;
            let (mark, colour) = match trace.answer.as_ref().map(|a| a.correct) {
                Some(true) => ("✓", Color::Green),
                Some(false) => ("✗", Color::Red),
                None => ("·", Color::Gray),
            };
            let task = trace
                .benchmark
                .as_ref()
                .and_then(|b| b.task.clone())
                .unwrap_or_default();
            // Narrow (docked) lists drop the step count and shorten the columns.
            let columns = if wide {
                format!(
                    " {:<18.18} {:<14.14} {:>3} steps ",
                    trace.id,
                    task,
                    trace.steps.len()
                )
            } else {
                format!(" {:<13.13} {:<8.8} ", trace.id, task)
            };
            let mut spans = vec![
                Span::raw(if index == state.current { "▶" } else { " " }),
                Span::styled(mark, palette.fg(Style::new(), colour)),
                Span::raw(columns),
            ];
            let counts = trace
                .labels
                .as_ref()
                .map(CafeCounts::of)
                .unwrap_or_default();
            for (label, count) in [
                (CafeLabel::Hallucinated, counts.hallucinated),
                (CafeLabel::Misused, counts.misused),
            ] {
                if count > 0 {
                    let gap = if wide { " " } else { "" };
                    spans.push(Span::styled(
                        format!("{}{gap}{count} ", label.short()),
                        palette.label_style(label),
                    ));
                }
            }
            let line = Line::from(spans);
            if popup && row == cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        let clear = keys.key_for(Action::ClearFilters);
        Paragraph::new(format!(
            "no example matches the filters ({clear} clears them)"
        ))
        .render(inner, buf);
    } else {
        Paragraph::new(lines).render(inner, buf);
    }
}
