//! Figures: a trace's view as a picture for a paper or a slide, as SVG or PNG. The spectrogram
//! strip, the truth events, the step × time heatmap with its colour bar, each step's index,
//! kind, CAFE label, value and text, and the decay curve with its trend, computed with the view's
//! settings (layers, heads, metric, colour scale, time window) through the same `trace::metrics`
//! calls as the inspector, so a figure shows what the screen showed. Two traces can share one
//! figure (`FigureSpec::compare`): one time axis, one colour scale, both decay curves in one
//! chart.
//!
//! Data flows one way: a `FigureSpec` (plain data: `spec`) → the numbers (`numbers`) → SVG text
//! (`render_svg`, drawn by the part modules through the `svg` writer) → a file (`write`: the SVG
//! as it is, or a PNG drawn from it by `png`). `auscult figure` and the inspector's figure key
//! both build a `FigureSpec`; this module never reads the command line or the screen.

mod colour_bar;
mod decay;
mod events;
mod heatmap;
mod layout;
mod numbers;
mod panel;
mod png;
mod spec;
mod spectrogram;
mod strip;
mod svg;
mod text;
mod ticks;
mod title;

use std::path::Path;

use anyhow::{bail, Result};

pub use numbers::PanelNumbers;
pub use spec::{ClipSamples, FigureSpec, Panel, View, CLIP_RATE, DEFAULT_WIDTH};

use decay::{Curve, DecayChart};
use layout::{Columns, TimeAxis, MARGIN, PANEL_COLOURS};
use numbers::tokens_in_clip;
use panel::PanelDrawing;
use spectrogram::LogMelPicture;
use svg::Svg;

/// The narrowest figure that keeps its columns readable.
const MIN_WIDTH: f64 = 640.0;
/// Space between the panels, and above the colour bar and chart.
const PANEL_GAP: f64 = 16.0;

/// The file types `write` makes, by extension.
pub const EXTENSIONS: [&str; 2] = ["svg", "png"];

/// The figure as an SVG document.
pub fn render_svg(spec: &FigureSpec) -> Result<String> {
    check(spec)?;
    let view = &spec.view;
    let numbers = spec
        .panels
        .iter()
        .map(|panel| PanelNumbers::compute(panel, view))
        .collect::<Result<Vec<_>>>()?;
    let cell_max = spec
        .panels
        .iter()
        .zip(&numbers)
        .map(|(panel, n)| n.cell_max(tokens_in_clip(panel.trace)))
        .fold(0.0, f32::max);
    let pictures: Vec<Option<LogMelPicture>> = spec
        .panels
        .iter()
        .map(|panel| panel.clip.as_ref().and_then(LogMelPicture::new))
        .collect();
    let columns = Columns::new(spec.width.max(MIN_WIDTH));
    let duration = spec
        .panels
        .iter()
        .map(|p| p.trace.audio.duration_seconds)
        .fold(0.0, f64::max);
    let axis = TimeAxis {
        from: view.window.0 * duration,
        to: view.window.1 * duration,
        x: columns.map_x,
        width: columns.map_width,
    };
    let metric_name = title::metric_name(view.metric);
    let mut svg = Svg::default();
    let mut y = MARGIN;
    y += title::draw(
        &mut svg,
        spec,
        &numbers,
        (axis.from, axis.to, duration),
        &columns,
        y,
    );
    let compare = spec.panels.len() > 1;
    for (index, panel) in spec.panels.iter().enumerate() {
        let drawing = PanelDrawing {
            panel,
            numbers: &numbers[index],
            picture: pictures[index].as_ref(),
            header_colour: compare.then_some(PANEL_COLOURS[index % PANEL_COLOURS.len()]),
            title_id: &spec.panels[0].trace.id,
            scale: view.scale,
            cell_max,
            metric_name,
        };
        y += drawing.draw(&mut svg, &columns, &axis, y) + PANEL_GAP;
    }
    let has_events = spec.panels.iter().any(|p| p.truth.is_some());
    let key = colour_bar::draw(&mut svg, view.scale, cell_max, has_events, &columns, y);
    let chart = DecayChart {
        curves: spec
            .panels
            .iter()
            .zip(&numbers)
            .map(|(panel, n)| Curve {
                name: &panel.name,
                values: &n.values,
            })
            .collect(),
        metric_name,
        x: columns.text_x,
        width: columns.text_width,
    }
    .draw(&mut svg, y);
    y += key.max(chart) + MARGIN;
    Ok(svg.finish(columns.width, y))
}

/// Writes the figure to `path`: SVG or PNG by its extension, whole or not at all.
pub fn write(spec: &FigureSpec, path: &Path) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("svg") => render_svg(spec)?.into_bytes(),
        Some("png") => png::svg_to_png(&render_svg(spec)?, spec.png_scale)?,
        _ => bail!(
            "{}: a figure is written as .svg or .png (by the file's extension)",
            path.display()
        ),
    };
    crate::durable::write(path, &bytes)
}

/// Refuses a spec that cannot be drawn, saying why.
fn check(spec: &FigureSpec) -> Result<()> {
    if spec.panels.is_empty() || spec.panels.len() > 2 {
        bail!(
            "a figure has one panel, or two to compare (given {})",
            spec.panels.len()
        );
    }
    let (from, to) = spec.view.window;
    if !((0.0..1.0).contains(&from) && to > from && to <= 1.0) {
        bail!(
            "the time window {from}–{to} is not a part of the clip (fractions, 0 ≤ from < to ≤ 1)"
        );
    }
    if let Some(panel) = spec.panels.iter().find(|p| p.trace.steps.is_empty()) {
        bail!("trace {}: no steps to draw", panel.trace.id);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
