//! `auscult demo eval`: fresh synthetic items from a seed, run through a model exactly as `batch`
//! runs a benchmark (same runner, traces and attention sidecars, so the inspector and `report`
//! open them), labelled by the exact CAFE checker, and reduced to answer accuracy, CAFE metrics,
//! accuracy per question type, perception accuracy per sound position and the step-ratio decay;
//! with `evidence`, also each item's causal evidence checked against the clip's truth.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::checker::label_steps;
use super::events::{render, SAMPLE_RATE};
use super::prompts::PromptStyle;
use super::question::Item;
use super::training::TRAINING_SEED_BIT;
use crate::model::{Checkpoint, DeviceKind, GenerateOptions, LoadOptions, Precision, Quantization};
use crate::runner::{add_evidence, run_example, ExampleInput};
use crate::trace::{append_line, write_sidecar, BenchmarkRecord, StepRules, Trace, TraceLine};

mod evidence;
mod report;

use evidence::{evidence_options, item_evidence, ItemEvidence};
pub use evidence::{
    CostRow, DecayRow, EvidenceTables, LocalisationRow, RelianceRow, OCCLUSION_WINDOW,
};
use report::reduce;
pub use report::{EvalReport, PositionAccuracy, StepRatio, TypeAccuracy};

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
    /// Quantize the decoder's linear layers (uncached: the demo model quantizes in milliseconds).
    pub quantize: Option<Quantization>,
    /// Also measure each item's causal evidence and check it against the truth (`evidence`).
    pub evidence: bool,
    /// How the items are asked.
    pub prompt: PromptStyle,
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

/// Runs `item`, asked in `style`, through `checkpoint` (its clip written to `clips`) and labels
/// its steps.
pub fn run_item(
    checkpoint: &mut Checkpoint,
    item: &Item,
    style: PromptStyle,
    index: usize,
    clips: &Path,
    params: &GenerateOptions,
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
    let example = ExampleInput {
        id: record.id.clone(),
        audio: &clip,
        prompt: style.user_prompt(item),
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

    type Finished = (Trace, Option<ItemEvidence>);
    let mut results: Vec<Option<Result<Finished>>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for worker in 0..options.workers.min(items.len().max(1)) {
            let (items, clips, sidecars) = (&items, &clips, &sidecars);
            handles.push(
                scope.spawn(move || -> Result<Vec<(usize, Result<Finished>)>> {
                    let load = LoadOptions {
                        precision: Some(Precision::F32),
                        quantize: options.quantize,
                        cache: false,
                        force: true,
                        ..LoadOptions::new(DeviceKind::Cpu)
                    };
                    let mut checkpoint = Checkpoint::load_with(&options.model, &load)?;
                    let params = GenerateOptions::greedy(
                        options.max_new_tokens,
                        checkpoint.generation.eos_token_id.clone(),
                    );
                    let mut done = Vec::new();
                    for index in (worker..items.len()).step_by(options.workers) {
                        let item = &items[index];
                        let name = format!("synth-{}.safetensors", item.seed);
                        let result = run_item(
                            &mut checkpoint,
                            item,
                            options.prompt,
                            index,
                            clips,
                            &params,
                            &format!("traces.attn/{name}"),
                        )
                        .and_then(|(mut trace, mut arrays)| {
                            let mut measured = None;
                            if options.evidence {
                                let clip = PathBuf::from(&trace.audio.path);
                                add_evidence(
                                    &mut checkpoint,
                                    &mut trace,
                                    arrays.as_mut(),
                                    &clip,
                                    &evidence_options(),
                                )?;
                                measured = arrays.as_ref().map(|a| item_evidence(item, &trace, a));
                            }
                            if let Some(arrays) = &arrays {
                                write_sidecar(&sidecars.join(&name), arrays)?;
                            }
                            Ok((trace, measured))
                        });
                        done.push((index, result));
                        progress();
                    }
                    Ok(done)
                }),
            );
        }
        for handle in handles {
            // A panic in a worker is a bug in auscult, not bad input: let it show.
            for (index, result) in handle.join().expect("an evaluation worker panicked")? {
                results[index] = Some(result);
            }
        }
        Ok(())
    })?;

    let mut file = crate::jsonl::create(&traces_path)?;
    let mut traces = Vec::new();
    let mut measured = Vec::new();
    let mut failed = 0;
    for (item, result) in items.iter().zip(results) {
        // Workers take indices w, w + W, …: together every index.
        match result.expect("every item has a worker") {
            Ok((trace, evidence)) => {
                append_line(&mut file, &TraceLine::Done(Box::new(trace.clone())))?;
                traces.push((item, trace));
                measured.extend(evidence);
            }
            Err(error) => {
                failed += 1;
                eprintln!("warning: item {}: {error:#}", item.seed);
            }
        }
    }
    let mut report = reduce(options, &traces, failed, started.elapsed().as_secs_f64());
    report.evidence = options
        .evidence
        .then(|| evidence::evidence_tables(&measured));
    Ok(report)
}
