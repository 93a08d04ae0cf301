//! The views on fixture traces: behaviour checks, and insta snapshots of every view at 80×24 and
//! at 160×48, as text, and with colours (each distinct style named once in a legend) in every
//! palette. Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

use super::*;
use crate::audio::decode_file;
use crate::example_traces::{demo_set_specs, example_trace, tones_spec};
use crate::tui::layout::{regions, LEFT_COLUMN};
use crate::tui::palette::SHADES;
use crate::tui::spectrogram::Spectrogram;
use crate::tui::state::{Action, EntryKey, Example, Labelling, LiveEvent, SearchKey};

fn spectrogram() -> Spectrogram {
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/tones.wav");
    let audio = decode_file(&clip, 16_000).unwrap();
    Spectrogram::new(&audio.samples, audio.rate)
}

fn example(spec: &crate::example_traces::ExampleSpec) -> Example {
    let (trace, arrays) = example_trace(spec);
    let mut example = Example::new(trace, Some(arrays.generated));
    example.spectrogram = Some(spectrogram());
    example
}

fn state() -> Inspector {
    Inspector::new(vec![example(&tones_spec())])
}

fn set_state(width: u16) -> Inspector {
    let mut state = Inspector::new(demo_set_specs().iter().map(example).collect());
    state.screen_width = width;
    state
}

fn draw(state: &Inspector, palette: Palette, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    render(state, &KeyTable::default(), palette, area, &mut buf);
    buf
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen's text, then a grid naming each cell's style by one character, then the legend.
fn styled(buf: &Buffer) -> String {
    const NAMES: &str = ".abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut names: BTreeMap<String, char> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let area = buf.area;
    let mut grid = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            let cell = &buf[(x, y)];
            let style = Style::new()
                .fg(cell.fg)
                .bg(cell.bg)
                .add_modifier(cell.modifier);
            let key =
                if cell.fg == Color::Reset && cell.bg == Color::Reset && cell.modifier.is_empty() {
                    "plain".to_owned()
                } else {
                    format!("{style:?}")
                };
            let next = names.len();
            let name = *names.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                NAMES
                    .chars()
                    .nth(next)
                    .unwrap_or(char::from_u32(0x100 + next as u32).expect("a character"))
            });
            grid.push(name);
        }
        grid.push('\n');
    }
    let mut out = format!("{}\n\n{grid}\n", text(buf));
    for key in order {
        let _ = writeln!(out, "{} {key}", names[&key]);
    }
    out
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

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

fn snapshot_views(width: u16) -> Vec<(String, Inspector)> {
    let mut views = Vec::new();
    views.push(("main".to_owned(), state()));
    let mut moved = state();
    for action in [
        Action::NextStep,
        Action::NextStep,
        Action::NextStep,
        Action::NextLayer,
        Action::NextHeads,
        Action::NextMetric,
        Action::ZoomIn,
        Action::PanRight,
    ] {
        moved.update(action);
    }
    moved.set_playback(2.0, true);
    views.push(("moved".to_owned(), moved));
    let mut help = state();
    help.update(Action::ToggleHelp);
    views.push(("help".to_owned(), help));
    let mut legend = state();
    legend.sound = Some(sound_off());
    legend.update(Action::ToggleHelp);
    legend.update(Action::ToggleHelp);
    views.push(("legend".to_owned(), legend));
    let mut sound_is_off = state();
    sound_is_off.sound = Some(sound_off());
    views.push(("sound-off".to_owned(), sound_is_off));
    let mut focus = state();
    focus.update(Action::NextMetric);
    focus.update(Action::NextMetric);
    views.push(("focus".to_owned(), focus));
    let mut window = state();
    for _ in 0..4 {
        window.update(Action::NextStep);
    }
    window.update(Action::PlayStepWindow);
    let (from, to) = window.step_window().unwrap();
    window.set_playback((from + to) / 2.0, true);
    views.push(("play-window".to_owned(), window));
    views.push(("list".to_owned(), set_state(width)));
    let mut filtered = set_state(width);
    filtered.update(Action::NextExample);
    filtered.update(Action::FilterLabel);
    filtered.update(Action::Search);
    filtered.type_search(SearchKey::Char('t'));
    views.push(("list-filtered".to_owned(), filtered));
    let mut no_attention = state();
    no_attention.examples[0].attention = None;
    no_attention.examples[0].spectrogram = None;
    views.push(("no-attention-no-clip".to_owned(), no_attention));
    views.push(("live-streaming".to_owned(), streaming()));
    views.push(("labelling".to_owned(), labelling()));
    let mut typing = labelling();
    typing.update(Action::NextClaim);
    typing.update(Action::Note);
    assert!(typing.typing.is_some(), "{:?}", typing.message);
    for c in "; it falls".chars() {
        typing.type_entry(EntryKey::Char(c));
    }
    views.push(("labelling-note".to_owned(), typing));
    views
}

/// Labelling as "ann" on step 8 of the tones example: a judge's label and ann's over the
/// checker's, a note, a typed claim waiting for its label, a missed event; the cursor on the
/// typed claim.
fn labelling() -> Inspector {
    use crate::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
    use crate::trace::{CafeLabel, StepLabel};
    let mut state = state();
    let labels = state.examples[0].trace.labels.as_mut().unwrap();
    let event = labels
        .steps
        .iter()
        .find(|l| l.step == 8)
        .unwrap()
        .event
        .clone();
    labels.steps.push(StepLabel {
        step: 8,
        event: event.clone(),
        label: CafeLabel::Hallucinated,
        source: "judge:qwen2.5-7b".parse().unwrap(),
        note: None,
    });
    let mut mine = AnnotatorLabels::new("ann");
    let ops = [
        LabelOp::Label {
            step: 8,
            event: event.clone(),
            label: CafeLabel::Misused,
        },
        LabelOp::Note {
            step: 8,
            event,
            note: "a sweep, not a bird".into(),
        },
        LabelOp::Missed {
            event: "pink noise burst".into(),
        },
    ];
    for (seq, op) in ops.into_iter().enumerate() {
        mine.apply(JournalEntry {
            seq: seq as u64 + 1,
            time: String::new(),
            annotator: "ann".into(),
            trace: "demo-tones".into(),
            op,
        })
        .unwrap();
    }
    state.start_labelling(Labelling::new("ann", mine));
    for _ in 0..8 {
        state.update(Action::NextStep);
    }
    state.update(Action::AddClaim);
    for c in "a bird chirp".chars() {
        state.type_entry(EntryKey::Char(c));
    }
    state.type_entry(EntryKey::Commit);
    state.message = None;
    state
}

#[test]
fn snapshots_of_every_view() {
    for (width, height) in [(80, 24), (160, 48)] {
        for (name, state) in snapshot_views(width) {
            let buf = draw(&state, Palette::Monochrome, width, height);
            snapshot!(format!("{name}-{width}x{height}-text"), text(&buf));
        }
    }
    snapshot!(
        "too-small-text",
        text(&draw(&state(), Palette::TrueColor, 59, 20))
    );
}

#[test]
fn snapshots_in_colour() {
    // Every palette on the main view.
    for (palette, name) in [
        (Palette::TrueColor, "truecolor"),
        (Palette::Ansi256, "256"),
        (Palette::Ansi16, "16"),
        (Palette::Monochrome, "no-color"),
    ] {
        snapshot!(
            format!("main-80x24-{name}"),
            styled(&draw(&state(), palette, 80, 24))
        );
    }
    // Every view in colour: truecolor at 80×24, the 256-colour table (and magma) when large,
    // where truecolor would name thousands of distinct cell styles.
    for (name, state) in snapshot_views(80) {
        snapshot!(
            format!("{name}-80x24-truecolor-styles"),
            styled(&draw(&state, Palette::TrueColor, 80, 24))
        );
    }
    for (name, mut state) in snapshot_views(160) {
        state.update(Action::NextColourScale);
        snapshot!(
            format!("{name}-160x48-256-magma"),
            styled(&draw(&state, Palette::Ansi256, 160, 48))
        );
    }
}

/// A live run a third of the way through its tokens.
fn streaming() -> Inspector {
    let (done, arrays) = example_trace(&tones_spec());
    let prepared = crate::tui::state::tests::prepared_trace(&done);
    let mut state = Inspector::for_live_run(crate::trace::StepRules::default());
    state.on_live(LiveEvent::Prepared(Box::new(prepared)));
    let offsets = &done.generation.piece_offsets;
    let tokens = offsets.len() / 3;
    for t in 0..tokens {
        state.on_live(LiveEvent::Token {
            id: done.generation.ids[t],
            piece: done.generation.text[offsets[t]..offsets[t + 1]].to_owned(),
            row: Some(arrays.generated.row(t)),
        });
    }
    state.examples[0].spectrogram = Some(spectrogram());
    state
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

fn sound_off() -> crate::audio::playback::SoundStatus {
    crate::audio::playback::SoundStatus::Off {
        reason: "this build has no sound output (on Linux, build with `--features sound`)".into(),
    }
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
