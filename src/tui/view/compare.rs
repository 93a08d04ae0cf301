//! Two traces of one item compared: A's and B's heatmaps on one time axis with one colour scale
//! (and one bar scale), each under a title row with its answer and CAFE counts (B's with its
//! difference from A's), the step panel of the side in focus (both, side by side), and one decay
//! chart with both curves. Stacked on narrow screens, side by side on wide ones (`layout`).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{decay, heatmap, step_panel, timeline, truth_lane, values};
use crate::cafe::CafeCounts;
use crate::trace::{CafeLabel, Trace};
use crate::tui::keys::KeyTable;
use crate::tui::layout::{ComparePanes, Regions};
use crate::tui::palette::Palette;
use crate::tui::state::{Comparison, Inspector, Side};

/// Draws both sides (the header and status line are drawn by the caller).
pub(super) fn render(
    state: &Inspector,
    keys: &KeyTable,
    palette: Palette,
    regions: &Regions,
    panes: &ComparePanes,
    a_values: &[Option<f32>],
    buf: &mut Buffer,
) {
    let Some(comparison) = &state.comparison else {
        return;
    };
    let other = &*comparison.other;
    let paired = state.partner().is_some();
    let b_values = if paired {
        values::step_values(other, state.metric)
    } else {
        std::rc::Rc::default()
    };
    let focused = match comparison.focus {
        Side::B if paired => other,
        _ => state,
    };
    let other_regions = panes.other_regions(regions);

    timeline::render(state, palette, regions, buf);
    match panes.beside {
        Some(_) => {
            truth_lane::render(state, palette, regions, buf);
            if paired {
                timeline::render(other, palette, &other_regions, buf);
                truth_lane::render(other, palette, &other_regions, buf);
            }
        }
        // One lane for both: it names the event of the step in focus.
        None => truth_lane::render(focused, palette, regions, buf),
    }

    let a_rows = heatmap::prepare(state, a_values, regions.heatmap);
    let b_rows = paired
        .then(|| heatmap::prepare(other, &b_values, panes.heatmap))
        .flatten();
    match (a_rows, b_rows) {
        (Some(mut a), Some(mut b)) => {
            heatmap::share_scales(&mut a, &mut b);
            heatmap::draw(state, palette, a_values, &a, regions.heatmap, buf);
            heatmap::draw(other, palette, &b_values, &b, panes.heatmap, buf);
        }
        (Some(a), None) => {
            heatmap::draw(state, palette, a_values, &a, regions.heatmap, buf);
            let id = state.example().map_or("", |e| e.trace.id.as_str());
            let why = format!("(no trace with id {id} in {})", comparison.names[1]);
            Paragraph::new(why)
                .style(Style::new().add_modifier(Modifier::DIM))
                .render(panes.heatmap, buf);
        }
        _ => {}
    }
    render_titles(state, comparison, palette, panes.titles, buf);

    match panes.beside {
        Some(beside) => {
            step_panel::render(state, keys, palette, regions.step_panel, buf);
            if paired {
                step_panel::render(other, keys, palette, beside.step_panel, buf);
            }
        }
        None => step_panel::render(focused, keys, palette, regions.step_panel, buf),
    }
    if let Some(area) = regions.decay {
        let names = [comparison.names[0].as_str(), comparison.names[1].as_str()];
        let b = paired.then_some((other, b_values.as_slice()));
        decay::render_sides(state, a_values, b, names, palette, area, buf);
    }
}

/// "▶ A r1-aqa · (B) ✓ · MAT 3 HAL 1 MIS 0" over A's heatmap; B's with the difference from A's
/// counts: "HAL 2 (+1)".
fn render_titles(
    state: &Inspector,
    comparison: &Comparison,
    palette: Palette,
    titles: [Rect; 2],
    buf: &mut Buffer,
) {
    let a = state.example().map(|e| &e.trace);
    let b = state.partner().map(|e| &e.trace);
    let a_counts = a.map(counts);
    for (side, trace, area) in [(Side::A, a, titles[0]), (Side::B, b, titles[1])] {
        let focused = comparison.focus == side;
        let name = &comparison.names[side.index()];
        let head = format!(
            "{}{} {name}",
            if focused { "▶ " } else { "  " },
            side.letter()
        );
        let head_style = if focused {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let mut spans = vec![Span::styled(head, head_style)];
        if let Some(trace) = trace {
            let steps = trace.steps.len();
            let plural = if steps == 1 { "" } else { "s" };
            spans.push(Span::raw(format!(" · {steps} step{plural}")));
            spans.extend(answer_spans(trace, palette));
            let against = (side == Side::B).then_some(a_counts).flatten();
            spans.extend(count_spans(&counts(trace), against.as_ref(), palette));
        }
        Line::from(spans).render(area, buf);
    }
}

/// " → (B) ✓": the answer, marked right or wrong when the item is scored; nothing when
/// the trace has no answer.
fn answer_spans(trace: &Trace, palette: Palette) -> Vec<Span<'static>> {
    let Some(answer) = &trace.answer else {
        return Vec::new();
    };
    let mut spans = vec![Span::raw(format!(" → {}", answer.extracted))];
    spans.extend(answer_mark(trace, palette));
    spans
}

/// " ✓" or " ✗" in colour for a scored answer; nothing for an unscored one.
pub(super) fn answer_mark(trace: &Trace, palette: Palette) -> Option<Span<'static>> {
    let answer = trace
        .answer
        .as_ref()
        .filter(|_| trace.benchmark.is_some())?;
    let (mark, colour) = if answer.correct {
        (" ✓", Color::Green)
    } else {
        (" ✗", Color::Red)
    };
    Some(Span::styled(
        mark,
        palette.fg(Style::new().add_modifier(Modifier::BOLD), colour),
    ))
}

fn counts(trace: &Trace) -> CafeCounts {
    trace
        .labels
        .as_ref()
        .map(CafeCounts::of)
        .unwrap_or_default()
}

/// " · MAT 3 HAL 1 MIS 0", each with its difference from `against` when given.
fn count_spans(
    counts: &CafeCounts,
    against: Option<&CafeCounts>,
    palette: Palette,
) -> Vec<Span<'static>> {
    let of = |c: &CafeCounts| [c.matched, c.hallucinated, c.misused];
    let labels = [
        CafeLabel::Matched,
        CafeLabel::Hallucinated,
        CafeLabel::Misused,
    ];
    let mut spans = vec![Span::raw(" ·")];
    for (i, label) in labels.into_iter().enumerate() {
        let count = of(counts)[i];
        let difference = against.map_or(String::new(), |a| {
            let d = count as i64 - of(a)[i] as i64;
            format!(" ({d:+})")
        });
        spans.push(Span::styled(
            format!(" {} {count}{difference}", label.short()),
            palette.label_style(label),
        ));
    }
    spans
}
