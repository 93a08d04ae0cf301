//! What the Python package's trace writer and report reader are compared with, written by the
//! crate's own code so that pytest checks Python against Rust byte for byte without a Rust
//! toolchain: `auscult report`'s five CSV tables (`report::write_report`) on the bundled example
//! traces for several selections and on a variant with counterfactual answers, a failed item, a
//! bad line and an exported labels file; and traces as `serde_json` writes them (pretty and
//! compact), one with every optional field and awkward floats, one read from a sparse input.
//!
//! Regenerate with `UPDATE_PYTHON_REPORT=1 cargo test --test all python_report::`, then run it
//! again without the variable.

use crate::common;

use std::path::PathBuf;

use auscult::cafe::export::export_rows;
use auscult::report::heads::EventSpan;
use auscult::report::{write_report, ReportOptions};
use auscult::trace::metrics::{Heads, Selection};
use auscult::trace::{read_traces, FailedItem, Trace, TraceLine, TRACE_SCHEMA};
use auscult::truth::Truth;
use common::{repo_path, update_mode};

const VARIABLE: &str = "UPDATE_PYTHON_REPORT";
const DATA: &str = "python/tests/data";
const TABLES: [&str; 5] = [
    "accuracy.csv",
    "step_decay.csv",
    "token_decay.csv",
    "cafe.csv",
    "heads.csv",
];

/// The heads' event spans as `auscult report` takes them (`cli/report.rs`).
fn synthetic_event_spans(trace: &Trace) -> Vec<Option<EventSpan>> {
    Truth::synthetic(trace).map_or_else(Vec::new, |truth| truth.claimed_event_spans(trace))
}

/// One report run: its folder under `report_examples/`, the traces file, the selection, the bin
/// width and the label files (relative to the repository).
struct Case {
    name: &'static str,
    traces: &'static str,
    layers: Vec<usize>,
    heads: Heads,
    bin_tokens: usize,
    labels: Vec<&'static str>,
}

const VARIANT: &str = "python/tests/data/report_examples/variant_input/traces.jsonl";
const VARIANT_LABELS: &str = "python/tests/data/report_examples/variant_input/labels.export.jsonl";

fn cases() -> Vec<Case> {
    let examples = "assets/examples/traces.jsonl";
    vec![
        Case {
            name: "default",
            traces: examples,
            layers: vec![],
            heads: Heads::Mean,
            bin_tokens: 16,
            labels: vec![],
        },
        Case {
            name: "layers_1_3_head_2",
            traces: examples,
            layers: vec![1, 3],
            heads: Heads::One(2),
            bin_tokens: 16,
            labels: vec![],
        },
        Case {
            name: "max_bin_5",
            traces: examples,
            layers: vec![],
            heads: Heads::Max,
            bin_tokens: 5,
            labels: vec![],
        },
        Case {
            name: "variant",
            traces: VARIANT,
            layers: vec![0, 2],
            heads: Heads::Mean,
            bin_tokens: 7,
            labels: vec![VARIANT_LABELS],
        },
    ]
}

/// The case's options as pytest passes them to `auscult.read` (`head`: null, "max" or an index).
fn case_json(case: &Case) -> serde_json::Value {
    let head = match case.heads {
        Heads::Mean => serde_json::Value::Null,
        Heads::Max => "max".into(),
        Heads::One(h) => h.into(),
    };
    serde_json::json!({
        "name": case.name,
        "traces": case.traces,
        "layers": case.layers,
        "head": head,
        "bin_tokens": case.bin_tokens,
        "labels": case.labels,
    })
}

/// Compares `generated` with the committed `relative` file, or rewrites it in update mode.
/// Returns the names of the files that differ.
fn check(relative: &str, generated: &[u8], differing: &mut Vec<String>) {
    let path = repo_path(relative);
    if update_mode::requested(VARIABLE) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
    } else if std::fs::read(&path).ok().as_deref() != Some(generated) {
        differing.push(relative.to_owned());
    }
}

fn finish(differing: Vec<String>, what: &str) {
    if update_mode::requested(VARIABLE) {
        update_mode::rewrote(VARIABLE, what);
    }
    assert!(
        differing.is_empty(),
        "{differing:?} are not what the crate writes: run {VARIABLE}=1 cargo test --test all \
         python_report::, look at the change, then run it again without the variable"
    );
}

/// The variant's inputs: the example traces with a counterfactual answer on the first two (one
/// needing the audio, one not), a failed item and a line that is not JSON between them, sidecar
/// paths reaching back to the examples' sidecars; and an export of a person's labels of the
/// first trace (one overruling the automatic label, one missed event).
fn variant_inputs() -> (Vec<u8>, Vec<u8>) {
    let examples = read_traces(&repo_path("assets/examples/traces.jsonl"))
        .unwrap()
        .finished();
    let mut lines = Vec::new();
    for (index, mut trace) in examples.into_iter().enumerate() {
        if let Some(attention) = trace.attention.as_mut() {
            attention.sidecar = format!("../../../../../assets/examples/{}", attention.sidecar);
        }
        if index < 2 {
            let mut value = serde_json::to_value(&trace).unwrap();
            value["evidence"] = serde_json::json!({
                "counterfactual_answer": {
                    "counterfactual": "silence",
                    "ids": [1, 2],
                    "text": "x",
                    "stop_reason": "stop_token",
                    "answer": {"extracted": "x", "correct": index == 1}
                },
                "seconds": {"silence": 0.5}
            });
            trace = serde_json::from_value(value).unwrap();
        }
        lines.push(serde_json::to_string(&trace).unwrap());
        if index == 1 {
            let failed = FailedItem {
                schema: TRACE_SCHEMA.into(),
                id: "missing-clip".into(),
                created: "2026-12-07T00:00:00Z".into(),
                benchmark: None,
                audio_path: Some("missing.wav".into()),
                error: "missing.wav: no such file".into(),
            };
            lines.push(serde_json::to_string(&failed).unwrap());
            lines.push("{not json}".into());
        }
    }
    let traces = lines.join("\n") + "\n";

    let mut first = read_traces(&repo_path("assets/examples/traces.jsonl"))
        .unwrap()
        .finished()
        .remove(0);
    let labels = first.labels.get_or_insert_with(Default::default);
    let overruled = labels.steps[1].clone();
    labels.steps.push(auscult::trace::StepLabel {
        label: auscult::trace::CafeLabel::Hallucinated,
        source: "human:ann".parse().unwrap(),
        note: Some("no chirp, \"a click\"".into()),
        ..overruled
    });
    labels.missed.push(auscult::trace::MissedEvent {
        event: "a noise burst, at 2 s".into(),
        source: "human:ann".parse().unwrap(),
    });
    let export: String = export_rows(&first, true)
        .iter()
        .filter(|row| row.source == "human")
        .map(|row| serde_json::to_string(row).unwrap() + "\n")
        .collect();
    (traces.into_bytes(), export.into_bytes())
}

#[test]
fn the_report_tables_the_python_reader_is_compared_with_are_the_report_s() {
    let mut differing = Vec::new();
    let (variant, export) = variant_inputs();
    check(VARIANT, &variant, &mut differing);
    check(VARIANT_LABELS, &export, &mut differing);
    let cases = cases();
    let listed = serde_json::to_string_pretty(&cases.iter().map(case_json).collect::<Vec<_>>())
        .unwrap()
        + "\n";
    check(
        &format!("{DATA}/report_examples/cases.json"),
        listed.as_bytes(),
        &mut differing,
    );
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        // In update mode the variant's inputs were just rewritten; otherwise a committed input
        // that is not this build's has already been named in `differing`.
        let traces = repo_path(case.traces);
        let labels: Vec<PathBuf> = case.labels.iter().map(|l| repo_path(l)).collect();
        let options = ReportOptions {
            bin_tokens: case.bin_tokens,
            selection: Selection {
                layers: case.layers.clone(),
                heads: case.heads,
            },
            labels,
            event_spans: synthetic_event_spans,
        };
        let out = dir.path().join("report");
        let report = write_report(&[traces], &out, &options).unwrap();
        assert!(
            report.traces >= 4,
            "{}: {} traces",
            case.name,
            report.traces
        );
        if case.traces == VARIANT {
            assert_eq!(report.failed, 1);
            assert!(
                report.warnings.iter().any(|w| w.contains(":4: not JSON")),
                "{:?}",
                report.warnings
            );
        }
        for table in TABLES {
            let bytes = std::fs::read(out.join(table)).unwrap();
            check(
                &format!("{DATA}/report_examples/{}/{table}", case.name),
                &bytes,
                &mut differing,
            );
        }
    }
    finish(differing, "python/tests/data/report_examples/");
}

/// The first example trace with every optional field present, the sampler's f32 settings and
/// floats serde_json writes in each of its forms (`0.00001`, `1e-7`, `1e16`, `-0.0`).
fn trace_with_every_field() -> Trace {
    let mut value = serde_json::to_value(
        read_traces(&repo_path("assets/examples/traces.jsonl"))
            .unwrap()
            .finished()
            .remove(0),
    )
    .unwrap();
    value["model"]["quantization"] = "q8_0".into();
    value["model"]["experts"] = serde_json::json!({"count": 128, "top_k": 8});
    value["audio"]["duration_seconds"] = serde_json::json!(0.00001);
    value["audio"]["window_seconds"] = serde_json::json!(1e16);
    value["audio"]["seconds_per_audio_token"] = serde_json::json!(1.0 / 13.0);
    value["prompt"]["system"] = "Be brief.\u{1c}\t\"quoted\" é 中 \u{7f}\\".into();
    value["generation"]["piece_offsets"] = serde_json::json!([]);
    value["generation"]["params"]["decoding"] = serde_json::json!({
        "mode": "sample", "temperature": 0.1, "top_p": 2.5e13, "top_k": 40, "seed": 18446744073709551615u64
    });
    value["generation"]["stop_reason"] = "max_new_tokens".into();
    value["labels"]["steps"][0]["note"] = "a note".into();
    value["labels"]["targets"] = serde_json::Value::Null;
    value["timings"] = serde_json::json!({
        "load_seconds": 1e-7, "prefill_seconds": -0.0, "audio_encoder_seconds": 123456789.125,
        "decode_seconds": 1.5e300, "decode_tokens_per_second": 2.5e-308
    });
    value["attention"] = serde_json::Value::Null;
    value["evidence"] = serde_json::json!({
        "reliance": ["silence", "masked"],
        "occlusion": {"window_seconds": 0.5, "hop_seconds": 0.25, "windows": [[0.0, 0.5], [0.25, 0.75]]},
        "counterfactual_answer": {
            "counterfactual": "masked", "ids": [5, 3], "text": "4", "stop_reason": "stop_token",
            "answer": {"extracted": "4", "correct": true}
        },
        "interventions": [
            {"from_step": 2, "from_token": 40, "ids": [9], "text": "1", "stop_reason": "cancelled", "answer_changed": true}
        ],
        "seconds": {"silence": 0.1, "masked": 3.0, "occlusion": 12.75}
    });
    serde_json::from_value(value).unwrap()
}

#[test]
fn the_traces_the_python_writer_is_compared_with_are_serde_json_s() {
    let mut differing = Vec::new();
    let first = read_traces(&repo_path("assets/examples/traces.jsonl"))
        .unwrap()
        .finished()
        .remove(0);
    check(
        &format!("{DATA}/trace_examples/example_0.pretty.json"),
        serde_json::to_string_pretty(&first).unwrap().as_bytes(),
        &mut differing,
    );
    let every = trace_with_every_field();
    check(
        &format!("{DATA}/trace_examples/every_field.pretty.json"),
        serde_json::to_string_pretty(&every).unwrap().as_bytes(),
        &mut differing,
    );
    let failed = FailedItem {
        schema: TRACE_SCHEMA.into(),
        id: "item/7 ü".into(),
        created: "2026-12-07T00:00:00Z".into(),
        benchmark: every.benchmark.clone(),
        audio_path: None,
        error: "clip.wav: cannot decode\nline two".into(),
    };
    let lines = [
        serde_json::to_string(&every).unwrap(),
        serde_json::to_string(&failed).unwrap(),
    ]
    .join("\n")
        + "\n";
    check(
        &format!("{DATA}/trace_examples/every_field.jsonl"),
        lines.as_bytes(),
        &mut differing,
    );
    // A sparse, hand-written input: keys out of order, defaults left out, an unknown key,
    // integers where floats go. What Trace::read makes of it, written back.
    let sparse = repo_path(&format!("{DATA}/trace_examples/sparse.input.json"));
    let read = Trace::read(&sparse).unwrap();
    check(
        &format!("{DATA}/trace_examples/sparse.pretty.json"),
        serde_json::to_string_pretty(&read).unwrap().as_bytes(),
        &mut differing,
    );
    finish(differing, "python/tests/data/trace_examples/");
}

/// A line the Rust reader takes is one the Python reader takes: the variant file's lines are
/// two traces, a failed item, a bad line and two traces.
#[test]
fn the_variant_traces_file_reads_as_its_lines_say() {
    let read = read_traces(&repo_path(VARIANT)).unwrap();
    let kinds: Vec<&str> = read
        .lines
        .iter()
        .map(|line| match line {
            TraceLine::Done(_) => "trace",
            TraceLine::Failed(_) => "failed",
        })
        .collect();
    assert_eq!(kinds, ["trace", "trace", "failed", "trace", "trace"]);
    assert_eq!(read.skipped.len(), 1, "{:?}", read.skipped);
}

/// The per-head map the heads test gives row `t`, layer `l`, head `h` at audio token `j`: a
/// formula float32 computes alike in Rust and numpy, so pytest rebuilds the sidecars instead of
/// the repository carrying them.
fn formula_head_map(t: usize, l: usize, h: usize, j: usize) -> f32 {
    ((t * 7 + l * 3 + h * 5 + j * 11) % 17) as f32 / 17.0
}

/// The heads' peak-in-event ranking: the example traces with per-head maps by
/// `formula_head_map`, ranked by `auscult report`'s own code with the synthetic items' event
/// spans, which are written beside the tables for pytest (the Python reader takes them as an
/// argument rather than porting the synthetic items' truth).
#[test]
fn the_heads_ranking_with_per_head_maps_is_the_report_s() {
    let mut differing = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let examples = repo_path("assets/examples/traces.jsonl");
    let traces = dir.path().join("traces.jsonl");
    std::fs::copy(&examples, &traces).unwrap();
    let mut spans = serde_json::Map::new();
    for trace in read_traces(&examples).unwrap().finished() {
        let record = trace.attention.as_ref().unwrap();
        let mut arrays =
            auscult::trace::read_sidecar(&repo_path("assets/examples").join(&record.sidecar))
                .unwrap();
        let rows = &mut arrays.generated;
        let mut maps = Vec::new();
        for t in 0..rows.rows {
            for l in 0..rows.layers {
                for h in 0..rows.heads {
                    maps.extend((0..rows.audio_tokens).map(|j| formula_head_map(t, l, h, j)));
                }
            }
        }
        rows.head_maps = Some(maps);
        let path = dir.path().join(&record.sidecar);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        auscult::trace::write_sidecar(&path, &arrays).unwrap();
        spans.insert(
            trace.id.clone(),
            serde_json::to_value(synthetic_event_spans(&trace)).unwrap(),
        );
    }
    let named = spans
        .values()
        .flat_map(|list| list.as_array().unwrap())
        .filter(|span| !span.is_null())
        .count();
    assert!(named >= 4, "the examples' claims name events ({named})");
    let spans = serde_json::to_string_pretty(&spans).unwrap() + "\n";
    check(
        &format!("{DATA}/report_examples/head_maps/event_spans.json"),
        spans.as_bytes(),
        &mut differing,
    );
    let options = ReportOptions {
        bin_tokens: 16,
        selection: Selection::default(),
        labels: Vec::new(),
        event_spans: synthetic_event_spans,
    };
    let out = dir.path().join("report");
    let report = write_report(&[traces], &out, &options).unwrap();
    assert!(report.heads.rows[0].peak_in_event.is_some());
    let heads = std::fs::read(out.join("heads.csv")).unwrap();
    check(
        &format!("{DATA}/report_examples/head_maps/heads.csv"),
        &heads,
        &mut differing,
    );
    finish(differing, "python/tests/data/report_examples/head_maps/");
}

/// `count` float32 values `((seed + i) % 13) / 8`, exact in Rust and numpy alike.
fn formula_values(seed: usize, count: usize) -> Vec<f32> {
    (0..count).map(|i| ((seed + i) % 13) as f32 / 8.0).collect()
}

/// A sidecar with every group of arrays (generated rows with per-head maps and experts, prompt
/// rows, reliance and occlusion), small and made of formulas pytest rebuilds: the Python writer
/// must give these bytes and the Python reader these arrays.
#[test]
fn the_sidecar_with_every_array_the_python_writer_is_compared_with_is_the_crate_s() {
    use auscult::model::{
        ActualRows, AttentionRows, ComparedRows, Counterfactual, Evidence, OcclusionRows,
    };
    use auscult::trace::{write_sidecar, SidecarArrays};

    let rows = |prefix_seed: usize, rows: usize, head_maps: bool, experts: bool| {
        let (layers, heads, audio) = (2, 2, 4);
        AttentionRows {
            rows,
            layers,
            heads,
            audio_tokens: audio,
            audio_ratio: formula_values(prefix_seed, rows * layers * heads),
            sink_mass: formula_values(prefix_seed + 1, rows * layers * heads),
            audio_map: formula_values(prefix_seed + 2, rows * layers * audio),
            head_maps: head_maps
                .then(|| formula_values(prefix_seed + 3, rows * layers * heads * audio)),
            experts: experts.then(|| {
                (0..rows * layers * 2)
                    .map(|i| if i % 5 == 4 { u16::MAX } else { i as u16 })
                    .collect()
            }),
            top_k: if experts { 2 } else { 0 },
        }
    };
    let tokens = 3;
    let arrays = SidecarArrays {
        generated: rows(0, tokens, true, true),
        prompt: Some(rows(10, 5, false, false)),
        evidence: Some(Evidence {
            actual: ActualRows {
                log_prob: formula_values(20, tokens),
                top1: vec![4, 0, 70000],
            },
            counterfactuals: vec![(
                Counterfactual::Silence,
                ComparedRows {
                    delta: formula_values(21, tokens),
                    kl: formula_values(22, tokens),
                    top1: vec![1, 2, 3],
                },
            )],
            occlusion: Some(OcclusionRows {
                tokens,
                windows: 2,
                delta: formula_values(23, tokens * 2),
                kl: formula_values(24, tokens * 2),
            }),
        }),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("every_array.attn.safetensors");
    write_sidecar(&path, &arrays).unwrap();
    let mut differing = Vec::new();
    check(
        &format!("{DATA}/trace_examples/every_array.attn.safetensors"),
        &std::fs::read(&path).unwrap(),
        &mut differing,
    );
    finish(
        differing,
        "python/tests/data/trace_examples/every_array.attn.safetensors",
    );
}
