//! The decay chart: each step's value (ratio, sink-corrected ratio or focus) against its index,
//! the least-squares trend through them, and the selected step marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Widget};

use super::{metric_name, number};
use crate::report::slope;
use crate::tui::palette::Palette;
use crate::tui::state::Inspector;

pub(super) fn render(
    state: &Inspector,
    palette: Palette,
    values: &[Option<f32>],
    area: Rect,
    buf: &mut Buffer,
) {
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, f64::from(v))))
        .collect();
    let block = Block::new().borders(Borders::TOP | Borders::LEFT);
    if points.len() < 2 {
        Paragraph::new("(needs two steps with attention)")
            .block(block.title(format!(" decay: {} per step ", metric_name(state.metric))))
            .render(area, buf);
        return;
    }
    let last = (values.len() - 1).max(1) as f64;
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let trend = slope(&points).map(|b| {
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let at = |x: f64| (mean_y + b * (x - mean_x)).clamp(0.0, top);
        (b, vec![(0.0, at(0.0)), (last, at(last))])
    });
    let selected: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0 as usize == state.step)
        .collect();
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
            .data(&points),
    );
    datasets.push(
        Dataset::default()
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(style(Color::Yellow).add_modifier(Modifier::BOLD))
            .data(&selected),
    );
    let title = match &trend {
        Some((b, _)) => format!(
            " decay: {}, trend {}/step ",
            metric_name(state.metric),
            number::fit_signed(*b as f32, 7, 4)
        ),
        None => format!(" decay: {} per step ", metric_name(state.metric)),
    };
    let dim = Style::new().add_modifier(Modifier::DIM);
    Chart::new(datasets)
        .block(block.title(title))
        .x_axis(Axis::default().bounds([0.0, last]).labels(vec![
            Span::styled("0", dim),
            Span::styled(format!("step {}", values.len() - 1), dim),
        ]))
        .y_axis(Axis::default().bounds([0.0, top]).labels(vec![
            Span::styled("0", dim),
            Span::styled(number::fit(top as f32, 5, 2), dim),
        ]))
        .render(area, buf);
}
