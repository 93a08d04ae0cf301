//! Rendering: the inspector's state drawn into a buffer, never changed by it.
//!
//! One screen at 80×24: a header (question, gold and predicted answer, view settings), the
//! clip's time axis, the step × time heatmap with each step's ratio bar and CAFE tag, the
//! selected step's text, and a status line; `?` lays the help over it. Colour comes as
//! truecolor ramps, or, with `NO_COLOR` or 16 colours, as shade characters.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::keys::KeyTable;
use super::state::Inspector;
use crate::cafe::CafeLabel;
use crate::trace::metrics::{AttentionView, Heads, Metric};
use crate::trace::StepKind;

/// Below this the inspector says so instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// How colour is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    /// 24-bit colour ramps.
    TrueColor,
    /// No colour: shades and plain text (`NO_COLOR`, or a 16-colour terminal).
    Monochrome,
}

impl Palette {
    /// From the environment: `NO_COLOR` set (to anything) means monochrome.
    pub fn from_env() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Palette::Monochrome
        } else {
            Palette::TrueColor
        }
    }
}

const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
const LEFT_COLUMN: u16 = 24;

/// A dark-blue → yellow ramp for `v` in 0..=1.
fn ramp(v: f32) -> Color {
    let v = v.clamp(0.0, 1.0);
    let lerp = |a: f32, b: f32| (a + (b - a) * v) as u8;
    Color::Rgb(lerp(20.0, 250.0), lerp(24.0, 220.0), lerp(90.0, 40.0))
}

fn label_tag(label: Option<CafeLabel>) -> (&'static str, Color) {
    match label {
        Some(CafeLabel::Matched) => ("MAT", Color::Green),
        Some(CafeLabel::Hallucinated) => ("HAL", Color::Red),
        Some(CafeLabel::Misused) => ("MIS", Color::Yellow),
        Some(CafeLabel::Neutral) => ("NEU", Color::Gray),
        None => ("   ", Color::Reset),
    }
}

fn kind_letter(kind: StepKind) -> char {
    match kind {
        StepKind::Perception => 'P',
        StepKind::Reasoning => 'R',
        StepKind::Answer => 'A',
        StepKind::Review => 'V',
        StepKind::Other => '·',
    }
}

fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Ratio => "ratio",
        Metric::SinkCorrected => "sink-corrected",
        Metric::Focus => "focus",
    }
}

/// Draws the whole screen.
pub fn render(state: &Inspector, keys: &KeyTable, palette: Palette, area: Rect, buf: &mut Buffer) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}×{}, auscult needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        );
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    }
    let [header, axis, heatmap, text, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(state, palette, header, buf);
    render_axis(state, axis, buf);
    render_heatmap(state, palette, heatmap, buf);
    render_step_text(state, text, buf);
    let status_text = state.message.clone().unwrap_or_else(|| {
        "j/k step  n/N example  l layer  h heads  m metric  +/- zoom  p play step  ? help  q quit".into()
    });
    Paragraph::new(status_text)
        .style(Style::new().add_modifier(Modifier::DIM))
        .render(status, buf);
    if state.help {
        render_help(keys, area, buf);
    }
}

fn render_header(state: &Inspector, palette: Palette, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        Paragraph::new("no traces").render(area, buf);
        return;
    };
    let trace = &example.trace;
    let question = trace
        .prompt
        .question
        .clone()
        .unwrap_or_else(|| trace.prompt.text.clone());
    let mut second = vec![Span::raw(format!(
        "[{}/{}] {}  ",
        state.current + 1,
        state.examples.len(),
        trace.id
    ))];
    if let (Some(item), Some(answer)) = (&trace.benchmark, &trace.answer) {
        let (mark, colour) = if answer.correct {
            ("✓", Color::Green)
        } else {
            ("✗", Color::Red)
        };
        second.push(Span::raw(format!(
            "gold: {}  predicted: {} ",
            item.answer, answer.extracted
        )));
        let style = match palette {
            Palette::TrueColor => Style::new().fg(colour).add_modifier(Modifier::BOLD),
            Palette::Monochrome => Style::new().add_modifier(Modifier::BOLD),
        };
        second.push(Span::styled(mark, style));
    }
    let layer = state
        .layer
        .map_or("all layers".to_owned(), |l| format!("layer {l}"));
    let heads = match state.heads {
        Heads::Mean => "head mean".to_owned(),
        Heads::Max => "head max".to_owned(),
        Heads::One(h) => format!("head {h}"),
    };
    second.push(Span::styled(
        format!("   {layer}, {heads}, {}", metric_name(state.metric)),
        Style::new().add_modifier(Modifier::DIM),
    ));
    Paragraph::new(vec![
        Line::from(Span::styled(
            question,
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::from(second),
    ])
    .render(area, buf);
}

fn render_axis(state: &Inspector, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let seconds = example.trace.audio.duration_seconds;
    let width = area.width.saturating_sub(LEFT_COLUMN) as usize;
    let (from, to) = (state.view.0 * seconds, state.view.1 * seconds);
    let mut axis = vec![' '; width];
    let mut labels = String::new();
    // A tick every ~10 columns, labelled with its time.
    let mut column = 0;
    while column < width {
        let time = from + (to - from) * column as f64 / width.max(1) as f64;
        let label = format!("{time:.1}s");
        if column + label.len() <= width {
            for (i, c) in label.chars().enumerate() {
                axis[column + i] = c;
            }
        }
        column += 10;
    }
    labels.extend(axis);
    buf.set_string(
        area.x,
        area.y,
        format!(
            "{:<width$}",
            "step  kind ratio   CAFE",
            width = LEFT_COLUMN as usize
        ),
        Style::new().add_modifier(Modifier::DIM),
    );
    buf.set_string(
        area.x + LEFT_COLUMN,
        area.y,
        labels,
        Style::new().add_modifier(Modifier::DIM),
    );
}

fn render_heatmap(state: &Inspector, palette: Palette, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let trace = &example.trace;
    let steps = &trace.steps;
    let labels = trace.labels.as_ref();
    let rows_visible = area.height as usize;
    // Keep the selected step in view.
    let first = state.step.saturating_sub(rows_visible.saturating_sub(1));
    let width = area.width.saturating_sub(LEFT_COLUMN) as usize;
    let selection = state.selection();
    let view = example
        .attention
        .as_ref()
        .map(|rows| AttentionView::new(rows, trace.input.ids.len()));
    let map_selection = match (&example.attention, state.heads) {
        (Some(rows), heads) if rows.head_maps.is_none() && heads != Heads::Mean => {
            crate::trace::metrics::Selection {
                heads: Heads::Mean,
                ..selection.clone()
            }
        }
        _ => selection.clone(),
    };
    let maps: Vec<Option<Vec<f32>>> = steps
        .iter()
        .skip(first)
        .take(rows_visible)
        .map(|s| {
            view.as_ref()
                .and_then(|v| v.span_map(s.tokens, &map_selection).ok())
        })
        .collect();
    let values: Vec<Option<f32>> = steps
        .iter()
        .skip(first)
        .take(rows_visible)
        .map(|s| {
            view.as_ref().and_then(|v| {
                v.span_value(state.metric, s.tokens, &selection)
                    .ok()
                    .flatten()
            })
        })
        .collect();
    let map_max = maps
        .iter()
        .flatten()
        .flat_map(|m| m.iter().copied())
        .fold(0f32, f32::max)
        .max(1e-9);
    let value_max = values
        .iter()
        .flatten()
        .copied()
        .fold(0f32, f32::max)
        .max(1e-9);

    for (row, step) in steps.iter().skip(first).take(rows_visible).enumerate() {
        let y = area.y + row as u16;
        let index = first + row;
        let selected = index == state.step;
        let label = labels.and_then(|l| {
            // The highest-ranked label of the step's first claim (human > judge > auto).
            l.steps
                .iter()
                .filter(|s| s.step == index)
                .max_by_key(|s| {
                    if s.source.starts_with("human") {
                        3
                    } else if s.source.starts_with("judge") {
                        2
                    } else {
                        1
                    }
                })
                .map(|s| s.label)
        });
        let (tag, colour) = label_tag(label);
        let bar_len = values[row].map_or(0, |v| ((v / value_max) * 6.0).round() as usize);
        let bar = format!("{:<6}", "■".repeat(bar_len));
        let value_text = values[row].map_or("  -  ".to_owned(), |v| format!("{v:5.2}"));
        let marker = if selected { '▶' } else { ' ' };
        let left = format!(
            "{marker}{index:>3} {} {value_text} {bar}",
            kind_letter(step.kind)
        );
        let row_style = if selected {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        buf.set_string(area.x, y, &left, row_style);
        let tag_style = match palette {
            Palette::TrueColor => Style::new().fg(colour),
            Palette::Monochrome => Style::new(),
        };
        buf.set_string(area.x + LEFT_COLUMN - 4, y, tag, tag_style);
        let Some(map) = &maps[row] else {
            buf.set_string(
                area.x + LEFT_COLUMN,
                y,
                "(no attention captured)",
                Style::new().add_modifier(Modifier::DIM),
            );
            continue;
        };
        for column in 0..width {
            let fraction =
                state.view.0 + (state.view.1 - state.view.0) * (column as f64 + 0.5) / width as f64;
            let j = ((fraction * map.len() as f64) as usize).min(map.len() - 1);
            let v = map[j] / map_max;
            let cell = &mut buf[(area.x + LEFT_COLUMN + column as u16, y)];
            match palette {
                Palette::TrueColor => {
                    cell.set_char(' ').set_bg(ramp(v));
                }
                Palette::Monochrome => {
                    let shade =
                        ((v * (SHADES.len() - 1) as f32).round() as usize).min(SHADES.len() - 1);
                    cell.set_char(SHADES[shade]);
                }
            }
        }
    }
}

fn render_step_text(state: &Inspector, area: Rect, buf: &mut Buffer) {
    let Some(example) = state.example() else {
        return;
    };
    let Some(step) = example.trace.steps.get(state.step) else {
        return;
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .title(format!(" step {} ", state.step));
    Paragraph::new(step.text.as_str())
        .block(block)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn render_help(keys: &KeyTable, area: Rect, buf: &mut Buffer) {
    let lines: Vec<Line> = keys
        .help_lines()
        .into_iter()
        .map(|(keys, text)| {
            Line::from(vec![
                Span::styled(
                    format!("{keys:>14}  "),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(text),
            ])
        })
        .collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 60.min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .block(Block::bordered().title(" keys "))
        .render(popup, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::example::{example_trace, tones_spec};
    use crate::tui::state::{Action, Example};

    fn screen(state: &Inspector, palette: Palette, width: u16, height: u16) -> (Buffer, String) {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        render(state, &KeyTable::default(), palette, area, &mut buf);
        let text = (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        (buf, text)
    }

    fn state() -> Inspector {
        let (trace, arrays) = example_trace(&tones_spec());
        Inspector::new(vec![Example {
            trace,
            attention: Some(arrays.generated),
        }])
    }

    #[test]
    fn the_main_view_at_80_by_24() {
        let (buf, text) = screen(&state(), Palette::TrueColor, 80, 24);
        assert!(
            text.contains("How many tones come before the noise"),
            "{text}"
        );
        assert!(
            text.contains("gold: Three, falling  predicted: Three, rising ✗"),
            "{text}"
        );
        assert!(
            text.contains("MAT") && text.contains("HAL") && text.contains("MIS"),
            "{text}"
        );
        assert!(text.contains("step 0"), "{text}");
        // The first step's row is selected, and heatmap cells are coloured.
        assert!(text.lines().any(|l| l.starts_with("▶  0 R")), "{text}");
        let coloured = (LEFT_COLUMN..80)
            .filter(|&x| buf[(x, 3)].bg != Color::Reset)
            .count();
        assert_eq!(coloured, 80 - LEFT_COLUMN as usize);
    }

    #[test]
    fn no_color_uses_shades_and_no_colours() {
        let (buf, text) = screen(&state(), Palette::Monochrome, 80, 24);
        assert!(text.chars().any(|c| "░▒▓█".contains(c)), "{text}");
        let coloured = (0..80)
            .flat_map(|x| (0..24).map(move |y| (x, y)))
            .filter(|&(x, y)| buf[(x, y)].bg != Color::Reset || buf[(x, y)].fg != Color::Reset)
            .count();
        assert_eq!(coloured, 0);
    }

    #[test]
    fn the_step_row_that_attends_to_the_first_tone_is_brightest_at_the_start() {
        let mut s = state();
        s.update(Action::NextStep); // step 1: the 440 Hz tone, 0–0.6 s of 3.5 s
        let (buf, _) = screen(&s, Palette::Monochrome, 100, 30);
        let y = 3 + 1; // heatmap starts on row 3
        let row: Vec<char> = (LEFT_COLUMN..100)
            .map(|x| buf[(x, y)].symbol().chars().next().unwrap())
            .collect();
        let darkest = |c: char| SHADES.iter().position(|&s| s == c).unwrap();
        let head: usize = row[..10].iter().map(|&c| darkest(c)).sum();
        let tail: usize = row[row.len() - 10..].iter().map(|&c| darkest(c)).sum();
        assert!(head > tail, "{row:?}");
    }

    #[test]
    fn help_overlay_and_too_small() {
        let mut s = state();
        s.update(Action::ToggleHelp);
        let (_, text) = screen(&s, Palette::TrueColor, 80, 24);
        assert!(
            text.contains(" keys ") && text.contains("j, down  next step"),
            "{text}"
        );
        let (_, small) = screen(&s, Palette::TrueColor, 40, 10);
        assert!(small.contains("terminal too small: 40×10"), "{small}");
    }

    #[test]
    fn a_large_terminal_shows_every_step() {
        let (_, text) = screen(&state(), Palette::TrueColor, 160, 48);
        for i in 0..12 {
            let row = |l: &str| {
                l.trim_start_matches(['▶', ' '])
                    .starts_with(&format!("{i} "))
            };
            assert!(text.lines().skip(3).any(row), "step {i}: {text}");
        }
    }
}
