//! The intervention view, over the heatmap and the step panel: the selected step's generation
//! as it was (left) beside the one regenerated from the start of the step with the audio hidden
//! from every new token (right), under the answers each reached and whether it changed, and the
//! end of the text both kept (which heard the audio). While the model regenerates it, it says so.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::benchmark::answer::extract_answer;
use crate::trace::{AnswerRecord, Intervention};
use crate::tui::keys::KeyTable;
use crate::tui::palette::Palette;
use crate::tui::state::{Action, EvidenceJob, Example, Inspector};

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
    Clear.render(area, buf);
    let key = keys.key_for(Action::HideAudioFromStep);
    let back = keys.key_for(Action::Back);
    let block = Block::bordered().title(format!(
        " step {}: the audio hidden from here on · {key} or {back} closes ",
        state.step
    ));
    let inner = block.inner(area);
    block.render(area, buf);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let Some(intervention) = state.intervention(state.step) else {
        let text = match &state.job {
            Some(job) if matches!(job.job, EvidenceJob::Intervene { step, .. } if step == state.step) =>
            {
                format!("{}…", job.describe())
            }
            _ => format!(
                "no regeneration from step {} yet: {key} runs it",
                state.step
            ),
        };
        Paragraph::new(Line::styled(text, dim))
            .wrap(Wrap { trim: true })
            .render(inner, buf);
        return;
    };
    let trace = &example.trace;
    let kept_bytes = trace.steps[state.step].bytes[0];
    let kept = trace.generation.text.get(..kept_bytes).unwrap_or_default();
    let original = trace.generation.text.get(kept_bytes..).unwrap_or_default();
    let regenerated = intervention
        .regeneration
        .text
        .strip_prefix(kept)
        .unwrap_or(&intervention.regeneration.text);

    let [answer_row, kept_row, columns] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    answer_line(palette, example, intervention).render(answer_row, buf);
    let label = "kept, having heard the audio: ";
    let room = usize::from(kept_row.width).saturating_sub(label.chars().count());
    Line::from(vec![Span::styled(label, dim), Span::raw(tail(kept, room))]).render(kept_row, buf);
    let [left, right] =
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(columns);
    let hidden_title = format!(" audio hidden from step {} ", state.step);
    for (area, title, text) in [
        (left, " as generated ".to_owned(), original),
        (right, hidden_title, regenerated),
    ] {
        Paragraph::new(text.trim_start().to_owned())
            .block(Block::new().borders(Borders::TOP).title(title))
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}

/// "answer 4 ✓ → 1 ✗ (changed)": each answer with its mark when the trace is scored.
fn answer_line(palette: Palette, example: &Example, intervention: &Intervention) -> Line<'static> {
    let (original, regenerated) = answers(example, intervention);
    let mark = |record: Option<&AnswerRecord>| match record.map(|a| a.correct) {
        Some(true) => Span::styled(" ✓", palette.fg(Style::new(), Color::Green)),
        Some(false) => Span::styled(" ✗", palette.fg(Style::new(), Color::Red)),
        None => Span::raw(""),
    };
    let verdict = if intervention.answer_changed {
        Span::styled(
            "  the answer changed",
            Style::new().add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw("  the answer stayed")
    };
    Line::from(vec![
        Span::raw(format!("answer {original}")),
        mark(example.trace.answer.as_ref()),
        Span::raw(format!(" → {regenerated}")),
        mark(intervention.regeneration.answer.as_ref()),
        verdict,
    ])
}

/// The answer the trace reached and the one the intervention reached ("(none)" when a text
/// gives none).
pub(super) fn answers(example: &Example, intervention: &Intervention) -> (String, String) {
    let or_none = |answer: String| {
        if answer.trim().is_empty() {
            "(none)".to_owned()
        } else {
            answer
        }
    };
    let trace = &example.trace;
    let original = trace.answer.as_ref().map_or_else(
        || extract_answer(&trace.generation.text),
        |a| a.extracted.clone(),
    );
    let regeneration = &intervention.regeneration;
    let regenerated = regeneration.answer.as_ref().map_or_else(
        || extract_answer(&regeneration.text),
        |a| a.extracted.clone(),
    );
    (or_none(original), or_none(regenerated))
}

/// The last `chars` characters of `text` on one line (line breaks as ⏎), "…" first when cut.
fn tail(text: &str, chars: usize) -> String {
    let flat = text.replace('\n', " ⏎ ");
    let count = flat.chars().count();
    if count <= chars {
        flat
    } else {
        let kept: String = flat.chars().skip(count + 1 - chars.max(1)).collect();
        format!("…{kept}")
    }
}
