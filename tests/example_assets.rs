//! The bundled example trace (`assets/demo/demo-tones.json` and its sidecar) is exactly what the
//! generator in `src/trace/example.rs` makes. Regenerate with
//! `UPDATE_ASSETS=1 cargo test --test example_assets`.

use std::path::Path;

use auscult::trace::example::{example_trace, tones_spec};
use auscult::trace::{read_sidecar, sidecar_path, write_sidecar, Trace};

#[test]
fn the_bundled_example_trace_is_the_generators() {
    let trace_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/demo-tones.json");
    let (trace, arrays) = example_trace(&tones_spec());
    if std::env::var_os("UPDATE_ASSETS").is_some() {
        write_sidecar(&sidecar_path(&trace_path), &arrays).unwrap();
        trace.write(&trace_path).unwrap();
    }
    assert_eq!(Trace::read(&trace_path).unwrap(), trace);
    assert_eq!(read_sidecar(&sidecar_path(&trace_path)).unwrap(), arrays);
}
