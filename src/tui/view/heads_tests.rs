//! Snapshots of the heads view (`H`) at 80×24 and 160×48: ranked by the peak in the named event
//! (the tones example with its clip's events from captions), and by the audio ratio alone when
//! per-head maps were not captured.

use super::tests::{draw, events_state, state, styled, text};
use super::*;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn heads_views() -> Vec<(&'static str, Inspector)> {
    let mut by_peak = events_state();
    by_peak.update(Action::ToggleHeadsView);
    by_peak.update(Action::NextStep);
    let mut by_ratio = state();
    by_ratio.examples[0].attention.as_mut().unwrap().head_maps = None;
    by_ratio.update(Action::ToggleHeadsView);
    for _ in 0..17 {
        by_ratio.update(Action::NextStep);
    }
    vec![("heads", by_peak), ("heads-no-head-maps", by_ratio)]
}

#[test]
fn snapshots_of_the_heads_view() {
    for (name, state) in heads_views() {
        assert!(state.heads_view.is_some(), "{name}: {:?}", state.message);
        for (width, height) in [(80, 24), (160, 48)] {
            let buf = draw(&state, Palette::Monochrome, width, height);
            snapshot!(format!("{name}-{width}x{height}-text"), text(&buf));
        }
        snapshot!(
            format!("{name}-80x24-truecolor-styles"),
            styled(&draw(&state, Palette::TrueColor, 80, 24))
        );
    }
}

#[test]
fn the_chosen_head_is_marked_when_the_view_opens_again() {
    let mut state = events_state();
    state.update(Action::ToggleHeadsView);
    state.update(Action::NextStep);
    state.update(Action::Open);
    state.update(Action::ToggleHeadsView);
    let screen = text(&draw(&state, Palette::Monochrome, 80, 24));
    let marked: Vec<&str> = screen.lines().filter(|l| l.contains('•')).collect();
    assert_eq!(marked.len(), 1, "{screen}");
    assert!(marked[0].contains("   2 "), "the second head: {screen}");
}
