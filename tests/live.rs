//! The inspector's live mode on the tiny Qwen2-Audio fixture: tokens, steps and attention rows
//! stream into the state as they are generated, end up exactly what `run` records (and what
//! transformers generates), cancel stops the run, a bad checkpoint reads as a failure, and the
//! finished run saves as a trace that reads back. Once the run is over its checkpoint takes the
//! inspector's evidence jobs (a step's intervention, reliance), whose results equal what
//! `runner::add_evidence` measures for the same trace.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use auscult::model::{
    CaptureOptions, Checkpoint, Counterfactual, DeviceKind, GenerateOptions, LoadOptions,
    Precision, Sampling,
};
use auscult::runner::{add_evidence, EvidenceOptions};
use auscult::tensor_dump::Dump;
use auscult::trace::{read_sidecar, sidecar_path, SidecarArrays, StepRules, StopReason, Trace};
use auscult::tui::action::{Action, Effect, LiveEvent, WorkerEvent};
use auscult::tui::live::{LiveRequest, LiveRun};
use auscult::tui::model_worker::{Job, ModelWorker};
use auscult::tui::state::{Inspector, ModelStatus};
use common::{fixture, repo_path};

fn load_options() -> LoadOptions {
    LoadOptions {
        precision: Some(Precision::F32),
        ..LoadOptions::new(DeviceKind::Cpu)
    }
}

fn request(model: &Path, max_new_tokens: usize) -> LiveRequest {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(model.join("cases.json")).unwrap_or_else(|_| "{}".into()),
    )
    .unwrap();
    let case = &cases["cases"][0];
    let clip = repo_path(case["clip"].as_str().unwrap_or("x"));
    LiveRequest {
        model: model.to_path_buf(),
        load: load_options(),
        audio: clip,
        prompt: case["prompt"].as_str().unwrap_or_default().to_owned(),
        system: None,
        question: Some("What is in the clip?".into()),
        choices: vec![],
        benchmark: None,
        labeller: None,
        options: Box::new(move |checkpoint: &Checkpoint| {
            Ok(GenerateOptions {
                sampling: Sampling::Greedy,
                max_new_tokens,
                min_new_tokens: 0,
                stop_ids: checkpoint.generation.eos_token_id.clone(),
                capture: CaptureOptions {
                    enabled: true,
                    per_head_maps: true,
                    prompt: false,
                },
            })
        }),
        step_rules: StepRules::default(),
    }
}

/// Feeds events to the state one at a time until the run ends, checking as it goes that each
/// token grows the streamed example by one id and one attention row, and at the end that what
/// was streamed is what the final trace holds; returns the events' kinds.
fn drive(
    run: &mut LiveRun,
    state: &mut Inspector,
    cancel_after: Option<usize>,
) -> Vec<&'static str> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut kinds = Vec::new();
    let mut tokens = 0;
    while Instant::now() < deadline {
        let Some(event) = run.next_event(Duration::from_millis(100)) else {
            continue;
        };
        let kind = match &event {
            LiveEvent::Loaded { .. } => "loaded",
            LiveEvent::Prepared(_) => "prepared",
            LiveEvent::Token { .. } => "token",
            LiveEvent::Finished(..) => "finished",
            LiveEvent::Stopped(_) => "stopped",
            LiveEvent::Failed(_) => "failed",
        };
        kinds.push(kind);
        if kind == "finished" {
            let streamed = &state.examples[0];
            let (ids, rows, steps) = (
                streamed.trace.generation.ids.clone(),
                streamed.attention.clone(),
                streamed.trace.steps.clone(),
            );
            let _ = state.on_live(event);
            let done = &state.examples[0];
            assert_eq!(
                ids, done.trace.generation.ids,
                "streamed ids are the final ids"
            );
            assert_eq!(rows, done.attention, "streamed rows are the final rows");
            // The same steps; the last may gain the text of a character the stream held back.
            assert_eq!(steps.len(), done.trace.steps.len());
            for (streamed, done) in steps.iter().zip(&done.trace.steps) {
                assert_eq!(streamed.tokens, done.tokens);
                assert!(
                    done.text.starts_with(&streamed.text),
                    "{streamed:?} {done:?}"
                );
            }
            return kinds;
        }
        let _ = state.on_live(event);
        if kind == "token" {
            tokens += 1;
            let example = &state.examples[0];
            assert_eq!(example.trace.generation.ids.len(), tokens);
            assert_eq!(example.attention.as_ref().unwrap().rows, tokens);
            assert!(state.live.as_ref().unwrap().running);
            // The selection follows the newest step.
            assert_eq!(state.step, example.trace.steps.len().saturating_sub(1));
            if cancel_after == Some(tokens) {
                run.cancel();
            }
        }
        if kind == "failed" || kind == "stopped" {
            return kinds;
        }
    }
    panic!("the live run did not end: {kinds:?}");
}

#[test]
fn a_live_run_streams_what_run_records() {
    let model = fixture("qwen2_audio/tiny_a");
    let (mut run, _model) = LiveRun::start(request(&model, 24)).unwrap();
    let mut state = Inspector::for_live_run(StepRules::default());
    let kinds = drive(&mut run, &mut state, None);
    assert_eq!(kinds[..2], ["loaded", "prepared"]);
    assert_eq!(kinds.iter().filter(|k| **k == "token").count(), 24);
    let trace = &state.examples[0].trace;
    let reference = Dump::read(&model.join("case_0.safetensors")).unwrap();
    let expected: Vec<u32> = common::token_ids(&reference, "generated_ids");
    assert_eq!(trace.generation.ids, expected, "transformers' greedy ids");
    assert_eq!(
        trace.prompt.question.as_deref(),
        Some("What is in the clip?")
    );
    let live = state.live.clone().unwrap();
    assert!(
        !live.running && live.phase.starts_with("finished: 24 tokens"),
        "{live:?}"
    );

    // Saved twice: the second save takes a new name; both read back as the run.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("live.json");
    let first = run.save(&state, Some(&target)).unwrap();
    let second = run.save(&state, Some(&target)).unwrap();
    assert_eq!(first, target);
    assert_eq!(second, dir.path().join("live-2.json"));
    for path in [first, second] {
        let saved = Trace::read(&path).unwrap();
        assert_eq!(saved.generation.ids, expected);
        let sidecar = read_sidecar(&sidecar_path(&path)).unwrap();
        assert_eq!(Some(sidecar.generated), state.examples[0].attention);
        assert_eq!(
            saved.attention.unwrap().sidecar,
            sidecar_path(&path).file_name().unwrap().to_str().unwrap()
        );
    }
}

#[test]
fn cancel_stops_the_run_and_keeps_what_was_generated() {
    let model = fixture("qwen2_audio/tiny_a");
    let (mut run, _model) = LiveRun::start(request(&model, 200)).unwrap();
    let mut state = Inspector::for_live_run(StepRules::default());
    drive(&mut run, &mut state, Some(3));
    let trace = &state.examples[0].trace;
    assert_eq!(trace.generation.stop_reason, StopReason::Cancelled);
    assert!(
        (3..200).contains(&trace.generation.ids.len()),
        "{}",
        trace.generation.ids.len()
    );
    let live = state.live.clone().unwrap();
    assert!(live.phase.starts_with("cancelled after"), "{live:?}");
}

#[test]
fn cancel_before_the_model_runs_stops_without_a_trace() {
    let model = fixture("qwen2_audio/tiny_a");
    let (mut run, _model) = LiveRun::start(request(&model, 24)).unwrap();
    run.cancel();
    let mut state = Inspector::for_live_run(StepRules::default());
    let kinds = drive(&mut run, &mut state, None);
    assert_eq!(kinds, ["loaded", "stopped"]);
    let live = state.live.unwrap();
    assert!(
        !live.running && live.phase == "cancelled before the model ran",
        "{live:?}"
    );
    assert!(state.examples.is_empty());
}

#[test]
fn a_bad_checkpoint_is_a_failure_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = request(&fixture("qwen2_audio/tiny_a"), 4);
    request.model = dir.path().join("missing");
    let (mut run, _model) = LiveRun::start(request).unwrap();
    let mut state = Inspector::for_live_run(StepRules::default());
    assert_eq!(drive(&mut run, &mut state, None), ["failed"]);
    let phase = state.live.unwrap().phase;
    assert!(
        phase.starts_with("failed: ") && phase.contains("missing"),
        "{phase}"
    );
    assert!(state.examples.is_empty());
}

/// Applies the worker's reports to the state until one that ends a job (or says it is ready)
/// arrives, and returns a copy of its kind; panics after a bounded wait.
fn until_done(worker: &mut ModelWorker, state: &mut Inspector) -> &'static str {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let Some(event) = worker.next_event(Duration::from_millis(100)) else {
            continue;
        };
        let kind = match &event {
            WorkerEvent::Ready { .. } => "ready",
            WorkerEvent::Progress { .. } => "progress",
            WorkerEvent::Intervened { .. } => "intervened",
            WorkerEvent::Measured { .. } => "measured",
            WorkerEvent::Cancelled => "cancelled",
            WorkerEvent::Failed(reason) => panic!("the job failed: {reason}"),
            WorkerEvent::Unavailable(reason) => panic!("no model: {reason}"),
        };
        state.on_worker(event);
        if kind != "progress" {
            return kind;
        }
    }
    panic!("the model worker did not report in time");
}

/// Hands the job `effect` asks for to the worker, as the inspector's loop does.
fn submit(worker: &ModelWorker, state: &Inspector, effect: Effect) {
    let Effect::Evidence(what) = effect else {
        panic!("no job asked for: {effect:?}");
    };
    let example = &state.examples[what.example()];
    worker
        .submit(Job::for_example(what, example, Path::new(".")).unwrap())
        .unwrap();
}

#[test]
fn the_finished_runs_model_hides_the_audio_from_a_step_and_measures_reliance() {
    let model = fixture("qwen2_audio/tiny_a");
    let (mut run, mut worker) = LiveRun::start(request(&model, 24)).unwrap();
    let mut state = Inspector::for_live_run(StepRules::default());
    drive(&mut run, &mut state, None);
    assert_eq!(until_done(&mut worker, &mut state), "ready");
    assert_eq!(state.model, ModelStatus::Ready("tiny_a".into()));
    let finished = state.examples[0].trace.clone();
    let last_step = finished.steps.len() - 1;

    // `r` on the last step: the job goes out, progress comes back, the intervention lands.
    state.step = last_step;
    let effect = state.update(Action::HideAudioFromStep);
    submit(&worker, &state, effect);
    assert_eq!(until_done(&mut worker, &mut state), "intervened");
    assert!(state.job.is_none() && state.comparing);
    let live = state
        .intervention(last_step)
        .cloned()
        .expect("the intervention");

    // `R`: reliance under silence and masked for every token.
    let effect = state.update(Action::MeasureReliance);
    submit(&worker, &state, effect);
    assert_eq!(until_done(&mut worker, &mut state), "measured");
    assert_eq!(
        state.measured(),
        [Counterfactual::Silence, Counterfactual::Masked]
    );
    let evidence = state.examples[0].evidence.clone().expect("the arrays");
    assert_eq!(evidence.tokens(), finished.generation.ids.len());
    // The intervention made before is still there.
    assert_eq!(state.intervention(last_step), Some(&live));

    // The same measurements straight from the runner, on a checkpoint of its own.
    let mut checkpoint = Checkpoint::load_with(&model, &load_options()).unwrap();
    let mut trace = finished.clone();
    let mut arrays = SidecarArrays {
        generated: state.examples[0].attention.clone().unwrap(),
        prompt: None,
        evidence: None,
    };
    let options = EvidenceOptions {
        reliance: Counterfactual::ALL.to_vec(),
        hide_audio_from_steps: true,
        ..EvidenceOptions::default()
    };
    let clip = finished.find_clip(Path::new(".")).unwrap();
    add_evidence(
        &mut checkpoint,
        &mut trace,
        Some(&mut arrays),
        &clip,
        &options,
    )
    .unwrap();
    let record = trace.evidence.unwrap();
    assert_eq!(record.interventions[last_step], live);
    assert_eq!(arrays.evidence, Some(evidence));
}
