//! One trace's panel, top to bottom: (when comparing) its header, the spectrogram strip, the
//! truth lane, the column heads, the heatmap with its labels and texts, and the time axis.

use super::events;
use super::heatmap::Heatmap;
use super::layout::{Columns, RowPlan, TimeAxis, INK, MUTED, RULE, SMALL_SIZE};
use super::numbers::PanelNumbers;
use super::spec::Panel;
use super::spectrogram::LogMelPicture;
use super::strip::{self, STRIP_HEIGHT};
use super::svg::{Anchor, Span, Svg, TextStyle};
use super::text::truncate;
use super::ticks;
use super::title::{answer_spans, model_name, steps_count, Answers};
use crate::colour_scale::ColourScale;

/// Space between the parts of a panel.
const GAP: f64 = 5.0;
/// The row of column heads over the heatmap.
const HEADS_HEIGHT: f64 = 14.0;
/// The time axis under the heatmap.
const AXIS_HEIGHT: f64 = 24.0;

/// Everything a panel draws with.
pub struct PanelDrawing<'a> {
    pub panel: &'a Panel<'a>,
    pub numbers: &'a PanelNumbers,
    pub picture: Option<&'a LogMelPicture>,
    /// Its colour in the decay chart, and its header when comparing (`None`: no header).
    pub header_colour: Option<&'a str>,
    /// The id the title names (the header repeats a trace's id only when it differs).
    pub title_id: &'a str,
    pub scale: ColourScale,
    pub cell_max: f32,
    pub metric_name: &'a str,
}

impl PanelDrawing<'_> {
    /// Draws the panel from `top`; returns its height.
    pub fn draw(&self, svg: &mut Svg, columns: &Columns, axis: &TimeAxis, top: f64) -> f64 {
        let trace = self.panel.trace;
        let label_right = columns.map_x - 7.0;
        let mut y = top;
        svg.open_group("panel");
        if let Some(colour) = self.header_colour {
            y += self.draw_header(svg, columns, colour, y);
        }
        let missing = format!("clip not found: {}", trace.audio.path);
        let missing = truncate(&missing, SMALL_SIZE, axis.width - 12.0);
        strip::draw(svg, self.picture, &missing, axis, label_right, y);
        y += STRIP_HEIGHT + GAP;
        if let Some(truth) = self.panel.truth {
            y += events::draw(svg, truth, axis, label_right, y) + GAP;
        }
        self.draw_column_heads(svg, columns, y);
        y += HEADS_HEIGHT;
        let plan = RowPlan::for_steps(trace.steps.len());
        let heatmap = Heatmap {
            trace,
            numbers: self.numbers,
            truth: self.panel.truth,
            plan,
            scale: self.scale,
            cell_max: self.cell_max,
        };
        y += heatmap.draw(svg, columns, axis, y);
        draw_axis(svg, axis, columns.map_x - 16.0, y + 2.0);
        if plan.text_stride > 1 {
            let shown = trace.steps.len().div_ceil(plan.text_stride);
            svg.text(
                columns.text_x,
                y + 14.0,
                &format!(
                    "texts of every {}th step shown ({} of {} left out)",
                    plan.text_stride,
                    trace.steps.len() - shown,
                    trace.steps.len()
                ),
                TextStyle::new(SMALL_SIZE, MUTED).italic(),
            );
        }
        y += AXIS_HEIGHT;
        svg.close_group();
        y - top
    }

    /// The compared trace's name in its colour, its answer, model and length.
    fn draw_header(&self, svg: &mut Svg, columns: &Columns, colour: &str, top: f64) -> f64 {
        let trace = self.panel.trace;
        let mut spans = vec![Span::coloured(format!("■ {}", self.panel.name), colour).bold()];
        spans.push(Span::plain("   "));
        spans.extend(answer_spans(trace, Answers::Predicted));
        spans.push(Span::plain(format!(
            "   ·   {}   ·   {}",
            steps_count(trace.steps.len()),
            model_name(trace),
        )));
        if trace.id != self.title_id {
            spans.push(Span::plain(format!("   ·   {}", trace.id)));
        }
        svg.spans(columns.left, top + 13.0, &spans, TextStyle::new(12.0, INK));
        20.0
    }

    /// What each column holds, over the heatmap.
    fn draw_column_heads(&self, svg: &mut Svg, columns: &Columns, top: f64) {
        let style = TextStyle::new(SMALL_SIZE, MUTED);
        let baseline = top + 10.0;
        svg.text(
            columns.left + 22.0,
            baseline,
            "step",
            style.anchored(Anchor::End),
        );
        svg.text(columns.left + 42.0, baseline, "CAFE", style);
        svg.text(
            columns.map_x - 7.0,
            baseline,
            self.metric_name,
            style.anchored(Anchor::End),
        );
        svg.text(
            columns.map_x,
            baseline,
            "where each step looks in the clip",
            style,
        );
        svg.text(columns.text_x, baseline, "what the step says", style);
    }
}

/// The time axis: a rule, round ticks in seconds, and its name in the label column.
fn draw_axis(svg: &mut Svg, axis: &TimeAxis, label_right: f64, top: f64) {
    svg.open_group("time-axis");
    svg.line((axis.x, top), (axis.x + axis.width, top), RULE, 1.0);
    let count = (axis.width / 70.0).round().max(2.0) as usize;
    let step = ticks::tick_step(axis.to - axis.from, count);
    let style = TextStyle::new(SMALL_SIZE, INK).anchored(Anchor::Middle);
    for tick in ticks::ticks(axis.from, axis.to, count) {
        let x = axis.x_of(tick);
        svg.line((x, top), (x, top + 4.0), INK, 1.0);
        svg.text(x, top + 14.0, &ticks::label(tick, step), style);
    }
    svg.text(
        label_right,
        top + 14.0,
        "time (s)",
        TextStyle::new(SMALL_SIZE, MUTED).anchored(Anchor::End),
    );
    svg.close_group();
}
