//! Example traces that look like real ones: plausible reasoning about a known clip, CAFE labels,
//! and attention that finds the event each step talks about and fades along the chain.
//!
//! They are what the inspector's tests and its bundled fallback demo show until a trained demo
//! model exists, so they must read like a model's output, not like noise. Everything is
//! deterministic for a seed; nothing here runs a model.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    piece_offsets, split_steps, AnswerRecord, AttentionRecord, AudioIdentity, BenchmarkRecord,
    GenerationRecord, InputRecord, ModelIdentity, PromptRecord, SidecarArrays, StepRules, Trace,
    TraceTimings, TRACE_SCHEMA,
};
use crate::model::AttentionRows;
use crate::trace::{CafeLabel, LabelSource, MissedEvent, StepLabel, TraceLabels};
use crate::trace::{CaptureSettings, Decoding, GenerationParams, StopReason};

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

/// Audio tokens for a clip: 25 per second, as Qwen2-Audio's encoder gives.
fn audio_tokens(seconds: f64) -> usize {
    let frames = (seconds * 100.0).ceil() as usize;
    crate::model::audio_token_count(frames)
}

/// The events of the bundled demo clip `assets/demo/tones.wav` (`assets/README.md` says how it
/// was made).
fn tones_events() -> Vec<ClipEvent> {
    vec![
        ClipEvent {
            name: "tone A4 (440 Hz)",
            start: 0.0,
            end: 0.6,
        },
        ClipEvent {
            name: "tone C#5 (554 Hz)",
            start: 0.6,
            end: 1.2,
        },
        ClipEvent {
            name: "tone E5 (659 Hz)",
            start: 1.2,
            end: 1.8,
        },
        ClipEvent {
            name: "pink noise burst",
            start: 1.8,
            end: 2.3,
        },
        ClipEvent {
            name: "sweep 880 → 220 Hz",
            start: 2.3,
            end: 3.5,
        },
    ]
}

/// The bundled demo clip (`assets/demo/tones.wav`) and a chain of thought that perceives it well
/// at first and gets the last event wrong.
pub fn tones_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "How many tones come before the noise, and does the final sweep rise or fall?",
        choices: vec![
            "Three, falling",
            "Three, rising",
            "Two, falling",
            "Four, rising",
        ],
        answer: "Three, falling",
        task: Some("counting"),
        lines: vec![
            (
                "<think>First I listen for the separate sounds in the clip.",
                None,
                None,
            ),
            (
                "At 0.0 s there is a steady tone, about 440 Hz.",
                Some(0),
                Some(Matched),
            ),
            (
                "At 0.6 s a second tone starts, a little higher.",
                Some(1),
                Some(Matched),
            ),
            (
                "At 1.2 s a third tone, higher again.",
                Some(2),
                Some(Matched),
            ),
            (
                "At 1.8 s the tones stop and a short burst of noise follows.",
                Some(3),
                Some(Matched),
            ),
            (
                "After the noise there is a sweep that lasts about a second.",
                Some(4),
                Some(Matched),
            ),
            ("So three tones come before the noise.", None, Some(Neutral)),
            (
                "The tones rise step by step, so the sounds go up in pitch.",
                Some(2),
                Some(Misused),
            ),
            (
                "A bird chirps near the end of the sweep.",
                Some(4),
                Some(Hallucinated),
            ),
            (
                "The sweep follows the same pattern, so it rises too.",
                Some(4),
                Some(Misused),
            ),
            (
                "Three tones and a rising sweep match option B.</think>",
                None,
                Some(Neutral),
            ),
            ("<answer>Three, rising</answer>", None, None),
        ],
        missed: vec![],
        layers: 4,
        heads: 4,
        seed: 7,
    }
}

/// The demo clip again, asked what follows the third tone: a chain of thought that keeps every
/// event in order and answers right.
pub fn order_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones-order",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "What sound comes right after the third tone?",
        choices: vec![
            "A burst of noise",
            "A fourth, higher tone",
            "A falling sweep",
            "Silence",
        ],
        answer: "A burst of noise",
        task: Some("temporal order"),
        lines: vec![
            (
                "<think>The question is about order, so I follow the sounds one by one.",
                None,
                None,
            ),
            (
                "The clip starts with a steady tone near 440 Hz.",
                Some(0),
                Some(Matched),
            ),
            (
                "At 0.6 s it steps up to a second, higher tone.",
                Some(1),
                Some(Matched),
            ),
            (
                "At 1.2 s a third tone starts, higher again, near 660 Hz.",
                Some(2),
                Some(Matched),
            ),
            (
                "The third tone stops at about 1.8 s.",
                Some(2),
                Some(Matched),
            ),
            (
                "Right after it comes a short hiss of broadband noise.",
                Some(3),
                Some(Matched),
            ),
            (
                "The noise ends at about 2.3 s, when a tone starts gliding down.",
                Some(4),
                Some(Matched),
            ),
            (
                "No fourth tone and no silence come between the third tone and the noise.",
                Some(3),
                Some(Matched),
            ),
            (
                "So the sound right after the third tone is the noise, and the glide comes later.",
                None,
                Some(Neutral),
            ),
            ("That matches option A.</think>", None, Some(Neutral)),
            ("<answer>A burst of noise</answer>", None, None),
        ],
        missed: vec![],
        layers: 4,
        heads: 4,
        seed: 11,
    }
}

/// The demo clip asked about durations: a chain of thought that hears a voice that is not there
/// in its first claim, miscounts the tones from then on, cuts the sweep short, and answers wrong.
pub fn duration_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones-duration",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "How long is the final sweep compared with each tone?",
        choices: vec!["Longer", "Shorter", "About the same"],
        answer: "Longer",
        task: Some("duration"),
        lines: vec![
            (
                "<think>I need how long each tone lasts and how long the sweep at the end lasts.",
                None,
                None,
            ),
            (
                "The clip opens with a voice counting \"one, two\" before the tones.",
                None,
                Some(Hallucinated),
            ),
            (
                "After the count the first tone starts, at about 0.6 s.",
                Some(1),
                Some(Misused),
            ),
            (
                "A second tone follows at 1.2 s, a little higher.",
                Some(2),
                Some(Misused),
            ),
            (
                "The tones stop at 1.8 s, so each lasts about 0.6 s.",
                Some(2),
                Some(Matched),
            ),
            (
                "Then comes a burst of noise, about half a second long.",
                Some(3),
                Some(Matched),
            ),
            (
                "After the noise a tone slides down in pitch.",
                Some(4),
                Some(Matched),
            ),
            (
                "The slide fades out at about 2.9 s, so it lasts about 0.6 s too.",
                Some(4),
                Some(Misused),
            ),
            (
                "That gives two tones of 0.6 s and a slide of 0.6 s.",
                None,
                Some(Neutral),
            ),
            (
                "So the sweep is about as long as each tone.",
                None,
                Some(Neutral),
            ),
            ("That is option C.</think>", None, Some(Neutral)),
            ("<answer>About the same</answer>", None, None),
        ],
        // The first tone: the voice took its place.
        missed: vec![0],
        layers: 4,
        heads: 4,
        seed: 23,
    }
}

/// The examples of the bundled traces file `assets/demo/demo-set.jsonl`, in its order.
pub fn demo_set_specs() -> Vec<ExampleSpec> {
    vec![tones_spec(), order_spec(), duration_spec()]
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
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let text: String = spec
        .lines
        .iter()
        .map(|(line, _, _)| *line)
        .collect::<Vec<_>>()
        .join("\n");
    let pieces = word_pieces(&text);
    let piece_offsets = piece_offsets(&pieces);
    let steps = split_steps(&pieces, &StepRules::default());
    let n_audio = audio_tokens(spec.clip_seconds);
    let prompt_before_audio = 33;
    let prompt_len = prompt_before_audio + n_audio + 40;
    let seconds_per_token = spec.clip_seconds / n_audio as f64;

    // Which event each token's step is about (steps are the lines, in order).
    let line_of_token: Vec<usize> = {
        let mut owner = vec![0; pieces.len()];
        for (index, step) in steps.iter().enumerate() {
            owner[step.tokens[0]..step.tokens[1]]
                .iter_mut()
                .for_each(|o| *o = index.min(spec.lines.len() - 1));
        }
        owner
    };
    let (layers, heads, tokens) = (spec.layers, spec.heads, pieces.len());
    // Some heads look at audio far more than others; deeper layers a little less.
    let head_bias: Vec<f64> = (0..layers * heads)
        .map(|i| {
            let layer = i / heads;
            let audio_head = rng.random::<f64>() < 0.35;
            let base = if audio_head { 0.45 } else { 0.12 };
            base * (1.0 - 0.12 * layer as f64) * (0.8 + 0.4 * rng.random::<f64>())
        })
        .collect();
    let mut rows = AttentionRows {
        rows: tokens,
        layers,
        heads,
        audio_tokens: n_audio,
        audio_ratio: Vec::with_capacity(tokens * layers * heads),
        sink_mass: Vec::with_capacity(tokens * layers * heads),
        audio_map: Vec::with_capacity(tokens * layers * n_audio),
        head_maps: Some(Vec::with_capacity(tokens * layers * heads * n_audio)),
    };
    for (t, &line) in line_of_token.iter().enumerate() {
        let progress = t as f64 / tokens.max(1) as f64;
        // Perception decay: attention to the audio fades along the chain.
        let fade = 0.3 + 0.7 * (-2.2 * progress).exp();
        let event = spec.lines[line].1.map(|e| &spec.events[e]);
        for l in 0..layers {
            let mut layer_map = vec![0f64; n_audio];
            for h in 0..heads {
                let jitter = 0.85 + 0.3 * rng.random::<f64>();
                let ratio = (head_bias[l * heads + h] * fade * jitter).min(0.9);
                let sink = (0.25 + 0.35 * rng.random::<f64>()).min(0.98 - ratio);
                // Where it looks: a bump on the step's event, wider and weaker as the chain goes
                // on, over a floor spread across the clip.
                let mut map: Vec<f64> = (0..n_audio)
                    .map(|j| {
                        let time = (j as f64 + 0.5) * seconds_per_token;
                        let floor = 0.15 + 0.1 * rng.random::<f64>();
                        let bump = event.map_or(0.0, |e| {
                            let centre = (e.start + e.end) / 2.0;
                            let width = (e.end - e.start) / 2.0 * (1.0 + 2.5 * progress) + 0.05;
                            (1.0 - 0.6 * progress)
                                * 4.0
                                * (-((time - centre) / width).powi(2)).exp()
                        });
                        floor + bump
                    })
                    .collect();
                let total: f64 = map.iter().sum();
                map.iter_mut().for_each(|m| *m *= ratio / total);
                rows.audio_ratio.push(ratio as f32);
                rows.sink_mass.push(sink as f32);
                for (acc, m) in layer_map.iter_mut().zip(&map) {
                    *acc += m / heads as f64;
                }
                rows.head_maps
                    .as_mut()
                    .expect("built with head maps")
                    .extend(map.iter().map(|&m| m as f32));
            }
            rows.audio_map.extend(layer_map.iter().map(|&m| m as f32));
        }
    }

    let labels = TraceLabels {
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
    };
    let extracted = crate::benchmark::answer::extract_answer(&text);
    let choices: Vec<String> = spec.choices.iter().map(|c| c.to_string()).collect();
    let correct = crate::benchmark::answer::is_correct(&extracted, spec.answer, &choices);
    let params = GenerationParams {
        decoding: Decoding::Greedy,
        max_new_tokens: 256,
        min_new_tokens: 0,
        stop_ids: vec![],
        capture: CaptureSettings {
            enabled: true,
            per_head_maps: true,
            prompt: false,
        },
    };
    let prompt = crate::benchmark::prompt::benchmark_prompt(
        crate::benchmark::prompt::R1_AQA_THINK,
        spec.question,
        &choices,
    );
    let trace = Trace {
        schema: TRACE_SCHEMA.into(),
        id: spec.id.into(),
        created: "2026-11-26T00:00:00Z".into(),
        auscult_version: env!("CARGO_PKG_VERSION").into(),
        model: ModelIdentity {
            path: "(example: no model was run)".into(),
            family: "qwen2_audio".into(),
            config_sha256: String::new(),
            dtype: "f32".into(),
            quantization: None,
            device: "cpu".into(),
            layers,
            heads,
            kv_heads: heads,
        },
        audio: AudioIdentity {
            path: spec.clip_path.into(),
            sha256: String::new(),
            duration_seconds: spec.clip_seconds,
            sample_rate: 16_000,
            window_seconds: 30.0,
            truncated: false,
            seconds_per_audio_token: 0.04,
        },
        prompt: PromptRecord {
            text: prompt.clone(),
            question: Some(spec.question.into()),
            choices: choices.clone(),
            system: None,
            rendered: prompt,
        },
        input: InputRecord {
            ids: (0..prompt_len as u32).collect(),
            audio_span: [prompt_before_audio, prompt_before_audio + n_audio],
        },
        generation: GenerationRecord {
            ids: (0..tokens as u32).map(|i| 1000 + i).collect(),
            text,
            piece_offsets,
            stop_reason: StopReason::StopToken,
            params,
        },
        steps,
        benchmark: Some(BenchmarkRecord {
            id: spec.id.into(),
            question: spec.question.into(),
            choices,
            answer: spec.answer.into(),
            task: spec.task.map(Into::into),
            category: Some("Temporal Reasoning".into()),
            sub_category: None,
            difficulty: Some("medium".into()),
            file: "(example)".into(),
            file_sha256: String::new(),
            index: 0,
        }),
        answer: Some(AnswerRecord { extracted, correct }),
        labels: Some(labels),
        timings: TraceTimings::default(),
        attention: Some(AttentionRecord {
            sidecar: format!("{}.attn.safetensors", spec.id),
            layers,
            heads,
            audio_tokens: n_audio,
            generated_rows: tokens,
            prompt_rows: 0,
            per_head_maps: true,
        }),
    };
    (
        trace,
        SidecarArrays {
            generated: rows,
            prompt: None,
        },
    )
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
                let [start, stop] = step.chars;
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
        let counts = |spec: &ExampleSpec| {
            let (trace, _) = example_trace(spec);
            let c = crate::cafe::CafeCounts::of(trace.labels.as_ref().unwrap());
            (c.matched, c.hallucinated, c.misused, c.neutral, c.missed)
        };
        assert_eq!(counts(&specs[1]), (7, 0, 0, 2, 0));
        assert_eq!(counts(&specs[2]), (3, 1, 3, 3, 1));
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
