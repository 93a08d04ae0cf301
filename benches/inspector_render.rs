//! Render time of one inspector frame for a long trace: 204 steps × 750 audio tokens (a 30 s
//! clip), at 200×60, in colour. `cargo bench --bench inspector_render`.

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use auscult::example_traces::{example_trace, tones_spec};
use auscult::tui::keys::KeyTable;
use auscult::tui::state::{Action, Example, Inspector};
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

fn bench(c: &mut Criterion) {
    let state = long_trace_inspector();
    let keys = KeyTable::default();
    let area = Rect::new(0, 0, 200, 60);
    c.bench_function("render 200x60, 204 steps x 750 audio tokens", |b| {
        b.iter(|| {
            let mut buf = Buffer::empty(area);
            render(&state, &keys, Palette::TrueColor, area, &mut buf);
            buf
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
