//! Render time of one inspector frame for long traces, in colour:
//! - 204 steps × 750 audio tokens (a 30 s clip), at 200×60;
//! - 2,000 steps × 7,500 audio tokens (a 300 s clip, Qwen2.5-Omni's window), at 200×60 and at
//!   80×24, on the first step, mid-way, and zoomed in to a tenth of the clip; and the search
//!   for text over its 2,000 steps (six keys typed, then esc);
//! - 2,000 steps of a 7B's attention shape (28 layers × 28 heads) over a 1 s clip.
//!
//! Frames follow one another, as on screen; the cases "nothing remembered" clear the step maps
//! and values the inspector keeps between frames (`tui::state::StepMaps`), as the first frame
//! after a jump finds them. `cargo bench --bench inspector_render`. The 300 s trace's attention
//! has 2 layers and 1 head (its arrays take 1.2 GB; a 7B's would take 17 GB); the 28 × 28 trace
//! measures what layers and heads cost.

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use auscult::example_traces::{example_trace, tones_spec, ClipEvent, ExampleSpec};
use auscult::trace::CafeLabel;
use auscult::tui::keys::KeyTable;
use auscult::tui::state::{Action, Example, Inspector, SearchKey};
use auscult::tui::view::{render, Palette};

fn long_trace_inspector() -> Inspector {
    let mut spec = tones_spec();
    let lines = spec.lines.clone();
    spec.lines = (0..17).flat_map(|_| lines.clone()).collect();
    spec.clip_seconds = 30.0;
    let (trace, arrays) = example_trace(&spec);
    assert_eq!(arrays.generated.audio_tokens, 750);
    let mut state = Inspector::new(vec![Example::new(trace, Some(arrays.generated))]);
    for _ in 0..100 {
        state.update(Action::NextStep);
    }
    state
}

/// 2,000 steps over a 300 s clip with 20 events, each perception step naming one.
fn omni_window_spec() -> ExampleSpec {
    const STEPS: usize = 2_000;
    const EVENTS: usize = 20;
    let names: Vec<&'static str> = (0..EVENTS).map(|i| &*format!("tone {i}").leak()).collect();
    let events = (0..EVENTS)
        .map(|i| ClipEvent {
            name: names[i],
            start: i as f64 * 15.0 + 2.0,
            end: i as f64 * 15.0 + 6.0,
        })
        .collect();
    let lines = (0..STEPS)
        .map(|i| {
            let event = i % EVENTS;
            let text: &'static str = if i == STEPS - 1 {
                "<answer>Three, falling</answer>"
            } else if i % 3 == 2 {
                "So the pattern goes on."
            } else {
                format!("At {} s tone {event} plays.", event * 15 + 2).leak()
            };
            let about = (i % 3 != 2 && i != STEPS - 1).then_some(event);
            (text, about, about.map(|_| CafeLabel::Matched))
        })
        .collect();
    ExampleSpec {
        id: "omni-window",
        clip_seconds: 300.0,
        events,
        lines,
        layers: 2,
        heads: 1,
        ..tones_spec()
    }
}

fn omni_window_inspector() -> Inspector {
    let (trace, arrays) = example_trace(&omni_window_spec());
    assert_eq!(arrays.generated.audio_tokens, 7_500);
    assert_eq!(trace.steps.len(), 2_000);
    Inspector::new(vec![Example::new(trace, Some(arrays.generated))])
}

fn frame(state: &Inspector, keys: &KeyTable, area: Rect) -> Buffer {
    let mut buf = Buffer::empty(area);
    render(state, keys, Palette::TrueColor, area, &mut buf);
    buf
}

fn bench(c: &mut Criterion) {
    let keys = KeyTable::default();
    let state = long_trace_inspector();
    let wide = Rect::new(0, 0, 200, 60);
    c.bench_function("render 200x60, 204 steps x 750 audio tokens", |b| {
        b.iter(|| frame(&state, &keys, wide))
    });

    let mut state = omni_window_inspector();
    let small = Rect::new(0, 0, 80, 24);
    c.bench_function(
        "render 200x60, 2000 steps x 7500 audio tokens, step 0",
        |b| b.iter(|| frame(&state, &keys, wide)),
    );
    c.bench_function(
        "render 80x24, 2000 steps x 7500 audio tokens, step 0",
        |b| b.iter(|| frame(&state, &keys, small)),
    );
    // The first frame after a jump computes every visible row's map (and every step's value).
    c.bench_function(
        "render 200x60, 2000 steps x 7500 audio tokens, step 0, nothing remembered",
        |b| {
            b.iter(|| {
                state.examples[0].step_maps.clear();
                frame(&state, &keys, wide)
            })
        },
    );
    for _ in 0..1_000 {
        state.update(Action::NextStep);
    }
    c.bench_function(
        "render 200x60, 2000 steps x 7500 audio tokens, step 1000",
        |b| b.iter(|| frame(&state, &keys, wide)),
    );
    let mut zoomed = omni_window_inspector();
    zoomed.step = 1_000;
    for _ in 0..7 {
        zoomed.update(Action::ZoomIn);
    }
    assert!(zoomed.view.1 - zoomed.view.0 < 0.15, "{:?}", zoomed.view);
    c.bench_function(
        "render 200x60, 2000 steps x 7500 audio tokens, zoomed to a tenth",
        |b| b.iter(|| frame(&zoomed, &keys, wide)),
    );
    drop(zoomed);
    c.bench_function(
        "search 2000 steps: type \"tone 7\" (6 keys), then esc",
        |b| {
            b.iter(|| {
                state.update(Action::Search);
                for c in "tone 7".chars() {
                    state.type_search(SearchKey::Char(c));
                }
                state.update(Action::Back);
            })
        },
    );
}

/// A 7B's attention shape (28 layers, 28 heads) over 2,000 steps: every step's value averages
/// 784 numbers per token. The clip is 1 s (25 audio tokens), so the per-head maps fit in memory.
fn bench_many_heads(c: &mut Criterion) {
    let keys = KeyTable::default();
    let spec = ExampleSpec {
        clip_seconds: 1.0,
        layers: 28,
        heads: 28,
        ..omni_window_spec()
    };
    let (trace, arrays) = example_trace(&spec);
    let mut state = Inspector::new(vec![Example::new(trace, Some(arrays.generated))]);
    state.step = 1_000;
    let wide = Rect::new(0, 0, 200, 60);
    c.bench_function("render 200x60, 2000 steps, 28 layers x 28 heads", |b| {
        b.iter(|| frame(&state, &keys, wide))
    });
    c.bench_function(
        "render 200x60, 2000 steps, 28 layers x 28 heads, nothing remembered",
        |b| {
            b.iter(|| {
                state.examples[0].step_maps.clear();
                frame(&state, &keys, wide)
            })
        },
    );
}

criterion_group!(benches, bench, bench_many_heads);
criterion_main!(benches);
