//! What can change the inspector's state: what the user asks for (`Action`, bound to keys), what
//! a pointer asks for (`Pointer`, from mouse clicks), what a live run reports (`LiveEvent`), what
//! the model kept loaded for evidence reports (`WorkerEvent`); and what the caller must do after
//! an update (`Effect`): the state never touches the sound device, the disk or the model itself.

use serde::{Deserialize, Serialize};

use crate::model::{AttentionRows, Evidence};
use crate::runner::EvidenceOptions;
use crate::trace::{EvidenceRecord, Intervention, Trace};

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NextStep,
    PreviousStep,
    FirstStep,
    LastStep,
    NextExample,
    PreviousExample,
    /// All layers → layer 0 → layer 1 → … → all layers.
    NextLayer,
    PreviousLayer,
    /// All layers → early third → middle third → late third → all layers.
    NextLayerBand,
    /// Mean over heads → max → head 0 → head 1 → … → mean.
    NextHeads,
    /// Ratio → sink-corrected → focus → reliance Δ and KL under each counterfactual the trace
    /// measured → ratio.
    NextMetric,
    /// The heatmap: attention ↔ evidence (occlusion), when the trace has occlusion.
    ToggleHeatmap,
    /// Viridis → magma → grey → viridis.
    NextColourScale,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    TogglePlay,
    /// Play the part of the clip the selected step attended to most.
    PlayStepWindow,
    /// Comparing two traces: the step keys move the other side.
    SwitchSide,
    /// Write the view (both sides when comparing) as a figure.
    WriteFigure,
    /// Show or hide the example list (a traces file).
    ToggleList,
    /// Open the example under the list's cursor.
    Open,
    /// Start typing a search over the examples.
    Search,
    /// Examples: all → correct → incorrect → all.
    FilterOutcome,
    /// Examples: any task → each task in turn → any.
    FilterTask,
    /// Examples: any → those with a hallucinated step → misused → matched → neutral → any.
    FilterLabel,
    ClearFilters,
    /// Save the live run as a trace.
    Save,
    /// Close what is open (help, list, search) or cancel a live run.
    Back,
    ToggleHelp,
    Quit,
    /// Labelling: the selected claim is matched, hallucinated, misused or neutral.
    LabelMatched,
    LabelHallucinated,
    LabelMisused,
    LabelNeutral,
    /// Labelling: take your label off the selected claim.
    ClearLabel,
    /// Labelling: the step's next claim.
    NextClaim,
    /// Labelling: type a claim the step makes that is not listed.
    AddClaim,
    /// Labelling: type a note on the selected claim.
    Note,
    /// Labelling: type a ground-truth event no step mentions (again: take it back).
    AddMissed,
    Undo,
    Redo,
    /// Labelling: the next step with a claim you have not labelled.
    NextUnlabelled,
    /// The selected step's intervention (its generation regenerated from the step on with the
    /// audio hidden) beside the original: shown when the trace holds it, else run with the
    /// loaded model.
    HideAudioFromStep,
    /// Measure reliance (silence, masked) for the example with the loaded model.
    MeasureReliance,
    /// Every (layer, head) ranked by how it listens; choosing one shows it.
    ToggleHeadsView,
}

/// What a mouse click or wheel asks for, already resolved to what was under the pointer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointer {
    SelectStep(usize),
    /// In a comparison, a step of B's heatmap.
    SelectOtherStep(usize),
    /// A heatmap cell or the timeline: the step (if any) and a time in seconds.
    SelectCell {
        step: Option<usize>,
        seconds: f64,
    },
    /// An example, by its index in the traces file.
    SelectExample(usize),
    /// The wheel: one step (or list row) down (`true`) or up.
    Scroll {
        down: bool,
        in_list: bool,
    },
}

/// What the caller must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    TogglePlayback,
    /// Play this range of the clip, in seconds.
    PlayRange(f64, f64),
    /// Move the playhead to this time, in seconds.
    Seek(f64),
    /// Stop the live run.
    CancelRun,
    /// Write the live run's trace.
    SaveRun,
    /// Append this label action to the annotator's journal, then hand the saved entry to
    /// `Inspector::on_recorded`.
    Record {
        trace: String,
        op: crate::cafe::journal::LabelOp,
    },
    /// Hand this job to the model worker; what it reports goes to `Inspector::on_worker`.
    Evidence(EvidenceJob),
    /// Stop the model worker's job.
    CancelEvidence,
    /// Write the view as a figure; where it went goes to `Inspector::on_figure_written`.
    WriteFigure,
}

/// What the model worker is asked to do for an example (by its index in the traces file).
#[derive(Debug, Clone, PartialEq)]
pub enum EvidenceJob {
    /// Regenerate from the start of `step` with the audio hidden from every new token.
    Intervene { example: usize, step: usize },
    /// Measure `options` (reliance, occlusion, …) for the example's generation.
    Measure {
        example: usize,
        options: EvidenceOptions,
    },
}

impl EvidenceJob {
    pub fn example(&self) -> usize {
        match self {
            EvidenceJob::Intervene { example, .. } | EvidenceJob::Measure { example, .. } => {
                *example
            }
        }
    }
}

/// What the model worker reports.
#[derive(Debug)]
pub enum WorkerEvent {
    /// The checkpoint (named) is loaded and takes jobs.
    Ready { model: String },
    /// Tokens regenerated so far by the running intervention.
    Progress { tokens: usize },
    /// An intervention for example `example`.
    Intervened {
        example: usize,
        intervention: Box<Intervention>,
    },
    /// Evidence for example `example`: its trace's new record, and the arrays.
    Measured {
        example: usize,
        record: Box<EvidenceRecord>,
        evidence: Option<Box<Evidence>>,
    },
    /// The job stopped when asked; nothing it made is kept.
    Cancelled,
    /// The job failed, for this reason.
    Failed(String),
    /// No model will take jobs, for this reason.
    Unavailable(String),
}

/// What a live run reports, in order: `Loaded`, `Prepared`, `Token`s, then `Finished` (also
/// after a cancel); `Stopped` or `Failed` may end it at any point.
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
    /// The finished trace and its generated tokens' attention.
    Finished(Box<Trace>, Option<AttentionRows>),
    /// Ended without a trace, for this reason (cancelled before the model ran).
    Stopped(String),
    Failed(String),
}
