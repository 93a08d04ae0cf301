//! `auscult forward` and `auscult run` end to end on the fixture checkpoints: the files they
//! write, checked against transformers' reference outputs.

use crate::common;

use std::path::Path;

use auscult::tensor_dump::Dump;
use auscult::trace::{read_sidecar, sidecar_path, Trace};
use common::{fixture, max_abs_difference, parity_case, CommandLine};

/// `command` (`forward`, `run`) on case `index` of `checkpoint`, writing `out`.
fn on_case(command: &str, checkpoint: &Path, index: usize, out: &Path) -> CommandLine {
    CommandLine::new(command)
        .model(checkpoint)
        .case(&parity_case(checkpoint, index))
        .out(out)
}

/// Runs `auscult forward` on case `case` of `checkpoint` and reads what it wrote.
fn forward_dump(checkpoint: &Path, case: usize, extra: &[&str], out: &Path) -> Dump {
    on_case("forward", checkpoint, case, out)
        .args(extra)
        .succeeds();
    Dump::read(out).unwrap()
}

#[test]
fn forward_writes_what_transformers_computes() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_b");
    let ours = forward_dump(
        &checkpoint,
        0,
        &["--full-attention"],
        &dir.path().join("forward.safetensors"),
    );
    let reference = Dump::read(&checkpoint.join("case_0.safetensors")).unwrap();
    assert_eq!(
        ours.i64("input_ids").unwrap(),
        reference.i64("input_ids").unwrap()
    );
    assert_eq!(
        ours.i64("audio_span").unwrap(),
        reference.i64("audio_span").unwrap()
    );
    assert_eq!(
        ours.shape("logits").unwrap(),
        reference.shape("logits").unwrap()
    );
    assert!(
        max_abs_difference(
            &ours.f32("logits").unwrap(),
            &reference.f32("logits").unwrap()
        ) <= 1e-3
    );
    for layer in 0..3 {
        let name = format!("attn.{layer}");
        assert_eq!(ours.shape(&name).unwrap(), reference.shape(&name).unwrap());
        assert!(
            max_abs_difference(&ours.f32(&name).unwrap(), &reference.f32(&name).unwrap()) <= 1e-4
        );
    }
    assert!(!ours.has("attn.3"));
}

#[test]
fn weights_saved_with_transformers_internal_names_load_the_same() {
    // Some transformers 5 versions save `model.language_model.*`, `lm_head.*`, ... instead of the
    // hub names; auscult maps them back.
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("qwen2_audio/tiny_a");
    let ckpt = dir.path().join("internal_names");
    std::fs::create_dir(&ckpt).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name != "model.safetensors" {
            std::fs::copy(&path, ckpt.join(&name)).unwrap();
        }
    }
    let bytes = std::fs::read(source.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let renamed: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let name = if let Some(rest) = name.strip_prefix("language_model.model.") {
                format!("model.language_model.{rest}")
            } else if let Some(rest) = name.strip_prefix("language_model.") {
                rest.to_owned()
            } else {
                format!("model.{name}")
            };
            (name, view)
        })
        .collect();
    assert!(renamed.iter().any(|(n, _)| n == "lm_head.weight"));
    std::fs::write(
        ckpt.join("model.safetensors"),
        safetensors::serialize(renamed, None).unwrap(),
    )
    .unwrap();
    let ours = forward_dump(&ckpt, 0, &[], &dir.path().join("forward.safetensors"));
    let reference = Dump::read(&source.join("case_0.safetensors")).unwrap();
    assert!(
        max_abs_difference(
            &ours.f32("logits").unwrap(),
            &reference.f32("logits").unwrap()
        ) <= 1e-3
    );
}

#[test]
fn forward_without_full_attention_writes_no_matrices() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_a");
    let ours = forward_dump(&checkpoint, 0, &[], &dir.path().join("forward.safetensors"));
    assert!(ours.has("logits") && !ours.has("attn.0"));
}

/// Runs `auscult run` on case `case` of `checkpoint` and reads the trace it wrote.
fn run_trace(checkpoint: &Path, case: usize, extra: &[&str], out: &Path) -> Trace {
    on_case("run", checkpoint, case, out).args(extra).succeeds();
    Trace::read(out).unwrap()
}

#[test]
fn greedy_run_matches_transformers_generate_and_writes_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["tiny_a", "tiny_b"] {
        let checkpoint = fixture(&format!("qwen2_audio/{name}"));
        for case in 0..2 {
            let out = dir.path().join(format!("{name}_{case}.json"));
            let trace = run_trace(
                &checkpoint,
                case,
                &["--max-new-tokens", "24", "--greedy"],
                &out,
            );
            let reference =
                Dump::read(&checkpoint.join(format!("case_{case}.safetensors"))).unwrap();
            let expected: Vec<u32> = common::token_ids(&reference, "generated_ids");
            assert_eq!(trace.generation.ids, expected, "{name} case {case}");
            let input_ids: Vec<u32> = common::token_ids(&reference, "input_ids");
            assert_eq!(trace.input.ids, input_ids);

            let record = trace.attention.expect("capture is on by default");
            let sidecar = read_sidecar(&sidecar_path(&out)).unwrap();
            let rows = sidecar.generated;
            assert_eq!(rows.rows, 24);
            assert_eq!(
                (rows.layers, rows.heads, rows.audio_tokens),
                (record.layers, record.heads, record.audio_tokens)
            );
            assert_eq!(
                rows.audio_tokens,
                trace.input.audio_span[1] - trace.input.audio_span[0]
            );
            assert!(sidecar.prompt.is_none() && rows.head_maps.is_none());
            // Ratios and maps are probabilities: each head's ratio plus its sink mass is at most 1,
            // and the head-mean map sums to the head-mean ratio.
            for t in 0..rows.rows {
                for l in 0..rows.layers {
                    let ratios =
                        &rows.audio_ratio[(t * rows.layers + l) * rows.heads..][..rows.heads];
                    let map = &rows.audio_map[(t * rows.layers + l) * rows.audio_tokens..]
                        [..rows.audio_tokens];
                    let mean_ratio = ratios.iter().sum::<f32>() / rows.heads as f32;
                    assert!((map.iter().sum::<f32>() - mean_ratio).abs() < 1e-5);
                    assert!(ratios.iter().all(|r| (0.0..=1.0 + 1e-6).contains(r)));
                }
            }
        }
    }
}

#[test]
fn sampling_with_a_seed_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_a");
    let sample = |seed: &str, file: &str| {
        let args = [
            "--max-new-tokens",
            "16",
            "--temperature",
            "1.5",
            "--top-p",
            "0.95",
            "--top-k",
            "50",
            "--seed",
            seed,
        ];
        run_trace(&checkpoint, 0, &args, &dir.path().join(file))
            .generation
            .ids
    };
    let first = sample("3", "a.json");
    assert_eq!(first, sample("3", "b.json"));
    assert_ne!(first, sample("4", "c.json"));
}

#[test]
fn run_without_capture_writes_no_sidecar_and_prompt_capture_adds_rows() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_a");
    let off = dir.path().join("off.json");
    let trace = run_trace(
        &checkpoint,
        0,
        &["--max-new-tokens", "4", "--no-capture"],
        &off,
    );
    assert!(trace.attention.is_none());
    assert!(!sidecar_path(&off).exists());

    let on = dir.path().join("on.json");
    let trace = run_trace(
        &checkpoint,
        0,
        &[
            "--max-new-tokens",
            "4",
            "--capture-prompt",
            "--per-head-maps",
        ],
        &on,
    );
    let record = trace.attention.unwrap();
    assert_eq!(record.prompt_rows, trace.input.ids.len());
    let sidecar = read_sidecar(&sidecar_path(&on)).unwrap();
    let prompt = sidecar.prompt.unwrap();
    assert_eq!(prompt.rows, trace.input.ids.len());
    // Rows before the audio span cannot see it (causal attention).
    let first_audio = trace.input.audio_span[0];
    let before = &prompt.audio_ratio[..first_audio * prompt.layers * prompt.heads];
    assert!(before.iter().all(|&r| r == 0.0));
    assert!(sidecar.generated.head_maps.is_some());
}

#[test]
fn question_and_choices_build_the_r1_aqa_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_a");
    let out = dir.path().join("q.json");
    let clip = fixture("audio/mel/short.wav");
    CommandLine::new("run")
        .model(&checkpoint)
        .audio(&clip)
        .option("--question", "Which is it?")
        .option("--choices", "Man,Woman")
        .max_new_tokens(2)
        .out(&out)
        .succeeds();
    let trace = Trace::read(&out).unwrap();
    assert_eq!(
        trace.prompt.text,
        "Which is it? Please choose the answer from the following options: ['Man', 'Woman']. Output the final answer in <answer> </answer>."
    );
    assert_eq!(trace.prompt.choices, vec!["Man", "Woman"]);
    assert_eq!(trace.generation.ids.len(), 2);
}

#[test]
fn step_rules_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = fixture("qwen2_audio/tiny_b");
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"tags": false, "step_markers": false, "list_items": false, "blank_lines": false,
            "line_breaks": false, "long_paragraph_chars": 0}"#,
    )
    .unwrap();
    let out = dir.path().join("one.json");
    let trace = run_trace(
        &checkpoint,
        1,
        &[
            "--max-new-tokens",
            "24",
            "--step-rules",
            rules.to_str().unwrap(),
        ],
        &out,
    );
    assert_eq!(trace.steps.len(), 1);
    assert_eq!(trace.steps[0].tokens, [0, 24]);

    std::fs::write(&rules, r#"{"line_brakes": false}"#).unwrap();
    let output = on_case("run", &checkpoint, 1, &dir.path().join("bad.json"))
        .option("--step-rules", &rules)
        .run();
    common::expect_one_line_error(
        &output,
        &["rules.json", "not valid step rules", "line_brakes"],
    );
}
