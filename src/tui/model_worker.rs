//! The model kept loaded for the evidence the inspector asks for: one thread owns the checkpoint
//! (the live run's once the run is over, or one loaded for traces opened with `--model`) and runs
//! jobs one at a time, reporting over a channel: a step's intervention (`runner::intervene`,
//! token by token, stopped by a cancel) or evidence for a trace (`runner::add_evidence`, whose
//! passes cannot be stopped: a cancel drops the result once the pass ends). A job carries what it
//! needs (the trace, its arrays, the clip), so the thread keeps nothing between jobs but the
//! checkpoint, and the inspector never waits for it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::action::{EvidenceJob, WorkerEvent};
use super::state::{Example, Inspector};
use crate::model::{Checkpoint, LoadOptions};
use crate::runner::{add_evidence, check_made_by, intervene};
use crate::trace::{file_sha256, SidecarArrays, StopReason, Trace};

/// A job with what it needs.
pub struct Job {
    pub what: EvidenceJob,
    pub trace: Box<Trace>,
    /// The example's generated attention and evidence (what `Measure` adds to).
    pub arrays: Option<Box<SidecarArrays>>,
    pub clip: PathBuf,
}

impl Job {
    /// `what` for `example`, whose clip is found as the inspector finds it (`trace_dir`).
    pub fn for_example(what: EvidenceJob, example: &Example, trace_dir: &Path) -> Result<Self> {
        let trace = &example.trace;
        let clip = trace.find_clip(trace_dir).with_context(|| {
            format!(
                "clip {} not found (the model needs the clip the trace was made from)",
                trace.audio.path
            )
        })?;
        let arrays = example.attention.clone().map(|generated| {
            Box::new(SidecarArrays {
                generated,
                prompt: None,
                evidence: example.evidence.clone(),
            })
        });
        Ok(Self {
            what,
            trace: Box::new(trace.clone()),
            arrays,
            clip,
        })
    }
}

/// The inspector's end: hands out jobs, cancels them, and applies what the worker reports.
pub struct ModelWorker {
    jobs: Sender<Job>,
    events: Receiver<WorkerEvent>,
    cancel: Arc<AtomicBool>,
    /// The worker's end has gone and the state has been told.
    gone: bool,
}

/// The worker thread's end: takes jobs, reports.
pub struct WorkerEnd {
    jobs: Receiver<Job>,
    events: Sender<WorkerEvent>,
    cancel: Arc<AtomicBool>,
}

/// A connected pair: the inspector keeps the first, the thread that will hold a checkpoint the
/// second.
pub fn worker_channel() -> (ModelWorker, WorkerEnd) {
    let (jobs, job_inbox) = channel();
    let (event_outbox, events) = channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let worker = ModelWorker {
        jobs,
        events,
        cancel: Arc::clone(&cancel),
        gone: false,
    };
    let end = WorkerEnd {
        jobs: job_inbox,
        events: event_outbox,
        cancel,
    };
    (worker, end)
}

impl ModelWorker {
    /// Loads `model` in a thread of its own, which then takes jobs; a checkpoint that cannot
    /// be loaded is reported as `WorkerEvent::Unavailable`.
    pub fn load(model: PathBuf, options: LoadOptions) -> Result<Self> {
        let (worker, end) = worker_channel();
        std::thread::Builder::new()
            .name("auscult-model".into())
            .spawn(move || match Checkpoint::load_with(&model, &options) {
                Ok(mut checkpoint) => end.serve(&mut checkpoint),
                Err(e) => end.report(WorkerEvent::Unavailable(format!(
                    "{} could not be loaded: {e}",
                    model.display()
                ))),
            })
            .context("cannot start a thread for the model")?;
        Ok(worker)
    }

    /// Hands `job` to the worker (a cancel of the job before it is forgotten).
    pub fn submit(&self, job: Job) -> Result<()> {
        self.cancel.store(false, Ordering::Relaxed);
        if self.jobs.send(job).is_err() {
            bail!("the model is no longer loaded");
        }
        Ok(())
    }

    /// Asks the worker to stop the job it is on.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The next report, waiting up to `timeout` for it (for callers that wait on a job).
    pub fn next_event(&mut self, timeout: Duration) -> Option<WorkerEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Applies every report that has arrived; a worker that has gone makes the model
    /// unavailable (once).
    pub fn feed(&mut self, state: &mut Inspector) {
        loop {
            match self.events.try_recv() {
                Ok(event) => state.on_worker(event),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    if !self.gone {
                        self.gone = true;
                        state.on_worker(WorkerEvent::Unavailable(
                            "no model is loaded (the thread that held it has ended)".into(),
                        ));
                    }
                    return;
                }
            }
        }
    }
}

impl WorkerEnd {
    /// Says the model is ready, then runs jobs until the inspector lets the worker go. A job
    /// that panics is reported as failed; the next one still runs.
    pub fn serve(self, checkpoint: &mut Checkpoint) {
        let config_sha = file_sha256(&checkpoint.dir.join("config.json")).ok();
        let model = checkpoint.dir.file_name().map_or_else(
            || checkpoint.dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        self.report(WorkerEvent::Ready { model });
        while let Ok(job) = self.jobs.recv() {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run(checkpoint, config_sha.as_deref(), job)
            }));
            let event = match outcome {
                Ok(Ok(event)) => event,
                Ok(Err(e)) => WorkerEvent::Failed(format!("{e:#}")),
                Err(_) => WorkerEvent::Failed("the model panicked on this job".into()),
            };
            self.report(event);
        }
    }

    fn report(&self, event: WorkerEvent) {
        // The inspector has gone when this fails: nobody is left to tell.
        let _ = self.events.send(event);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn run(
        &self,
        checkpoint: &mut Checkpoint,
        config_sha: Option<&str>,
        job: Job,
    ) -> Result<WorkerEvent> {
        let Job {
            what,
            mut trace,
            arrays,
            clip,
        } = job;
        check_made_by(checkpoint, config_sha.unwrap_or_default(), &trace)?;
        match what {
            EvidenceJob::Intervene { example, step } => {
                let intervention = intervene(checkpoint, &trace, &clip, step, |tokens| {
                    self.report(WorkerEvent::Progress { tokens });
                    if self.cancelled() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })?;
                if intervention.regeneration.stop_reason == StopReason::Cancelled {
                    return Ok(WorkerEvent::Cancelled);
                }
                Ok(WorkerEvent::Intervened {
                    example,
                    intervention: Box::new(intervention),
                })
            }
            EvidenceJob::Measure { example, options } => {
                let mut arrays = arrays;
                add_evidence(
                    checkpoint,
                    &mut trace,
                    arrays.as_deref_mut(),
                    &clip,
                    &options,
                )?;
                if self.cancelled() {
                    return Ok(WorkerEvent::Cancelled);
                }
                // `add_evidence` keeps what was held and not measured again.
                let record = trace.evidence.unwrap_or_default();
                let evidence = arrays.and_then(|a| a.evidence);
                Ok(WorkerEvent::Measured {
                    example,
                    record: Box::new(record),
                    evidence: evidence.map(Box::new),
                })
            }
        }
    }
}
