//! Live mode: the model runs in a worker thread (the same `runner::run_example` as `run` and
//! `batch`) and streams what it makes into the inspector: the prompt's trace first, then each
//! token's text and attention row, so steps and heatmap rows appear as they are generated, and
//! finally the finished trace. Esc cancels; the finished (or cancelled) run can be saved.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};

use super::state::{Example, Inspector, LiveStatus};
use crate::model::{AttentionRows, Checkpoint, DeviceKind, GenerationParams, Precision};
use crate::runner::{run_example, Example as RunnerExample, Progress};
use crate::trace::{sidecar_path, split_steps, write_sidecar, SidecarArrays, StepRules, Trace};

/// Makes the generation settings once the checkpoint is loaded (stop ids come from it).
pub type ParamsFor = Box<dyn FnOnce(&Checkpoint) -> Result<GenerationParams> + Send>;

/// What to run.
pub struct LiveRequest {
    pub model: PathBuf,
    pub precision: Precision,
    pub device: DeviceKind,
    pub audio: PathBuf,
    /// The user turn's text after the audio.
    pub prompt: String,
    pub system: Option<String>,
    /// Shown in the header when the prompt came from a question.
    pub question: Option<String>,
    pub choices: Vec<String>,
    pub params: ParamsFor,
    pub step_rules: StepRules,
}

/// What the worker reports, in order: `Loaded`, `Prepared`, `Token`s, then `Finished` (also
/// after a cancel) or `Failed` at any point.
pub enum LiveEvent {
    Loaded {
        seconds: f64,
    },
    /// The trace so far: model, clip, prompt and inputs; nothing generated yet.
    Prepared(Box<Trace>),
    Token {
        id: u32,
        piece: String,
        /// This token's attention row (capture on).
        row: Option<AttentionRows>,
    },
    Finished(Box<Trace>, Option<SidecarArrays>),
    Failed(String),
}

/// A running (or finished) live run, as the inspector's loop holds it.
pub struct LiveRun {
    events: Receiver<LiveEvent>,
    cancel: Arc<AtomicBool>,
    _worker: Option<JoinHandle<()>>,
    rules: StepRules,
    pieces: Vec<String>,
    arrays: Option<SidecarArrays>,
}

impl LiveRun {
    /// Starts the worker.
    pub fn start(request: LiveRequest) -> Self {
        let (sender, events) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let rules = request.step_rules.clone();
        let worker = {
            let cancel = Arc::clone(&cancel);
            std::thread::spawn(move || {
                if let Err(e) = work(request, &sender, &cancel) {
                    let _ = sender.send(LiveEvent::Failed(format!("{e:#}")));
                }
            })
        };
        Self {
            events,
            cancel,
            _worker: Some(worker),
            rules,
            pieces: Vec::new(),
            arrays: None,
        }
    }

    /// A run fed by hand (tests): events sent on the returned sender arrive as the worker's.
    pub fn from_channel(rules: StepRules) -> (Self, Sender<LiveEvent>) {
        let (sender, events) = channel();
        let run = Self {
            events,
            cancel: Arc::new(AtomicBool::new(false)),
            _worker: None,
            rules,
            pieces: Vec::new(),
            arrays: None,
        };
        (run, sender)
    }

    /// Asks the worker to stop after the token it is on.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The next event, waiting up to `timeout` for it.
    pub fn next_event(&self, timeout: std::time::Duration) -> Option<LiveEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Applies every event that has arrived.
    pub fn feed(&mut self, state: &mut Inspector) {
        while let Ok(event) = self.events.try_recv() {
            self.apply(state, event);
        }
    }

    /// Applies one event to the state: the live example is the state's last.
    pub fn apply(&mut self, state: &mut Inspector, event: LiveEvent) {
        let status = |phase: String, running: bool| LiveStatus {
            phase,
            running,
            saved: None,
        };
        match event {
            LiveEvent::Loaded { seconds } => {
                state.live = Some(status(
                    format!("model loaded in {seconds:.1} s, encoding the clip"),
                    true,
                ));
            }
            LiveEvent::Prepared(trace) => {
                state.examples.push(Example::new(*trace, None));
                state.current = state.examples.len() - 1;
                state.live = Some(status("generating".into(), true));
            }
            LiveEvent::Token { id, piece, row } => {
                let Some(example) = state.examples.last_mut() else {
                    return;
                };
                let following = state.step + 1 >= example.trace.steps.len();
                let generation = &mut example.trace.generation;
                generation.piece_offsets.push(generation.text.len());
                generation.text.push_str(&piece);
                generation.ids.push(id);
                self.pieces.push(piece);
                example.trace.steps = split_steps(&self.pieces, &self.rules);
                if let Some(row) = row {
                    match &mut example.attention {
                        Some(rows) => append_row(rows, &row),
                        None => example.attention = Some(row),
                    }
                }
                let last = example.trace.steps.len().saturating_sub(1);
                if following {
                    state.step = last;
                }
                let tokens = self.pieces.len();
                state.live = Some(status(format!("generating, {tokens} tokens"), true));
            }
            LiveEvent::Finished(trace, arrays) => {
                let phase = if self.is_cancelled() {
                    format!("cancelled after {} tokens", trace.generation.ids.len())
                } else {
                    format!(
                        "finished: {} tokens, {:.1} tokens/s",
                        trace.generation.ids.len(),
                        trace.timings.decode_tokens_per_second
                    )
                };
                if let Some(example) = state.examples.last_mut() {
                    example.trace = *trace;
                    example.attention = arrays.as_ref().map(|a| a.generated.clone());
                    state.step = state.step.min(example.trace.steps.len().saturating_sub(1));
                }
                self.arrays = arrays;
                state.live = Some(status(phase, false));
            }
            LiveEvent::Failed(reason) => {
                state.live = Some(status(format!("failed: {reason}"), false));
            }
        }
    }

    /// Writes the finished run as a trace (and its sidecar) at `to`, or beside the working
    /// directory as `<id>.live.json`; an existing file is never overwritten.
    pub fn save(&self, state: &Inspector, to: Option<&Path>) -> Result<PathBuf> {
        let example = state.examples.last().context("nothing has run yet")?;
        let mut trace = example.trace.clone();
        let stem = to.map_or_else(
            || PathBuf::from(format!("{}.live.json", trace.id)),
            Path::to_path_buf,
        );
        let path = free_path(&stem);
        let sidecar = sidecar_path(&path);
        match (&self.arrays, &mut trace.attention) {
            (Some(arrays), Some(record)) => {
                record.sidecar = sidecar
                    .file_name()
                    .context("the sidecar has a file name")?
                    .to_string_lossy()
                    .into_owned();
                write_sidecar(&sidecar, arrays)?;
            }
            _ => trace.attention = None,
        }
        trace.write(&path)?;
        Ok(path)
    }
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
        .expect("some free name")
}

/// Appends `row`'s one row to `rows` (both token-major).
fn append_row(rows: &mut AttentionRows, row: &AttentionRows) {
    rows.rows += row.rows;
    rows.audio_ratio.extend_from_slice(&row.audio_ratio);
    rows.sink_mass.extend_from_slice(&row.sink_mass);
    rows.audio_map.extend_from_slice(&row.audio_map);
    if let (Some(maps), Some(new)) = (&mut rows.head_maps, &row.head_maps) {
        maps.extend_from_slice(new);
    }
}

/// The worker: load, run with streaming, report.
fn work(request: LiveRequest, sender: &Sender<LiveEvent>, cancel: &AtomicBool) -> Result<()> {
    let mut checkpoint = Checkpoint::load(&request.model, request.precision, request.device)?;
    let _ = sender.send(LiveEvent::Loaded {
        seconds: checkpoint.load_seconds,
    });
    let params = (request.params)(&checkpoint)?;
    let example = RunnerExample {
        id: request
            .audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        audio: &request.audio,
        prompt: request.prompt.clone(),
        system: request.system.clone(),
        benchmark: None,
        step_rules: request.step_rules.clone(),
    };
    let with_question = |mut trace: Trace| {
        trace.prompt.question = request.question.clone();
        trace.prompt.choices = request.choices.clone();
        trace
    };
    let (trace, arrays) = run_example(&mut checkpoint, &example, &params, "", |progress| {
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
    let _ = sender.send(LiveEvent::Finished(Box::new(with_question(trace)), arrays));
    Ok(())
}
