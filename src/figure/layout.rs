//! Where things go: the figure's columns (row labels, heatmap, step texts), the time axis that
//! maps seconds to x, how tall a heatmap row is and how many lines of its step's text fit, and
//! the figure's colours and type sizes. Everything that draws takes its positions from here.

/// Margin around the figure.
pub const MARGIN: f64 = 20.0;
/// Width of the row labels left of the heatmap (index, kind, CAFE label, value).
pub const LABEL_WIDTH: f64 = 128.0;
/// Space between the heatmap and the step texts.
pub const GUTTER: f64 = 14.0;
/// Share of the room right of the labels that the heatmap takes (the step texts the rest).
pub const HEATMAP_SHARE: f64 = 0.52;

/// Type sizes.
pub const TITLE_SIZE: f64 = 15.0;
pub const BODY_SIZE: f64 = 12.0;
pub const SMALL_SIZE: f64 = 10.5;
/// Step texts, and the height of one of their lines.
pub const STEP_TEXT_SIZE: f64 = 11.0;
pub const STEP_LINE: f64 = 13.0;

/// Colours.
pub const INK: &str = "#1a1a1a";
pub const MUTED: &str = "#5f5f5f";
pub const RULE: &str = "#b0b0b0";
pub const ZEBRA: &str = "#f3f3f3";
pub const RIGHT: &str = "#2e7d32";
pub const WRONG: &str = "#c62828";
pub const EVENT_FILL: &str = "#dce8f5";
pub const EVENT_STROKE: &str = "#4a78a8";
/// The outline on a heatmap row over the event the step names.
pub const NAMED_OUTLINE: &str = "#ffffff";
/// Each panel's colour in the decay chart and its header.
pub const PANEL_COLOURS: [&str; 2] = ["#1f5fa8", "#d4561c"];

/// Heatmap rows: at most this tall (two lines of step text), at least this tall.
const ROW_MAX: f64 = 30.0;
const ROW_MIN: f64 = 2.0;
/// How tall a panel's heatmap may grow before its rows get thinner.
pub const HEATMAP_MAX_HEIGHT: f64 = 600.0;

/// The figure's columns, left to right, in SVG pixels (whole pixels, so cells meet cleanly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Columns {
    pub width: f64,
    pub left: f64,
    pub map_x: f64,
    pub map_width: f64,
    pub text_x: f64,
    pub text_width: f64,
    pub right: f64,
}

impl Columns {
    pub fn new(width: f64) -> Self {
        let left = MARGIN;
        let right = (width - MARGIN).round();
        let map_x = left + LABEL_WIDTH;
        let map_width = ((right - map_x - GUTTER) * HEATMAP_SHARE).round();
        let text_x = map_x + map_width + GUTTER;
        Columns {
            width,
            left,
            map_x,
            map_width,
            text_x,
            text_width: right - text_x,
            right,
        }
    }

    /// The width everything left of the step texts spans (labels and heatmap).
    pub fn full_width(&self) -> f64 {
        self.right - self.left
    }
}

/// Seconds of the clip on the heatmap's x range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    /// The seconds at the left and right edges.
    pub from: f64,
    pub to: f64,
    pub x: f64,
    pub width: f64,
}

impl TimeAxis {
    /// The x of `seconds` (outside the edges for times out of view).
    pub fn x_of(&self, seconds: f64) -> f64 {
        self.x + (seconds - self.from) / (self.to - self.from) * self.width
    }

    /// The x range of `[start, end)` seconds clipped to the view, if any of it is in view.
    pub fn span(&self, start: f64, end: f64) -> Option<(f64, f64)> {
        let (start, end) = (start.max(self.from), end.min(self.to));
        (end > start).then(|| (self.x_of(start), self.x_of(end)))
    }

    /// The seconds at `x`.
    pub fn seconds_at(&self, x: f64) -> f64 {
        self.from + (x - self.x) / self.width * (self.to - self.from)
    }
}

/// How a panel's heatmap rows are drawn: their height, how many lines of step text each gets
/// (0: too thin for text), and which rows get a text (every `text_stride`-th).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowPlan {
    pub height: f64,
    pub lines: usize,
    pub text_stride: usize,
}

impl RowPlan {
    /// Rows for `steps` steps in at most `HEATMAP_MAX_HEIGHT`: two lines of text each while
    /// that fits, then one, then thinner rows with every few steps' text (their labels too).
    pub fn for_steps(steps: usize) -> Self {
        let height = (HEATMAP_MAX_HEIGHT / steps.max(1) as f64).clamp(ROW_MIN, ROW_MAX);
        let lines = (((height - 3.0) / STEP_LINE).floor().max(0.0) as usize).min(2);
        let text_stride = match lines {
            0 => (STEP_LINE / height).ceil() as usize,
            _ => 1,
        };
        RowPlan {
            height,
            lines: lines.max(1),
            text_stride,
        }
    }

    /// Whether step `index`'s row has its labels and text written beside it.
    pub fn has_text(&self, index: usize) -> bool {
        index.is_multiple_of(self.text_stride)
    }

    /// The gap under each row's cells (none when rows are thin).
    pub fn gap(&self) -> f64 {
        if self.height >= 10.0 {
            1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_thin_out_and_texts_space_out_with_many_steps() {
        let few = RowPlan::for_steps(12);
        assert_eq!((few.height, few.lines, few.text_stride), (30.0, 2, 1));
        let more = RowPlan::for_steps(40);
        assert_eq!((more.height, more.lines, more.text_stride), (15.0, 1, 1));
        let many = RowPlan::for_steps(200);
        assert_eq!((many.height, many.lines), (3.0, 1));
        assert_eq!(many.text_stride, 5);
        assert!(many.has_text(10) && !many.has_text(11));
    }

    #[test]
    fn the_axis_maps_seconds_to_x_and_clips_spans() {
        let axis = TimeAxis {
            from: 1.0,
            to: 3.0,
            x: 100.0,
            width: 200.0,
        };
        assert_eq!(axis.x_of(2.0), 200.0);
        assert_eq!(axis.span(0.0, 1.5), Some((100.0, 150.0)));
        assert_eq!(axis.span(3.5, 4.0), None);
        assert_eq!(axis.seconds_at(300.0), 3.0);
        let columns = Columns::new(1200.0);
        assert!(columns.text_x > columns.map_x + columns.map_width);
        assert_eq!(columns.text_x + columns.text_width, columns.right);
    }
}
