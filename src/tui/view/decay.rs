//! The decay chart: each step's value under the chosen metric against its index, the
//! least-squares trend through them, and the selected step marked. When the trace has both
//! attention and reliance, a second curve of the other kind is drawn with it (Δ under the first
//! counterfactual beside an attention metric, the ratio beside a reliance one); the two have
//! different units, so each is divided by its own largest magnitude, and the title says so.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Widget};

use super::{number, values};
use crate::report::slope;
use crate::tui::palette::Palette;
use crate::tui::state::{Inspector, Side, StepMetric};

pub(super) fn render(
    state: &Inspector,
    palette: Palette,
    values: &[Option<f32>],
    area: Rect,
    buf: &mut Buffer,
) {
    let main = Curve {
        metric: state.metric,
        points: points_of(values),
    };
    let block = Block::new().borders(Borders::TOP | Borders::LEFT);
    if main.points.len() < 2 {
        let what = match state.metric {
            StepMetric::Attention(_) => "attention",
            StepMetric::Reliance(..) => "reliance",
        };
        Paragraph::new(format!("(needs two steps with {what})"))
            .block(block.title(format!(" decay: {} per step ", state.metric.name())))
            .render(area, buf);
        return;
    }
    let has_attention = state.example().is_some_and(|e| e.attention.is_some());
    let companion = state
        .metric
        .companion(&state.measured(), has_attention)
        .map(|metric| Curve {
            metric,
            points: points_of(&values::step_values(state, metric)),
        })
        .filter(|curve| curve.points.len() >= 2);
    let frame = Frame {
        steps: values.len(),
        block,
        area,
    };
    match companion {
        Some(other) => render_pair(state, palette, &main, &other, frame, buf),
        None => render_one(state, palette, &main, frame, buf),
    }
}

/// One metric's value per step.
struct Curve {
    metric: StepMetric,
    /// `(step, value)` of the steps that have a value.
    points: Vec<(f64, f64)>,
}

/// Where the chart goes: the steps on its x axis, its block, its area.
struct Frame<'a> {
    steps: usize,
    block: Block<'a>,
    area: Rect,
}

/// `(step, value)` of the steps that have a value.
fn points_of(values: &[Option<f32>]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, f64::from(v))))
        .collect()
}

/// The chosen metric alone, in its own units, with its trend.
fn render_one(state: &Inspector, palette: Palette, main: &Curve, frame: Frame, buf: &mut Buffer) {
    let points = &main.points;
    let last = (frame.steps - 1).max(1) as f64;
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let bottom = points.iter().map(|p| p.1).fold(0.0, f64::min) * 1.1;
    let trend = slope(points).map(|b| {
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let at = |x: f64| (mean_y + b * (x - mean_x)).clamp(bottom, top);
        (b, vec![(0.0, at(0.0)), (last, at(last))])
    });
    let selected = selected_point(state, points);
    let style = |colour: Color| palette.fg(Style::new(), colour);
    let mut datasets = Vec::new();
    if let Some((_, line)) = &trend {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(style(Color::DarkGray))
                .data(line),
        );
    }
    datasets.push(
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(style(Color::Cyan))
            .data(points),
    );
    datasets.push(selected_dataset(palette, &selected));
    let name = main.metric.name();
    let title = match &trend {
        Some((b, _)) => format!(
            " decay: {name}, trend {}/step ",
            number::fit_signed(*b as f32, 7, 4)
        ),
        None => format!(" decay: {name} per step "),
    };
    let dim = Style::new().add_modifier(Modifier::DIM);
    let low = low_label(bottom);
    Chart::new(datasets)
        .block(frame.block.title(title))
        .x_axis(step_axis(frame.steps))
        .y_axis(Axis::default().bounds([bottom, top]).labels(vec![
            Span::styled(low, dim),
            Span::styled(number::fit(top as f32, 5, 2), dim),
        ]))
        .render(frame.area, buf);
}

/// The chosen metric (a line) and the companion (dots), each divided by its largest magnitude.
fn render_pair(
    state: &Inspector,
    palette: Palette,
    main: &Curve,
    companion: &Curve,
    frame: Frame,
    buf: &mut Buffer,
) {
    let (points, scale) = normalised(&main.points);
    let (other, other_scale) = normalised(&companion.points);
    let bottom = points.iter().chain(&other).map(|p| p.1).fold(0.0, f64::min) * 1.1;
    let top = 1.1;
    let selected = selected_point(state, &points);
    let style = |colour: Color| palette.fg(Style::new(), colour);
    let (main_style, other_style) = (style(Color::Cyan), style(Color::Magenta));
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(main_style)
            .data(&points),
        Dataset::default()
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(other_style)
            .data(&other),
        selected_dataset(palette, &selected),
    ];
    let (name, other_name) = (main.metric.name(), companion.metric.name());
    // The scales when they fit, else just that each curve is divided by its own.
    let full = format!(
        " ─ {name} (÷{}) • {other_name} (÷{}) ",
        fit(scale),
        fit(other_scale)
    );
    let title = if full.chars().count() < usize::from(frame.area.width) {
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("─ {name} (÷{})", fit(scale)), main_style),
            Span::raw(" "),
            Span::styled(
                format!("• {other_name} (÷{})", fit(other_scale)),
                other_style,
            ),
            Span::raw(" "),
        ])
    } else {
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("─ {name}"), main_style),
            Span::raw(" "),
            Span::styled(format!("• {other_name}"), other_style),
            Span::raw(" ÷ max "),
        ])
    };
    let dim = Style::new().add_modifier(Modifier::DIM);
    let low = low_label(bottom);
    Chart::new(datasets)
        .block(frame.block.title(title))
        .x_axis(step_axis(frame.steps))
        .y_axis(
            Axis::default()
                .bounds([bottom, top])
                .labels(vec![Span::styled(low, dim), Span::styled("max", dim)]),
        )
        .render(frame.area, buf);
}

fn fit(value: f64) -> String {
    number::fit(value as f32, 5, 2)
}

/// The points divided by their largest magnitude, and that magnitude.
fn normalised(points: &[(f64, f64)]) -> (Vec<(f64, f64)>, f64) {
    let scale = points
        .iter()
        .map(|p| p.1.abs())
        .fold(0.0, f64::max)
        .max(1e-9);
    (points.iter().map(|&(x, y)| (x, y / scale)).collect(), scale)
}

/// The selected step's point, if it has one.
fn selected_point(state: &Inspector, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|p| p.0 as usize == state.step)
        .collect()
}

fn selected_dataset<'a>(palette: Palette, selected: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .marker(Marker::Block)
        .graph_type(GraphType::Scatter)
        .style(
            palette
                .fg(Style::new(), Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )
        .data(selected)
}

fn step_axis(steps: usize) -> Axis<'static> {
    let dim = Style::new().add_modifier(Modifier::DIM);
    Axis::default()
        .bounds([0.0, (steps - 1).max(1) as f64])
        .labels(vec![
            Span::styled("0", dim),
            Span::styled(format!("step {}", steps - 1), dim),
        ])
}

/// The y axis's lower label: 0, or the negative bottom of the values.
fn low_label(bottom: f64) -> String {
    if bottom < 0.0 {
        number::fit(bottom as f32, 5, 2)
    } else {
        "0".to_owned()
    }
}

/// Two traces compared: A's curve (a line) and B's (a line of another colour) in the metric's
/// own units on one scale, each with its trend in the title and its selected step marked.
pub(super) fn render_sides(
    a: &Inspector,
    a_values: &[Option<f32>],
    b: Option<(&Inspector, &[Option<f32>])>,
    names: [&str; 2],
    palette: Palette,
    area: Rect,
    buf: &mut Buffer,
) {
    let sides: Vec<(&Inspector, Vec<(f64, f64)>)> = std::iter::once((a, a_values))
        .chain(b)
        .map(|(state, values)| (state, points_of(values)))
        .collect();
    let block = Block::new().borders(Borders::TOP | Borders::LEFT);
    let title = format!(" decay: {} per step ", a.metric.name());
    if sides.iter().all(|(_, points)| points.len() < 2) {
        Paragraph::new("(needs two steps with values)")
            .block(block.title(title))
            .render(area, buf);
        return;
    }
    let all = sides.iter().flat_map(|(_, points)| points);
    let top = all.clone().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let bottom = all.map(|p| p.1).fold(0.0, f64::min) * 1.1;
    let steps = a_values
        .len()
        .max(b.map_or(0, |(_, values)| values.len()))
        .max(2);
    let colours = [Color::Cyan, Color::Magenta];
    let selected: Vec<Vec<(f64, f64)>> = sides
        .iter()
        .map(|(state, points)| selected_point(state, points))
        .collect();
    let mut datasets = Vec::new();
    let mut title_spans = vec![Span::raw(format!(" {}:", a.metric.name()))];
    for (i, (_, points)) in sides.iter().enumerate() {
        let style = palette.fg(Style::new(), colours[i]);
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(style)
                .data(points),
        );
        let trend = slope(points).map_or("-".to_owned(), |b| {
            format!("{}/step", number::fit_signed(b as f32, 7, 4))
        });
        title_spans.push(Span::styled(
            format!(" ─ {} {trend}", side_name(i, names[i], area.width)),
            style,
        ));
    }
    title_spans.push(Span::raw(" "));
    for points in &selected {
        datasets.push(selected_dataset(palette, points));
    }
    let dim = Style::new().add_modifier(Modifier::DIM);
    Chart::new(datasets)
        .block(block.title(Line::from(title_spans)))
        .x_axis(step_axis(steps))
        .y_axis(Axis::default().bounds([bottom, top]).labels(vec![
            Span::styled(low_label(bottom), dim),
            Span::styled(number::fit(top as f32, 5, 2), dim),
        ]))
        .render(area, buf);
}

/// "A" on a narrow chart, "A r1-aqa" on a wide one.
fn side_name(index: usize, name: &str, width: u16) -> String {
    let letter = Side::BOTH[index].letter();
    if width >= 56 {
        format!("{letter} {name}")
    } else {
        letter.to_string()
    }
}
