//! The example list of a traces file: one row per example the filters let through, with its
//! outcome (both sides' in a comparison), id, task, step count and error labels; the filters
//! and search in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::cafe::CafeCounts;

use crate::trace::{CafeLabel, Trace};
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
    let outcome = if state.comparison.is_some() {
        "pairs"
    } else {
        "outcome"
    };
    let footer = format!(
        " {} open · {} search · {} {outcome} · {} task · {} label · {} clear ",
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
            let mark = |trace: Option<&Trace>| {
                let (mark, colour) = match trace.and_then(|t| t.answer.as_ref()).map(|a| a.correct)
                {
                    Some(true) => ("✓", Color::Green),
                    Some(false) => ("✗", Color::Red),
                    None => ("·", Color::Gray),
                };
                Span::styled(mark, palette.fg(Style::new(), colour))
            };
            let task = trace
                .benchmark
                .as_ref()
                .and_then(|b| b.task.clone())
                .unwrap_or_default();
            // Narrow (docked) lists drop the step count and shorten the columns.
            let columns = if wide {
                format!(
                    " {:<18} {:<14.14} {:>3} steps ",
                    shorten_id(&trace.id, 18),
                    task,
                    trace.steps.len()
                )
            } else {
                format!(" {:<13} {:<8.8} ", shorten_id(&trace.id, 13), task)
            };
            let mut spans = vec![
                Span::raw(if index == state.current { "▶" } else { " " }),
                mark(Some(trace)),
            ];
            // In a comparison, B's answer beside A's.
            if let Some(comparison) = &state.comparison {
                let partner = comparison
                    .partner_of(index)
                    .and_then(|i| comparison.other.examples.get(i));
                spans.push(mark(partner.map(|e| &e.trace)));
            }
            spans.push(Span::raw(columns));
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

/// An id in at most `width` characters. Ids of one set share their beginning and differ at the
/// end (`synth-30064771072`, `synth-30064771073`; `demo-tones-order`, `demo-tones-duration`), so
/// a long one keeps a little of its start and as much of its end as fits, with `…` between.
fn shorten_id(id: &str, width: usize) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= width {
        return id.to_owned();
    }
    if width < 2 {
        return chars[chars.len() - width..].iter().collect();
    }
    let head = (width - 1) / 3;
    let tail = width - 1 - head;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

#[cfg(test)]
mod tests {
    use super::shorten_id;

    #[test]
    fn long_ids_keep_the_end_that_tells_them_apart() {
        assert_eq!(shorten_id("synth-30064771072", 13), "synt…64771072");
        assert_eq!(shorten_id("synth-30064771073", 13), "synt…64771073");
        assert_eq!(shorten_id("demo-tones-duration", 13), "demo…duration");
        assert_eq!(shorten_id("demo-tones", 13), "demo-tones");
        assert_eq!(shorten_id("synth-30064771072", 18), "synth-30064771072");
        assert_eq!(shorten_id("ünïcødé-ïd-ñumber-7", 8), "ün…ber-7");
        for width in 0..20 {
            assert!(shorten_id("mmau-test-mini-00001234", width).chars().count() <= width);
        }
    }
}
