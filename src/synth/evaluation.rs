//! `auscult demo eval`: fresh synthetic items from a seed, run through a model exactly as `batch`
//! runs a benchmark (same runner, traces and attention sidecars, so the inspector and `report`
//! open them), labelled by the exact CAFE checker, and reduced to answer accuracy, CAFE metrics,
//! accuracy per question type, perception accuracy per sound position and the step-ratio decay.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::checker::label_steps;
use super::events::{render, SAMPLE_RATE};
use super::phrasing::parse_perception;
use super::question::Item;
use super::tokenizer::demo_prompt;
use super::training::TRAINING_SEED_BIT;
use crate::cafe::{CafeCounts, CafeLabel};
use crate::model::{CaptureSettings, Checkpoint, DeviceKind, GenerationParams, Precision};
use crate::report::stats::{slope, step_curve, step_points};
use crate::report::summary::summarize;
use crate::runner::{run_example, Example};
use crate::trace::metrics::Selection;
use crate::trace::{append_line, write_sidecar, BenchmarkRecord, StepRules, Trace, TraceLine};

/// The seed of the `index`-th item evaluated with `seed`. Evaluation seeds stay below
/// [`TRAINING_SEED_BIT`]: no evaluated item was trained on.
pub fn eval_item_seed(seed: u64, index: usize) -> u64 {
    (seed << 32) | index as u64
}

/// Largest `--seed` of `demo eval`.
pub const MAX_EVAL_SEED: u64 = (TRAINING_SEED_BIT >> 32) - 1;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub model: PathBuf,
    pub seed: u64,
    pub n: usize,
    /// Folder for the clips, `traces.jsonl` and its sidecars.
    pub out: PathBuf,
    pub max_new_tokens: usize,
    /// Threads, each with its own copy of the model.
    pub workers: usize,
}

/// Accuracy over one question type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeAccuracy {
    pub question_type: String,
    pub n: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// How often the k-th perception step of a trace is right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionAccuracy {
    /// The sound's number in the chain ("Sound k at ...").
    pub sound: usize,
    pub claims: usize,
    pub acc_per: f64,
}

/// Mean audio ratio of the steps at one index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRatio {
    pub step: usize,
    pub mean_ratio: f64,
    pub examples: usize,
}

/// The evaluation's results (`--json` prints this object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub model: String,
    pub seed: u64,
    /// Item seeds evaluated: `seed << 32 | i` for i in 0..n.
    pub item_seeds: [u64; 2],
    pub n: usize,
    pub correct: usize,
    pub answer_accuracy: f64,
    /// Items whose run failed (counted as wrong).
    pub failed: usize,
    pub acc_per: Option<f64>,
    pub err_per: Option<f64>,
    pub err_use: Option<f64>,
    pub err_omit: Option<f64>,
    pub matched: usize,
    pub hallucinated: usize,
    pub misused: usize,
    pub neutral: usize,
    pub missed: usize,
    pub targets: usize,
    /// Items whose every perception and count claim is matched and no event is missed.
    pub perfect_perception: usize,
    pub per_type: Vec<TypeAccuracy>,
    pub per_sound: Vec<PositionAccuracy>,
    pub step_ratio: Vec<StepRatio>,
    /// Least-squares slope of step ratio against step index (negative: decay).
    pub step_ratio_slope: Option<f64>,
    pub mean_generated_tokens: f64,
    pub seconds: f64,
}

/// A clip written as a 32-bit float WAV file.
pub fn write_clip(path: &Path, samples: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let context = || format!("{}: cannot write the clip", path.display());
    let mut writer = hound::WavWriter::create(path, spec).with_context(context)?;
    for &sample in samples {
        writer.write_sample(sample).with_context(context)?;
    }
    writer.finalize().with_context(context)
}

/// The benchmark record of an item (its question type as the task).
pub fn benchmark_record(item: &Item, index: usize) -> BenchmarkRecord {
    BenchmarkRecord {
        id: format!("synth-{}", item.seed),
        question: item.question.text(),
        choices: item.choices.clone(),
        answer: item.answer.clone(),
        task: Some(item.question.type_name().to_owned()),
        category: Some("synthetic".to_owned()),
        sub_category: None,
        difficulty: Some(format!("{} sounds", item.events.len())),
        file: "synthetic".to_owned(),
        file_sha256: String::new(),
        index,
    }
}

/// Runs `item` through `checkpoint` (its clip written to `clips`) and labels its steps.
pub fn run_item(
    checkpoint: &mut Checkpoint,
    item: &Item,
    index: usize,
    clips: &Path,
    params: &GenerationParams,
    sidecar_name: &str,
) -> Result<(Trace, Option<crate::trace::SidecarArrays>)> {
    let samples = render(
        &item.events,
        item.seconds,
        &mut ChaCha8Rng::seed_from_u64(item.seed),
    );
    let clip = clips.join(format!("synth-{}.wav", item.seed));
    write_clip(&clip, &samples)?;
    let record = benchmark_record(item, index);
    let example = Example {
        id: record.id.clone(),
        audio: &clip,
        prompt: demo_prompt(item),
        system: None,
        benchmark: Some(record),
        step_rules: StepRules::default(),
    };
    let (mut trace, arrays) = run_example(checkpoint, &example, params, sidecar_name, |_| {
        ControlFlow::Continue(())
    })?;
    let texts: Vec<&str> = trace.steps.iter().map(|s| s.text.as_str()).collect();
    trace.labels = Some(label_steps(item, &texts));
    Ok((trace, arrays))
}

/// Evaluates `options.n` items; `progress` is called once per finished item.
pub fn evaluate(options: &EvalOptions, progress: &(dyn Fn() + Sync)) -> Result<EvalReport> {
    if options.seed > MAX_EVAL_SEED {
        bail!("--seed must be at most {MAX_EVAL_SEED} (larger seeds are training seeds)");
    }
    if options.workers == 0 {
        bail!("--workers must be at least 1");
    }
    let started = std::time::Instant::now();
    let clips = options.out.join("clips");
    let sidecars = options.out.join("traces.attn");
    for dir in [&clips, &sidecars] {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let traces_path = options.out.join("traces.jsonl");
    if traces_path.exists() {
        bail!(
            "{}: already exists; give another --out",
            traces_path.display()
        );
    }
    let items: Vec<Item> = (0..options.n)
        .map(|i| Item::generate(eval_item_seed(options.seed, i)))
        .collect();

    let mut results: Vec<Option<Result<Trace>>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for worker in 0..options.workers.min(items.len().max(1)) {
            let (items, clips, sidecars) = (&items, &clips, &sidecars);
            handles.push(scope.spawn(move || -> Result<Vec<(usize, Result<Trace>)>> {
                let mut checkpoint =
                    Checkpoint::load(&options.model, Precision::F32, DeviceKind::Cpu)?;
                let params = GenerationParams {
                    decoding: crate::model::Decoding::Greedy,
                    max_new_tokens: options.max_new_tokens,
                    min_new_tokens: 0,
                    stop_ids: checkpoint.generation.eos_token_id.clone(),
                    capture: CaptureSettings {
                        enabled: true,
                        per_head_maps: false,
                        prompt: false,
                    },
                };
                let mut done = Vec::new();
                for index in (worker..items.len()).step_by(options.workers) {
                    let item = &items[index];
                    let name = format!("synth-{}.safetensors", item.seed);
                    let result = run_item(
                        &mut checkpoint,
                        item,
                        index,
                        clips,
                        &params,
                        &format!("traces.attn/{name}"),
                    )
                    .and_then(|(trace, arrays)| {
                        if let Some(arrays) = &arrays {
                            write_sidecar(&sidecars.join(&name), arrays)?;
                        }
                        Ok(trace)
                    });
                    done.push((index, result));
                    progress();
                }
                Ok(done)
            }));
        }
        for handle in handles {
            for (index, result) in handle.join().expect("an evaluation worker panicked")? {
                results[index] = Some(result);
            }
        }
        Ok(())
    })?;

    let mut file = std::fs::File::create(&traces_path)
        .with_context(|| format!("{}: cannot create", traces_path.display()))?;
    let mut traces = Vec::new();
    let mut failed = 0;
    for (item, result) in items.iter().zip(results) {
        match result.expect("every item has a worker") {
            Ok(trace) => {
                append_line(&mut file, &TraceLine::Done(Box::new(trace.clone())))?;
                traces.push((item, trace));
            }
            Err(error) => {
                failed += 1;
                eprintln!("warning: item {}: {error:#}", item.seed);
            }
        }
    }
    Ok(reduce(
        options,
        &traces,
        failed,
        started.elapsed().as_secs_f64(),
    ))
}

/// The report over the finished traces.
fn reduce(
    options: &EvalOptions,
    traces: &[(&Item, Trace)],
    failed: usize,
    seconds: f64,
) -> EvalReport {
    let n = traces.len() + failed;
    let correct = traces
        .iter()
        .filter(|(_, t)| t.answer.as_ref().is_some_and(|a| a.correct))
        .count();
    let mut counts = CafeCounts::default();
    let mut perfect = 0;
    let mut types: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut positions: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (item, trace) in traces {
        let labels = trace.labels.as_ref().expect("labelled by run_item");
        let trace_counts = CafeCounts::of(labels);
        counts.add(&trace_counts);
        let perception_ok = labels
            .steps
            .iter()
            .filter(|l| parse_perception(&l.event).is_some() || l.event.ends_with(" sounds"))
            .all(|l| l.label == CafeLabel::Matched);
        if perception_ok && labels.missed.is_empty() {
            perfect += 1;
        }
        for label in &labels.steps {
            if let Some((sound, _)) = parse_perception(&label.event) {
                let entry = positions.entry(sound).or_default();
                entry.0 += 1;
                entry.1 += usize::from(label.label == CafeLabel::Matched);
            }
        }
        let entry = types
            .entry(item.question.type_name().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(trace.answer.as_ref().is_some_and(|a| a.correct));
    }
    let summaries: Vec<_> = traces
        .iter()
        .map(|(_, trace)| summarize(trace, &options.out, &Selection::default()).0)
        .collect();
    let step_ratio = step_curve(&summaries)
        .into_iter()
        .filter(|p| p.split == "all")
        .map(|p| StepRatio {
            step: p.x,
            mean_ratio: p.mean_ratio,
            examples: p.examples,
        })
        .collect();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    EvalReport {
        model: options.model.display().to_string(),
        seed: options.seed,
        item_seeds: [
            eval_item_seed(options.seed, 0),
            eval_item_seed(options.seed, options.n.saturating_sub(1)),
        ],
        n,
        correct,
        answer_accuracy: ratio(correct, n),
        failed,
        acc_per: counts.acc_per(),
        err_per: counts.err_per(),
        err_use: counts.err_use(),
        err_omit: counts.err_omit(),
        matched: counts.matched,
        hallucinated: counts.hallucinated,
        misused: counts.misused,
        neutral: counts.neutral,
        missed: counts.missed,
        targets: counts.targets,
        perfect_perception: perfect,
        per_type: types
            .into_iter()
            .map(|(question_type, (n, correct))| TypeAccuracy {
                question_type,
                n,
                correct,
                accuracy: ratio(correct, n),
            })
            .collect(),
        per_sound: positions
            .into_iter()
            .map(|(sound, (claims, matched))| PositionAccuracy {
                sound,
                claims,
                acc_per: ratio(matched, claims),
            })
            .collect(),
        step_ratio,
        step_ratio_slope: slope(&step_points(&summaries)),
        mean_generated_tokens: traces
            .iter()
            .map(|(_, t)| t.generation.ids.len() as f64)
            .sum::<f64>()
            / traces.len().max(1) as f64,
        seconds,
    }
}
