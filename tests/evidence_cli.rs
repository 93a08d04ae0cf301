//! Causal evidence from the command line: `run` with every measurement on the bundled demo model,
//! `auscult reliance` over a batch's traces file (records added, unreadable lines kept, a second
//! run skipping what is held), and the inputs it refuses.

use crate::common;

use std::path::Path;

use auscult::trace::{read_sidecar, read_traces, sidecar_path, Trace, TraceLine};
use common::{expect_one_line_error, fixture, repo_path, stderr, CommandLine};

const CLIP: &str = "assets/examples/clips/synth-30064771072.wav";
const QUESTION: &str = "How many sounds are there? Choose one: 1; 3; 4; 6.";

fn demo_run(out: &Path, extra: &[&str]) -> CommandLine {
    CommandLine::new("run")
        .model(repo_path("assets/demo-model"))
        .audio(repo_path(CLIP))
        .prompt(QUESTION)
        .out(out)
        .args(extra)
}

#[test]
fn run_measures_reliance_occlusion_the_answer_without_audio_and_interventions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.json");
    let flags = [
        "--reliance",
        "silence,masked",
        "--occlusion-window",
        "1s",
        "--occlusion-hop",
        "500ms",
        "--counterfactual-answer",
        "masked",
        "--hide-audio-from-steps",
    ];
    let said = stderr(&demo_run(&out, &flags).succeeds());
    assert!(said.contains("reliance (silence, masked)"), "{said}");
    let trace = Trace::read(&out).unwrap();
    let evidence = trace.evidence.as_ref().unwrap();
    assert_eq!(evidence.reliance, ["silence", "masked"]);

    // Windows of 1 s every 0.5 s over the clip, the last cut at its end.
    let occlusion = evidence.occlusion.as_ref().unwrap();
    let duration = trace.audio.duration_seconds;
    assert_eq!(occlusion.windows[0], [0.0, 1.0]);
    assert!(occlusion
        .windows
        .windows(2)
        .all(|w| (w[1][0] - w[0][0] - 0.5).abs() < 1e-9));
    let last = occlusion.windows.last().unwrap();
    assert!((last[1] - duration).abs() < 1e-3, "{last:?} vs {duration}");

    let arrays = read_sidecar(&sidecar_path(&out)).unwrap();
    let measured = arrays.evidence.unwrap();
    let tokens = trace.generation.ids.len();
    assert_eq!(measured.tokens(), tokens);
    // Greedy: the teacher-forced top-1 is what was generated.
    assert_eq!(measured.actual.top1, trace.generation.ids);
    for (counterfactual, rows) in &measured.counterfactuals {
        assert_eq!(rows.delta.len(), tokens, "{counterfactual}");
        assert!(rows.kl.iter().all(|&kl| kl >= 0.0 && kl.is_finite()));
        assert!(rows.delta.iter().all(|d| d.is_finite()));
    }
    // Silence takes away more than hiding the audio from the generated rows alone (the prompt's
    // question still heard it).
    let mean = |values: &[f32]| values.iter().sum::<f32>() / values.len() as f32;
    let silence = measured.compared("silence".parse().unwrap()).unwrap();
    assert!(mean(&silence.kl) > 0.0);
    let grid = measured.occlusion.unwrap();
    assert_eq!(
        (grid.tokens, grid.windows),
        (tokens, occlusion.windows.len())
    );

    let answer = evidence.counterfactual_answer.as_ref().unwrap();
    assert_eq!(answer.counterfactual, "masked");
    assert!(!answer.regeneration.ids.is_empty());

    // One intervention per step, each keeping the text before its step.
    assert_eq!(evidence.interventions.len(), trace.steps.len());
    for (intervention, step) in evidence.interventions.iter().zip(&trace.steps) {
        assert_eq!(intervention.from_step, step.index);
        assert_eq!(intervention.from_token, step.tokens[0]);
        let kept = &trace.generation.text[..step.bytes[0]];
        assert!(intervention.regeneration.text.starts_with(kept));
    }
    for name in [
        "actual",
        "silence",
        "masked",
        "occlusion",
        "counterfactual_answer",
        "interventions",
    ] {
        assert!(
            evidence.seconds.get(name).is_some_and(|&s| s > 0.0),
            "{name}"
        );
    }
}

#[test]
fn reliance_adds_evidence_to_a_batch_and_skips_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::batch::mini_benchmark(dir.path());
    let out = dir.path().join("traces.jsonl");
    CommandLine::new("batch")
        .model(fixture("qwen2_audio/tiny_a"))
        .option("--data", &data)
        .out(&out)
        .max_new_tokens(12)
        .succeeds();
    // A line this auscult cannot read stays as it is.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str("{not a trace}\n");
    std::fs::write(&out, &text).unwrap();

    let reliance = CommandLine::new("reliance")
        .arg(&out)
        .model(fixture("qwen2_audio/tiny_a"))
        .args(&["--counterfactual-answer", "silence"]);
    let said = stderr(&reliance.succeeds());
    assert!(said.contains("4 measured"), "{said}");
    let after = std::fs::read_to_string(&out).unwrap();
    assert!(after.ends_with("{not a trace}\n"));
    let file = read_traces(&out).unwrap();
    let mut measured = 0;
    for line in &file.lines {
        let TraceLine::Done(trace) = line else {
            continue;
        };
        let evidence = trace.evidence.as_ref().unwrap();
        assert!(
            evidence.reliance.is_empty(),
            "only the answer was asked for"
        );
        let answer = evidence.counterfactual_answer.as_ref().unwrap();
        assert!(
            answer.regeneration.answer.is_some(),
            "scored like the real one"
        );
        measured += 1;
    }
    assert_eq!(measured, 4);

    // The default measurement adds reliance to the sidecars; a second run holds it all.
    let default = CommandLine::new("reliance")
        .arg(&out)
        .model(fixture("qwen2_audio/tiny_a"));
    default.succeeds();
    let file = read_traces(&out).unwrap();
    for line in &file.lines {
        if let TraceLine::Done(trace) = line {
            let sidecar = out
                .parent()
                .unwrap()
                .join(&trace.attention.as_ref().unwrap().sidecar);
            let evidence = read_sidecar(&sidecar).unwrap().evidence.unwrap();
            assert_eq!(evidence.counterfactuals.len(), 2);
            assert_eq!(evidence.actual.top1, trace.generation.ids);
            // The earlier answer is kept beside the new arrays.
            assert!(trace
                .evidence
                .as_ref()
                .unwrap()
                .counterfactual_answer
                .is_some());
        }
    }
    let said = stderr(&default.succeeds());
    assert!(said.contains("0 measured, 4 already held it"), "{said}");
}

#[test]
fn bad_evidence_requests_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.json");
    let no_capture = demo_run(&out, &["--no-capture", "--reliance", "silence"]).run();
    expect_one_line_error(&no_capture, &["--no-capture"]);
    assert!(!out.exists());
    let unknown = demo_run(&out, &["--reliance", "noise"]).run();
    assert!(
        stderr(&unknown).contains("silence, masked"),
        "{}",
        stderr(&unknown)
    );
    let window = demo_run(&out, &["--occlusion-window", "0s"]).run();
    assert!(stderr(&window).contains("positive duration"));

    // A trace whose clip changed, and one measured with another model, are not measured.
    demo_run(&out, &[]).succeeds();
    let mut trace = Trace::read(&out).unwrap();
    let copy = dir.path().join("clip.wav");
    std::fs::copy(
        repo_path("assets/examples/clips/synth-30064771073.wav"),
        &copy,
    )
    .unwrap();
    trace.audio.path = copy.display().to_string();
    trace.write(&out).unwrap();
    let before = std::fs::read(&out).unwrap();
    let changed = CommandLine::new("reliance")
        .arg(&out)
        .model(repo_path("assets/demo-model"))
        .run();
    let message = stderr(&changed);
    assert!(!changed.status.success());
    assert!(message.contains("SHA-256 differs"), "{message}");
    assert_eq!(std::fs::read(&out).unwrap(), before, "nothing written");
    // The same checkpoint loaded another way would not give the run's distributions.
    let cache = dir.path().join("cache");
    let quantized = CommandLine::new("reliance")
        .arg(&out)
        .model(repo_path("assets/demo-model"))
        .args(&["--quantize", "q8_0"])
        .option("--cache-dir", &cache)
        .run();
    assert!(
        stderr(&quantized).contains("made with --dtype f32"),
        "{}",
        stderr(&quantized)
    );
    let other_model = CommandLine::new("reliance")
        .arg(&out)
        .model(fixture("qwen2_audio/tiny_a"))
        .run();
    assert!(stderr(&other_model).contains("another config.json"));
}

#[test]
fn a_batch_with_evidence_reports_audio_need_reliance_decay_and_interventions() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::batch::mini_benchmark(dir.path());
    let out = dir.path().join("traces.jsonl");
    let evidence = [
        "--reliance",
        "silence,masked",
        "--counterfactual-answer",
        "silence",
        "--hide-audio-from-steps",
        "--occlusion-window",
        "0.5s",
    ];
    CommandLine::new("batch")
        .model(fixture("qwen2_audio/tiny_a"))
        .option("--data", &data)
        .out(&out)
        .max_new_tokens(12)
        .args(&evidence)
        .succeeds();
    let report_dir = dir.path().join("report");
    let said = common::stdout(
        &CommandLine::new("report")
            .arg(&out)
            .out(&report_dir)
            .succeeds(),
    );
    assert!(
        said.contains("without the audio (silence): accuracy"),
        "{said}"
    );
    assert!(said.contains("step-reliance slope (silence)"), "{said}");

    // The with/without table counts the four items that ran.
    let need = std::fs::read_to_string(report_dir.join("audio_need.csv")).unwrap();
    let row: Vec<&str> = need.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((row[0], row[1]), ("silence", "4"), "{need}");
    let reliance = std::fs::read_to_string(report_dir.join("reliance_decay.csv")).unwrap();
    assert!(
        reliance.lines().any(|l| l.starts_with("silence,all,0,")),
        "{reliance}"
    );
    assert!(
        reliance.lines().any(|l| l.starts_with("masked,all,0,")),
        "{reliance}"
    );
    let interventions = std::fs::read_to_string(report_dir.join("interventions.csv")).unwrap();
    let tried: usize = interventions
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse::<usize>().unwrap())
        .sum();
    let traces = read_traces(&out).unwrap();
    let steps: usize = traces
        .lines
        .iter()
        .filter_map(|l| match l {
            TraceLine::Done(t) => Some(t.steps.len()),
            _ => None,
        })
        .sum();
    assert_eq!(tried, steps, "one intervention per step");
    let occlusion = std::fs::read_to_string(report_dir.join("occlusion_steps.csv")).unwrap();
    assert_eq!(occlusion.lines().count(), steps + 1, "{occlusion}");
    for plot in [
        "step_reliance.svg",
        "interventions.svg",
        "step_ratio_by_audio_need.svg",
    ] {
        let svg = std::fs::read_to_string(report_dir.join(plot)).unwrap();
        assert!(svg.contains("<svg") && svg.contains("polyline"), "{plot}");
    }
    let markdown = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    for section in [
        "Does the answer need the audio?",
        "Reliance decay",
        "Hiding the audio",
        "Occlusion",
    ] {
        assert!(markdown.contains(section), "{section}");
    }
}
