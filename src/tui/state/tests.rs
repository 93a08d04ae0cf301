//! The update function, tested without a terminal: state in, action in, state out.

use super::clip_view::MIN_VIEW;
use super::*;
use crate::example_traces::{example_trace, tones_spec};
use crate::trace::CafeLabel;

fn inspector() -> Inspector {
    let (trace, arrays) = example_trace(&tones_spec());
    let (other, other_arrays) = example_trace(&tones_spec());
    let mut state = Inspector::new(vec![
        Example::new(trace, Some(arrays.generated)),
        Example::new(other, Some(other_arrays.generated)),
    ]);
    state.list_open = false;
    state
}

#[test]
fn steps_and_examples() {
    let mut state = inspector();
    state.update(Action::PreviousStep);
    assert_eq!(state.step, 0);
    state.update(Action::LastStep);
    assert_eq!(state.step, 11);
    state.update(Action::NextStep);
    assert_eq!(state.step, 11, "stays on the last step");
    state.update(Action::NextExample);
    assert_eq!((state.current, state.step), (1, 0));
    state.update(Action::NextExample);
    assert_eq!(state.current, 0, "wraps");
    state.update(Action::PreviousExample);
    assert_eq!(state.current, 1);
}

#[test]
fn layers_heads_and_metrics_cycle() {
    let mut state = inspector();
    let layers: Vec<Layers> = (0..6)
        .map(|_| {
            state.update(Action::NextLayer);
            state.layers
        })
        .collect();
    use Layers::*;
    assert_eq!(layers, vec![One(0), One(1), One(2), One(3), All, One(0)]);
    state.update(Action::PreviousLayer);
    assert_eq!(state.layers, All);
    state.update(Action::PreviousLayer);
    assert_eq!(state.layers, One(3));
    assert_eq!(state.selection().layers, vec![3]);
    let bands: Vec<Vec<usize>> = (0..4)
        .map(|_| {
            state.update(Action::NextLayerBand);
            state.selection().layers
        })
        .collect();
    // 4 layers in thirds: [0], [1], [2, 3], then all.
    assert_eq!(bands, vec![vec![0], vec![1], vec![2, 3], vec![]]);
    assert_eq!(Band(2).describe(4), "layers 2–3");
    assert_eq!(Band(0).describe(30), "layers 0–9");

    let heads: Vec<Heads> = (0..6)
        .map(|_| {
            state.update(Action::NextHeads);
            state.heads
        })
        .collect();
    assert_eq!(
        heads,
        vec![
            Heads::Max,
            Heads::One(0),
            Heads::One(1),
            Heads::One(2),
            Heads::One(3),
            Heads::Mean
        ]
    );
    state.update(Action::NextMetric);
    assert_eq!(state.metric, StepMetric::Attention(Metric::SinkCorrected));
    state.update(Action::NextMetric);
    state.update(Action::NextMetric);
    assert_eq!(state.metric, StepMetric::Attention(Metric::Ratio));
    state.update(Action::NextColourScale);
    assert_eq!(state.scale, ColourScale::Magma);
}

#[test]
fn zoom_and_pan_stay_inside_the_clip() {
    let mut state = inspector();
    state.view = (0.25, 0.75);
    state.update(Action::PanLeft);
    assert_eq!(state.view, (0.125, 0.625));
    for _ in 0..10 {
        state.update(Action::PanLeft);
    }
    assert_eq!(state.view, (0.0, 0.5));
    for _ in 0..20 {
        state.update(Action::ZoomIn);
    }
    assert!((state.view.1 - state.view.0 - MIN_VIEW).abs() < 1e-12);
    assert!(state.view.0 >= 0.0);
    for _ in 0..20 {
        state.update(Action::ZoomOut);
    }
    assert_eq!(state.view, (0.0, 1.0));
}

/// `+` zooms about what the user is looking at: the selected step's window before anything
/// has played, the playhead after; it stays where it was on screen, and comes back into view
/// when it was panned off.
#[test]
fn zoom_keeps_the_selected_step_or_the_playhead_in_view() {
    let mut state = inspector();
    let duration = state.example().unwrap().trace.audio.duration_seconds;
    let fraction = |seconds: f64| seconds / duration;
    let on_screen = |state: &Inspector, at: f64| state.view.0 <= at && at <= state.view.1;

    state.update(Action::LastStep);
    let (from, to) = state.step_window().unwrap();
    let step_centre = fraction((from + to) / 2.0);
    for _ in 0..6 {
        let before = (step_centre - state.view.0) / (state.view.1 - state.view.0);
        state.update(Action::ZoomIn);
        assert!(on_screen(&state, step_centre), "{:?}", state.view);
        let after = (step_centre - state.view.0) / (state.view.1 - state.view.0);
        // Where it was on screen it stays, unless the view had to stop at the clip's edge.
        if state.view.0 > 0.0 && state.view.1 < 1.0 {
            assert!((before - after).abs() < 1e-9, "{before} → {after}");
        }
    }

    // Once the clip has played, the playhead is the anchor.
    state.update(Action::ZoomOut);
    state.update(Action::ZoomOut);
    let playhead = 0.8 * duration;
    state.set_playback(playhead, false);
    for _ in 0..6 {
        state.update(Action::ZoomIn);
        assert!(on_screen(&state, fraction(playhead)), "{:?}", state.view);
    }
    // Panned off screen, the playhead comes back to the middle of the next zoom.
    for _ in 0..8 {
        state.update(Action::PanLeft);
    }
    assert!(!on_screen(&state, fraction(playhead)));
    state.update(Action::ZoomOut);
    assert!(on_screen(&state, fraction(playhead)), "{:?}", state.view);
}

/// `p` remembers the window it plays, for the time axis, until that playback ends.
#[test]
fn the_played_window_shows_until_playback_stops() {
    let mut state = inspector();
    let Effect::PlayRange(from, to) = state.update(Action::PlayStepWindow) else {
        panic!("no window");
    };
    let window = state.play_window.unwrap();
    assert_eq!((window.from, window.to), (from, to));
    // Before the player reports playing, the window stays.
    state.set_playback(from, false);
    assert!(state.play_window.is_some());
    state.set_playback((from + to) / 2.0, true);
    assert!(state.play_window.unwrap().started);
    state.set_playback(to, false);
    assert_eq!(state.play_window, None);
    // Another example forgets it.
    state.update(Action::PlayStepWindow);
    assert!(state.play_window.is_some());
    state.update(Action::NextExample);
    assert_eq!(state.current, 1);
    assert_eq!(state.play_window, None);
}

#[test]
fn the_step_window_is_where_the_step_looked() {
    let mut state = inspector();
    state.step = 1; // "At 0.0 s there is a steady tone": the first 0.6 s
    let Effect::PlayRange(from, to) = state.update(Action::PlayStepWindow) else {
        panic!("a range to play");
    };
    assert!(from < 0.2 && to > 0.3 && to < 1.0, "{from}..{to}");
    state.step = 5; // the sweep, 2.3–3.5 s
    let Effect::PlayRange(from, to) = state.update(Action::PlayStepWindow) else {
        panic!("a range to play");
    };
    // Later steps look less sharply, but the window is centred on the sweep.
    let centre = (from + to) / 2.0;
    assert!(centre > 2.3 && centre < 3.5 && to <= 3.5, "{from}..{to}");
    assert_eq!(state.update(Action::TogglePlay), Effect::TogglePlayback);
}

#[test]
fn help_quit_and_messages() {
    let mut state = inspector();
    state.examples[0].attention.as_mut().unwrap().head_maps = None;
    state.update(Action::NextHeads);
    assert!(state
        .message
        .as_deref()
        .unwrap()
        .contains("no per-head maps"));
    state.update(Action::ToggleHelp);
    assert!(state.help && state.message.is_none());
    state.update(Action::Back);
    assert!(!state.help, "esc closes help");
    state.update(Action::Back);
    assert_eq!(state.message.as_deref(), Some("q quits"));
    assert_eq!(state.update(Action::Save), Effect::None);
    assert!(state
        .message
        .as_deref()
        .unwrap()
        .contains("only a live run"));
    state.update(Action::Quit);
    assert!(state.quit);
}

#[test]
fn filters_keep_the_current_example_in_view() {
    let mut state = inspector();
    state.examples[1].trace.answer.as_mut().unwrap().correct = true;
    state.examples[1].trace.id = "other".into();
    state.update(Action::FilterOutcome); // correct only: example 1
    assert_eq!((state.current, state.visible_examples()), (1, vec![1]));
    state.update(Action::NextExample);
    assert_eq!(state.current, 1, "cycles among the visible only");
    state.update(Action::FilterOutcome); // incorrect only: example 0
    assert_eq!(state.current, 0);
    state.update(Action::ClearFilters);
    state.update(Action::FilterTask);
    assert_eq!(state.filters.task.as_deref(), Some("counting"));
    assert_eq!(state.visible_examples().len(), 2);
    state.update(Action::FilterTask);
    assert_eq!(state.filters.task, None, "one task, then any again");
    state.update(Action::FilterLabel);
    assert_eq!(state.filters.label, Some(CafeLabel::Hallucinated));
    assert_eq!(state.visible_examples().len(), 2);
    // The search narrows as it is typed; esc clears it.
    state.update(Action::Search);
    for c in "oth".chars() {
        state.type_search(SearchKey::Char(c));
    }
    assert_eq!((state.visible_examples(), state.current), (vec![1], 1));
    state.update(Action::Back);
    assert!(!state.searching && state.filters.query.is_empty());
    assert_eq!(state.visible_examples().len(), 2);
}

#[test]
fn the_list_pop_up_takes_the_cursor_keys() {
    let mut state = inspector();
    state.update(Action::ToggleList);
    assert!(state.list_open && state.list_is_popup());
    state.update(Action::NextStep);
    assert_eq!((state.list_cursor, state.step), (1, 0));
    state.update(Action::Open);
    assert_eq!((state.current, state.list_open), (1, false));
    // On a wide screen the list docks and the keys move steps again.
    state.screen_width = 200;
    state.update(Action::ToggleList);
    assert!(!state.list_is_popup());
    state.update(Action::NextStep);
    assert_eq!(state.step, 1);
}

#[test]
fn pointers_select_and_seek() {
    let mut state = inspector();
    assert_eq!(state.point(Pointer::SelectStep(4)), Effect::None);
    assert_eq!(state.step, 4);
    assert_eq!(
        state.point(Pointer::SelectCell {
            step: Some(99),
            seconds: 1.5
        }),
        Effect::Seek(1.5)
    );
    assert_eq!(state.step, 11, "clamped to the last step");
    state.point(Pointer::SelectExample(1));
    assert_eq!((state.current, state.step), (1, 0));
}

const EVERY_ACTION: [Action; 29] = [
    Action::NextStep,
    Action::PreviousStep,
    Action::FirstStep,
    Action::LastStep,
    Action::NextExample,
    Action::PreviousExample,
    Action::NextLayer,
    Action::PreviousLayer,
    Action::NextLayerBand,
    Action::NextHeads,
    Action::NextMetric,
    Action::NextColourScale,
    Action::ZoomIn,
    Action::ZoomOut,
    Action::PanLeft,
    Action::PanRight,
    Action::TogglePlay,
    Action::PlayStepWindow,
    Action::ToggleList,
    Action::Open,
    Action::Search,
    Action::FilterOutcome,
    Action::FilterTask,
    Action::FilterLabel,
    Action::ClearFilters,
    Action::Save,
    Action::Back,
    Action::ToggleHelp,
    Action::Quit,
];

/// Every action, twice over, on states that have little or nothing in them: no panic, and the
/// selection stays inside what exists.
#[test]
fn every_action_is_safe_on_sparse_states() {
    let (trace, arrays) = example_trace(&tones_spec());
    let mut no_steps = trace.clone();
    no_steps.steps.clear();
    let one_layer = {
        let mut rows = arrays.generated.clone();
        let keep = |values: &[f32], per_layer: usize| -> Vec<f32> {
            values
                .chunks(rows.layers * per_layer)
                .flat_map(|row| row[..per_layer].to_vec())
                .collect()
        };
        rows.audio_ratio = keep(&rows.audio_ratio, rows.heads);
        rows.sink_mass = keep(&rows.sink_mass, rows.heads);
        rows.audio_map = keep(&rows.audio_map, rows.audio_tokens);
        rows.head_maps = rows
            .head_maps
            .as_deref()
            .map(|m| keep(m, rows.heads * rows.audio_tokens));
        rows.layers = 1;
        rows
    };
    let mut zero_length = trace.clone();
    zero_length.audio.duration_seconds = 0.0;
    let states = vec![
        Inspector::new(Vec::new()),
        Inspector::for_live_run(crate::trace::StepRules::default()),
        Inspector::new(vec![Example::new(no_steps, None)]),
        Inspector::new(vec![Example::new(trace.clone(), Some(one_layer))]),
        Inspector::new(vec![Example::new(
            zero_length,
            Some(arrays.generated.clone()),
        )]),
    ];
    for mut state in states {
        for action in EVERY_ACTION.iter().chain(EVERY_ACTION.iter()) {
            state.quit = false;
            state.update(*action);
            let steps = state.example().map_or(0, |e| e.trace.steps.len());
            assert!(state.step <= steps.saturating_sub(1), "{action:?}");
            assert!(state.current <= state.examples.len().saturating_sub(1));
            let (layers, heads, ..) = state.dims();
            if let Layers::One(l) = state.layers {
                assert!(l < layers, "{action:?}");
            }
            if let Heads::One(h) = state.heads {
                assert!(h < heads, "{action:?}");
            }
        }
    }
}

#[test]
fn a_layer_or_head_the_next_example_lacks_falls_back() {
    let mut state = inspector();
    state.examples[1].trace.attention.as_mut().unwrap().layers = 2;
    state.examples[1].trace.attention.as_mut().unwrap().heads = 2;
    state.layers = Layers::One(3);
    state.heads = Heads::One(3);
    state.update(Action::NextExample);
    assert_eq!((state.layers, state.heads), (Layers::All, Heads::Mean));
    state.layers = Layers::One(1);
    state.heads = Heads::One(1);
    state.update(Action::NextExample);
    assert_eq!((state.layers, state.heads), (Layers::One(1), Heads::One(1)));
}

#[test]
fn the_wheel_moves_the_pop_up_cursor_and_steps_elsewhere() {
    let mut state = inspector();
    state.update(Action::ToggleList);
    state.point(Pointer::Scroll {
        down: true,
        in_list: true,
    });
    assert_eq!(
        (state.list_cursor, state.current),
        (1, 0),
        "cursor, not example"
    );
    state.update(Action::Back);
    state.point(Pointer::Scroll {
        down: true,
        in_list: false,
    });
    assert_eq!(state.step, 1);
}

/// `done` as a live run's `Prepared` event carries it: nothing generated, labelled or scored.
pub(crate) fn prepared_trace(done: &crate::trace::Trace) -> crate::trace::Trace {
    let mut prepared = done.clone();
    prepared.steps.clear();
    prepared.generation.ids.clear();
    prepared.generation.text.clear();
    prepared.generation.piece_offsets.clear();
    prepared.labels = None;
    prepared.answer = None;
    prepared
}

#[test]
fn live_events_grow_the_example_and_follow_the_newest_step() {
    let (done, arrays) = example_trace(&tones_spec());
    let prepared = prepared_trace(&done);
    let mut state = Inspector::for_live_run(crate::trace::StepRules::default());
    state.on_live(LiveEvent::Loaded { seconds: 0.5 });
    assert!(state
        .live
        .as_ref()
        .unwrap()
        .phase
        .contains("loaded in 0.5 s"));
    state.on_live(LiveEvent::Prepared(Box::new(prepared)));
    let offsets = done.generation.piece_offsets.clone();
    let text = &done.generation.text;
    let piece = |t: usize| {
        let end = offsets.get(t + 1).copied().unwrap_or(text.len());
        text[offsets[t]..end].to_owned()
    };
    let tokens = done.generation.ids.len();
    for t in 0..tokens {
        if t == 40 {
            state.update(Action::FirstStep); // the user looks back: the selection stays
        }
        state.on_live(LiveEvent::Token {
            id: done.generation.ids[t],
            piece: piece(t),
            row: Some(arrays.generated.row(t)),
        });
        let steps = state.examples[0].trace.steps.len();
        if t < 40 {
            assert_eq!(state.step, steps.saturating_sub(1), "token {t}");
        } else {
            assert_eq!(state.step, 0, "token {t}");
        }
    }
    let streamed = &state.examples[0];
    assert_eq!(streamed.trace.steps, done.steps);
    assert_eq!(streamed.trace.generation.text, done.generation.text);
    assert_eq!(
        streamed.trace.generation.piece_offsets,
        done.generation.piece_offsets
    );
    assert_eq!(streamed.attention.as_ref(), Some(&arrays.generated));
    assert_eq!(state.update(Action::Save), Effect::None, "still running");
    state.on_live(LiveEvent::Finished(Box::new(done), Some(arrays.generated)));
    let live = state.live.as_ref().unwrap();
    assert!(
        !live.running && live.phase.starts_with("finished: "),
        "{live:?}"
    );
    assert_eq!(state.update(Action::Save), Effect::SaveRun);
    state.on_saved(Ok("run.json".into()));
    assert_eq!(
        state.live.as_ref().unwrap().saved.as_deref(),
        Some("run.json")
    );
    state.on_live(LiveEvent::Failed("boom".into()));
    assert!(state.live.as_ref().unwrap().failed());
    assert_eq!(state.update(Action::Save), Effect::None);
}

#[test]
fn the_search_finds_text_inside_the_steps_and_esc_goes_back() {
    let mut state = inspector();
    state.step = 6;
    state.update(Action::Search);
    for c in "SWEEP".chars() {
        state.type_search(SearchKey::Char(c));
    }
    // Steps 5, 8, 9 and 10 name the sweep; the first from step 6 on is 8.
    assert_eq!(state.step, 8);
    assert_eq!(
        state.step_matches,
        Some(StepMatches {
            total: 4,
            selected: Some(1)
        })
    );
    let mut visited = Vec::new();
    for _ in 0..3 {
        state.type_search(SearchKey::NextMatch);
        visited.push(state.step);
    }
    assert_eq!(visited, vec![9, 10, 5], "round at the end");
    state.type_search(SearchKey::Char('z'));
    assert_eq!(
        state.step_matches,
        Some(StepMatches {
            total: 0,
            selected: None
        })
    );
    assert_eq!(state.step, 5, "no match leaves the selection");
    state.update(Action::Back);
    assert_eq!(state.step, 6, "esc goes back to where the search began");
    assert!(state.filters.query.is_empty() && state.step_matches.is_none());
}

#[test]
fn the_figure_key_asks_for_a_figure_of_what_can_be_drawn() {
    let mut state = inspector();
    assert_eq!(state.update(Action::WriteFigure), Effect::WriteFigure);
    state.on_figure_written(Ok("demo-tones.figure.svg".into()));
    assert_eq!(
        state.message.as_deref(),
        Some("figure written to demo-tones.figure.svg")
    );
    state.examples[0].set_attention(None);
    assert_eq!(state.update(Action::WriteFigure), Effect::None);
    assert!(state.message.as_deref().unwrap().contains("no attention"));
}

/// The tones example's clip events as a captions file with times gives them.
pub(crate) fn tones_caption() -> crate::cafe::judge::Caption {
    use crate::cafe::judge::{Caption, CaptionEvent};
    Caption {
        caption: "three tones, noise, a falling sweep".into(),
        events: Some(
            tones_spec()
                .events
                .iter()
                .map(|e| CaptionEvent {
                    name: e.name.to_owned(),
                    span: Some((e.start as f32, e.end as f32)),
                })
                .collect(),
        ),
    }
}
