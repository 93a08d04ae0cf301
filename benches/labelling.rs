//! The cost of one label action: appending it to the journal with its `fsync` (on the disk the
//! bench runs from, not a RAM disk), and the state's update once it is saved on a traces file of
//! 1,000 examples (the progress count walks every step). `cargo bench --bench labelling`.

use criterion::{criterion_group, criterion_main, Criterion};

use auscult::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
use auscult::cafe::journal_file::open_journal;
use auscult::example_traces::{example_trace, tones_spec};
use auscult::trace::CafeLabel;
use auscult::tui::state::{Action, Effect, Example, Inspector, Labelling};

fn thousand_examples() -> Inspector {
    let (trace, _) = example_trace(&tones_spec());
    let examples = (0..1000)
        .map(|i| {
            let mut trace = trace.clone();
            trace.id = format!("item-{i}");
            Example::new(trace, None)
        })
        .collect();
    let mut state = Inspector::new(examples);
    state.start_labelling(Labelling::new("ann", AnnotatorLabels::new("ann")));
    state
}

fn bench(c: &mut Criterion) {
    let folder = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut journal = open_journal(&folder.path().join("bench.ann.labels.jsonl"), "ann")
        .unwrap()
        .writer
        .expect("a fresh journal is writable");
    c.bench_function("journal append + fsync", |b| {
        b.iter(|| {
            journal
                .append(
                    "item-0",
                    LabelOp::Label {
                        step: 1,
                        event: "tone A4 (440 Hz)".into(),
                        label: CafeLabel::Misused,
                    },
                )
                .unwrap()
        })
    });

    let mut state = thousand_examples();
    let mut seq = 0;
    c.bench_function("label key to saved state, 1,000 examples x 12 steps", |b| {
        b.iter(|| {
            let Effect::Record { trace, op } = state.update(Action::LabelMatched) else {
                panic!("a label action");
            };
            seq += 1;
            state.on_recorded(Ok(JournalEntry {
                seq,
                time: String::new(),
                annotator: "ann".into(),
                trace,
                op,
            }));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
