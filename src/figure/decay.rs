//! Under the panels, right: the decay chart. Each panel's step values under the view's metric
//! against the step index, with its least-squares trend (`report::slope`, as the inspector's
//! chart and the report fit it), in the panel's colour, with a legend that names each trace and
//! its slope.

use super::layout::{INK, MUTED, PANEL_COLOURS, RULE, SMALL_SIZE};
use super::svg::{Anchor, Span, Svg, TextStyle};
use super::text::truncate;
use super::ticks;
use crate::report::slope;

/// One curve: its name and each step's value.
pub struct Curve<'a> {
    pub name: &'a str,
    pub values: &'a [Option<f32>],
}

/// The chart's box and what it says.
pub struct DecayChart<'a> {
    pub curves: Vec<Curve<'a>>,
    pub metric_name: &'a str,
    pub x: f64,
    pub width: f64,
}

/// The chart's height.
pub const CHART_HEIGHT: f64 = 210.0;
/// Room for the y labels at the left and the x labels under the plot.
const Y_LABELS: f64 = 46.0;
const X_LABELS: f64 = 30.0;

impl DecayChart<'_> {
    /// Draws the chart from `top`; returns its height.
    pub fn draw(&self, svg: &mut Svg, top: f64) -> f64 {
        svg.open_group("decay");
        svg.text(
            self.x,
            top + 12.0,
            &format!("decay: {} per step", self.metric_name),
            TextStyle::new(12.0, INK).bold(),
        );
        let legend_top = top + 28.0;
        let mut y = legend_top;
        let points: Vec<Vec<(f64, f64)>> =
            self.curves.iter().map(|c| points_of(c.values)).collect();
        for (index, (curve, points)) in self.curves.iter().zip(&points).enumerate() {
            let colour = PANEL_COLOURS[index % PANEL_COLOURS.len()];
            let trend = match (slope(points), points.as_slice()) {
                (Some(b), _) => format!("trend {b:+.4} per step"),
                (None, [(_, value)]) => format!("one step ({value:.3}): no trend"),
                (None, _) => "no steps with a value".to_owned(),
            };
            let name = truncate(curve.name, SMALL_SIZE, self.width * 0.5);
            svg.line((self.x, y - 4.0), (self.x + 18.0, y - 4.0), colour, 2.0);
            svg.spans(
                self.x + 24.0,
                y,
                &[
                    Span::coloured(name, colour).bold(),
                    Span::plain(format!("   {trend}")),
                ],
                TextStyle::new(SMALL_SIZE, INK),
            );
            y += 15.0;
        }
        let plot = Plot {
            x: self.x + Y_LABELS,
            y: y + 4.0,
            width: self.width - Y_LABELS - 8.0,
            height: top + CHART_HEIGHT - X_LABELS - (y + 4.0),
            steps: self
                .curves
                .iter()
                .map(|c| c.values.len())
                .max()
                .unwrap_or(0),
            range: value_range(&points),
        };
        plot.axes(svg);
        for (index, points) in points.iter().enumerate() {
            let colour = PANEL_COLOURS[index % PANEL_COLOURS.len()];
            plot.curve(svg, points, colour);
        }
        svg.close_group();
        CHART_HEIGHT
    }
}

/// The plotting area and its scales.
struct Plot {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    steps: usize,
    /// The values at the bottom and top.
    range: (f64, f64),
}

impl Plot {
    fn at(&self, (step, value): (f64, f64)) -> (f64, f64) {
        let last = (self.steps.max(2) - 1) as f64;
        let (low, high) = self.range;
        (
            self.x + step / last * self.width,
            self.y + self.height - (value - low) / (high - low) * self.height,
        )
    }

    fn axes(&self, svg: &mut Svg) {
        let bottom = self.y + self.height;
        svg.line((self.x, self.y), (self.x, bottom), RULE, 1.0);
        svg.line((self.x, bottom), (self.x + self.width, bottom), RULE, 1.0);
        let (low, high) = self.range;
        let step = ticks::tick_step(high - low, 4);
        let right = TextStyle::new(SMALL_SIZE, INK).anchored(Anchor::End);
        for tick in ticks::ticks(low, high, 4) {
            let (_, y) = self.at((0.0, tick));
            svg.line((self.x - 4.0, y), (self.x, y), INK, 1.0);
            svg.text(self.x - 6.0, y + 3.5, &ticks::label(tick, step), right);
        }
        let last = self.steps.max(2) - 1;
        let count = ((self.width / 60.0).round() as usize).clamp(2, 10);
        let x_step = ticks::tick_step(last as f64, count).max(1.0);
        let middle = TextStyle::new(SMALL_SIZE, INK).anchored(Anchor::Middle);
        for tick in ticks::ticks(0.0, last as f64, count) {
            if tick.fract() != 0.0 {
                continue;
            }
            let (x, _) = self.at((tick, low));
            svg.line((x, bottom), (x, bottom + 4.0), INK, 1.0);
            svg.text(x, bottom + 14.0, &ticks::label(tick, x_step), middle);
        }
        svg.text(
            self.x + self.width,
            bottom + 27.0,
            "step",
            TextStyle::new(SMALL_SIZE, MUTED).anchored(Anchor::End),
        );
    }

    /// The values as dots joined by a line, and the dashed trend over the steps.
    fn curve(&self, svg: &mut Svg, points: &[(f64, f64)], colour: &str) {
        let drawn: Vec<(f64, f64)> = points.iter().map(|&p| self.at(p)).collect();
        if drawn.len() >= 2 {
            svg.polyline(&drawn, colour, 1.6, None);
        }
        // Dots while they stay apart; on long traces the line alone.
        let radius = if drawn.len() <= 60 { 2.6 } else { 1.2 };
        for &point in &drawn {
            svg.circle(point, radius, colour);
        }
        if let Some(b) = slope(points) {
            let n = points.len() as f64;
            let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
            let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
            let (first, last) = (points[0].0, points[points.len() - 1].0);
            let line = |x: f64| {
                (
                    x,
                    (mean_y + b * (x - mean_x)).clamp(self.range.0, self.range.1),
                )
            };
            svg.polyline(
                &[self.at(line(first)), self.at(line(last))],
                colour,
                1.2,
                Some("5 4"),
            );
        }
    }
}

/// `(step, value)` of the steps that have a value.
fn points_of(values: &[Option<f32>]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.filter(|v| v.is_finite())
                .map(|v| (i as f64, f64::from(v)))
        })
        .collect()
}

/// The value axis: from 0 (or the lowest value, when negative) to a round value over the top.
fn value_range(curves: &[Vec<(f64, f64)>]) -> (f64, f64) {
    let values = curves.iter().flatten().map(|p| p.1);
    let high = values.clone().fold(0.0, f64::max);
    let low = values.fold(0.0, f64::min);
    let step = ticks::tick_step((high - low).max(1e-9), 4);
    let top = ((high / step).ceil() * step).max(low + step);
    let bottom = (low / step).floor() * step;
    (bottom, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_axis_starts_at_zero_and_ends_on_a_round_value() {
        let curves = vec![vec![(0.0, 0.31), (1.0, 0.12)]];
        assert_eq!(value_range(&curves), (0.0, 0.4));
        let negative = vec![vec![(0.0, -0.3), (1.0, 1.2)]];
        let (low, high) = value_range(&negative);
        assert!(low <= -0.3 && high >= 1.2, "{low} {high}");
        assert_eq!(
            points_of(&[Some(1.0), None, Some(f32::NAN), Some(2.0)]),
            vec![(0.0, 1.0), (3.0, 2.0)]
        );
    }
}
