//! The bundled example traces are exactly what the generator in `src/example_traces/` makes:
//! `assets/demo/demo-tones.json` with its sidecar (`example_trace(&tones_spec())`), and
//! `assets/demo/demo-set.jsonl`, a traces file laid out as `auscult batch` writes one (a line
//! per `demo_set_specs()` example, sidecars in `demo-set.attn/`). Rewrite them with
//! `UPDATE_ASSETS=1 cargo test --test all example_assets::`: the test then writes the files and
//! fails, saying so (`common::update_mode`); run it again without the variable to check.

use crate::common;

use std::path::Path;

use auscult::example_traces::{
    demo_set_specs, example_batch, example_trace, tones_spec, write_bundled, HAND_MADE_SET,
    HAND_MADE_TRACE,
};
use auscult::trace::{read_sidecar, read_traces, sidecar_path, Trace, TraceLine};
use common::update_mode;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// With `UPDATE_ASSETS` set, rewrites every bundled example file and fails (a comparison with
/// what was just written would prove nothing).
#[test]
fn the_bundled_examples_are_rewritten_only_on_request() {
    if update_mode::requested("UPDATE_ASSETS") {
        write_bundled(root()).unwrap();
        update_mode::rewrote("UPDATE_ASSETS", "assets/demo/demo-tones.* and demo-set.*");
    }
}

#[test]
fn the_bundled_example_trace_is_the_generators() {
    let trace_path = root().join(HAND_MADE_TRACE);
    let (trace, arrays) = example_trace(&tones_spec());
    assert_eq!(Trace::read(&trace_path).unwrap(), trace);
    assert_eq!(read_sidecar(&sidecar_path(&trace_path)).unwrap(), arrays);
}

#[test]
fn the_bundled_example_set_is_the_generators() {
    let traces_path = root().join(HAND_MADE_SET);
    // `batch` puts the sidecars of `x.jsonl` in `x.attn/`, named relative to the file's folder.
    let folder = traces_path.with_extension("attn");
    let folder_name = folder.file_name().unwrap().to_str().unwrap();
    let set = example_batch(&demo_set_specs(), folder_name);
    let base = traces_path.parent().unwrap();

    let read = read_traces(&traces_path).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    let expected: Vec<TraceLine> = set
        .iter()
        .map(|(trace, _)| TraceLine::Done(Box::new(trace.clone())))
        .collect();
    assert_eq!(read.lines, expected);
    for (trace, arrays) in &set {
        let sidecar = base.join(&trace.attention.as_ref().unwrap().sidecar);
        assert_eq!(read_sidecar(&sidecar).unwrap(), *arrays, "{}", trace.id);
    }
    // Nothing else in the sidecar folder.
    let mut present: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    let mut named: Vec<String> = set
        .iter()
        .map(|(trace, _)| {
            let sidecar = &trace.attention.as_ref().unwrap().sidecar;
            sidecar.rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    named.sort();
    assert_eq!(present, named);
}
