//! Evidence the inspector asks the model for: the selected step's intervention (`r`) and the
//! example's reliance (`R`), run by the model worker (the live run's checkpoint once the run has
//! ended, or the one `inspect FILE --model DIR` loads) one job at a time. A key hands the job out
//! as an `Effect`; the worker's reports come back through `on_worker`; Esc cancels. What a job
//! makes goes into the example it was asked for (in memory: a live run's `s` saves it).

use super::{Effect, Inspector};
use crate::model::Counterfactual;
use crate::runner::EvidenceOptions;
use crate::trace::{EvidenceRecord, Intervention};
use crate::tui::action::{EvidenceJob, WorkerEvent};

/// Whether a model can run evidence jobs.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// None was asked for (a traces file opened without `--model`).
    Absent,
    /// It is loading (or a live run still uses it).
    Loading,
    /// This checkpoint (its folder's name) takes jobs.
    Ready(String),
    /// None will, for this reason.
    Unavailable(String),
}

/// The job the worker is on.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub job: EvidenceJob,
    /// Tokens an intervention has regenerated so far.
    pub tokens: usize,
    /// Esc was pressed; the worker has not stopped yet.
    pub cancelling: bool,
}

impl JobStatus {
    /// What failed when the job fails: "cannot hide the audio from step 4".
    fn failure(&self) -> String {
        match &self.job {
            EvidenceJob::Intervene { step, .. } => {
                format!("cannot hide the audio from step {step}")
            }
            EvidenceJob::Measure { options, .. } => format!("cannot measure {}", describe(options)),
        }
    }

    /// The job in words, for the status line: "hiding the audio from step 4: 12 tokens".
    pub fn describe(&self) -> String {
        match (&self.job, self.cancelling) {
            (EvidenceJob::Intervene { step, .. }, false) => {
                format!("hiding the audio from step {step}: {} tokens", self.tokens)
            }
            (EvidenceJob::Intervene { .. }, true) => "cancelling the regeneration".into(),
            (EvidenceJob::Measure { options, .. }, false) => {
                format!("measuring {}", describe(options))
            }
            (EvidenceJob::Measure { .. }, true) => {
                "cancelling: the model ends its passes, then drops what they measured".into()
            }
        }
    }
}

/// What `options` measure, in words: "reliance (silence, masked) and occlusion".
fn describe(options: &EvidenceOptions) -> String {
    let mut parts = Vec::new();
    if !options.reliance.is_empty() {
        let names: Vec<String> = options.reliance.iter().map(ToString::to_string).collect();
        parts.push(format!("reliance ({})", names.join(", ")));
    }
    if options.occlusion.is_some() {
        parts.push("occlusion".to_owned());
    }
    if let Some(c) = options.counterfactual_answer {
        parts.push(format!("the answer with {c}"));
    }
    if options.hide_audio_from_steps {
        parts.push("every step's intervention".to_owned());
    }
    parts.join(" and ")
}

impl Inspector {
    /// `r`: the selected step's held intervention beside the original (again: closed); a step
    /// without one has it run by the model, or is told how to get one.
    pub(super) fn hide_audio_from_step(&mut self) -> Effect {
        let Some(example) = self.example() else {
            return Effect::None;
        };
        if example.trace.steps.is_empty() {
            self.message = Some("no steps yet".into());
            return Effect::None;
        }
        if self.intervention(self.step).is_some() {
            self.comparing = !self.comparing;
            return Effect::None;
        }
        let job = EvidenceJob::Intervene {
            example: self.current,
            step: self.step,
        };
        match self.model_free() {
            Ok(()) => {
                self.comparing = true;
                self.start_job(job)
            }
            Err(reason) => {
                self.message = Some(match &self.model {
                    ModelStatus::Absent => "no model to hide the audio with: open the trace \
                                            with `auscult inspect FILE --model DIR`"
                        .into(),
                    _ => reason,
                });
                Effect::None
            }
        }
    }

    /// `R`: reliance under silence and masked for the example, with the loaded model (what the
    /// trace already holds is not measured again).
    pub(super) fn measure_reliance(&mut self) -> Effect {
        if self.example().is_none() {
            return Effect::None;
        }
        let measured = self.measured();
        let missing: Vec<Counterfactual> = Counterfactual::ALL
            .into_iter()
            .filter(|c| !measured.contains(c))
            .collect();
        if missing.is_empty() {
            self.message =
                Some("this trace holds reliance under silence and masked: m shows it".into());
            return Effect::None;
        }
        if let Err(reason) = self.model_free() {
            self.message = Some(match &self.model {
                ModelStatus::Absent => {
                    "no model loaded: `auscult reliance FILE --model DIR` measures it, or open \
                     the trace with --model DIR"
                        .into()
                }
                _ => reason,
            });
            return Effect::None;
        }
        let options = EvidenceOptions {
            reliance: missing,
            ..EvidenceOptions::default()
        };
        self.start_job(EvidenceJob::Measure {
            example: self.current,
            options,
        })
    }

    /// Ok when the model can take a job now, else why not.
    fn model_free(&self) -> Result<(), String> {
        if let Some(job) = &self.job {
            return Err(format!(
                "the model is busy {}; esc cancels it",
                job.describe()
            ));
        }
        if self.live.as_ref().is_some_and(|l| l.running) {
            return Err("the live run is still going".into());
        }
        match &self.model {
            ModelStatus::Ready(_) => Ok(()),
            ModelStatus::Loading => Err("the model is still loading".into()),
            ModelStatus::Unavailable(reason) => Err(reason.clone()),
            ModelStatus::Absent => Err("no model is loaded".into()),
        }
    }

    /// Records `job` as running and hands it out.
    pub(super) fn start_job(&mut self, job: EvidenceJob) -> Effect {
        self.job = Some(JobStatus {
            job: job.clone(),
            tokens: 0,
            cancelling: false,
        });
        Effect::Evidence(job)
    }

    /// Esc while a job runs: asks the worker to stop it.
    pub(super) fn cancel_job(&mut self) -> Effect {
        match &mut self.job {
            Some(job) if !job.cancelling => {
                job.cancelling = true;
                Effect::CancelEvidence
            }
            _ => Effect::None,
        }
    }

    /// Applies what the model worker reports.
    pub fn on_worker(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::Ready { model } => {
                // A live run's status line says the run is over; traces opened with a model
                // learn here that it is ready.
                if self.live.is_none() {
                    self.notify(format!(
                        "{model} is loaded: r hides the audio from a step on, R measures reliance"
                    ));
                }
                self.model = ModelStatus::Ready(model);
            }
            WorkerEvent::Progress { tokens } => {
                if let Some(job) = &mut self.job {
                    job.tokens = tokens;
                }
            }
            WorkerEvent::Intervened {
                example,
                intervention,
            } => {
                self.job = None;
                self.message = Some(intervention_summary(&intervention));
                self.keep_intervention(example, *intervention);
            }
            WorkerEvent::Measured {
                example,
                record,
                evidence,
            } => {
                self.job = None;
                self.message = Some(self.measured_message(&record));
                if let Some(target) = self.examples.get_mut(example) {
                    target.trace.evidence = Some(*record);
                    target.evidence = evidence.map(|e| *e);
                    target.step_maps.clear();
                    // Its arrays now differ from the sidecar's: they stay in memory, attention
                    // included (read back now if it was let go while the job ran).
                    if target.attention.is_none() {
                        if let Some(path) = &target.sidecar {
                            match crate::trace::read_sidecar(path) {
                                Ok(arrays) => target.set_attention(Some(arrays.generated)),
                                Err(error) => self.message = Some(format!("{error:#}")),
                            }
                        }
                    }
                    target.sidecar = None;
                }
            }
            WorkerEvent::Cancelled => {
                self.job = None;
                self.message = Some("cancelled: nothing the model made is kept".into());
                self.close_empty_comparison();
            }
            WorkerEvent::Failed(reason) => {
                let what = self.job.take().map_or_else(
                    || "the model could not do it".to_owned(),
                    |job| job.failure(),
                );
                self.message = Some(format!("{what}: {reason}"));
                self.close_empty_comparison();
            }
            WorkerEvent::Unavailable(reason) => {
                self.job = None;
                self.model = ModelStatus::Unavailable(reason);
            }
        }
    }

    /// Closes the intervention view when the selected step has nothing to show (its job
    /// failed or was cancelled), so the status line's reason is seen over the usual view.
    fn close_empty_comparison(&mut self) {
        if self.intervention(self.step).is_none() {
            self.comparing = false;
        }
    }

    /// Adds `intervention` to example `example`'s evidence (in step order; one per step).
    fn keep_intervention(&mut self, example: usize, intervention: Intervention) {
        let Some(target) = self.examples.get_mut(example) else {
            return;
        };
        let record = target
            .trace
            .evidence
            .get_or_insert_with(EvidenceRecord::default);
        record
            .interventions
            .retain(|i| i.from_step != intervention.from_step);
        record.interventions.push(intervention);
        record.interventions.sort_by_key(|i| i.from_step);
    }

    /// What the status line says once evidence is measured.
    fn measured_message(&self, record: &EvidenceRecord) -> String {
        let kept = if self.live.is_some() {
            "s saves it with the run"
        } else {
            "in this session only: `auscult reliance FILE --model DIR` stores it"
        };
        if record.reliance.is_empty() {
            format!("measured ({kept})")
        } else {
            format!(
                "reliance measured ({}): m shows Δ and KL; {kept}",
                record.reliance.join(", ")
            )
        }
    }
}

/// "audio hidden from step 4: the answer changed (4 → 1)".
fn intervention_summary(intervention: &Intervention) -> String {
    let changed = if intervention.answer_changed {
        "the answer changed"
    } else {
        "the answer stayed"
    };
    format!(
        "audio hidden from step {}: {changed}",
        intervention.from_step
    )
}
