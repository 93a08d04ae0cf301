//! The selected step: its full text with each token tinted by its own value (how much that token
//! looked at the audio, relative to the step's most attentive token), then its labelled claims.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::{kind_letter, metric_name, number, step_label};
use crate::trace::metrics::AttentionView;
use crate::trace::{Step, Trace};
use crate::tui::palette::Palette;
use crate::tui::state::Inspector;

pub(super) fn render(state: &Inspector, palette: Palette, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let trace = &example.trace;
    let Some(step) = trace.steps.get(state.step) else {
        Paragraph::new("(no steps yet)")
            .block(Block::new().borders(Borders::TOP))
            .render(area, buf);
        return;
    };
    let token_values: Option<Vec<f32>> = example.attention.as_ref().and_then(|rows| {
        let view = AttentionView::new(rows, trace.input.ids.len());
        let selection = state.selection();
        (step.tokens[0]..step.tokens[1])
            .map(|t| view.token_value(state.metric, t, &selection).ok())
            .collect()
    });
    let mut title = format!(
        " step {} · {} · {} tokens ",
        state.step,
        kind_letter(step.kind),
        step.tokens[1].saturating_sub(step.tokens[0])
    );
    if let Some(values) = &token_values {
        if !values.is_empty() {
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            title.push_str(&format!(
                "· {} {} ",
                metric_name(state.metric),
                number::fit(mean, 7, 3)
            ));
        }
    }
    let mut lines = vec![text_line(
        state,
        palette,
        trace,
        step,
        token_values.as_deref(),
    )];
    lines.extend(claim_lines(state, palette));
    let title_style =
        step_label(state, state.step).map_or(Style::new(), |label| palette.label_style(label));
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .title(Span::styled(title, title_style)),
        )
        .wrap(Wrap { trim: false })
        .render(area, buf);
}

/// The step's claims: the label that counts, its source, what other sources said, the note; when
/// labelling, a cursor on the claim the keys act on, and the trace's missed events.
fn claim_lines(state: &Inspector, palette: Palette) -> Vec<Line<'static>> {
    let dim = Style::new().add_modifier(Modifier::DIM);
    let labelling = state.labelling.as_ref();
    let mut lines = Vec::new();
    for (index, claim) in state.current_claims().into_iter().enumerate() {
        let mut spans = Vec::new();
        if let Some(labelling) = labelling {
            let cursor = if index == labelling.claim {
                "▸ "
            } else {
                "  "
            };
            spans.push(Span::styled(
                cursor,
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        match &claim.winner {
            Some(winner) => {
                spans.push(Span::styled(
                    winner.label.short(),
                    palette.label_style(winner.label),
                ));
                spans.push(Span::raw(format!("  {}", claim.event)));
                spans.push(Span::styled(format!("  ({})", winner.source), dim));
            }
            None => {
                spans.push(Span::styled("···", dim));
                let what = if claim.event == crate::cafe::WHOLE_STEP {
                    "  the whole step (no claim listed): 1-4 labels it".to_owned()
                } else {
                    format!("  {}  (new: 1-4 labels it)", claim.event)
                };
                spans.push(Span::styled(what, dim));
            }
        }
        for other in &claim.others {
            spans.push(Span::styled(
                format!("  {} {}", other.source, other.label.short()),
                dim,
            ));
        }
        let notes = claim
            .winner
            .iter()
            .chain(&claim.others)
            .filter_map(|l| l.note.as_ref());
        for note in notes {
            spans.push(Span::raw(format!("  “{note}”")));
        }
        lines.push(Line::from(spans));
    }
    let missed = state
        .example()
        .and_then(|e| e.trace.labels.as_ref())
        .map(|l| l.missed.as_slice())
        .unwrap_or_default();
    if !missed.is_empty() {
        let listed: Vec<String> = missed
            .iter()
            .map(|m| format!("{} ({})", m.event, m.source))
            .collect();
        lines.push(Line::from(vec![
            Span::styled("missed  ", Style::new().add_modifier(Modifier::BOLD)),
            Span::styled(listed.join(" · "), dim),
        ]));
    }
    lines
}

/// The step's text, token by token when the trace records where each token's text starts.
fn text_line<'a>(
    state: &Inspector,
    palette: Palette,
    trace: &'a Trace,
    step: &'a Step,
    values: Option<&[f32]>,
) -> Line<'a> {
    let (Some(values), Some(pieces)) = (values, token_pieces(trace, step)) else {
        return Line::raw(step.text.as_str());
    };
    let top = values.iter().copied().fold(0f32, f32::max).max(1e-9);
    let spans = pieces
        .into_iter()
        .zip(values)
        .enumerate()
        .map(|(k, (piece, &value))| {
            let piece = if k == 0 { piece.trim_start() } else { piece };
            let v = value / top;
            let style = match palette.ramp(state.scale, 0.3 + 0.7 * v) {
                Some(colour) if !palette.uses_shades() => Style::new().fg(colour),
                _ if v > 0.66 => Style::new().add_modifier(Modifier::BOLD),
                _ if v < 0.33 => Style::new().add_modifier(Modifier::DIM),
                _ => Style::new(),
            };
            Span::styled(piece.replace('\n', " "), style)
        });
    Line::from(spans.collect::<Vec<_>>())
}

/// Each of the step's tokens' text, from the trace's piece offsets (`None` for traces without
/// them or whose offsets do not fit the text).
fn token_pieces<'a>(trace: &'a Trace, step: &Step) -> Option<Vec<&'a str>> {
    let offsets = &trace.generation.piece_offsets;
    let text = &trace.generation.text;
    let [start, end] = step.tokens;
    if end > offsets.len() || start >= end {
        return None;
    }
    let bound = |k: usize| offsets.get(k).copied().unwrap_or(text.len());
    (start..end)
        .map(|k| text.get(bound(k)..bound(k + 1)))
        .collect()
}
