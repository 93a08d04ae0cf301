//! SVG plots of the report's curves (plotters, SVG backend: no fonts or system libraries
//! needed): decay curves by split, and any lines with a legend.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::stats::CurvePoint;

/// Which quantity of a curve to plot.
#[derive(Debug, Clone, Copy)]
pub enum Quantity {
    Ratio,
    Focus,
}

impl Quantity {
    fn of(self, point: &CurvePoint) -> f64 {
        match self {
            Quantity::Ratio => point.mean_ratio,
            Quantity::Focus => point.mean_focus,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Quantity::Ratio => "mean audio ratio",
            Quantity::Focus => "mean audio focus",
        }
    }
}

const SPLIT_COLOURS: [(&str, RGBColor); 5] = [
    ("all", RGBColor(40, 40, 40)),
    ("correct", RGBColor(30, 140, 60)),
    ("incorrect", RGBColor(200, 50, 40)),
    ("needs_audio", RGBColor(40, 90, 200)),
    ("answerable_without_audio", RGBColor(220, 140, 20)),
];

/// One line of a plot: its name, colour and points.
pub type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// The colour of line `index` of a plot whose lines are not splits.
pub fn line_colour(index: usize) -> RGBColor {
    SPLIT_COLOURS[index % SPLIT_COLOURS.len()].1
}

/// A line per split of `quantity` against `x`: `splits` names which ("all", "correct",
/// "incorrect", "needs_audio", "answerable_without_audio").
pub fn decay_plot(
    path: &Path,
    labels: (&str, &str),
    points: &[CurvePoint],
    quantity: Quantity,
    splits: &[&str],
) -> Result<()> {
    let series: Vec<Series> = SPLIT_COLOURS
        .iter()
        .filter(|(split, _)| splits.contains(split))
        .map(|(split, colour)| {
            let values = points
                .iter()
                .filter(|p| p.split == *split && p.examples > 0)
                .map(|p| (p.x as f64, quantity.of(p)))
                .collect();
            (*split, *colour, values)
        })
        .collect();
    let (title, x_label) = labels;
    line_plot(path, [title, x_label, quantity.label()], series)
}

/// Lines with a legend; `labels` are the title, the x axis's and the y axis's. The y axis
/// starts at 0 unless a value is negative.
pub fn line_plot(path: &Path, labels: [&str; 3], series: Vec<Series>) -> Result<()> {
    let [title, x_label, y_label] = labels;
    let series: Vec<Series> = series.into_iter().filter(|s| !s.2.is_empty()).collect();
    let x_max = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let y_max = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let y_min = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.0, f64::min);
    // Headroom above the lines for the legend, in the upper right corner; half a unit after
    // the last point so its marker is whole.
    let y_max = if y_max > 0.0 { y_max * 1.3 } else { 1.0 };
    let y_min = y_min * 1.1;
    let x_max = x_max + 0.5;

    // Drawn into memory, then written whole (`durable::write`).
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        let plot_error =
            |e: &dyn std::fmt::Display| anyhow!("{}: cannot draw the plot ({e})", path.display());
        root.fill(&WHITE).map_err(|e| plot_error(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, y_min..y_max)
            .map_err(|e| plot_error(&e))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc(y_label)
            .draw()
            .map_err(|e| plot_error(&e))?;
        for (name, colour, values) in series {
            chart
                .draw_series(LineSeries::new(values.clone(), colour.stroke_width(2)))
                .map_err(|e| plot_error(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    values
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.filled())),
                )
                .map_err(|e| plot_error(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_error(&e))?;
        root.present().map_err(|e| plot_error(&e))?;
    }
    crate::durable::write(path, svg.as_bytes())
}
