//! Where the two sides of a comparison go. Narrow screens stack them: one spectrogram, time axis
//! and event lane, then A's heatmap under a title row and B's under another, over the same time
//! columns; the step panel shows the side in focus beside one decay chart with both curves. Wide
//! screens put them side by side: each half has its own strip, axis, lane, titled heatmap and
//! step panel, over the same part of the clip; the decay chart keeps its place.

use ratatui::layout::{Constraint, Layout, Rect};

use super::Regions;

/// From this width of the view (the docked list aside) the two sides stand side by side.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 140;

/// Where B goes, and the title rows naming each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComparePanes {
    /// A's and B's title rows (answer, CAFE counts), each over its heatmap.
    pub titles: [Rect; 2],
    /// B's heatmap (A's is `Regions::heatmap`).
    pub heatmap: Rect,
    /// Side by side, B's own strip, axis, lane and step panel; stacked, B shares A's.
    pub beside: Option<PaneBeside>,
}

/// B's parts of the screen when the sides stand side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneBeside {
    pub strip: Rect,
    pub axis: Rect,
    pub events: Option<Rect>,
    pub step_panel: Rect,
}

impl ComparePanes {
    /// B's regions: A's with B's parts in place (stacked, B's heatmap under A's time axis).
    pub fn other_regions(&self, regions: &Regions) -> Regions {
        let mut other = Regions {
            heatmap: self.heatmap,
            occlusion: None,
            compare: None,
            ..*regions
        };
        if let Some(beside) = self.beside {
            other.strip = beside.strip;
            other.axis = beside.axis;
            other.events = beside.events;
            other.step_panel = beside.step_panel;
        }
        other
    }
}

/// Shrinks A's parts in `regions` to make room for B's, and says where B's go.
/// `steps`: A's and B's step counts (stacked, a side with few steps leaves its rows to the
/// other).
pub(super) fn split(regions: &mut Regions, view_width: u16, steps: [usize; 2]) {
    regions.occlusion = None;
    let panes = if view_width >= SIDE_BY_SIDE_MIN_WIDTH {
        side_by_side(regions)
    } else {
        stacked(regions, steps)
    };
    regions.compare = Some(panes);
}

fn stacked(regions: &mut Regions, steps: [usize; 2]) -> ComparePanes {
    let area = regions.heatmap;
    let rows = area.height.saturating_sub(2);
    let fits = |side: usize| u16::try_from(steps[side].max(1)).unwrap_or(u16::MAX);
    // Half each, unless one side needs fewer rows than that.
    let a_rows = (rows / 2)
        .max(rows.saturating_sub(fits(1)))
        .min(fits(0))
        .min(rows);
    let [title_a, heatmap_a, title_b, heatmap_b] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(a_rows),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    regions.heatmap = heatmap_a;
    ComparePanes {
        titles: [title_a, title_b],
        heatmap: heatmap_b,
        beside: None,
    }
}

fn side_by_side(regions: &mut Regions) -> ComparePanes {
    let halves = |area: Rect| -> [Rect; 2] {
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
            .spacing(1)
            .areas(area)
    };
    let [strip_a, strip_b] = halves(regions.strip);
    let [axis_a, axis_b] = halves(regions.axis);
    let [heat_a, heat_b] = halves(regions.heatmap);
    let [panel_a, panel_b] = halves(regions.step_panel);
    let events = regions.events.map(halves);
    let title = |area: Rect| -> [Rect; 2] {
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area)
    };
    let [title_a, heat_a] = title(heat_a);
    let [title_b, heat_b] = title(heat_b);
    regions.strip = strip_a;
    regions.axis = axis_a;
    regions.events = events.map(|[a, _]| a);
    regions.heatmap = heat_a;
    regions.step_panel = panel_a;
    ComparePanes {
        titles: [title_a, title_b],
        heatmap: heat_b,
        beside: Some(PaneBeside {
            strip: strip_b,
            axis: axis_b,
            events: events.map(|[_, b]| b),
            step_panel: panel_b,
        }),
    }
}
