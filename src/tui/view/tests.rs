//! The views on fixture traces: the fixtures, and insta snapshots of every view at 80×24 and at
//! 160×48, as text, and with colours (each distinct style named once in a legend) in every
//! palette. Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test`). The
//! checks of particular behaviour on these fixtures are in `behaviour_tests`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

use super::*;
use crate::audio::decode_file;
use crate::example_traces::{
    demo_set_specs, example_trace, example_trace_with_experts, tones_spec,
};
use crate::model::Counterfactual;
use crate::tui::spectrogram::Spectrogram;
use crate::tui::state::evidence_fixture::{with_evidence, INTERVENED_STEP};
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

pub(super) fn state() -> Inspector {
    Inspector::new(vec![example(&tones_spec())])
}

/// The tones example as a mixture-of-experts decoder (top 8 of 128) would have made it, on
/// step 1 (the first tone, where the listening experts lead).
pub(super) fn experts_state() -> Inspector {
    let experts = crate::trace::ExpertsRecord {
        count: 128,
        top_k: 8,
    };
    let (trace, arrays) = example_trace_with_experts(&tones_spec(), experts);
    let mut example = Example::new(trace, Some(arrays.generated));
    example.spectrogram = Some(spectrogram());
    let mut state = Inspector::new(vec![example]);
    state.step = 1;
    state
}

/// The tones example with the fixture's evidence: reliance under silence and masked, occlusion,
/// and the intervention from step `INTERVENED_STEP`.
pub(super) fn evidence_state() -> Inspector {
    let measured = [Counterfactual::Silence, Counterfactual::Masked];
    Inspector::new(vec![with_evidence(example(&tones_spec()), &measured, true)])
}

/// `evidence_state` on `step` after `keys`.
pub(super) fn evidence_view(step: usize, keys: &[Action]) -> Inspector {
    let mut state = evidence_state();
    state.step = step;
    for &action in keys {
        state.update(action);
    }
    state
}

/// The tones example with its clip's events as a captions file would give them, on the step
/// that misreads the sweep.
pub(super) fn events_state() -> Inspector {
    let caption = crate::tui::state::tests::tones_caption();
    let mut state = state();
    state.examples[0].set_truth(crate::truth::Truth::from_caption(&caption));
    state.step = 9;
    state
}

pub(super) fn set_state(width: u16) -> Inspector {
    let mut state = Inspector::new(demo_set_specs().iter().map(example).collect());
    state.screen_width = width;
    state
}

/// The demo set reasoned (A) against its items answered directly (B): the first item right,
/// the others wrong; after `keys`.
pub(super) fn compare_state(width: u16, keys: &[Action]) -> Inspector {
    use crate::tui::state::compare_tests::direct;
    let specs = demo_set_specs();
    let direct: Vec<Example> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let right = spec.choices.iter().position(|c| *c == spec.answer).unwrap();
            example(&direct(spec, if i == 0 { right } else { (right + 2) % 4 }))
        })
        .collect();
    let mut state = set_state(width);
    state.list_open = false;
    state
        .start_comparison(direct, ["reasoning".into(), "direct".into()])
        .unwrap();
    for &action in keys {
        state.update(action);
    }
    state
}

/// A live run a third of the way through its tokens.
pub(super) fn streaming() -> Inspector {
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

pub(super) fn sound_off() -> crate::audio::playback::SoundStatus {
    crate::audio::playback::SoundStatus::Off {
        reason: "this build has no sound output (on Linux, build with `--features sound`)".into(),
    }
}

pub(super) fn draw(state: &Inspector, palette: Palette, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    render(state, &KeyTable::default(), palette, area, &mut buf);
    buf
}

pub(super) fn text(buf: &Buffer) -> String {
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
pub(super) fn styled(buf: &Buffer) -> String {
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
    views.push(("events".to_owned(), events_state()));
    views.push(("experts".to_owned(), experts_state()));
    views.push(("labelling".to_owned(), labelling()));
    let mut typing = labelling();
    typing.update(Action::NextClaim);
    typing.update(Action::Note);
    assert!(typing.typing.is_some(), "{:?}", typing.message);
    for c in "; it falls".chars() {
        typing.type_entry(EntryKey::Char(c));
    }
    views.push(("labelling-note".to_owned(), typing));
    // Reliance: Δ under silence as the metric, the occlusion strip under the attention heatmap,
    // the step panel's reliance and intervention lines, both curves in the decay chart.
    let metric = [Action::NextMetric; 3];
    views.push((
        "reliance".to_owned(),
        evidence_view(INTERVENED_STEP, &metric),
    ));
    let evidence = evidence_view(1, &[Action::ToggleHeatmap]);
    views.push(("evidence-heatmap".to_owned(), evidence));
    let compare = evidence_view(INTERVENED_STEP, &[Action::HideAudioFromStep]);
    views.push(("intervention".to_owned(), compare));
    // Two traces files compared: reasoning on step 4, then the direct answer in focus.
    let steps = [Action::NextStep; 4];
    let mut compare = compare_state(width, &steps);
    compare.update(Action::SwitchSide);
    views.push(("compare".to_owned(), compare));
    let pairs = [
        Action::ToggleList,
        Action::FilterOutcome,
        Action::FilterOutcome,
    ];
    views.push(("compare-list".to_owned(), compare_state(width, &pairs)));
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
