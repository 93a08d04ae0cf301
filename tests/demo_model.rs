//! The shipped demo model (`assets/demo-model`): transformers' greedy output on the bundled
//! example clips (`scripts/make_demo_parity.py`, fixture `tests/fixtures/demo_parity.json`) equals
//! auscult's token for token; the bundled example traces are what the model writes; the
//! checkpoint is small; and on items from a seed training never used it still answers well.

use crate::common;

use std::ops::ControlFlow;

use auscult::model::{Checkpoint, DeviceKind, GenerateOptions, Precision};
use auscult::runner::{run_example, ExampleInput};
use auscult::synth::evaluation::{evaluate, EvalOptions};
use auscult::trace::{read_traces, StepRules, TraceLine};
use common::repo_path;

/// Greedy, without capture (only ids are compared).
fn params(checkpoint: &Checkpoint, max_new_tokens: usize) -> GenerateOptions {
    let mut params =
        GenerateOptions::greedy(max_new_tokens, checkpoint.generation.eos_token_id.clone());
    params.capture.enabled = false;
    params
}

#[test]
fn greedy_output_equals_transformers_on_the_bundled_examples() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("tests/fixtures/demo_parity.json")).unwrap(),
    )
    .unwrap();
    let max_new_tokens = fixture["max_new_tokens"].as_u64().unwrap() as usize;
    let mut checkpoint = Checkpoint::load(
        &repo_path("assets/demo-model"),
        Precision::F32,
        DeviceKind::Cpu,
    )
    .unwrap();
    let params = params(&checkpoint, max_new_tokens);
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 3, "{} cases", cases.len());
    for case in cases {
        let ids = |key: &str| -> Vec<u32> { serde_json::from_value(case[key].clone()).unwrap() };
        let clip = repo_path(case["clip"].as_str().unwrap());
        let example = ExampleInput {
            id: case["id"].as_str().unwrap().to_owned(),
            audio: &clip,
            prompt: case["prompt"].as_str().unwrap().to_owned(),
            system: None,
            benchmark: None,
            step_rules: StepRules::default(),
        };
        let (trace, _) = run_example(&mut checkpoint, &example, &params, "", |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(trace.input.ids, ids("input_ids"), "{}", example.id);
        assert_eq!(trace.generation.ids, ids("generated_ids"), "{}", example.id);
        assert_eq!(trace.generation.text, case["text"].as_str().unwrap());
    }

    // The bundled traces hold the same generations.
    let bundled = read_traces(&repo_path("assets/examples/traces.jsonl")).unwrap();
    assert_eq!(bundled.lines.len(), cases.len());
    for (line, case) in bundled.lines.iter().zip(cases) {
        let TraceLine::Done(trace) = line else {
            panic!("a failed bundled example")
        };
        assert_eq!(trace.id, case["id"].as_str().unwrap());
        let expected: Vec<u32> = serde_json::from_value(case["generated_ids"].clone()).unwrap();
        assert_eq!(trace.generation.ids, expected);
    }
}

#[test]
fn the_shipped_checkpoint_is_small_and_answers_unseen_items() {
    let bytes = std::fs::metadata(repo_path("assets/demo-model/model.safetensors"))
        .unwrap()
        .len();
    assert!(bytes < 20_000_000, "{bytes} bytes");

    // Seed 2: never trained on (training item seeds have the top bit set). The note and the
    // README give the full evaluation (seed 1, 1000 items); this sample guards against a
    // broken or swapped checkpoint.
    let out = tempfile::tempdir().unwrap();
    let report = evaluate(
        &EvalOptions {
            model: repo_path("assets/demo-model"),
            seed: 2,
            n: 24,
            out: out.path().to_owned(),
            max_new_tokens: 256,
            workers: 2,
            quantize: None,
            evidence: false,
        },
        &|| {},
    )
    .unwrap();
    assert_eq!(report.failed, 0);
    assert!(
        report.answer_accuracy >= 0.7,
        "accuracy {} on 24 unseen items",
        report.answer_accuracy
    );
    assert!(report.acc_per.unwrap() >= 0.5, "{report:?}");
}

/// `demo eval --evidence` on a few unseen items: every matched perception claim is located (its
/// event is known), the tables count what the traces hold, and the costs are measured.
#[test]
fn demo_eval_checks_the_evidence_against_the_named_events() {
    let out = tempfile::tempdir().unwrap();
    let report = evaluate(
        &EvalOptions {
            model: repo_path("assets/demo-model"),
            seed: 3,
            n: 4,
            out: out.path().to_owned(),
            max_new_tokens: 256,
            workers: 2,
            quantize: None,
            evidence: true,
        },
        &|| {},
    )
    .unwrap();
    let tables = report.evidence.as_ref().unwrap();
    assert_eq!(tables.items, 4);
    let matched = tables
        .localisation
        .iter()
        .find(|row| row.label == "matched")
        .unwrap();
    // Every matched perception claim names an event: as many rows as the evaluation counted
    // matched perception claims (the count claims are matched too, but name no event).
    let perception_claims: usize = report.per_sound.iter().map(|row| row.claims).sum();
    assert!(matched.claims > 0 && matched.claims <= perception_claims);
    for row in &tables.localisation {
        assert!((0.0..1.0).contains(&row.attention_chance), "{row:?}");
        assert!((0.0..1.0).contains(&row.occlusion_chance), "{row:?}");
        assert!(
            row.occlusion_peak_inside.is_some(),
            "occlusion was measured"
        );
    }
    assert!(tables.accuracy_without_audio.is_some());
    assert_eq!(tables.costs.len(), 4);
    assert!(
        tables.costs.iter().all(|c| c.times_the_run > 0.0),
        "{:?}",
        tables.costs
    );
    let steps: usize = tables
        .answer_changed_by_step
        .iter()
        .map(|(_, tried, _, _)| tried)
        .sum();
    assert!(steps >= 4, "interventions at every step of every item");
}
