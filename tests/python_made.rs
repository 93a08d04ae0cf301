//! Traces the Python package wrote inside transformers' own `generate`
//! (`scripts/make_python_traces.py`, committed in `tests/fixtures/python_made/`) against auscult's
//! own `run` of the same example, so the two implementations cannot drift apart where CI has no
//! PyTorch: the same rendered prompt, input ids, generated ids, text, piece offsets, steps and
//! identities, and sidecar arrays within float32 rounding.

use crate::common;

use std::path::{Path, PathBuf};

use auscult::model::AttentionRows;
use auscult::trace::{read_sidecar, sidecar_path, Decoding, Trace};
use common::{max_abs_difference, repo_path, CommandLine};

/// The committed Python-made traces: Qwen2-Audio, Qwen2.5-Omni's thinker, Qwen3-Omni's thinker
/// (its experts) and the bundled demo model (a real chain of thought, cut into steps).
const CASES: [&str; 4] = ["tiny_a", "omni_thinker", "qwen3_omni", "demo"];

/// Float32 rounding over a few hundred keys, with headroom (measured at most 1e-6).
const TOLERANCE: f32 = 1e-5;

fn python_made(name: &str) -> PathBuf {
    repo_path(&format!("tests/fixtures/python_made/{name}.json"))
}

/// `auscult run` with what the Python trace records about its run.
fn rerun(python: &Trace, out: &Path) -> Trace {
    let params = &python.generation.params;
    assert_eq!(
        params.decoding,
        Decoding::Greedy,
        "only greedy runs can match"
    );
    let mut command = CommandLine::new("run")
        .model(repo_path(&python.model.path))
        .audio(repo_path(&python.audio.path))
        .prompt(&python.prompt.text)
        .max_new_tokens(params.max_new_tokens)
        .option("--min-new-tokens", params.min_new_tokens.to_string())
        .arg("--greedy")
        .out(out);
    if let Some(system) = &python.prompt.system {
        command = command.option("--system", system);
    }
    if params.capture.per_head_maps {
        command = command.arg("--per-head-maps");
    }
    command.succeeds();
    Trace::read(out).unwrap()
}

fn compare_rows(case: &str, python: &AttentionRows, rust: &AttentionRows) {
    let shape = |rows: &AttentionRows| (rows.rows, rows.layers, rows.heads, rows.audio_tokens);
    assert_eq!(shape(python), shape(rust), "{case}: sidecar shapes");
    let pairs = [
        ("audio_ratio", &python.audio_ratio, &rust.audio_ratio),
        ("sink_mass", &python.sink_mass, &rust.sink_mass),
        ("audio_map", &python.audio_map, &rust.audio_map),
    ];
    for (name, a, b) in pairs {
        let worst = max_abs_difference(a, b);
        assert!(worst <= TOLERANCE, "{case}: gen.{name} differs by {worst}");
    }
    assert_eq!(
        python.head_maps.is_some(),
        rust.head_maps.is_some(),
        "{case}: head maps"
    );
    if let (Some(a), Some(b)) = (&python.head_maps, &rust.head_maps) {
        let worst = max_abs_difference(a, b);
        assert!(
            worst <= TOLERANCE,
            "{case}: gen.head_maps differs by {worst}"
        );
    }
    assert_eq!(python.experts, rust.experts, "{case}: gen.experts");
    assert_eq!(python.top_k, rust.top_k, "{case}: experts per token");
}

#[test]
fn auscult_run_still_makes_the_traces_the_python_package_made() {
    let dir = tempfile::tempdir().unwrap();
    for case in CASES {
        let path = python_made(case);
        let python = Trace::read(&path).unwrap_or_else(|e| panic!("{case}: {e:#}"));
        let python_rows = read_sidecar(&sidecar_path(&path)).unwrap().generated;
        let rust = rerun(&python, &dir.path().join(format!("{case}.json")));
        let rust_rows = read_sidecar(&sidecar_path(&dir.path().join(format!("{case}.json"))))
            .unwrap()
            .generated;

        assert_eq!(python.prompt, rust.prompt, "{case}: prompt");
        assert_eq!(python.input, rust.input, "{case}: input ids and audio span");
        assert_eq!(python.generation, rust.generation, "{case}: generation");
        assert_eq!(python.steps, rust.steps, "{case}: steps");
        assert!(!python.steps.is_empty(), "{case}: no steps to compare");
        let mut python_model = python.model.clone();
        python_model.path = rust.model.path.clone();
        assert_eq!(python_model, rust.model, "{case}: model identity");
        let mut python_audio = python.audio.clone();
        python_audio.path = rust.audio.path.clone();
        assert_eq!(python_audio, rust.audio, "{case}: audio identity");
        let mut python_attention = python.attention.clone().expect("captured");
        let rust_attention = rust.attention.clone().expect("captured");
        python_attention.sidecar = rust_attention.sidecar.clone();
        assert_eq!(python_attention, rust_attention, "{case}: attention record");
        assert_eq!(python.auscult_version, rust.auscult_version);
        compare_rows(case, &python_rows, &rust_rows);
    }
}
