//! `auscult inspect`: open traces in the inspector, or run the model live and watch it think;
//! with no arguments, `auscult` runs the bundled demo model live on a bundled example. A model
//! given with traces is loaded in the background for the evidence the inspector's keys ask for
//! (a step's intervention, reliance).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;

use super::bundled::{demo_live_request, fallback_traces};
use super::evidence_args::EvidenceArgs;
use super::generation_args::GenerationArgs;
use super::model_args::{clip_seconds, LoadArgs};
use super::prompt_args::PromptArgs;
use crate::cafe::journal::check_annotator;
use crate::cafe::journal_file::{journal_path, open_journal, JournalWriter};
use crate::cafe::judge::read_captions;
use crate::cafe::label_files::gather_labels;
use crate::trace::{read_sidecar, read_traces, Trace};
use crate::truth::Truth;
use crate::tui::app::App;
use crate::tui::config::Config;
use crate::tui::live::{LiveRequest, LiveRun};
use crate::tui::model_worker::ModelWorker;
use crate::tui::palette::Palette;
use crate::tui::state::{Example, Inspector, Labelling, ModelStatus};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A trace (`.json` from `run`) or a traces file (`.jsonl` from `batch`); with --model, that
    /// model is loaded for the evidence keys (a step's intervention, reliance).
    #[arg(value_name = "TRACE", conflicts_with = "audio")]
    pub trace: Option<PathBuf>,
    /// Settings file (keys, colours); default: $AUSCULT_CONFIG or ~/.config/auscult/config.json.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// Colours: truecolor, 256, 16 or none (default: from NO_COLOR, COLORTERM and TERM).
    #[arg(long, value_name = "PALETTE", value_parser = parse_palette)]
    pub colour: Option<Palette>,
    /// Label as NAME: the label keys save to <traces>.NAME.labels.jsonl beside the traces
    /// (default: "annotator" in the config; without a name the labels are only shown).
    #[arg(long, value_name = "NAME", value_parser = parse_annotator)]
    pub annotator: Option<String>,
    /// Only show labels, even when the config names an annotator.
    #[arg(long, conflicts_with = "annotator")]
    pub no_annotator: bool,
    /// More labels to show: a judge's output or an export (journals beside the traces are read
    /// anyway).
    #[arg(long, value_name = "FILE.jsonl", num_args = 1..)]
    pub labels: Vec<PathBuf>,
    /// The clips' ground truth, drawn in a lane under the time axis: a captions file whose
    /// events have times (`{"id": …, "caption": …, "events": [{"name": …, "start": s, "end":
    /// s}]}`, as `judge` reads it). Synthetic items' exact events are drawn without it.
    #[arg(long, value_name = "FILE.jsonl")]
    pub captions: Option<PathBuf>,
    /// A second trace or traces file to compare with TRACE, item by item (paired by id): both
    /// heatmaps on one time axis and colour scale, both answers, CAFE counts and decay curves
    /// (labels are only shown while comparing).
    #[arg(
        long,
        value_name = "TRACE",
        requires = "trace",
        conflicts_with = "annotator"
    )]
    pub compare: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Running the model live instead of opening a trace.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Run this checkpoint live (with --audio and --prompt or --question), or, with a TRACE,
    /// load it for the evidence keys: the model that made the trace.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// The clip to run the model on.
    #[arg(long, value_name = "FILE", requires = "model")]
    pub audio: Option<PathBuf>,
    #[command(flatten)]
    pub prompt: PromptArgs,
    /// Where `s` saves the finished run (default: <clip name>.live.json beside the clip; never overwrites).
    #[arg(long, value_name = "TRACE.json")]
    pub save: Option<PathBuf>,
    #[command(flatten)]
    pub generation: GenerationArgs,
    /// Evidence to measure once the live run has finished (shown as it arrives; `s` saves it).
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

impl InspectArgs {
    /// What `auscult` with no arguments means: `inspect` with every default.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            args: InspectArgs,
        }
        <Defaults as clap::Parser>::parse_from(["auscult"]).args
    }
}

fn parse_annotator(text: &str) -> Result<String, String> {
    check_annotator(text).map(|()| text.to_owned())
}

fn parse_palette(text: &str) -> Result<Palette, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("{text:?} is not one of truecolor, 256, 16, none"))
}

/// The traces of a `.json` trace or a `.jsonl` traces file (attention stays on disk).
pub fn load_examples(path: &Path) -> Result<Vec<Example>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let traces: Vec<Trace> = if path.extension().is_some_and(|e| e == "json") {
        vec![Trace::read(path)?]
    } else {
        read_traces(path)?.finished()
    };
    if traces.is_empty() {
        bail!("{}: no finished traces to inspect", path.display());
    }
    let examples: Vec<Example> = traces
        .into_iter()
        .map(|trace| {
            let sidecar = trace.attention.as_ref().map(|r| base.join(&r.sidecar));
            Example::on_disk(trace, sidecar)
        })
        .collect();
    // The first example's attention is read now, so a broken sidecar is reported before the
    // terminal is taken over; the others' when they are shown.
    let mut examples = examples;
    if let Some(path) = examples[0].sidecar.clone() {
        let arrays = read_sidecar(&path)?;
        examples[0].set_attention(Some(arrays.generated));
        examples[0].evidence = arrays.evidence;
    }
    Ok(examples)
}

pub fn run(args: InspectArgs) -> Result<()> {
    let live = &args.live;
    let evidence = live
        .evidence
        .options_with_capture(live.generation.no_capture)?;
    let request = match (&live.model, &live.audio, &args.trace) {
        (Some(model), Some(audio), _) => Some(live_request(live, model, audio)?),
        (Some(_), None, None) => {
            bail!(
                "--model needs --audio (a live run) or a TRACE (its model, for the evidence keys)"
            )
        }
        _ => None,
    };
    if request.is_none() && !evidence.is_empty() {
        bail!(
            "--reliance, --occlusion-window, --counterfactual-answer and --hide-audio-from-steps \
             measure a live run (with --model and --audio); for traces use `auscult reliance \
             TRACES --model DIR`"
        );
    }
    open(args, request)
}

/// `auscult` with no arguments: the demo model run live on the first bundled example, or, when
/// the model is not there, the traces `inspect` opens with no trace (`fallback_traces`).
pub fn run_demo() -> Result<()> {
    open(InspectArgs::defaults(), demo_live_request()?)
}

/// The inspector on a live run of `request`, or on the traces `args` name.
fn open(args: InspectArgs, request: Option<LiveRequest>) -> Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let palette = args
        .colour
        .or(config.palette)
        .unwrap_or_else(Palette::from_env);
    // Labels are only shown while comparing: a label key would not say which side it labels.
    let annotator = match args.no_annotator || args.compare.is_some() {
        true => None,
        false => args.annotator.clone().or(config.annotator.clone()),
    };
    let (state, trace_dir, live, worker, journal) = match request {
        Some(request) => {
            let mut state = Inspector::for_live_run(request.step_rules.clone());
            if let Some(live) = &mut state.live {
                live.measure_after = args.live.evidence.options();
            }
            let (run, worker) = LiveRun::start(request)?;
            (state, PathBuf::from("."), Some(run), Some(worker), None)
        }
        None => {
            let path = args.trace.clone().unwrap_or_else(fallback_traces);
            let (mut state, journal) = open_traces(&path, annotator.as_deref(), &args.labels)?;
            if let Some(other) = &args.compare {
                compare_with(&mut state, &path, other)?;
            }
            if let Some(captions) = &args.captions {
                apply_captions(&mut state, captions)?;
            }
            let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let worker = match &args.live.model {
                Some(model) => {
                    crate::model::check_checkpoint_dir(model)?;
                    state.model = ModelStatus::Loading;
                    Some(ModelWorker::load(
                        model.clone(),
                        evidence_load_options(&args.live, &state),
                    )?)
                }
                None => None,
            };
            (state, dir, None, worker, journal)
        }
    };
    let mut state = state;
    if let Some(scale) = config.scale {
        state.scale = scale;
    }
    App {
        state,
        keys: config.keys,
        palette,
        trace_dir,
        live,
        worker,
        save_to: args.live.save.clone(),
        journal,
        other_dir: args
            .compare
            .as_ref()
            .map(|p| p.parent().unwrap_or(Path::new(".")).to_path_buf()),
    }
    .run()
}

/// Opens `other` beside the traces of `path` already in `state`, paired by item id, with the
/// labels beside it (its journals: `--labels` files label A's traces, whose ids B shares).
fn compare_with(state: &mut Inspector, path: &Path, other: &Path) -> Result<()> {
    let mut examples = load_examples(other)?;
    let gathered = gather_labels(other, &[], None)?;
    for example in &mut examples {
        gathered.apply(&mut example.trace);
    }
    let names = side_names(path, other);
    state
        .start_comparison(examples, names)
        .map_err(|why| anyhow::anyhow!("{}: {why}", other.display()))?;
    Ok(())
}

/// What the two sides are called: their files' names, or their folders' when the files are
/// named alike (`demo eval --prompt a,b` writes `a/traces.jsonl` and `b/traces.jsonl`).
fn side_names(a: &Path, b: &Path) -> [String; 2] {
    let stem = |p: &Path| {
        p.file_stem()
            .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into())
    };
    let folder = |p: &Path| {
        p.parent()
            .and_then(Path::file_name)
            .map_or_else(|| stem(p), |s| s.to_string_lossy().into())
    };
    if stem(a) == stem(b) && folder(a) != folder(b) {
        [folder(a), folder(b)]
    } else {
        [stem(a), stem(b)]
    }
}

/// Gives each example whose id the captions file lists with timed events those events as its
/// ground truth; says on the status line how many examples got some.
fn apply_captions(state: &mut Inspector, path: &Path) -> Result<()> {
    let captions = read_captions(path)?;
    let mut given = 0;
    // Both sides of a comparison ask the same items.
    if let Some(comparison) = &mut state.comparison {
        for example in &mut comparison.other.examples {
            if let Some(truth) = captions
                .get(&example.trace.id)
                .and_then(Truth::from_caption)
            {
                example.set_truth(Some(truth));
            }
        }
    }
    for example in &mut state.examples {
        if let Some(truth) = captions
            .get(&example.trace.id)
            .and_then(Truth::from_caption)
        {
            example.set_truth(Some(truth));
            given += 1;
        }
    }
    let total = state.examples.len();
    state.notify(format!(
        "{}: timed events for {given} of {total} examples",
        path.display()
    ));
    Ok(())
}

/// How to load the model for the evidence keys: the memory check's workload is the longest
/// generation and clip among the traces.
fn evidence_load_options(args: &LiveArgs, state: &Inspector) -> crate::model::LoadOptions {
    let traces = state.examples.iter().map(|e| &e.trace);
    let tokens = traces
        .clone()
        .map(|t| t.generation.params.max_new_tokens)
        .max()
        .unwrap_or(0);
    let seconds = traces
        .map(|t| t.audio.duration_seconds)
        .fold(None, |longest: Option<f64>, s| {
            Some(longest.map_or(s, |l| l.max(s)))
        });
    // `R` measures reliance: its logits count.
    crate::model::LoadOptions {
        evidence: true,
        ..args.load.options(tokens, seconds)
    }
}

/// The inspector on a traces file, with every label file's labels; labelling as `annotator`
/// when one is named (its journal opened, and created when new). Problems with label files are
/// printed, and the first is shown on the status line.
fn open_traces(
    path: &Path,
    annotator: Option<&str>,
    label_files: &[PathBuf],
) -> Result<(Inspector, Option<JournalWriter>)> {
    let mut examples = load_examples(path)?;
    let own = annotator.map(|name| journal_path(path, name));
    let gathered = gather_labels(path, label_files, own.as_deref())?;
    let mut notices: Vec<String> = gathered.warnings().cloned().collect();
    for example in &mut examples {
        gathered.apply(&mut example.trace);
    }
    let mut state = Inspector::new(examples);
    let mut journal = None;
    if let (Some(name), Some(own)) = (annotator, own) {
        match open_journal(&own, name) {
            Ok(opened) => {
                let mut labelling = Labelling::new(name, opened.labels);
                match opened.writer {
                    Some(writer) => {
                        notices.push(format!("labelling as {name}: {}", own.display()));
                        journal = Some(writer);
                    }
                    None => {
                        labelling.read_only = Some(
                            "another auscult session has your journal open: labelling is off here"
                                .into(),
                        )
                    }
                }
                // Problems first: the status line shows the first notice.
                notices.splice(0..0, opened.warnings);
                state.start_labelling(labelling);
            }
            Err(e) => notices.insert(
                0,
                format!("{e:#}: labelling is off, the labels are only shown"),
            ),
        }
    }
    for notice in &notices {
        eprintln!("{notice}");
    }
    state.message = notices.into_iter().next();
    Ok((state, journal))
}

/// Checks the live run's inputs before the terminal is taken over, so mistakes read as one line.
fn live_request(args: &LiveArgs, model: &Path, audio: &Path) -> Result<LiveRequest> {
    if !audio.is_file() {
        bail!("{}: no such audio file", audio.display());
    }
    crate::model::check_checkpoint_dir(model)?;
    let prompt = args.prompt.text(&args.generation.prompt_template)?;
    let generation = args.generation.clone();
    Ok(LiveRequest {
        model: model.to_path_buf(),
        load: crate::model::LoadOptions {
            evidence: args.evidence.options().needs_sidecar(),
            ..args
                .load
                .options(args.generation.max_new_tokens, clip_seconds(audio))
        },
        audio: audio.to_path_buf(),
        prompt,
        system: args.generation.system.clone(),
        question: args.prompt.question.clone(),
        choices: args.prompt.choices.clone(),
        benchmark: None,
        labeller: None,
        step_rules: args.generation.step_rules()?,
        options: Box::new(move |checkpoint| generation.options(checkpoint)),
    })
}
