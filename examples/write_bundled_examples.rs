//! Writes the hand-made bundled example traces from their generator (`auscult::example_traces`):
//! `assets/demo/demo-tones.json` with its sidecar, and `assets/demo/demo-set.jsonl` with its
//! sidecars in `assets/demo/demo-set.attn/`, laid out as `auscult batch` lays out a traces file.
//!
//! Run from the repository root after changing the generator or the trace format:
//! `cargo run --example write_bundled_examples`; then `cargo test --test all example_assets::`
//! checks the files against the generator. Writing is not a test, so a test can never pass by
//! comparing a file with what it has just written.

use std::path::Path;

use anyhow::{Context, Result};
use auscult::example_traces::{
    demo_set_specs, example_batch, example_trace, tones_spec, DEMO_SET, DEMO_TRACE,
};
use auscult::trace::{append_line, sidecar_path, write_sidecar, TraceLine};

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let trace_path = root.join(DEMO_TRACE);
    let (trace, arrays) = example_trace(&tones_spec());
    write_sidecar(&sidecar_path(&trace_path), &arrays)?;
    trace.write(&trace_path)?;
    println!("wrote {}", trace_path.display());

    let traces_path = root.join(DEMO_SET);
    let folder = traces_path.with_extension("attn");
    let folder_name = folder
        .file_name()
        .and_then(|name| name.to_str())
        .context("the demo set's sidecar folder has a UTF-8 name")?;
    if folder.exists() {
        std::fs::remove_dir_all(&folder)?;
    }
    std::fs::create_dir_all(&folder)?;
    let base = traces_path.parent().context("the demo set has a folder")?;
    let mut file = std::fs::File::create(&traces_path)?;
    for (trace, arrays) in example_batch(&demo_set_specs(), folder_name) {
        let sidecar = &trace
            .attention
            .as_ref()
            .context("examples have attention")?
            .sidecar;
        write_sidecar(&base.join(sidecar), &arrays)?;
        append_line(&mut file, &TraceLine::Done(Box::new(trace)))?;
    }
    println!("wrote {} and {}", traces_path.display(), folder.display());
    Ok(())
}
