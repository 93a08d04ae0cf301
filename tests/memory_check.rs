//! The memory check before loading, through the binary: a run that does not fit the memory given
//! (`AUSCULT_AVAILABLE_MEMORY`) is refused with one line that gives the numbers and the options,
//! writes nothing, and `--force` runs it anyway. On the shape-real Qwen2-Audio checkpoint (the
//! real vocabulary of 156,032, bf16 shards).

use crate::common;

use common::{expect_one_line_error, fixture, repo_path, CommandLine};

fn run(available: &str, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    run_on("shape_real/qwen2_audio_hub", available, out, extra)
}

fn run_on(
    model: &str,
    available: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let model = if model.starts_with("assets/") {
        repo_path(model)
    } else {
        fixture(model)
    };
    CommandLine::new("run")
        .model(&model)
        .audio(fixture("audio/mel/short.wav"))
        .prompt("What is this?")
        .max_new_tokens(4)
        .option("--min-new-tokens", "4")
        .out(out)
        .args(extra)
        .command()
        .env("AUSCULT_AVAILABLE_MEMORY", available)
        .env("AUSCULT_CACHE_DIR", out.parent().unwrap().join("cache"))
        .output()
        .expect("the auscult binary runs")
}

#[test]
fn a_run_that_does_not_fit_is_refused_up_front_and_force_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.json");

    let refused = run("1MB", &out, &["--dtype", "f32"]);
    let message = expect_one_line_error(
        &refused,
        &[
            "needs",
            "as f32",
            "0.0 GB available",
            "nothing fits",
            "--force",
        ],
    );
    assert!(message.contains("qwen2_audio_hub"), "{message}");
    // This checkpoint is too narrow to quantize: bf16 is as small as it gets.
    assert!(
        message.contains("the smallest, --dtype bf16, needs"),
        "{message}"
    );
    assert!(!out.exists(), "nothing is written");

    // With room, the same run goes ahead.
    let generous = run("100GB", &out, &["--dtype", "f32"]);
    assert!(generous.status.success(), "{}", common::stderr(&generous));
    std::fs::remove_file(&out).unwrap();

    let forced = run("1MB", &out, &["--dtype", "f32", "--force"]);
    assert!(forced.status.success(), "{}", common::stderr(&forced));
    assert!(out.exists());
}

/// On the demo model (128 wide: whole q8_0 blocks; the shape-real fixtures are too narrow to
/// quantize).
#[test]
fn quantized_runs_record_the_format_and_reuse_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.json");
    let run =
        |out: &std::path::Path, extra: &[&str]| run_on("assets/demo-model", "100GB", out, extra);
    let first = run(&out, &["--quantize", "q8_0"]);
    assert!(first.status.success(), "{}", common::stderr(&first));
    let said = common::stderr(&first);
    assert!(
        said.contains("as q8_0") && said.contains("cached in"),
        "{said}"
    );
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(trace["model"]["quantization"], "q8_0");
    assert_eq!(
        trace["model"]["dtype"], "f32",
        "the stored dtype by default"
    );
    let first_ids = trace["generation"]["ids"].clone();

    std::fs::remove_file(&out).unwrap();
    let second = run(&out, &["--quantize", "q8_0"]);
    assert!(second.status.success(), "{}", common::stderr(&second));
    assert!(
        common::stderr(&second).contains("read from"),
        "{}",
        common::stderr(&second)
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        again["generation"]["ids"], first_ids,
        "the cache gives the same model"
    );
}
