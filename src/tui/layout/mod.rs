//! Where each part of the screen goes, for a terminal size. Rendering and mouse hit-testing both
//! ask this one function, so a click always lands on what was drawn there.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;

use super::state::{HeatmapMode, Inspector};

mod compare;
pub use compare::{ComparePanes, PaneBeside, SIDE_BY_SIDE_MIN_WIDTH};

/// Below this the inspector says so instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// Width of the heatmap's left column (step, kind, value, bar, CAFE tag).
pub const LEFT_COLUMN: u16 = 24;
/// From this width on, the example list of a traces file docks at the left.
pub const DOCK_MIN_WIDTH: u16 = 140;
const DOCKED_LIST_WIDTH: u16 = 40;

/// Whether the example list docks beside the view at this width.
pub fn list_docks(width: u16, examples: usize) -> bool {
    examples > 1 && width >= DOCK_MIN_WIDTH
}

/// The screen's parts. `strip`, `axis`, `events`, `heatmap` and `occlusion` share their
/// columns: the clip's time runs over `x ≥ left + LEFT_COLUMN` in all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    pub header: Rect,
    pub strip: Rect,
    pub axis: Rect,
    /// The clip's ground-truth events as labelled spans, one row under the time axis (when the
    /// example has them and the heatmap rows to spare).
    pub events: Option<Rect>,
    pub heatmap: Rect,
    /// The selected step's occlusion strip, one row under the attention heatmap (when the trace
    /// has occlusion and the heatmap rows to spare).
    pub occlusion: Option<Rect>,
    pub step_panel: Rect,
    pub decay: Option<Rect>,
    pub status: Rect,
    /// The example list, docked or as a pop-up over the rest.
    pub list: Option<Rect>,
    pub list_is_popup: bool,
    /// Comparing two traces: where B goes (A keeps the fields above, its heatmap shrunk).
    pub compare: Option<ComparePanes>,
}

impl Regions {
    /// The columns of the time axis (shared by strip, axis, heatmap and occlusion).
    pub fn time_columns(&self) -> Rect {
        let x = self.heatmap.x + LEFT_COLUMN;
        Rect {
            x,
            width: self.heatmap.right().saturating_sub(x),
            ..self.heatmap
        }
    }
}

/// The area the intervention view covers: everything between the header and the status line.
pub fn comparison_area(regions: &Regions) -> Rect {
    Rect {
        x: regions.header.x,
        y: regions.strip.y,
        width: regions.header.width,
        height: regions.status.y.saturating_sub(regions.strip.y),
    }
}

/// The parts for `area`, or `None` when it is too small to draw.
pub fn regions(state: &Inspector, area: Rect) -> Option<Regions> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let docked = list_docks(area.width, state.examples.len()) && state.list_open;
    let (list, main) = if docked {
        let [list, main] =
            Layout::horizontal([Constraint::Length(DOCKED_LIST_WIDTH), Constraint::Min(0)])
                .areas(area);
        (Some(list), main)
    } else {
        (None, area)
    };
    let h = main.height;
    // The question with its choices on one line, or on two when they do not fit.
    let header = match state.example() {
        Some(example) => {
            let line = Line::from(format!(
                "{}  {}",
                example.question(),
                example.choices_line()
            ));
            if line.width() > usize::from(main.width) && !example.trace.prompt.choices.is_empty() {
                4
            } else {
                3
            }
        }
        None => 3,
    };
    let strip = match h {
        0..20 => 1,
        20..30 => 2,
        30..45 => 4,
        _ => 6,
    };
    let bottom = match h {
        0..20 => 3,
        20..30 => 7,
        _ => h * 3 / 10,
    };
    let [header, strip, axis, heatmap, bottom, status] = Layout::vertical([
        Constraint::Length(header),
        Constraint::Length(strip),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(bottom),
        Constraint::Length(1),
    ])
    .areas(main);
    let has_truth = state.example().is_some_and(|e| e.truth.is_some());
    let (events, heatmap) = if has_truth && heatmap.height >= 5 {
        let [events, heatmap] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(heatmap);
        (Some(events), heatmap)
    } else {
        (None, heatmap)
    };
    let show_occlusion = state.heatmap == HeatmapMode::Attention
        && state.has_occlusion()
        && state.comparison.is_none();
    let (heatmap, occlusion) = if show_occlusion && heatmap.height >= 5 {
        let [heatmap, occlusion] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(heatmap);
        (heatmap, Some(occlusion))
    } else {
        (heatmap, None)
    };
    let (step_panel, decay) = if bottom.height >= 6 && main.width >= 72 {
        let decay_width = (main.width * 2 / 5).clamp(30, 64);
        let [text, chart] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(decay_width)]).areas(bottom);
        (text, Some(chart))
    } else {
        (bottom, None)
    };
    let popup = state.list_open && !docked && state.examples.len() > 1;
    let list = if popup {
        let width = area.width.saturating_sub(4).min(90);
        let rows = u16::try_from(state.examples.len())
            .unwrap_or(u16::MAX)
            .saturating_add(3);
        let height = rows.min(area.height.saturating_sub(4));
        Some(Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + (area.height - height) / 2,
            width,
            height,
        })
    } else {
        list
    };
    let mut regions = Regions {
        header,
        strip,
        axis,
        events,
        heatmap,
        occlusion,
        step_panel,
        decay,
        status,
        list,
        list_is_popup: popup,
        compare: None,
    };
    if state.comparison.is_some() {
        let steps_of = |e: Option<&super::state::Example>| e.map_or(0, |e| e.trace.steps.len());
        let steps = [steps_of(state.example()), steps_of(state.partner())];
        compare::split(&mut regions, main.width, steps);
    }
    Some(regions)
}

/// The list row the list marks (the pop-up's cursor, or the current example when docked) and
/// the first row shown when `rows` fit.
pub fn list_rows(state: &Inspector, visible: &[usize], popup: bool, rows: usize) -> (usize, usize) {
    let marked = if popup {
        state.list_cursor
    } else {
        visible
            .iter()
            .position(|&i| i == state.current)
            .unwrap_or(0)
    };
    (marked, marked.saturating_sub(rows.saturating_sub(1)))
}

/// The first step row shown when `rows` fit and `selected` must be visible.
pub fn first_visible_step(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

/// The clip time at the centre of `column` (0-based within `width` time columns), in seconds.
pub fn column_time(view: (f64, f64), duration: f64, width: u16, column: u16) -> f64 {
    let fraction = view.0 + (view.1 - view.0) * (f64::from(column) + 0.5) / f64::from(width.max(1));
    fraction * duration
}

/// The time column showing `seconds`, if it is in view.
pub fn time_column(view: (f64, f64), duration: f64, width: u16, seconds: f64) -> Option<u16> {
    if duration <= 0.0 {
        return None;
    }
    let fraction = seconds / duration;
    if fraction < view.0 || fraction > view.1 {
        return None;
    }
    let column = ((fraction - view.0) / (view.1 - view.0) * f64::from(width)) as u16;
    Some(column.min(width.saturating_sub(1)))
}
