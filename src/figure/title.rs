//! The figure's title block: the question, its choices, the gold and predicted answers with a
//! mark for right or wrong, the model, and the settings the numbers were computed with (layers,
//! heads, metric, colour scale, time window), as the inspector's header says them.

use super::layout::{Columns, BODY_SIZE, INK, MUTED, RIGHT, SMALL_SIZE, TITLE_SIZE, WRONG};
use super::numbers::PanelNumbers;
use super::spec::{FigureSpec, View};
use super::svg::{Span, Svg, TextStyle};
use super::text::{truncate, wrap_in, Weight};
use crate::trace::metrics::{Heads, Metric};
use crate::trace::Trace;

/// Lines the question may take.
const QUESTION_LINES: usize = 2;

/// Draws the title block from `top`; returns its height.
pub fn draw(
    svg: &mut Svg,
    spec: &FigureSpec,
    numbers: &[PanelNumbers],
    seconds: (f64, f64, f64),
    columns: &Columns,
    top: f64,
) -> f64 {
    let trace = spec.panels[0].trace;
    let compare = spec.panels.len() > 1;
    let width = columns.full_width();
    let mut y = top;
    svg.open_group("title");
    let question = trace
        .prompt
        .question
        .as_deref()
        .unwrap_or(&trace.prompt.text);
    for line in wrap_in(question, TITLE_SIZE, width, QUESTION_LINES, Weight::Bold) {
        y += TITLE_SIZE + 4.0;
        svg.text(
            columns.left,
            y,
            &line,
            TextStyle::new(TITLE_SIZE, INK).bold(),
        );
    }
    let choices = choices_line(trace);
    if !choices.is_empty() {
        y += BODY_SIZE + 5.0;
        let choices = truncate(&choices, BODY_SIZE, width);
        svg.text(columns.left, y, &choices, TextStyle::new(BODY_SIZE, MUTED));
    }
    y += BODY_SIZE + 6.0;
    // Compared traces answer the same item: the gold answer here, each prediction in its
    // panel's header.
    let shown = if compare {
        Answers::Gold
    } else {
        Answers::Both
    };
    let mut spans = answer_spans(trace, shown);
    if !spans.is_empty() {
        spans.push(Span::plain("   ·   "));
    }
    match compare {
        true => spans.push(Span::plain(trace.id.clone())),
        false => spans.push(Span::plain(format!(
            "{}   ·   {}   ·   {}",
            model_name(trace),
            steps_count(trace.steps.len()),
            trace.id
        ))),
    }
    svg.spans(columns.left, y, &spans, TextStyle::new(BODY_SIZE, INK));
    y += SMALL_SIZE + 6.0;
    let settings = settings_line(&spec.view, numbers, seconds);
    let settings = truncate(&settings, SMALL_SIZE, width);
    svg.text(
        columns.left,
        y,
        &settings,
        TextStyle::new(SMALL_SIZE, MUTED),
    );
    svg.close_group();
    y + 10.0 - top
}

/// Which answers a line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    Gold,
    Predicted,
    Both,
}

/// "gold: X   predicted: Y ✓", or either alone; the mark green or red.
pub fn answer_spans(trace: &Trace, shown: Answers) -> Vec<Span> {
    let mut spans = Vec::new();
    if let (Answers::Gold | Answers::Both, Some(item)) = (shown, &trace.benchmark) {
        spans.push(Span::plain(format!("gold: {}", item.answer)));
    }
    let Some(answer) = trace.answer.as_ref().filter(|_| shown != Answers::Gold) else {
        return spans;
    };
    if !spans.is_empty() {
        spans.push(Span::plain("   "));
    }
    let predicted = match answer.extracted.as_str() {
        "" => "(none)",
        text => text,
    };
    spans.push(Span::plain(format!("predicted: {predicted} ")));
    if trace.benchmark.is_some() {
        spans.push(match answer.correct {
            true => Span::coloured("✓", RIGHT).bold(),
            false => Span::coloured("✗", WRONG).bold(),
        });
    }
    spans
}

/// "1 step", "8 steps".
pub fn steps_count(steps: usize) -> String {
    match steps {
        1 => "1 step".to_owned(),
        n => format!("{n} steps"),
    }
}

/// The model as the header names it: its family, quantization and folder name.
pub fn model_name(trace: &Trace) -> String {
    let model = &trace.model;
    let folder = model
        .path
        .rsplit(['/', '\\'])
        .find(|part| !part.is_empty())
        .unwrap_or(&model.path);
    match &model.quantization {
        Some(format) => format!("{} {format} · {folder}", model.model_type),
        None => format!("{} · {folder}", model.model_type),
    }
}

/// "(A) one  (B) two".
fn choices_line(trace: &Trace) -> String {
    trace.prompt.lettered_choices("   ")
}

/// Layers, heads, metric, colour scale and the part of the clip shown.
fn settings_line(view: &View, numbers: &[PanelNumbers], seconds: (f64, f64, f64)) -> String {
    let heads = heads_name(view.selection.heads);
    let fallback = numbers.iter().any(|n| n.map_heads != view.selection.heads);
    let heads = match fallback {
        true => format!("{heads} (heatmap: head mean, no per-head maps)"),
        false => heads,
    };
    let (from, to, duration) = seconds;
    let window = if from <= 0.0 && to >= duration {
        format!("whole clip ({duration:.2} s)")
    } else {
        format!("{from:.2}–{to:.2} s of {duration:.2} s")
    };
    format!(
        "{}  ·  {heads}  ·  metric: {}  ·  colour scale: {}  ·  {window}",
        layers_name(&view.selection.layers),
        metric_name(view.metric),
        view.scale.name()
    )
}

/// "all layers", "layer 3", "layers 0–3", "layers 0, 2, 5".
pub fn layers_name(layers: &[usize]) -> String {
    match layers {
        [] => "all layers".to_owned(),
        [one] => format!("layer {one}"),
        [first, .., last] if layers.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("layers {first}–{last}")
        }
        _ => format!(
            "layers {}",
            layers
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// "head mean", "head max", "head 3".
pub fn heads_name(heads: Heads) -> String {
    match heads {
        Heads::Mean => "head mean".to_owned(),
        Heads::Max => "head max".to_owned(),
        Heads::One(h) => format!("head {h}"),
    }
}

/// The metric's name as the inspector says it.
pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Ratio => "ratio",
        Metric::SinkCorrected => "sink-corrected",
        Metric::Focus => "focus",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_as_the_inspector_names_them() {
        assert_eq!(layers_name(&[]), "all layers");
        assert_eq!(layers_name(&[2]), "layer 2");
        assert_eq!(layers_name(&[0, 1, 2]), "layers 0–2");
        assert_eq!(layers_name(&[0, 2]), "layers 0, 2");
        assert_eq!(heads_name(Heads::One(3)), "head 3");
        assert_eq!(metric_name(Metric::SinkCorrected), "sink-corrected");
    }
}
