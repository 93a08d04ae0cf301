//! The truth lane: the clip's ground-truth events as labelled spans on the time axis. A label
//! sits inside its span where it fits, else just after it; events go into as few lanes as keep
//! every label clear of the next span (at most `MAX_LANES`; past that a label is cut to its
//! span).

use super::layout::{TimeAxis, EVENT_FILL, EVENT_STROKE, INK, MUTED, SMALL_SIZE};
use super::svg::{Anchor, Svg, TextStyle};
use super::text::{truncate, width};
use crate::truth::Truth;

/// Lanes at most.
const MAX_LANES: usize = 4;
/// Height of one lane.
pub const LANE_HEIGHT: f64 = 16.0;
/// Labels' size, and their room inside a span's start.
const LABEL_SIZE: f64 = 10.0;
const PAD: f64 = 3.0;

/// An event placed in a lane.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedEvent {
    pub lane: usize,
    pub x0: f64,
    pub x1: f64,
    pub label: String,
    /// Where the label starts: inside the span, or after it.
    pub label_x: f64,
}

/// The visible events of `truth` in lanes, left to right.
pub fn place(truth: &Truth, axis: &TimeAxis) -> Vec<PlacedEvent> {
    let mut events: Vec<(f64, f64, &str)> = truth
        .events
        .iter()
        .filter_map(|e| {
            let (x0, x1) = axis.span(e.start, e.end)?;
            Some((x0, x1.max(x0 + 1.0), e.name.as_str()))
        })
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let right = axis.x + axis.width;
    // Where each lane is taken up to (its last span or label).
    let mut lanes: Vec<f64> = Vec::new();
    let mut placed = Vec::new();
    for (x0, x1, name) in events {
        let inside = width(name, LABEL_SIZE) + 2.0 * PAD <= x1 - x0;
        let (label_x, label) = if inside || x1 + PAD >= right - 20.0 {
            (
                x0 + PAD,
                truncate(name, LABEL_SIZE, (right - x0 - 2.0 * PAD).max(0.0)),
            )
        } else {
            (x1 + PAD, truncate(name, LABEL_SIZE, right - x1 - PAD))
        };
        let end = x1.max(label_x + width(&label, LABEL_SIZE) + 2.0 * PAD);
        let free = lanes.iter().position(|&taken| taken <= x0 + 0.5);
        let (lane, label_x, label, end) = match free {
            Some(lane) => (lane, label_x, label, end),
            None if lanes.len() < MAX_LANES => {
                lanes.push(0.0);
                (lanes.len() - 1, label_x, label, end)
            }
            None => {
                // Every lane is busy here: the lane free soonest, the label cut to the span.
                let lane = (0..lanes.len())
                    .min_by(|&a, &b| lanes[a].total_cmp(&lanes[b]))
                    .unwrap_or(0);
                let cut = truncate(name, LABEL_SIZE, (x1 - x0 - 2.0 * PAD).max(0.0));
                (lane, x0 + PAD, cut, x1)
            }
        };
        lanes[lane] = lanes[lane].max(end);
        placed.push(PlacedEvent {
            lane,
            x0,
            x1,
            label,
            label_x,
        });
    }
    placed
}

/// How many lanes `placed` takes.
pub fn lane_count(placed: &[PlacedEvent]) -> usize {
    placed.iter().map(|p| p.lane + 1).max().unwrap_or(0)
}

/// Draws the lane at `top`, its name in the label column (right-aligned at `label_right`);
/// returns its height.
pub fn draw(svg: &mut Svg, truth: &Truth, axis: &TimeAxis, label_right: f64, top: f64) -> f64 {
    let placed = place(truth, axis);
    let lanes = lane_count(&placed).max(1);
    svg.open_group("events");
    svg.text(
        label_right,
        top + 11.5,
        &format!("events ({})", truth.source_name()),
        TextStyle::new(SMALL_SIZE, MUTED).anchored(Anchor::End),
    );
    for event in &placed {
        let y = top + event.lane as f64 * LANE_HEIGHT;
        svg.boxed(
            (event.x0, y + 2.0, event.x1 - event.x0, LANE_HEIGHT - 4.0),
            EVENT_FILL,
            EVENT_STROKE,
        );
    }
    // Labels over every span, so a long one runs over white rather than under a later box.
    for event in &placed {
        let y = top + event.lane as f64 * LANE_HEIGHT;
        svg.text(
            event.label_x,
            y + 11.0,
            &event.label,
            TextStyle::new(LABEL_SIZE, INK),
        );
    }
    if placed.is_empty() {
        svg.text(
            axis.x,
            top + 11.5,
            "(no events in view)",
            TextStyle::new(SMALL_SIZE, MUTED).italic(),
        );
    }
    svg.close_group();
    lanes as f64 * LANE_HEIGHT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cafe::judge::{Caption, CaptionEvent};

    fn truth(spans: &[(&str, f32, f32)]) -> Truth {
        Truth::from_caption(&Caption {
            caption: String::new(),
            events: Some(
                spans
                    .iter()
                    .map(|&(name, start, end)| CaptionEvent {
                        name: name.into(),
                        span: Some((start, end)),
                    })
                    .collect(),
            ),
        })
        .unwrap()
    }

    #[test]
    fn labels_never_overlap_the_next_span_in_their_lane() {
        let axis = TimeAxis {
            from: 0.0,
            to: 4.0,
            x: 0.0,
            width: 400.0,
        };
        // Short spans with long names, back to back: they alternate lanes.
        let placed = place(
            &truth(&[
                ("a rather long first name", 0.0, 0.5),
                ("a second long name here", 0.5, 1.0),
                ("third", 2.0, 2.5),
                ("off screen", 5.0, 6.0),
            ]),
            &axis,
        );
        assert_eq!(placed.len(), 3);
        assert_eq!(placed[0].lane, 0);
        assert_eq!(placed[1].lane, 1);
        assert_eq!(placed[2].lane, 0, "{placed:?}");
        assert!(placed.iter().all(|p| !p.label.contains('…')), "{placed:?}");
        for pair in placed.windows(2).filter(|w| w[0].lane == w[1].lane) {
            let end = pair[0].label_x + width(&pair[0].label, LABEL_SIZE);
            assert!(end <= pair[1].x0, "{pair:?}");
        }
        // A name too long for its span follows it; a short one sits inside.
        assert_eq!(placed[0].label_x, placed[0].x1 + PAD);
        let wide = place(&truth(&[("hum", 0.0, 2.0)]), &axis);
        assert_eq!(wide[0].label_x, wide[0].x0 + PAD);
    }
}
