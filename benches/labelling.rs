//! The cost of one label action: appending it to the journal with its `fsync` (on the disk the
//! bench runs from, not a RAM disk), and the state's update once it is saved on a traces file of
//! 1,000 examples (the progress count walks every step); and the cost of starting labelling on
//! traces files of 1,000 and 10,000 examples whose annotator has labelled 100 of them (every
//! example's labels are merged and its done steps counted, so this shows how it grows with the
//! file). `cargo bench --bench labelling`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use auscult::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
use auscult::cafe::journal_file::open_journal;
use auscult::cafe::{claims_of_step, WHOLE_STEP};
use auscult::example_traces::{example_trace, tones_spec};
use auscult::trace::CafeLabel;
use auscult::tui::state::{Action, Effect, Example, Inspector, Labelling};

/// `count` copies of the tones example (12 steps, judge and auto labels), ids `item-0`, ….
fn examples(count: usize) -> Vec<Example> {
    let (trace, _) = example_trace(&tones_spec());
    (0..count)
        .map(|i| {
            let mut trace = trace.clone();
            trace.id = format!("item-{i}");
            Example::new(trace, None)
        })
        .collect()
}

fn thousand_examples() -> Inspector {
    let mut state = Inspector::new(examples(1000));
    state.start_labelling(Labelling::new("ann", AnnotatorLabels::new("ann")));
    state
}

/// An annotator's journal that labels every claim of every step of `item-0` … `item-99` (a step
/// nobody listed claims of, as a whole), so those 1,200 steps are done.
fn hundred_labelled() -> AnnotatorLabels {
    let (trace, _) = example_trace(&tones_spec());
    let listed = trace.labels.clone().unwrap_or_default();
    let mut claims: Vec<(usize, String)> = (0..trace.steps.len())
        .flat_map(|step| {
            let events: Vec<String> = claims_of_step(&listed, step)
                .iter()
                .map(|c| c.event.to_owned())
                .collect();
            let events = if events.is_empty() {
                vec![WHOLE_STEP.to_owned()]
            } else {
                events
            };
            events.into_iter().map(move |event| (step, event))
        })
        .collect();
    claims.dedup();
    let mut mine = AnnotatorLabels::new("ann");
    for example in 0..100 {
        for (step, event) in &claims {
            let seq = mine.next_seq();
            mine.apply(JournalEntry {
                seq,
                time: String::new(),
                annotator: "ann".into(),
                trace: format!("item-{example}"),
                op: LabelOp::Label {
                    step: *step,
                    event: event.clone(),
                    label: CafeLabel::Matched,
                },
            })
            .unwrap();
        }
    }
    mine
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

    let mine = hundred_labelled();
    let mut starts = c.benchmark_group("start labelling");
    starts.sample_size(10);
    for count in [1_000, 10_000] {
        let name = format!("{count} examples x 12 steps, 100 labelled");
        starts.bench_function(name, |b| {
            b.iter_batched(
                || Inspector::new(examples(count)),
                |mut state| {
                    state.start_labelling(Labelling::new("ann", mine.clone()));
                    assert_eq!(state.labelling.as_ref().unwrap().progress.0, 1_200);
                    state
                },
                BatchSize::LargeInput,
            )
        });
    }
    starts.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
