//! Under the panels, left: the colour bar of the heatmap's one scale (0 to the largest cell of
//! every panel), with round ticks, and the key to the row labels: CAFE labels, step kinds and
//! the outline of the event a step names.

use super::heatmap::label_colour;
use super::layout::{Columns, INK, MUTED, NAMED_OUTLINE, RULE, SMALL_SIZE};
use super::svg::{hex, Anchor, Span, Svg, TextStyle};
use super::ticks;
use crate::colour_scale::ColourScale;
use crate::trace::CafeLabel;

/// Height of the bar itself.
const BAR_HEIGHT: f64 = 12.0;
/// Slices the bar is drawn in.
const SLICES: usize = 128;

/// Draws the bar and the key from `top`; returns their height.
pub fn draw(
    svg: &mut Svg,
    scale: ColourScale,
    cell_max: f32,
    has_events: bool,
    columns: &Columns,
    top: f64,
) -> f64 {
    let (x, width) = (columns.map_x, columns.map_width);
    let mut y = top + 10.0;
    svg.open_group("colour-bar");
    svg.text(
        x,
        y,
        "heatmap: a step's mean share of attention on each audio token (one scale for the figure)",
        TextStyle::new(SMALL_SIZE, MUTED),
    );
    y += 5.0;
    svg.open_crisp_group("colour-bar-slices");
    for slice in 0..SLICES {
        let level = slice as f32 / (SLICES - 1) as f32;
        let x0 = x + width * slice as f64 / SLICES as f64;
        let x1 = x + width * (slice + 1) as f64 / SLICES as f64;
        svg.rect(x0, y, x1 - x0, BAR_HEIGHT, &hex(scale.rgb(level)));
    }
    svg.close_group();
    svg.outline(x, y, width, BAR_HEIGHT, RULE, 0.6);
    let top_value = f64::from(cell_max);
    let step = ticks::tick_step(top_value, 5);
    let style = TextStyle::new(SMALL_SIZE, INK).anchored(Anchor::Middle);
    for tick in ticks::ticks(0.0, top_value, 5) {
        let tick_x = x + width * tick / top_value.max(1e-12);
        svg.line(
            (tick_x, y + BAR_HEIGHT),
            (tick_x, y + BAR_HEIGHT + 4.0),
            INK,
            1.0,
        );
        svg.text(
            tick_x,
            y + BAR_HEIGHT + 14.0,
            &ticks::label(tick, step),
            style,
        );
    }
    svg.text(
        columns.map_x - 7.0,
        y + BAR_HEIGHT - 2.0,
        scale.name(),
        TextStyle::new(SMALL_SIZE, MUTED).anchored(Anchor::End),
    );
    svg.close_group();
    y += BAR_HEIGHT + 34.0;
    svg.open_group("key");
    let mut spans = vec![Span::plain("CAFE: ")];
    for label in [
        CafeLabel::Matched,
        CafeLabel::Hallucinated,
        CafeLabel::Misused,
        CafeLabel::Neutral,
    ] {
        spans.push(Span::coloured(label.short(), label_colour(label)).bold());
        spans.push(Span::plain(format!(" {}   ", label.name())));
    }
    svg.spans(columns.left, y, &spans, TextStyle::new(SMALL_SIZE, INK));
    y += 16.0;
    svg.text(
        columns.left,
        y,
        "kinds: P perception   R reasoning   A answer   V review   · other",
        TextStyle::new(SMALL_SIZE, INK),
    );
    if has_events {
        y += 16.0;
        let swatch = hex(scale.rgb(0.15));
        svg.rect(columns.left, y - 9.0, 22.0, 11.0, &swatch);
        svg.outline(columns.left + 0.75, y - 8.25, 20.5, 9.5, NAMED_OUTLINE, 1.5);
        svg.text(
            columns.left + 28.0,
            y,
            "outline on a row: the truth event that step names",
            TextStyle::new(SMALL_SIZE, INK),
        );
    }
    svg.close_group();
    y + 8.0 - top
}
