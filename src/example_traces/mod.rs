//! Example traces that read like real ones: plausible reasoning about a known clip, CAFE labels,
//! and attention that finds the event each step talks about and fades along the chain (and, for a
//! mixture-of-experts decoder, the experts a router would have picked: `experts`). Nothing here
//! runs a model.
//!
//! They are what the inspector's snapshot tests, the benchmarks, the README's screenshots and the
//! hand-made bundled traces in `assets/demo/` show: a story whose every number is known, which a
//! run of the small demo model cannot promise (its traces, made by the real pipeline, are in
//! `assets/examples/`). Each trace is built through `Trace::begin`, as the runner builds one,
//! with the front end's constants (`audio::MelConfig`'s defaults, the encoder's token count), so
//! an example differs from a run only in where its text and attention come from. Deterministic
//! for a seed.

mod attention;
mod experts;
mod specs;

/// Where the bundled hand-made example trace lives, relative to the repository.
pub const HAND_MADE_TRACE: &str = "assets/demo/demo-tones.json";
/// Where the bundled hand-made traces file (three examples, as `batch` lays them out) lives.
pub const HAND_MADE_SET: &str = "assets/demo/demo-set.jsonl";

pub use experts::example_trace_with_experts;
pub use specs::{demo_set_specs, duration_spec, order_spec, tones_spec};

use crate::audio::MelConfig;
use crate::benchmark::answer::score;
use crate::benchmark::prompt::{benchmark_prompt, R1_AQA_THINK};
use crate::trace::{
    AudioIdentity, BenchmarkRecord, CafeLabel, CaptureSettings, Decoding, GenerationParams,
    InputRecord, LabelSource, MissedEvent, ModelIdentity, PromptRecord, SidecarArrays, StepLabel,
    StepRules, StopReason, Trace, TraceLabels, TraceStart,
};
use attention::synthetic_attention;

/// A sound event of the clip, in seconds.
#[derive(Debug, Clone)]
pub struct ClipEvent {
    pub name: &'static str,
    pub start: f64,
    pub end: f64,
}

/// What an example is about, and what its reasoning says.
#[derive(Debug, Clone)]
pub struct ExampleSpec {
    pub id: &'static str,
    pub clip_path: &'static str,
    pub clip_seconds: f64,
    pub events: Vec<ClipEvent>,
    pub question: &'static str,
    pub choices: Vec<&'static str>,
    pub answer: &'static str,
    /// The benchmark task it stands for (`benchmark.task`), so filters have something to group.
    pub task: Option<&'static str>,
    /// One line per step; each names the event it is about (an index into `events`) and the
    /// label of its claim (`None`: no claim about the audio).
    pub lines: Vec<(&'static str, Option<usize>, Option<CafeLabel>)>,
    /// Events no step mentions.
    pub missed: Vec<usize>,
    pub layers: usize,
    pub heads: usize,
    pub seed: u64,
}

/// The Qwen2-Audio front end the examples pretend to have run: Whisper's mel settings.
fn front_end() -> MelConfig {
    MelConfig::default()
}

/// Audio tokens for a clip, as Qwen2-Audio's encoder gives them (25 per second).
fn audio_tokens(seconds: f64) -> usize {
    let mel = front_end();
    let frames_per_second = f64::from(mel.sampling_rate) / mel.hop_length as f64;
    let frames = (seconds * frames_per_second).ceil() as usize;
    crate::model::audio_token_count(frames)
}

/// The traces of `specs` laid out as `auscult batch` lays out a traces file: `specs[i]` is
/// benchmark item `i`, and its sidecar is `<sidecar_folder>/<i:06>-<id>.safetensors`, relative
/// to the traces file's folder (`batch` names the folder after the file: `x.jsonl` → `x.attn`;
/// the specs' ids are file-name safe already, so `batch` would keep them as they are). Each trace
/// is `example_trace`'s but for that sidecar name and the item's index.
pub fn example_batch(specs: &[ExampleSpec], sidecar_folder: &str) -> Vec<(Trace, SidecarArrays)> {
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let (mut trace, arrays) = example_trace(spec);
            if let Some(benchmark) = trace.benchmark.as_mut() {
                benchmark.index = index;
            }
            if let Some(attention) = trace.attention.as_mut() {
                attention.sidecar = format!("{sidecar_folder}/{index:06}-{}.safetensors", spec.id);
            }
            (trace, arrays)
        })
        .collect()
}

/// Writes the hand-made bundled traces under `root` (the repository): `HAND_MADE_TRACE` with its
/// sidecar, and `HAND_MADE_SET` with its sidecars in the folder `batch` would use
/// (`demo-set.attn/`). `tests/example_assets.rs` checks the committed files against the
/// generator, and calls this when `UPDATE_ASSETS` asks it to rewrite them.
pub fn write_bundled(root: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let trace_path = root.join(HAND_MADE_TRACE);
    let (trace, arrays) = example_trace(&tones_spec());
    crate::trace::write_sidecar(&crate::trace::sidecar_path(&trace_path), &arrays)?;
    trace.write(&trace_path)?;

    let traces_path = root.join(HAND_MADE_SET);
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
        crate::trace::write_sidecar(&base.join(sidecar), &arrays)?;
        crate::trace::append_line(&mut file, &crate::trace::TraceLine::Done(Box::new(trace)))?;
    }
    Ok(())
}

/// Word-level pieces: a space or newline starts a new piece, as byte-level BPE tends to cut.
fn word_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if (c == ' ' || c == '\n' || c == '<') && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Builds the trace and its attention arrays (with per-head maps) for `spec`.
pub fn example_trace(spec: &ExampleSpec) -> (Trace, SidecarArrays) {
    let text: String = spec
        .lines
        .iter()
        .map(|(line, _, _)| *line)
        .collect::<Vec<_>>()
        .join("\n");
    let pieces = word_pieces(&text);
    let tokens = pieces.len();
    let n_audio = audio_tokens(spec.clip_seconds);
    let prompt_before_audio = 33;
    let prompt_len = prompt_before_audio + n_audio + 40;
    let choices: Vec<String> = spec.choices.iter().map(|c| c.to_string()).collect();
    let prompt = benchmark_prompt(R1_AQA_THINK, spec.question, &choices);
    let mel = front_end();
    let item = BenchmarkRecord {
        id: spec.id.into(),
        question: spec.question.into(),
        choices: choices.clone(),
        answer: spec.answer.into(),
        task: spec.task.map(Into::into),
        category: Some("Temporal Reasoning".into()),
        sub_category: None,
        difficulty: Some("medium".into()),
        file: "(example)".into(),
        file_sha256: String::new(),
        index: 0,
    };
    let mut trace = Trace::begin(TraceStart {
        id: spec.id.into(),
        created: "2026-11-26T00:00:00Z".into(),
        model: ModelIdentity {
            path: "(example: no model was run)".into(),
            model_type: "qwen2_audio".into(),
            config_sha256: String::new(),
            dtype: "f32".into(),
            quantization: None,
            device: "cpu".into(),
            layers: spec.layers,
            heads: spec.heads,
            kv_heads: spec.heads,
            experts: None,
        },
        audio: AudioIdentity {
            path: spec.clip_path.into(),
            sha256: String::new(),
            duration_seconds: spec.clip_seconds,
            sample_rate: mel.sampling_rate,
            window_seconds: mel.chunk_length as f64,
            truncated: false,
            seconds_per_audio_token: crate::model::seconds_per_audio_token(&mel),
        },
        prompt: PromptRecord {
            text: prompt.clone(),
            question: Some(spec.question.into()),
            choices,
            system: None,
            rendered: prompt,
        },
        input: InputRecord {
            ids: (0..prompt_len as u32).collect(),
            audio_span: [prompt_before_audio, prompt_before_audio + n_audio],
        },
        params: GenerationParams {
            decoding: Decoding::Greedy,
            max_new_tokens: 256,
            min_new_tokens: 0,
            stop_ids: vec![],
            capture: CaptureSettings {
                enabled: true,
                per_head_maps: true,
                prompt: false,
            },
        },
        benchmark: Some(item.clone()),
    });
    trace.answer = Some(score(&text, &item));
    trace.record_generation(
        (0..tokens as u32).map(|i| 1000 + i).collect(),
        text,
        &pieces,
        StopReason::StopToken,
        &StepRules::default(),
    );
    let rows = synthetic_attention(spec, &trace.steps, tokens, n_audio);
    trace.record_attention(&format!("{}.attn.safetensors", spec.id), &rows, None);
    trace.labels = Some(labels(spec));
    (
        trace,
        SidecarArrays {
            generated: rows,
            prompt: None,
            evidence: None,
        },
    )
}

/// The CAFE labels the spec gives its claims, from the automatic checker.
fn labels(spec: &ExampleSpec) -> TraceLabels {
    TraceLabels {
        steps: spec
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, (line, event, label))| {
                let label = (*label)?;
                let claim = match event {
                    Some(e) => spec.events[*e].name.to_owned(),
                    None => line
                        .trim_start_matches("<think>")
                        .chars()
                        .take(40)
                        .collect(),
                };
                Some(StepLabel {
                    step: index,
                    event: claim,
                    label,
                    source: LabelSource::auto(),
                    note: None,
                })
            })
            .collect(),
        missed: spec
            .missed
            .iter()
            .map(|&e| MissedEvent {
                event: spec.events[e].name.to_owned(),
                source: LabelSource::auto(),
            })
            .collect(),
        targets: Some(spec.events.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::metrics::{AttentionView, Metric, Selection};
    use crate::trace::StepKind;

    #[test]
    fn the_demo_example_reads_like_a_model_and_its_attention_fades() {
        let (trace, arrays) = example_trace(&tones_spec());
        assert_eq!(trace.steps.len(), 12);
        assert_eq!(trace.steps[11].kind, StepKind::Answer);
        assert_eq!(trace.answer.as_ref().unwrap().extracted, "Three, rising");
        assert!(!trace.answer.as_ref().unwrap().correct);
        assert_eq!(arrays.generated.audio_tokens, 87);
        let view = AttentionView::new(&arrays.generated, trace.input.ids.len());
        let all = Selection::default();
        let step = |i: usize| {
            view.span_value(Metric::Ratio, trace.steps[i].tokens, &all)
                .unwrap()
                .unwrap()
        };
        assert!(step(1) > 1.5 * step(9), "decay: {} vs {}", step(1), step(9));
        // Step 1 (the first tone) looks at the first 0.6 s most.
        let map = view.span_map(trace.steps[1].tokens, &all).unwrap();
        let peak = map
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!(peak < 15, "peak at audio token {peak}");
        // Ratios and maps agree: each head-mean map sums to the head-mean ratio.
        let rows = &arrays.generated;
        let t = 5;
        let mean_ratio: f32 = rows.audio_ratio[t * 16..t * 16 + 4].iter().sum::<f32>() / 4.0;
        let map_sum: f32 = rows.audio_map[t * 4 * 87..t * 4 * 87 + 87].iter().sum();
        assert!((mean_ratio - map_sum).abs() < 1e-5);
        // Deterministic.
        let (again, _) = example_trace(&tones_spec());
        assert_eq!(again, trace);
    }

    #[test]
    fn each_tokens_piece_offset_tiles_its_steps_text() {
        for spec in demo_set_specs() {
            let (trace, _) = example_trace(&spec);
            let generation = &trace.generation;
            let offsets = &generation.piece_offsets;
            assert_eq!(offsets.len(), generation.ids.len(), "{}", spec.id);
            // Token k's piece runs to the next token's start, the last one to the text's end.
            let end = |k: usize| offsets.get(k + 1).copied().unwrap_or(generation.text.len());
            for step in &trace.steps {
                let [first, last] = step.tokens;
                let pieces: String = (first..last)
                    .map(|k| &generation.text[offsets[k]..end(k)])
                    .collect();
                let [start, stop] = step.bytes;
                assert_eq!(offsets[first], start, "{} step {}", spec.id, step.index);
                assert_eq!(pieces, generation.text[start..stop], "{}", spec.id);
                assert_eq!(pieces.trim(), step.text);
            }
        }
    }

    #[test]
    fn the_demo_set_has_one_step_per_line_a_task_each_and_both_verdicts() {
        let specs = demo_set_specs();
        let ids: Vec<_> = specs.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            ["demo-tones", "demo-tones-order", "demo-tones-duration"]
        );
        let mut verdicts = Vec::new();
        for spec in &specs {
            let (trace, arrays) = example_trace(spec);
            assert_eq!(trace.steps.len(), spec.lines.len(), "{}", spec.id);
            assert!(trace.benchmark.as_ref().unwrap().task.is_some());
            let answer = trace.answer.as_ref().unwrap();
            verdicts.push((answer.extracted.clone(), answer.correct));
            // Attention fades along every chain.
            let view = AttentionView::new(&arrays.generated, trace.input.ids.len());
            let all = Selection::default();
            let ratio = |i: usize| {
                view.span_value(Metric::Ratio, trace.steps[i].tokens, &all)
                    .unwrap()
                    .unwrap()
            };
            let last = trace.steps.len() - 2;
            assert!(ratio(1) > 1.5 * ratio(last), "{}", spec.id);
        }
        assert_eq!(
            verdicts,
            [
                ("Three, rising".to_owned(), false),
                ("A burst of noise".to_owned(), true),
                ("About the same".to_owned(), false),
            ]
        );
        // The duration chain goes wrong at its first claim.
        let first_claim = specs[2].lines.iter().find_map(|l| l.2);
        assert_eq!(first_claim, Some(CafeLabel::Hallucinated));
    }

    #[test]
    fn a_batch_layout_names_sidecars_like_batch_and_keeps_each_trace() {
        let specs = demo_set_specs();
        let set = example_batch(&specs, "demo-set.attn");
        assert_eq!(set.len(), 3);
        for (index, ((trace, arrays), spec)) in set.iter().zip(&specs).enumerate() {
            let (mut alone, alone_arrays) = example_trace(spec);
            assert_eq!(
                trace.attention.as_ref().unwrap().sidecar,
                format!("demo-set.attn/{index:06}-{}.safetensors", spec.id)
            );
            alone.attention = trace.attention.clone();
            alone.benchmark.as_mut().unwrap().index = index;
            assert_eq!(*trace, alone);
            assert_eq!(*arrays, alone_arrays);
        }
    }
}
