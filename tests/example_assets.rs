//! The bundled example traces are exactly what the generator in `src/trace/example.rs` makes:
//! `assets/demo/demo-tones.json` with its sidecar (`example_trace(&tones_spec())`), and
//! `assets/demo/demo-set.jsonl`, a traces file laid out as `auscult batch` writes one (a line
//! per `demo_set_specs()` example, sidecars in `demo-set.attn/`). Regenerate both with
//! `UPDATE_ASSETS=1 cargo test --test all example_assets::`.

use std::path::{Path, PathBuf};

use auscult::trace::example::{demo_set_specs, example_batch, example_trace, tones_spec};
use auscult::trace::{
    append_line, read_sidecar, read_traces, sidecar_path, write_sidecar, Trace, TraceLine,
};

fn demo_asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/demo")
        .join(name)
}

#[test]
fn the_bundled_example_trace_is_the_generators() {
    let trace_path = demo_asset("demo-tones.json");
    let (trace, arrays) = example_trace(&tones_spec());
    if std::env::var_os("UPDATE_ASSETS").is_some() {
        write_sidecar(&sidecar_path(&trace_path), &arrays).unwrap();
        trace.write(&trace_path).unwrap();
    }
    assert_eq!(Trace::read(&trace_path).unwrap(), trace);
    assert_eq!(read_sidecar(&sidecar_path(&trace_path)).unwrap(), arrays);
}

#[test]
fn the_bundled_example_set_is_the_generators() {
    let traces_path = demo_asset("demo-set.jsonl");
    // `batch` puts the sidecars of `x.jsonl` in `x.attn/`, named relative to the file's folder.
    let folder = traces_path.with_extension("attn");
    let folder_name = folder.file_name().unwrap().to_str().unwrap();
    let set = example_batch(&demo_set_specs(), folder_name);
    let base = traces_path.parent().unwrap();
    if std::env::var_os("UPDATE_ASSETS").is_some() {
        if folder.exists() {
            std::fs::remove_dir_all(&folder).unwrap();
        }
        std::fs::create_dir_all(&folder).unwrap();
        let mut file = std::fs::File::create(&traces_path).unwrap();
        for (trace, arrays) in &set {
            let sidecar = &trace.attention.as_ref().unwrap().sidecar;
            write_sidecar(&base.join(sidecar), arrays).unwrap();
            append_line(&mut file, &TraceLine::Done(Box::new(trace.clone()))).unwrap();
        }
    }

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
