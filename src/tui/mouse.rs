//! The mouse: what is under a click or the wheel, found with the same layout the view draws, so
//! the state only ever sees a `Pointer` (a step, a cell, an example), never coordinates. Clicks
//! select steps (their rows), cells and moments of the clip (the heatmap, the strip, the axis,
//! the occlusion strip) and examples (the list), and in a comparison B's steps (its heatmap); the
//! wheel moves through steps, or through the list under it.

use ratatui::layout::{Position, Rect};

use super::action::Pointer;
use super::layout::{column_time, first_visible_step, list_rows, regions};
use super::state::Inspector;

/// A mouse event the inspector answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    Click { column: u16, row: u16 },
    Wheel { down: bool, column: u16, row: u16 },
}

/// What the pointer is on, for a screen of size `area`.
pub fn pointer_for(state: &Inspector, area: Rect, mouse: Mouse) -> Option<Pointer> {
    let regions = regions(state, area)?;
    if state.help {
        return None; // the help covers the view; a key closes it
    }
    let example = state.example()?;
    let (column, row, wheel) = match mouse {
        Mouse::Click { column, row } => (column, row, None),
        Mouse::Wheel { down, column, row } => (column, row, Some(down)),
    };
    let at = Position::new(column, row);
    if let Some(list) = regions.list.filter(|l| l.contains(at)) {
        if let Some(down) = wheel {
            return Some(Pointer::Scroll {
                down,
                in_list: true,
            });
        }
        let visible = state.visible_examples();
        // Rows are inside the border; a click on the border itself selects nothing.
        let inner = Rect {
            x: list.x + 1,
            y: list.y + 1,
            width: list.width.saturating_sub(2),
            height: list.height.saturating_sub(2),
        };
        if !inner.contains(at) {
            return None;
        }
        let inner_row = (row - inner.y) as usize;
        let rows = inner.height as usize;
        let (_, first) = list_rows(state, &visible, regions.list_is_popup, rows);
        return visible
            .get(first + inner_row)
            .map(|&i| Pointer::SelectExample(i));
    }
    if (regions.list_is_popup && regions.list.is_some())
        || state.comparing
        || state.heads_view.is_some()
    {
        return None; // the pop-up, the intervention view or the heads view covers the view
    }
    if let Some(down) = wheel {
        return Some(Pointer::Scroll {
            down,
            in_list: false,
        });
    }
    if let (Some(panes), Some(comparison)) = (regions.compare, &state.comparison) {
        if panes.heatmap.contains(at) && state.partner().is_some() {
            let other = &comparison.other;
            let first = first_visible_step(other.step, panes.heatmap.height as usize);
            let step = first + (row - panes.heatmap.y) as usize;
            return (step < other.example()?.trace.steps.len())
                .then_some(Pointer::SelectOtherStep(step));
        }
    }
    let time_columns = regions.time_columns();
    let duration = example.trace.audio.duration_seconds;
    let time_at =
        |x: u16| column_time(state.view, duration, time_columns.width, x - time_columns.x);
    if regions.heatmap.contains(at) {
        let first = first_visible_step(state.step, regions.heatmap.height as usize);
        let step = first + (row - regions.heatmap.y) as usize;
        if step >= example.trace.steps.len() {
            return None;
        }
        return Some(if column >= time_columns.x {
            Pointer::SelectCell {
                step: Some(step),
                seconds: time_at(column),
            }
        } else {
            Pointer::SelectStep(step)
        });
    }
    let on_lane = regions.occlusion.is_some_and(|r| r.contains(at))
        || regions.events.is_some_and(|r| r.contains(at));
    let on_timeline = regions.strip.contains(at) || regions.axis.contains(at) || on_lane;
    if on_timeline && column >= time_columns.x {
        return Some(Pointer::SelectCell {
            step: None,
            seconds: time_at(column),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::{example_trace, tones_spec};
    use crate::tui::state::{Effect, Example};

    fn state() -> Inspector {
        let (trace, arrays) = example_trace(&tones_spec());
        Inspector::new(vec![Example::new(trace, Some(arrays.generated))])
    }

    #[test]
    fn a_click_on_a_heatmap_cell_selects_its_step_and_seeks_to_its_time() {
        let mut s = state();
        let area = Rect::new(0, 0, 80, 24);
        let regions = regions(&s, area).unwrap();
        let time = regions.time_columns();
        // Third heatmap row, three quarters along the time axis.
        let click = Mouse::Click {
            column: time.x + time.width * 3 / 4,
            row: regions.heatmap.y + 2,
        };
        let pointer = pointer_for(&s, area, click).unwrap();
        let Pointer::SelectCell {
            step: Some(2),
            seconds,
        } = pointer
        else {
            panic!("{pointer:?}");
        };
        assert!((seconds - 0.75 * 3.5).abs() < 0.1, "{seconds}");
        assert_eq!(s.point(pointer), Effect::Seek(seconds));
        assert_eq!(s.step, 2);
        // The left column selects without seeking; the wheel moves by steps.
        let left = Mouse::Click {
            column: 2,
            row: regions.heatmap.y + 4,
        };
        assert_eq!(pointer_for(&s, area, left), Some(Pointer::SelectStep(4)));
        let wheel = Mouse::Wheel {
            down: true,
            column: 40,
            row: 10,
        };
        let pointer = pointer_for(&s, area, wheel).unwrap();
        s.point(pointer);
        assert_eq!(s.step, 3);
        // The header is not clickable.
        assert_eq!(
            pointer_for(&s, area, Mouse::Click { column: 5, row: 0 }),
            None
        );
    }

    /// The occlusion strip under the heatmap is on the time axis: a click there seeks; with the
    /// intervention view over the heatmap, clicks select nothing under it.
    #[test]
    fn a_click_on_the_occlusion_strip_seeks_and_the_intervention_view_covers_the_rest() {
        use crate::model::Counterfactual;
        use crate::tui::state::evidence_fixture::{with_evidence, INTERVENED_STEP};
        let (trace, arrays) = example_trace(&tones_spec());
        let example = Example::new(trace, Some(arrays.generated));
        let example = with_evidence(example, &[Counterfactual::Silence], true);
        let mut s = Inspector::new(vec![example]);
        let area = Rect::new(0, 0, 80, 24);
        let parts = regions(&s, area).unwrap();
        let strip = parts.occlusion.expect("the occlusion strip");
        let time = parts.time_columns();
        let click = Mouse::Click {
            column: time.x + time.width / 2,
            row: strip.y,
        };
        let Some(Pointer::SelectCell {
            step: None,
            seconds,
        }) = pointer_for(&s, area, click)
        else {
            panic!("{:?}", pointer_for(&s, area, click));
        };
        assert!((seconds - 0.5 * 3.5).abs() < 0.1, "{seconds}");
        s.step = INTERVENED_STEP;
        s.comparing = true;
        assert_eq!(pointer_for(&s, area, click), None);
        let cell = Mouse::Click {
            column: time.x + 3,
            row: parts.heatmap.y,
        };
        assert_eq!(pointer_for(&s, area, cell), None);
    }

    #[test]
    fn clicks_on_the_list_open_rows_not_borders_and_nothing_through_help() {
        let spec = tones_spec();
        let examples = (0..3)
            .map(|i| {
                let (mut trace, arrays) = example_trace(&spec);
                trace.id = format!("example-{i}");
                Example::new(trace, Some(arrays.generated))
            })
            .collect();
        let mut s = Inspector::new(examples);
        let area = Rect::new(0, 0, 80, 24);
        let list = regions(&s, area).unwrap().list.expect("a pop-up list");
        let click = |row| Mouse::Click {
            column: list.x + 5,
            row,
        };
        assert_eq!(
            pointer_for(&s, area, click(list.y + 2)),
            Some(Pointer::SelectExample(1))
        );
        assert_eq!(pointer_for(&s, area, click(list.y)), None, "top border");
        assert_eq!(
            pointer_for(&s, area, click(list.bottom() - 1)),
            None,
            "bottom border"
        );
        let side = Mouse::Click {
            column: list.x,
            row: list.y + 1,
        };
        assert_eq!(pointer_for(&s, area, side), None, "side border");
        assert_eq!(
            pointer_for(&s, area, click(list.y + 5)),
            None,
            "below the last row"
        );
        // Outside the pop-up nothing is under the pointer (the pop-up covers the view).
        let outside = Mouse::Click { column: 0, row: 23 };
        assert_eq!(pointer_for(&s, area, outside), None);
        // With the help over it, a click does nothing.
        s.list_open = false;
        s.help = true;
        let regions = regions(&s, area).unwrap();
        let cell = Mouse::Click {
            column: regions.time_columns().x + 3,
            row: regions.heatmap.y,
        };
        assert_eq!(pointer_for(&s, area, cell), None);
        s.help = false;
        assert!(pointer_for(&s, area, cell).is_some());
    }
}
