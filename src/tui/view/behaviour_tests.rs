//! The views on fixture traces, checked for particular behaviour: what the main view shows and
//! where, colour falling back to shades, the experts a step was routed to, the playhead and the played window, help, the list's
//! filters and search, the status line, and drawing states with little in them at every size.
//! The fixtures and the screen snapshots are in `tests`.

use ratatui::layout::Rect;
use ratatui::style::Color;

use super::tests::{
    draw, events_state, experts_state, set_state, sound_off, state, streaming, text,
};
use super::*;
use crate::example_traces::{example_trace, tones_spec};
use crate::tui::layout::{regions, LEFT_COLUMN};
use crate::tui::palette::SHADES;
use crate::tui::state::{Action, Example, SearchKey};

#[test]
fn the_main_view_at_80_by_24() {
    let buf = draw(&state(), Palette::TrueColor, 80, 24);
    let text = text(&buf);
    assert!(
        text.contains("How many tones come before the noise"),
        "{text}"
    );
    assert!(
        text.contains("gold: Three, falling  predicted: Three, rising ✗"),
        "{text}"
    );
    assert!(
        text.contains("MAT") && text.contains("HAL") && text.contains("MIS"),
        "{text}"
    );
    assert!(text.contains("step 0"), "{text}");
    assert!(text.contains("decay: ratio, trend -0.0"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("▶  0 P")), "{text}");
    // Heatmap cells are coloured over the whole time axis; the strip uses half blocks.
    let parts = regions(&state(), Rect::new(0, 0, 80, 24)).unwrap();
    let heatmap_y = parts.heatmap.y;
    let coloured = (LEFT_COLUMN..80)
        .filter(|&x| buf[(x, heatmap_y)].bg != Color::Reset)
        .count();
    assert_eq!(coloured, 80 - LEFT_COLUMN as usize, "{text}");
    assert!(
        buf[(LEFT_COLUMN + 5, parts.strip.y)].symbol() == "▀",
        "{text}"
    );
}

#[test]
fn without_colour_ramps_become_shades() {
    for palette in [Palette::Monochrome, Palette::Ansi16] {
        let buf = draw(&state(), palette, 80, 24);
        let text = text(&buf);
        assert!(text.chars().any(|c| "░▒▓█".contains(c)), "{text}");
        let coloured = buf
            .content
            .iter()
            .filter(|c| c.bg != Color::Reset || c.fg != Color::Reset)
            .count();
        if palette == Palette::Monochrome {
            assert_eq!(coloured, 0, "NO_COLOR draws no colour at all");
        } else {
            assert!(coloured > 0);
            assert!(buf
                .content
                .iter()
                .all(|c| !matches!(c.fg, Color::Rgb(..) | Color::Indexed(_))));
        }
    }
    let buf = draw(&state(), Palette::Ansi256, 80, 24);
    assert!(buf
        .content
        .iter()
        .any(|c| matches!(c.bg, Color::Indexed(_))));
    assert!(buf.content.iter().all(|c| !matches!(c.bg, Color::Rgb(..))));
}

#[test]
fn the_step_that_attends_to_the_first_tone_is_brightest_at_the_start() {
    let mut s = state();
    s.update(Action::NextStep); // step 1: the 440 Hz tone, 0–0.6 s of 3.5 s
    let buf = draw(&s, Palette::Monochrome, 100, 30);
    let y = (0..30)
        .find(|&y| buf[(0, y)].symbol() == "▶")
        .expect("the selected row");
    let row: Vec<char> = (LEFT_COLUMN..100)
        .map(|x| buf[(x, y)].symbol().chars().next().unwrap())
        .collect();
    let level = |c: char| SHADES.iter().position(|&s| s == c).unwrap_or(0);
    let head: usize = row[..10].iter().map(|&c| level(c)).sum();
    let tail: usize = row[row.len() - 10..].iter().map(|&c| level(c)).sum();
    assert!(head > tail, "{row:?}");
}

#[test]
fn the_playhead_crosses_the_strip_and_the_heatmap() {
    let mut s = state();
    s.set_playback(1.75, true); // half of 3.5 s
    let buf = draw(&s, Palette::TrueColor, 80, 24);
    let x = LEFT_COLUMN + (80 - LEFT_COLUMN) / 2;
    let parts = regions(&s, Rect::new(0, 0, 80, 24)).unwrap();
    assert_eq!(buf[(x, parts.strip.y)].symbol(), "┃", "{}", text(&buf));
    assert_eq!(buf[(x, parts.axis.y)].symbol(), "▲");
    assert_eq!(buf[(x, parts.heatmap.y + 1)].symbol(), "│");
    assert!(text(&buf).contains("▶ 1.8/3.5s"));
}

#[test]
fn help_overlay_and_too_small() {
    let mut s = state();
    s.update(Action::ToggleHelp);
    let buf = draw(&s, Palette::TrueColor, 80, 24);
    let text = text(&buf);
    assert!(
        text.contains(" keys (? again: the legend) ") && text.contains("j, down  next step"),
        "{text}"
    );
    let small = super::tests::text(&draw(&s, Palette::TrueColor, 40, 10));
    assert!(small.contains("terminal too small: 40×10"), "{small}");
}

#[test]
fn a_large_terminal_shows_every_step_and_the_choices() {
    let text = text(&draw(&state(), Palette::TrueColor, 160, 48));
    for i in 0..12 {
        let row = |l: &str| {
            l.trim_start_matches(['▶', ' '])
                .starts_with(&format!("{i} "))
        };
        assert!(text.lines().any(row), "step {i}: {text}");
    }
    assert!(text.contains("(A) Three, falling"), "{text}");
}

#[test]
fn the_example_list_filters_and_searches() {
    let mut s = set_state(80);
    assert!(s.list_open, "a traces file opens on its list");
    let text_of = |s: &Inspector| text(&draw(s, Palette::TrueColor, 80, 24));
    let all = text_of(&s);
    assert!(all.contains("examples 3/3 · all"), "{all}");
    s.update(Action::FilterOutcome);
    let correct = text_of(&s);
    assert!(correct.contains("examples 1/3 · correct"), "{correct}");
    s.update(Action::ClearFilters);
    s.update(Action::Search);
    for c in "sweep".chars() {
        s.type_search(SearchKey::Char(c));
    }
    let found = text_of(&s);
    assert!(
        found.contains("/sweep") && found.contains("search: sweep"),
        "{found}"
    );
    let shown = s.visible_examples();
    assert!(!shown.is_empty() && shown.len() < 3, "{shown:?}");
    // Enter ends the search and opens the example under the cursor, closing the pop-up.
    s.update(Action::Open);
    assert!(!s.searching && !s.list_open);
    assert_eq!(s.current, shown[0]);
}

/// Drawing never panics, at the smallest size, at 80×24 and large, in every palette, with and
/// without help, on states with little in them: none, a live run before its first event and
/// mid-stream, a trace without steps, a clip of zero length, a step with a reversed range.
#[test]
fn sparse_states_draw_at_every_size() {
    let (trace, arrays) = example_trace(&tones_spec());
    let mut no_steps = trace.clone();
    no_steps.steps.clear();
    let mut zero_length = trace.clone();
    zero_length.audio.duration_seconds = 0.0;
    let mut reversed = trace.clone();
    reversed.steps[0].tokens = [5, 2];
    let mut states = vec![
        Inspector::new(Vec::new()),
        Inspector::for_live_run(crate::trace::StepRules::default()),
        streaming(),
        Inspector::new(vec![Example::new(no_steps, None)]),
        Inspector::new(vec![Example::new(
            zero_length,
            Some(arrays.generated.clone()),
        )]),
        Inspector::new(vec![Example::new(reversed, Some(arrays.generated))]),
    ];
    for state in &mut states {
        for help in [false, true] {
            state.help = help;
            for (width, height) in [(60, 16), (80, 24), (200, 60), (59, 16), (1, 1), (0, 0)] {
                for palette in [
                    Palette::TrueColor,
                    Palette::Ansi256,
                    Palette::Ansi16,
                    Palette::Monochrome,
                ] {
                    draw(state, palette, width, height);
                }
            }
        }
    }
    // The loop left help on, and the help now fills 80×24.
    states[1].help = false;
    let live = text(&draw(&states[1], Palette::Monochrome, 80, 24));
    assert!(live.contains("live run: loading the model"), "{live}");
}

#[test]
fn the_status_line_fits_80_columns_and_keeps_help_and_quit() {
    let text = text(&draw(&state(), Palette::Monochrome, 80, 24));
    let status = text.lines().last().unwrap();
    assert!(status.ends_with("? keys  q quit"), "{status}");
    // The choices get their own header line when they do not fit beside the question.
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("(A) Three, falling"),
        "{text}"
    );
}

/// Sound being off is two words on the status line, before the key hints, which stay whole;
/// why is on the legend page (`?` twice), not repeated on every clip.
#[test]
fn sound_off_is_short_and_leaves_the_key_hints() {
    let mut s = state();
    s.sound = Some(sound_off());
    for width in [80, 100, 160] {
        let text = text(&draw(&s, Palette::Monochrome, width, 24));
        let status = text.lines().last().unwrap();
        assert!(status.starts_with("sound off · "), "{status}");
        assert!(status.ends_with("? keys  q quit"), "{status}");
    }
    assert!(s.message.is_none());
    s.update(Action::ToggleHelp);
    s.update(Action::ToggleHelp);
    let legend = text(&draw(&s, Palette::Monochrome, 80, 24));
    assert!(
        legend.contains("sound: off, because this build has no sound output"),
        "{legend}"
    );
    assert!(
        legend.contains("focus: attention per audio token"),
        "{legend}"
    );
    s.update(Action::ToggleHelp);
    assert!(!s.help && !s.help_legend);
}

/// While `p` plays a step's window, the time axis under exactly that window is reversed.
#[test]
fn the_played_window_is_marked_on_the_time_axis() {
    let mut s = state();
    s.update(Action::NextStep);
    s.update(Action::PlayStepWindow);
    let (from, to) = s.step_window().unwrap();
    s.set_playback(from, true);
    let (width, height) = (80, 24);
    let buf = draw(&s, Palette::Monochrome, width, height);
    let regions = regions(&s, Rect::new(0, 0, width, height)).unwrap();
    let columns = regions.time_columns();
    let duration = s.example().unwrap().trace.audio.duration_seconds;
    let reversed: Vec<u16> = (0..columns.width)
        .filter(|&c| {
            buf[(columns.x + c, regions.axis.y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED)
        })
        .collect();
    let column = |seconds: f64| (seconds / duration * f64::from(columns.width)).floor() as u16;
    assert_eq!(reversed.first(), Some(&column(from)), "{reversed:?}");
    assert_eq!(reversed.last(), Some(&(column(to) - 1)), "{reversed:?}");
    assert_eq!(reversed.len(), usize::from(column(to) - column(from)));
    // Once it has played, the mark goes.
    s.set_playback(to, false);
    let buf = draw(&s, Palette::Monochrome, width, height);
    assert!(
        (0..columns.width).all(|c| !buf[(columns.x + c, regions.axis.y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED))
    );
}

/// Focus values run into the thousands; the value column stays five wide, so the bars and CAFE
/// tags stay in their columns.
#[test]
fn large_values_keep_their_column() {
    let mut s = state();
    s.update(Action::NextMetric);
    s.update(Action::NextMetric);
    let text = text(&draw(&s, Palette::Monochrome, 80, 24));
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start_matches(['▶', ' '])
                .starts_with(char::is_numeric)
        })
        .collect();
    assert!(rows.len() > 3, "{text}");
    for row in rows {
        let cells: Vec<char> = row.chars().collect();
        // "▶  0 P  0.21 ■■■■■■ MAT": the value ends at column 12, the bar starts at 13.
        assert_eq!(cells[12], ' ', "{row}");
        assert!(cells[13] == '■' || cells[13] == ' ', "{row}");
    }
}

/// The truth lane: one row under the axis, each event a labelled span over its seconds, the one
/// the selected step names drawn heavy (and named in the left column); a step naming none
/// highlights none; without truth there is no lane.
#[test]
fn the_truth_lane_draws_the_events_and_marks_the_one_the_step_names() {
    let mut state = events_state();
    let area = Rect::new(0, 0, 80, 24);
    let parts = regions(&state, area).unwrap();
    let lane = parts.events.expect("a lane");
    assert_eq!(lane.y, parts.axis.y + 1);
    assert_eq!(parts.heatmap.y, lane.y + 1);
    let lane_text = |state: &Inspector| -> String {
        let buf = draw(state, Palette::Monochrome, 80, 24);
        text(&buf)
            .lines()
            .nth(usize::from(lane.y))
            .unwrap()
            .to_owned()
    };
    let row = lane_text(&state);
    assert!(row.starts_with("names: sweep 880"), "{row}");
    assert!(row.contains("┣sweep"), "{row}");
    assert!(row.contains("├tone A4"), "{row}");
    // The sweep's span starts at 2.3 s of 3.5 s.
    let columns = parts.time_columns();
    let start = row.chars().position(|c| c == '┣').unwrap() as u16;
    let expected = columns.x + (2.3 / 3.5 * f64::from(columns.width)).floor() as u16;
    assert_eq!(start, expected, "{row}");
    state.step = 0;
    let row = lane_text(&state);
    assert!(
        row.starts_with("events (captions)") && !row.contains('┣'),
        "{row}"
    );
    assert!(regions(&super::tests::state(), area)
        .unwrap()
        .events
        .is_none());
}

/// The demo-tones trace compared with itself, B's attention halved.
fn compared_with_half_attention() -> Inspector {
    let mut a = state();
    let mut half = super::tests::state().examples.remove(0);
    let attention = half.attention.as_mut().unwrap();
    attention.audio_map.iter_mut().for_each(|v| *v *= 0.5);
    if let Some(maps) = &mut attention.head_maps {
        maps.iter_mut().for_each(|v| *v *= 0.5);
    }
    a.start_comparison(vec![half], ["a".into(), "half".into()])
        .unwrap();
    a
}

#[test]
fn compared_heatmaps_share_one_colour_scale() {
    let state = compared_with_half_attention();
    let area = Rect::new(0, 0, 80, 24);
    let parts = regions(&state, area).unwrap();
    let panes = parts.compare.unwrap();
    let buf = draw(&state, Palette::Monochrome, 80, 24);
    let level = |x: u16, y: u16| {
        let symbol = buf[(x, y)].symbol().chars().next().unwrap();
        SHADES.iter().position(|&s| s == symbol)
    };
    let (a, b) = (parts.heatmap, panes.heatmap);
    assert_eq!((a.x, a.width), (b.x, b.width), "one time axis");
    let (mut lower, mut cells) = (0, 0);
    for row in 0..a.height.min(b.height) {
        for x in a.x + LEFT_COLUMN..a.right() {
            let (Some(in_a), Some(in_b)) = (level(x, a.y + row), level(x, b.y + row)) else {
                continue;
            };
            cells += 1;
            assert!(in_b <= in_a, "half the attention is never brighter");
            lower += usize::from(in_b < in_a);
        }
    }
    assert!(
        cells > 100 && lower > cells / 10,
        "{lower} of {cells} darker"
    );
    // Alone, B is drawn on its own scale: its picture is A's.
    let mut compared = compared_with_half_attention();
    let b = compared.comparison.take().unwrap().other;
    let (a_alone, b_alone) = (
        draw(&compared, Palette::Monochrome, 80, 24),
        draw(&b, Palette::Monochrome, 80, 24),
    );
    let heatmap = regions(&b, area).unwrap().heatmap;
    let rows = |buf: &ratatui::buffer::Buffer| -> Vec<String> {
        (heatmap.y..heatmap.bottom())
            .map(|y| {
                (heatmap.x + LEFT_COLUMN..heatmap.right())
                    .map(|x| buf[(x, y)].symbol())
                    .collect()
            })
            .collect()
    };
    assert_eq!(rows(&a_alone), rows(&b_alone));
}

#[test]
fn a_click_on_b_s_heatmap_puts_b_in_focus_on_that_step() {
    use crate::tui::mouse::{pointer_for, Mouse};
    let mut state = super::tests::compare_state(200, &[]);
    let area = Rect::new(0, 0, 200, 50);
    let panes = regions(&state, area).unwrap().compare.unwrap();
    assert!(panes.beside.is_some(), "side by side at 200 columns");
    let click = Mouse::Click {
        column: panes.heatmap.x + 2,
        row: panes.heatmap.y,
    };
    let pointer = pointer_for(&state, area, click).unwrap();
    state.point(pointer);
    let comparison = state.comparison.as_ref().unwrap();
    assert_eq!(comparison.focus, crate::tui::state::Side::B);
    assert_eq!(comparison.other.step, 0);
    state.update(Action::NextStep);
    assert_eq!(state.step, 0, "the step keys now move B");
}

#[test]
fn the_step_panel_lists_the_experts_of_the_step_in_the_layers_selected() {
    let panel_line = |state: &Inspector, width: u16| {
        let area = regions(state, Rect::new(0, 0, width, 24 * width / 80))
            .unwrap()
            .step_panel;
        let text = text(&draw(state, Palette::TrueColor, width, 24 * width / 80));
        let line = text
            .lines()
            .map(|l| {
                l.chars()
                    .skip(usize::from(area.x))
                    .take(usize::from(area.width))
            })
            .map(|l| l.collect::<String>())
            .find(|l| l.starts_with("experts "));
        (line, usize::from(area.width))
    };
    let mut state = experts_state();
    // All layers: the listening expert leads, the line fits the panel and says what is left out.
    for width in [80, 160] {
        let (line, room) = panel_line(&state, width);
        let line = line.unwrap_or_else(|| panic!("no experts line at {width} columns"));
        assert!(line.starts_with("experts L0–3, k 8/128  #"), "{line}");
        assert!(line.trim_end().chars().count() < room, "{line}");
        assert!(line.trim_end().ends_with('…'), "{line}");
        let first = line.split("  ").nth(1).unwrap();
        assert!(
            LISTENING_FIRST.iter().any(|e| first.starts_with(e)),
            "{line}"
        );
        if width == 160 {
            assert!(line.contains("(×"), "{line}");
        }
    }
    // One layer selected: the line says so.
    state.update(Action::NextLayer);
    let (line, _) = panel_line(&state, 80);
    assert!(line.unwrap().starts_with("experts L0, k 8/128"));
    // A dense trace has no experts line, and its panel is as it was.
    let (line, _) = panel_line(&super::tests::state(), 80);
    assert_eq!(line, None);
}

/// The synthetic router's listening experts, as the line names them.
const LISTENING_FIRST: [&str; 3] = ["#17 ", "#3 ", "#88 "];

#[test]
fn tokens_without_text_say_so_instead_of_waiting_for_steps() {
    let (trace, _) = example_trace(&tones_spec());
    let mut textless = trace.clone();
    textless.steps.clear();
    textless.generation.text.clear();
    let screen = text(&draw(
        &Inspector::new(vec![Example::new(textless, None)]),
        Palette::Monochrome,
        80,
        24,
    ));
    let tokens = trace.generation.ids.len();
    assert!(
        screen.contains(&format!("(no steps: {tokens} tokens, no text)")),
        "{screen}"
    );
    let mut waiting = trace;
    waiting.steps.clear();
    let screen = text(&draw(
        &Inspector::new(vec![Example::new(waiting, None)]),
        Palette::Monochrome,
        80,
        24,
    ));
    assert!(screen.contains("(no steps yet)"), "{screen}");
}
