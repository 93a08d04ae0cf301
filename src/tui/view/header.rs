//! The header: the question and its choices (on their own line when they do not fit beside it),
//! the trace's place in the file, gold and predicted answer with a mark for right or wrong (both
//! sides' answers in a comparison), the
//! model, and the view settings (the metric, and the heatmap's mode when it shows evidence).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::trace::metrics::Heads;
use crate::tui::palette::Palette;
use crate::tui::state::{HeatmapMode, Inspector};

pub(super) fn render(state: &Inspector, palette: Palette, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        Paragraph::new("no traces").render(area, buf);
        return;
    };
    let trace = &example.trace;
    let choices = example.choices_line();
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let dim = Style::new().add_modifier(Modifier::DIM);
    // The choices follow the question, or take their own line when the layout gave one.
    let mut lines = if area.height >= 4 {
        vec![
            Line::from(Span::styled(example.question(), bold)),
            Line::from(Span::styled(choices, dim)),
        ]
    } else {
        vec![Line::from(vec![
            Span::styled(example.question(), bold),
            Span::styled(format!("  {choices}"), dim),
        ])]
    };

    let mut second = vec![Span::raw(format!(
        "[{}/{}] {}  ",
        state.current + 1,
        state.examples.len(),
        trace.id
    ))];
    if let Some(comparison) = &state.comparison {
        // The item's gold once, and each side's mark (the title rows give the answers).
        if let Some(item) = &trace.benchmark {
            second.push(Span::raw(format!("gold: {}", item.answer)));
        }
        let sides = [Some(trace), state.partner().map(|e| &e.trace)];
        for (letter, side) in ['A', 'B'].into_iter().zip(sides) {
            second.push(Span::raw(format!(" · {letter}")));
            match side {
                Some(side) => second.extend(super::compare::answer_mark(side, palette)),
                None => second.push(Span::raw(format!(" not in {}", comparison.names[1]))),
            }
        }
    } else if let (Some(item), Some(answer)) = (&trace.benchmark, &trace.answer) {
        let (mark, colour) = if answer.correct {
            ("✓", Color::Green)
        } else {
            ("✗", Color::Red)
        };
        second.push(Span::raw(format!(
            "gold: {}  predicted: {} ",
            item.answer, answer.extracted
        )));
        second.push(Span::styled(mark, palette.fg(bold, colour)));
    } else if let Some(answer) = &trace.answer {
        second.push(Span::raw(format!("predicted: {}", answer.extracted)));
    }
    let (layers, ..) = state.dims();
    let heads = match state.heads {
        Heads::Mean => "head mean".to_owned(),
        Heads::Max => "head max".to_owned(),
        Heads::One(h) => format!("head {h}"),
    };
    let model = trace
        .model
        .path
        .rsplit(['/', '\\'])
        .find(|part| !part.is_empty())
        .unwrap_or(&trace.model.path);
    let heatmap = match state.heatmap {
        HeatmapMode::Attention => "",
        HeatmapMode::Evidence => ", evidence heatmap",
    };
    let third = Line::from(vec![
        Span::raw(format!(
            "{}, {heads}, {}, {}{heatmap}",
            state.layers.describe(layers),
            state.metric.name(),
            state.scale.name()
        )),
        Span::styled(
            match &trace.model.quantization {
                Some(format) => format!("  ·  {} {format} · {model}", trace.model.model_type),
                None => format!("  ·  {} · {model}", trace.model.model_type),
            },
            dim,
        ),
    ]);
    lines.push(Line::from(second));
    lines.push(third);
    Paragraph::new(lines).render(area, buf);
}
