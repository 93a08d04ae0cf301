//! The step × time heatmap of one panel: a row per step, its cells the step's map over the
//! audio tokens on the shared time axis, coloured on the figure's one scale; over a cell range,
//! an outline where the step names a truth event; left of the row its index, kind letter, CAFE
//! label and value; right of it the step's text, wrapped to the lines the row has (thin rows:
//! every few steps' text, and a note of how many were left out).

use super::layout::{
    Columns, RowPlan, TimeAxis, INK, MUTED, NAMED_OUTLINE, SMALL_SIZE, STEP_LINE, STEP_TEXT_SIZE,
    ZEBRA,
};
use super::numbers::PanelNumbers;
use super::svg::{hex, Anchor, Svg, TextStyle};
use super::text::{step_text, truncate, wrap};
use crate::colour_scale::ColourScale;
use crate::trace::{CafeLabel, StepKind, Trace};
use crate::truth::Truth;

/// Colour levels a cell is drawn in (cells of one level next to each other merge).
const LEVELS: f32 = 64.0;
/// How far each run reaches under the next one, so that no renderer's rounding leaves a
/// hairline of background between them.
const OVERLAP: f64 = 0.5;

/// What the heatmap of one panel draws from.
pub struct Heatmap<'a> {
    pub trace: &'a Trace,
    pub numbers: &'a PanelNumbers,
    pub truth: Option<&'a Truth>,
    pub plan: RowPlan,
    pub scale: ColourScale,
    /// The map value at the scale's top.
    pub cell_max: f32,
}

impl Heatmap<'_> {
    /// Draws the rows from `top`; returns their height.
    pub fn draw(&self, svg: &mut Svg, columns: &Columns, axis: &TimeAxis, top: f64) -> f64 {
        let steps = self.trace.steps.len();
        let height = self.plan.height;
        // Zebra stripes behind the labels and texts, so each text reads against its row.
        svg.open_crisp_group("zebra");
        for index in (0..steps).filter(|&i| self.plan.text_stride == 1 && i % 2 == 1) {
            let y = top + index as f64 * height;
            svg.rect(columns.left, y, columns.map_x - columns.left, height, ZEBRA);
            svg.rect(
                columns.text_x - 4.0,
                y,
                columns.text_width + 4.0,
                height,
                ZEBRA,
            );
        }
        svg.close_group();
        for index in 0..steps {
            let y = top + index as f64 * height;
            self.draw_cells(svg, axis, index, y);
        }
        self.draw_named_events(svg, axis, top);
        svg.open_group("row-labels");
        for index in (0..steps).filter(|&i| self.plan.has_text(i)) {
            self.draw_labels(svg, columns, index, top + index as f64 * height);
        }
        svg.close_group();
        svg.open_group("step-texts");
        for index in (0..steps).filter(|&i| self.plan.has_text(i)) {
            self.draw_text(svg, columns, index, top + index as f64 * height);
        }
        svg.close_group();
        steps as f64 * height
    }

    /// Step `index`'s cells: one rectangle per run of cells of one colour level.
    fn draw_cells(&self, svg: &mut Svg, axis: &TimeAxis, index: usize, y: f64) {
        let map = &self.numbers.maps[index];
        let per_token = self.trace.audio.seconds_per_audio_token;
        let duration = self.trace.audio.duration_seconds;
        let top = f64::from(self.cell_max.max(1e-12));
        let mut runs: Vec<(f64, f64, u8)> = Vec::new();
        for (token, &value) in map.iter().enumerate() {
            let start = token as f64 * per_token;
            let end = ((token + 1) as f64 * per_token).min(duration);
            let Some((x0, x1)) = axis.span(start, end) else {
                continue;
            };
            let level = ((f64::from(value.max(0.0)) / top).min(1.0) as f32 * LEVELS).round() as u8;
            match runs.last_mut() {
                Some(run) if run.2 == level && (run.1 - x0).abs() < 1e-6 => run.1 = x1,
                _ => runs.push((x0, x1, level)),
            }
        }
        svg.open_crisp_group("heatmap-row");
        let cell_height = self.plan.height - self.plan.gap();
        let last = runs.len().saturating_sub(1);
        for (index, (x0, x1, level)) in runs.into_iter().enumerate() {
            let colour = hex(self.scale.rgb(f32::from(level) / LEVELS));
            let reach = if index < last { OVERLAP } else { 0.0 };
            svg.rect(x0, y, x1 - x0 + reach, cell_height, &colour);
        }
        svg.close_group();
    }

    /// An outline on each step's row over the span of the event it names.
    fn draw_named_events(&self, svg: &mut Svg, axis: &TimeAxis, top: f64) {
        let Some(truth) = self.truth else {
            return;
        };
        svg.open_group("named-events");
        let cell_height = self.plan.height - self.plan.gap();
        for (index, named) in self.numbers.named.iter().enumerate() {
            let Some(event) = named.and_then(|e| truth.events.get(e)) else {
                continue;
            };
            if let Some((x0, x1)) = axis.span(event.start, event.end) {
                let y = top + index as f64 * self.plan.height;
                let line = if cell_height >= 8.0 { 1.5 } else { 1.0 };
                let inset = line / 2.0;
                svg.outline(
                    x0 + inset,
                    y + inset,
                    (x1 - x0 - line).max(0.5),
                    (cell_height - line).max(0.5),
                    NAMED_OUTLINE,
                    line,
                );
            }
        }
        svg.close_group();
    }

    /// Index, kind letter, CAFE label and value, left of the row.
    fn draw_labels(&self, svg: &mut Svg, columns: &Columns, index: usize, y: f64) {
        let baseline = y + self.plan.height / 2.0 + SMALL_SIZE * 0.36;
        let style = TextStyle::new(SMALL_SIZE, INK);
        let x = columns.left;
        svg.text(
            x + 22.0,
            baseline,
            &index.to_string(),
            style.anchored(Anchor::End),
        );
        let kind = kind_letter(self.trace.steps[index].kind);
        svg.text(x + 29.0, baseline, kind, TextStyle::new(SMALL_SIZE, MUTED));
        if let Some(label) = self.numbers.labels[index] {
            svg.text(
                x + 42.0,
                baseline,
                label.short(),
                TextStyle::new(SMALL_SIZE, label_colour(label)).bold(),
            );
        }
        if let Some(value) = self.numbers.values[index] {
            svg.text(
                columns.map_x - 7.0,
                baseline,
                &format_value(value),
                style.anchored(Anchor::End),
            );
        }
    }

    /// The step's text beside its row, in as many lines as the row has.
    fn draw_text(&self, svg: &mut Svg, columns: &Columns, index: usize, y: f64) {
        let text = step_text(&self.trace.steps[index].text);
        let lines = match self.plan.text_stride {
            1 => wrap(&text, STEP_TEXT_SIZE, columns.text_width, self.plan.lines),
            _ => vec![truncate(&text, STEP_TEXT_SIZE, columns.text_width)],
        };
        let block = lines.len() as f64 * STEP_LINE;
        let first = y + (self.plan.height - block) / 2.0 + STEP_LINE * 0.78;
        for (i, line) in lines.iter().enumerate() {
            svg.text(
                columns.text_x,
                first + i as f64 * STEP_LINE,
                line,
                TextStyle::new(STEP_TEXT_SIZE, INK),
            );
        }
    }
}

/// The letter of a step's kind, as the inspector's step list shows it.
pub fn kind_letter(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Perception => "P",
        StepKind::Reasoning => "R",
        StepKind::Answer => "A",
        StepKind::Review => "V",
        StepKind::Other => "·",
    }
}

/// A CAFE label's colour: green for matched, red for hallucinated, amber for misused.
pub fn label_colour(label: CafeLabel) -> &'static str {
    match label {
        CafeLabel::Matched => "#2e7d32",
        CafeLabel::Hallucinated => "#c62828",
        CafeLabel::Misused => "#b26a00",
        CafeLabel::Neutral => "#7a7a7a",
    }
}

/// A step's value in the left column: three significant digits.
pub fn format_value(value: f32) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.01 || magnitude == 0.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.1e}")
    }
}
