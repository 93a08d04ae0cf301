//! Live mode: the model runs in a worker thread (the same `runner::run_example` as `run` and
//! `batch`) and streams what it makes into the inspector: the prompt's trace first, then each
//! token's text and attention row, so steps and heatmap rows appear as they are generated, and
//! finally the finished trace. Esc cancels; the finished (or cancelled) run can be saved. Once
//! the run is over the thread keeps its checkpoint and takes evidence jobs (`model_worker`).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{Context, Result};

use super::action::{Effect, LiveEvent};
use super::model_worker::{worker_channel, ModelWorker};
use super::state::Inspector;
use crate::model::{AttentionRows, Checkpoint, GenerateOptions, LoadOptions};
use crate::runner::{run_example, ExampleInput, Progress};
use crate::trace::TraceLabels;
use crate::trace::{sidecar_path, write_sidecar, BenchmarkRecord, SidecarArrays, StepRules, Trace};

/// Makes the generation settings once the checkpoint is loaded (stop ids come from it).
pub type OptionsFor = Box<dyn FnOnce(&Checkpoint) -> Result<GenerateOptions> + Send>;

/// Labels the finished trace's steps (the demo's exact checker knows its clip's events).
pub type Labeller = Box<dyn FnOnce(&Trace) -> TraceLabels + Send>;

/// What to run.
pub struct LiveRequest {
    pub model: PathBuf,
    /// How to load it (and the memory check's workload).
    pub load: LoadOptions,
    pub audio: PathBuf,
    /// The user turn's text after the audio.
    pub prompt: String,
    pub system: Option<String>,
    /// Shown in the header when the prompt came from a question.
    pub question: Option<String>,
    pub choices: Vec<String>,
    /// The benchmark item the clip and question come from: the answer is scored against it.
    pub benchmark: Option<BenchmarkRecord>,
    pub labeller: Option<Labeller>,
    pub options: OptionsFor,
    pub step_rules: StepRules,
}

/// A running (or finished) live run, as the inspector's loop holds it.
pub struct LiveRun {
    events: Receiver<LiveEvent>,
    cancel: Arc<AtomicBool>,
    _worker: JoinHandle<()>,
    /// The prompt's attention rows (with `--capture-prompt`), set by the worker when it
    /// finishes; the generated rows are in the state's example.
    prompt_rows: Arc<Mutex<Option<AttentionRows>>>,
    /// The run's last word (finished, stopped, failed) has been applied.
    ended: bool,
    /// Where a save goes unless told: beside the clip, as `<clip stem>.live.json`.
    default_save: PathBuf,
}

impl LiveRun {
    /// Starts the worker. A panic in it is caught and reported as a failed run. Once the run is
    /// over the worker serves evidence jobs with its checkpoint through the `ModelWorker`
    /// returned (dropping it lets the thread end).
    pub fn start(request: LiveRequest) -> Result<(Self, ModelWorker)> {
        let (model_worker, worker_end) = worker_channel();
        let (sender, events) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let prompt_rows = Arc::new(Mutex::new(None));
        let default_save = default_save_path(&request.audio);
        let worker = {
            let (cancel, prompt_rows) = (Arc::clone(&cancel), Arc::clone(&prompt_rows));
            std::thread::Builder::new()
                .name("auscult-live".into())
                .spawn(move || {
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(request, &sender, &cancel, &prompt_rows)
                    }));
                    let failure = match outcome {
                        Ok(Ok(mut checkpoint)) => return worker_end.serve(&mut checkpoint),
                        Ok(Err(e)) => format!("{e:#}"),
                        Err(panic) => format!("the model run panicked: {}", panic_text(&*panic)),
                    };
                    let _ = sender.send(LiveEvent::Failed(failure));
                })
                .context("cannot start a thread for the live run")?
        };
        let run = Self {
            events,
            cancel,
            _worker: worker,
            prompt_rows,
            ended: false,
            default_save,
        };
        Ok((run, model_worker))
    }

    /// Asks the worker to stop: before the model runs, or after the token it is on.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The next event, waiting up to `timeout` for it (for callers that step through a run).
    pub fn next_event(&mut self, timeout: std::time::Duration) -> Option<LiveEvent> {
        let event = self.events.recv_timeout(timeout).ok()?;
        self.ended |= matches!(
            event,
            LiveEvent::Finished(..) | LiveEvent::Stopped(_) | LiveEvent::Failed(_)
        );
        Some(event)
    }

    /// Applies every event that has arrived; returns the effects they ask for (the evidence to
    /// measure once the run is over). A worker that vanished without its last word fails the
    /// run rather than leaving it "generating" forever.
    pub fn feed(&mut self, state: &mut Inspector) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => {
                    self.ended |= matches!(
                        event,
                        LiveEvent::Finished(..) | LiveEvent::Stopped(_) | LiveEvent::Failed(_)
                    );
                    effects.push(state.on_live(event));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.ended {
                        self.ended = true;
                        effects.push(state.on_live(LiveEvent::Failed(
                            "the model run stopped without a word".into(),
                        )));
                    }
                    break;
                }
            }
        }
        effects.retain(|effect| *effect != Effect::None);
        effects
    }

    /// Writes the run's trace (and its sidecar, with any evidence measured) at `to`, or beside
    /// the clip as
    /// `<clip stem>.live.json`; an existing file is never overwritten (`-2`, `-3`… are added).
    pub fn save(&self, state: &Inspector, to: Option<&Path>) -> Result<PathBuf> {
        let example = state.examples.last().context("nothing has run yet")?;
        let mut trace = example.trace.clone();
        let wanted = to.map_or_else(|| self.default_save.clone(), Path::to_path_buf);
        let path = free_path(&wanted);
        let sidecar = sidecar_path(&path);
        match (&example.attention, &mut trace.attention) {
            (Some(generated), Some(record)) => {
                record.sidecar = sidecar
                    .file_name()
                    .context("the sidecar has a file name")?
                    .to_string_lossy()
                    .into_owned();
                let prompt = self
                    .prompt_rows
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                write_sidecar(
                    &sidecar,
                    &SidecarArrays {
                        generated: generated.clone(),
                        prompt,
                        evidence: example.evidence.clone(),
                    },
                )?;
            }
            _ => trace.attention = None,
        }
        trace.write(&path)?;
        Ok(path)
    }
}

/// The text of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// `path`, or `stem-2.ext`, `stem-3.ext`… when it exists.
fn free_path(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let extension = path.extension().map(|e| e.to_string_lossy().into_owned());
    (2..)
        .map(|n| {
            let name = match &extension {
                Some(ext) => format!("{stem}-{n}.{ext}"),
                None => format!("{stem}-{n}"),
            };
            path.with_file_name(name)
        })
        .find(|p| !p.exists())
        .expect("an unbounded range always reaches a free name")
}

/// `<folder of the clip>/<clip stem>.live.json`.
fn default_save_path(clip: &Path) -> PathBuf {
    let stem = clip
        .file_stem()
        .map_or_else(|| "live".into(), |s| s.to_string_lossy().into_owned());
    crate::durable::folder_of(clip).join(format!("{stem}.live.json"))
}

/// The worker: load, run with streaming, report; returns the checkpoint for evidence jobs.
fn work(
    request: LiveRequest,
    sender: &Sender<LiveEvent>,
    cancel: &AtomicBool,
    prompt_rows: &Mutex<Option<AttentionRows>>,
) -> Result<Checkpoint> {
    let mut checkpoint = Checkpoint::load_with(&request.model, &request.load)?;
    let _ = sender.send(LiveEvent::Loaded {
        seconds: checkpoint.load_seconds,
    });
    if cancel.load(Ordering::Relaxed) {
        let _ = sender.send(LiveEvent::Stopped("cancelled before the model ran".into()));
        return Ok(checkpoint);
    }
    let options = (request.options)(&checkpoint)?;
    let example = ExampleInput {
        id: request
            .audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        audio: &request.audio,
        prompt: request.prompt.clone(),
        system: request.system.clone(),
        benchmark: request.benchmark.clone(),
        step_rules: request.step_rules.clone(),
    };
    let with_question = |mut trace: Trace| {
        trace.prompt.question = request.question.clone();
        trace.prompt.choices = request.choices.clone();
        trace
    };
    let (trace, arrays) = run_example(&mut checkpoint, &example, &options, "", |progress| {
        let sent = match progress {
            Progress::Prepared { trace } => {
                sender.send(LiveEvent::Prepared(Box::new(with_question(trace.clone()))))
            }
            Progress::Token {
                id,
                piece,
                attention,
                ..
            } => sender.send(LiveEvent::Token {
                id,
                piece: piece.to_owned(),
                row: attention.cloned(),
            }),
        };
        if sent.is_err() || cancel.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    let (generated, prompt) = match arrays {
        Some(arrays) => (Some(arrays.generated), arrays.prompt),
        None => (None, None),
    };
    *prompt_rows
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = prompt;
    let mut trace = with_question(trace);
    if let Some(labeller) = request.labeller {
        trace.labels = Some(labeller(&trace));
    }
    let _ = sender.send(LiveEvent::Finished(Box::new(trace), generated));
    Ok(checkpoint)
}
