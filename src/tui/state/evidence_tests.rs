//! The evidence keys, tested without a terminal or a model: the metric cycle's reliance metrics,
//! the heatmap's mode, what a new example keeps, the intervention and reliance keys with and
//! without a model, the model worker's reports, and a live run's evidence measured once it ends.

use super::evidence_fixture::{intervention, with_evidence, INTERVENED_STEP};
use super::*;
use crate::example_traces::{example_trace, tones_spec};
use crate::model::Counterfactual::{self, Masked, Silence};
use crate::runner::EvidenceOptions;
use crate::trace::evidence_metrics::Reliance::{Delta, Kl};
use crate::trace::StopReason;

fn tones() -> Example {
    let (trace, arrays) = example_trace(&tones_spec());
    Example::new(trace, Some(arrays.generated))
}

fn measured(counterfactuals: &[Counterfactual], occlusion: bool) -> Example {
    with_evidence(tones(), counterfactuals, occlusion)
}

fn one(example: Example) -> Inspector {
    Inspector::new(vec![example])
}

/// The metrics the key goes through from the current one until it is back.
fn cycle(state: &mut Inspector) -> Vec<StepMetric> {
    let start = state.metric;
    let mut seen = Vec::new();
    loop {
        state.update(Action::NextMetric);
        seen.push(state.metric);
        if state.metric == start || seen.len() > 10 {
            return seen;
        }
    }
}

#[test]
fn the_metric_cycle_gains_reliance_under_each_measured_counterfactual() {
    use crate::trace::metrics::Metric::*;
    use StepMetric::{Attention, Reliance};
    let mut state = one(measured(&[Silence, Masked], false));
    assert_eq!(
        cycle(&mut state),
        [
            Attention(SinkCorrected),
            Attention(Focus),
            Reliance(Delta, Silence),
            Reliance(Kl, Silence),
            Reliance(Delta, Masked),
            Reliance(Kl, Masked),
            Attention(Ratio),
        ]
    );
    assert_eq!(state.message, None, "nothing to say when reliance is there");
    let mut state = one(measured(&[Masked], false));
    assert_eq!(
        cycle(&mut state)[2..],
        [
            Reliance(Delta, Masked),
            Reliance(Kl, Masked),
            Attention(Ratio)
        ]
    );
    assert_eq!(Reliance(Kl, Masked).name(), "KL masked");
    assert_eq!(Reliance(Delta, Silence).name(), "Δ silence");
}

#[test]
fn without_reliance_the_cycle_stays_on_attention_and_says_once_how_to_measure_it() {
    use crate::trace::metrics::Metric::*;
    let mut state = one(tones());
    assert_eq!(
        cycle(&mut state),
        [SinkCorrected, Focus, Ratio].map(StepMetric::Attention)
    );
    let hint = state.message.clone().unwrap_or_default();
    assert!(hint.contains("auscult reliance FILE --model DIR"), "{hint}");
    cycle(&mut state);
    assert_eq!(state.message, None, "said once");
    // With a model loaded, the hint names the key instead.
    let mut state = one(tones());
    state.model = ModelStatus::Ready("demo-model".into());
    cycle(&mut state);
    let hint = state.message.unwrap_or_default();
    assert!(hint.contains("R measures reliance"), "{hint}");
}

#[test]
fn the_heatmap_key_toggles_evidence_only_with_occlusion() {
    let mut state = one(measured(&[Silence], true));
    state.update(Action::ToggleHeatmap);
    assert_eq!(state.heatmap, HeatmapMode::Evidence);
    state.update(Action::ToggleHeatmap);
    assert_eq!(state.heatmap, HeatmapMode::Attention);

    for example in [measured(&[Silence], false), tones()] {
        let mut state = one(example);
        state.update(Action::ToggleHeatmap);
        assert_eq!(state.heatmap, HeatmapMode::Attention);
        let said = state.message.unwrap_or_default();
        assert!(
            said.contains("no occlusion") && said.contains("--occlusion-window"),
            "{said}"
        );
    }
}

#[test]
fn a_new_example_keeps_only_the_evidence_choices_it_has() {
    let mut state = Inspector::new(vec![
        measured(&[Silence, Masked], true),
        measured(&[Silence], false),
        tones(),
    ]);
    state.list_open = false;
    state.metric = StepMetric::Reliance(Kl, Silence);
    state.heatmap = HeatmapMode::Evidence;
    state.step = INTERVENED_STEP;
    state.update(Action::HideAudioFromStep);
    assert!(state.comparing);
    state.update(Action::NextExample);
    // Silence is there too; occlusion is not; the intervention view closes.
    assert_eq!(state.metric, StepMetric::Reliance(Kl, Silence));
    assert_eq!(state.heatmap, HeatmapMode::Attention);
    assert!(!state.comparing);
    state.update(Action::NextExample);
    assert_eq!(
        state.metric,
        StepMetric::Attention(crate::trace::metrics::Metric::Ratio)
    );
}

#[test]
fn the_intervention_key_shows_a_held_one_runs_one_or_says_how() {
    let mut state = one(measured(&[Silence], false));
    state.step = INTERVENED_STEP;
    assert_eq!(state.update(Action::HideAudioFromStep), Effect::None);
    assert!(state.comparing, "a held intervention opens at once");
    assert_eq!(state.update(Action::HideAudioFromStep), Effect::None);
    assert!(!state.comparing, "and closes again");

    // Another step, and no model: the key says how to get one.
    state.update(Action::NextStep);
    assert_eq!(state.update(Action::HideAudioFromStep), Effect::None);
    let said = state.message.clone().unwrap_or_default();
    assert!(said.contains("--model DIR"), "{said}");
    assert!(!state.comparing && state.job.is_none());

    // A model: the job goes out, the view opens on its progress.
    state.model = ModelStatus::Ready("demo-model".into());
    let step = INTERVENED_STEP + 1;
    let job = EvidenceJob::Intervene { example: 0, step };
    assert_eq!(
        state.update(Action::HideAudioFromStep),
        Effect::Evidence(job)
    );
    assert!(state.comparing);
    state.on_worker(WorkerEvent::Progress { tokens: 7 });
    let running = state.job.clone().unwrap();
    assert_eq!(running.describe(), "hiding the audio from step 4: 7 tokens");
    // One job at a time.
    assert_eq!(state.update(Action::MeasureReliance), Effect::None);
    assert!(state
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("busy"));

    // Esc cancels the job first, then closes the view.
    assert_eq!(state.update(Action::Back), Effect::CancelEvidence);
    assert!(state.job.as_ref().unwrap().cancelling && state.comparing);
    assert_eq!(state.update(Action::Back), Effect::None);
    assert!(!state.comparing);
    state.on_worker(WorkerEvent::Cancelled);
    assert!(state.job.is_none());
    assert!(state.intervention(step).is_none());

    // A job that fails says what failed, and the empty view closes over its reason.
    state.update(Action::HideAudioFromStep);
    assert!(state.comparing);
    state.on_worker(WorkerEvent::Failed("clip tones.wav not found".into()));
    assert_eq!(
        state.message.as_deref(),
        Some("cannot hide the audio from step 4: clip tones.wav not found")
    );
    assert!(!state.comparing && state.job.is_none());

    // Run again to the end: the intervention is kept, in step order.
    state.update(Action::HideAudioFromStep);
    let mut made = intervention(&state.examples[0].trace);
    made.from_step = step;
    made.answer_changed = false;
    state.on_worker(WorkerEvent::Intervened {
        example: 0,
        intervention: Box::new(made),
    });
    assert!(state.job.is_none());
    assert_eq!(
        state.message.as_deref(),
        Some("audio hidden from step 4: the answer stayed")
    );
    let held: Vec<usize> = state.examples[0]
        .trace
        .evidence
        .as_ref()
        .unwrap()
        .interventions
        .iter()
        .map(|i| i.from_step)
        .collect();
    assert_eq!(held, [INTERVENED_STEP, step]);
    assert!(state.comparing, "the view shows it");
}

#[test]
fn the_reliance_key_measures_what_is_missing_with_the_loaded_model() {
    let mut state = one(measured(&[Silence], true));
    assert_eq!(state.update(Action::MeasureReliance), Effect::None);
    let said = state.message.clone().unwrap_or_default();
    assert!(said.contains("auscult reliance FILE --model DIR"), "{said}");

    state.model = ModelStatus::Loading;
    state.update(Action::MeasureReliance);
    assert_eq!(state.message.as_deref(), Some("the model is still loading"));

    state.message = None;
    state.on_worker(WorkerEvent::Ready {
        model: "demo-model".into(),
    });
    assert_eq!(state.model, ModelStatus::Ready("demo-model".into()));
    let said = state.message.clone().unwrap_or_default();
    assert!(said.starts_with("demo-model is loaded: r hides"), "{said}");
    let options = EvidenceOptions {
        reliance: vec![Masked],
        ..EvidenceOptions::default()
    };
    assert_eq!(
        state.update(Action::MeasureReliance),
        Effect::Evidence(EvidenceJob::Measure {
            example: 0,
            options
        })
    );
    assert_eq!(
        state.job.as_ref().unwrap().describe(),
        "measuring reliance (masked)"
    );
    // The worker's record and arrays replace the example's, which then stay in memory.
    let both = measured(&[Silence, Masked], true);
    state.examples[0].sidecar = Some("on-disk.attn.safetensors".into());
    state.on_worker(WorkerEvent::Measured {
        example: 0,
        record: Box::new(both.trace.evidence.clone().unwrap()),
        evidence: both.evidence.clone().map(Box::new),
    });
    assert!(state.job.is_none());
    assert_eq!(state.measured(), [Silence, Masked]);
    assert_eq!(state.examples[0].evidence, both.evidence);
    assert_eq!(state.examples[0].sidecar, None);
    let said = state.message.clone().unwrap_or_default();
    assert!(
        said.starts_with("reliance measured (silence, masked)"),
        "{said}"
    );

    assert_eq!(state.update(Action::MeasureReliance), Effect::None);
    let said = state.message.clone().unwrap_or_default();
    assert!(said.contains("holds reliance"), "{said}");

    // A model that failed to load says why.
    state.on_worker(WorkerEvent::Unavailable(
        "demo-model could not be loaded".into(),
    ));
    state.update(Action::HideAudioFromStep);
    assert_eq!(
        state.message.as_deref(),
        Some("demo-model could not be loaded")
    );
}

/// Reliance measured for an example whose attention was let go while the job ran (another
/// example was shown) reads that attention back from its sidecar before the path is dropped.
#[test]
fn measuring_an_example_not_shown_keeps_its_attention() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("tones.attn.safetensors");
    let (_, arrays) = example_trace(&tones_spec());
    crate::trace::write_sidecar(&sidecar, &arrays).unwrap();
    let mut state = Inspector::new(vec![tones(), tones()]);
    let both = measured(&[Silence, Masked], true);
    state.examples[1].attention = None;
    state.examples[1].sidecar = Some(sidecar);
    state.on_worker(WorkerEvent::Measured {
        example: 1,
        record: Box::new(both.trace.evidence.clone().unwrap()),
        evidence: both.evidence.clone().map(Box::new),
    });
    let target = &state.examples[1];
    assert_eq!(target.attention.as_ref(), Some(&arrays.generated));
    assert_eq!(target.evidence, both.evidence);
    assert_eq!(target.sidecar, None);
}

#[test]
fn a_live_run_measures_the_evidence_asked_for_once_it_finishes() {
    let (done, arrays) = example_trace(&tones_spec());
    let options = EvidenceOptions {
        reliance: vec![Silence, Masked],
        ..EvidenceOptions::default()
    };
    let start = |trace: &crate::trace::Trace| {
        let mut state = Inspector::for_live_run(crate::trace::StepRules::default());
        state.live.as_mut().unwrap().measure_after = options.clone();
        state.on_live(LiveEvent::Prepared(Box::new(super::tests::prepared_trace(
            trace,
        ))));
        state
    };
    let mut state = start(&done);
    assert_eq!(state.model, ModelStatus::Loading);
    state.update(Action::MeasureReliance);
    assert_eq!(
        state.message.as_deref(),
        Some("the live run is still going")
    );
    let effect = state.on_live(LiveEvent::Finished(
        Box::new(done.clone()),
        Some(arrays.generated.clone()),
    ));
    assert_eq!(
        effect,
        Effect::Evidence(EvidenceJob::Measure {
            example: 0,
            options: options.clone()
        })
    );
    assert!(state.job.is_some());
    state.on_worker(WorkerEvent::Ready {
        model: "demo-model".into(),
    });
    assert_eq!(state.model, ModelStatus::Ready("demo-model".into()));

    // A cancelled run is not measured.
    let mut cancelled = done.clone();
    cancelled.generation.stop_reason = StopReason::Cancelled;
    let mut state = start(&done);
    let effect = state.on_live(LiveEvent::Finished(
        Box::new(cancelled),
        Some(arrays.generated),
    ));
    assert_eq!(effect, Effect::None);
    assert!(state.job.is_none());
}
