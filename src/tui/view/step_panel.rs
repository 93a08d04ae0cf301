//! The selected step: its full text with each token tinted by its own value under the chosen
//! metric (how much that token looked at the audio, or relied on it, relative to the step's
//! highest token), the experts its tokens were routed to (a mixture-of-experts decoder's:
//! `experts_line`), its reliance under each counterfactual measured (Δ, KL, flip share), what
//! became of the answer when the audio was hidden from the step on, then its labelled claims.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::intervention::answers;
use super::{experts_line, kind_letter, number, step_label, values};
use crate::trace::evidence_metrics::{EvidenceView, Reliance};
use crate::trace::{Step, Trace};
use crate::tui::keys::KeyTable;
use crate::tui::palette::Palette;
use crate::tui::state::{Action, EvidenceJob, Inspector};

pub(super) fn render(
    state: &Inspector,
    keys: &KeyTable,
    palette: Palette,
    area: Rect,
    buf: &mut Buffer,
) {
    let Some(example) = state.example() else {
        return;
    };
    let trace = &example.trace;
    let Some(step) = trace.steps.get(state.step) else {
        let generated = trace.generation.ids.len();
        let message = if generated > 0 && trace.generation.text.trim().is_empty() {
            // A model that emits only ids its tokenizer has no text for (an untrained one).
            format!("(no steps: {generated} tokens, no text)")
        } else {
            "(no steps yet)".to_owned()
        };
        Paragraph::new(message)
            .block(Block::new().borders(Borders::TOP))
            .render(area, buf);
        return;
    };
    let token_values = values::token_values(state, state.metric);
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
                state.metric.name(),
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
    lines.extend(experts_line::line(state, area.width));
    lines.extend(reliance_lines(state));
    lines.extend(intervention_line(state, keys));
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

/// The selected step's reliance under each counterfactual measured, one line each:
/// "reliance silence  Δ +0.84  KL 0.31  flip 20%".
fn reliance_lines(state: &Inspector) -> Vec<Line<'static>> {
    let dim = Style::new().add_modifier(Modifier::DIM);
    let Some(example) = state.example() else {
        return Vec::new();
    };
    let (Some(evidence), Some(step)) = (&example.evidence, example.trace.steps.get(state.step))
    else {
        return Vec::new();
    };
    let view = EvidenceView::new(evidence);
    view.counterfactuals()
        .into_iter()
        .map(|counterfactual| {
            let value = |quantity| view.span_value(quantity, counterfactual, step.tokens);
            let show = |value: Option<f32>, text: fn(f32) -> String| value.map_or("-".into(), text);
            Line::from(vec![
                Span::styled(format!("reliance {counterfactual:<8}"), dim),
                Span::raw(format!(
                    "Δ {}  KL {}  flip {}",
                    show(value(Reliance::Delta), |v| number::fit_signed(v, 6, 2)),
                    show(value(Reliance::Kl), |v| number::fit(v, 5, 2)),
                    show(value(Reliance::Flip), |v| format!("{:.0}%", v * 100.0)),
                )),
            ])
        })
        .collect()
}

/// What hiding the audio from the selected step on did to the answer, or that it is running.
fn intervention_line(state: &Inspector, keys: &KeyTable) -> Option<Line<'static>> {
    let dim = Style::new().add_modifier(Modifier::DIM);
    let key = keys.key_for(Action::HideAudioFromStep);
    if let Some(intervention) = state.intervention(state.step) {
        let (original, regenerated) = answers(state.example()?, intervention);
        let verdict = if intervention.answer_changed {
            "changed"
        } else {
            "same"
        };
        return Some(Line::from(vec![
            Span::styled("no audio from here: ", dim),
            Span::raw(format!("answer {original} → {regenerated} ({verdict})")),
            Span::styled(format!(" · {key} shows both"), dim),
        ]));
    }
    let job = state.job.as_ref()?;
    match job.job {
        EvidenceJob::Intervene { example, step }
            if example == state.current && step == state.step =>
        {
            Some(Line::styled(format!("{}…", job.describe()), dim))
        }
        _ => None,
    }
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
            // A token the audio made less likely (a negative Δ) shows as the least.
            let v = (value / top).clamp(0.0, 1.0);
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
