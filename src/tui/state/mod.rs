//! Inspector state and its one update function: state in, action in, state out. Rendering reads
//! this state and never changes it; what must happen outside (sound, disk, the model) comes back
//! as an `Effect`.
//!
//! This file holds the state itself and `update`, which hands each action to the part of the
//! state it concerns: moving through steps and examples (`navigation`), what the maps show
//! (`map_settings`), the clip's window and playback (`clip_view`), the example list and its
//! filters (`list`), labelling (`labelling`), a live run (`live`), the causal evidence shown
//! (`evidence`: reliance metrics, the heatmap's mode, interventions) and asked of the model
//! (`evidence_jobs`), and a second traces file compared with this one (`compare`). Clicks and the wheel come in through `pointer`; the part of the clip a step
//! attended to is worked out in `step_window`; what a step's value is, in `step_metric`; which
//! steps contain the search's text, in `step_search`; each step's map over the clip is computed
//! once per selection in `step_maps`.

mod clip_view;
mod compare;
mod evidence;
mod evidence_jobs;
mod example;
mod figure_key;
mod heads;
mod labelling;
mod layers;
mod list;
mod live;
mod map_settings;
mod navigation;
mod pointer;
mod step_maps;
mod step_metric;
mod step_search;
mod step_window;

pub use super::action::{Action, Effect, EvidenceJob, LiveEvent, Pointer, WorkerEvent};
use super::filter::Filters;
use super::palette::ColourScale;
use crate::audio::playback::SoundStatus;
use crate::trace::metrics::{Heads, Metric, Selection};
pub use clip_view::PlayWindow;
pub use compare::{Comparison, Side};
pub use evidence::HeatmapMode;
pub use evidence_jobs::{JobStatus, ModelStatus};
pub use example::Example;
pub use heads::HeadsView;
pub use labelling::{EntryKey, EntryPurpose, Labelling, ShownClaim, TextEntry};
pub use layers::Layers;
pub use list::SearchKey;
pub use live::LiveStatus;
pub use step_maps::{StepMap, StepMaps};
pub use step_metric::{measured_counterfactuals, StepMetric};
pub use step_search::StepMatches;

pub struct Inspector {
    pub examples: Vec<Example>,
    pub current: usize,
    pub step: usize,
    pub layers: Layers,
    pub heads: Heads,
    /// What each step's value is: an attention metric, or reliance under a counterfactual.
    pub metric: StepMetric,
    pub scale: ColourScale,
    /// What the heatmap shows: attention, or occlusion evidence.
    pub heatmap: HeatmapMode,
    /// The selected step's intervention is shown beside the original.
    pub comparing: bool,
    /// The heads ranked by how they listen (`H`), when open.
    pub heads_view: Option<HeadsView>,
    /// Whether a model can run evidence jobs (`r`, `R`), and the job it is on.
    pub model: ModelStatus,
    pub job: Option<JobStatus>,
    /// How to measure reliance has been said (it is said once).
    pub reliance_hint_shown: bool,
    /// Visible part of the clip, as fractions of its length.
    pub view: (f64, f64),
    /// The playhead, in seconds, and whether the clip is playing (set from the player).
    pub playhead: f64,
    pub playing: bool,
    pub help: bool,
    /// The help shows its second page, the legend.
    pub help_legend: bool,
    /// The example list is shown (as a pop-up on small screens).
    pub list_open: bool,
    /// Row of the list's cursor, among the examples the filters let through.
    pub list_cursor: usize,
    /// The terminal's width at the last draw: the list docks beside the view when it is wide.
    pub screen_width: u16,
    pub filters: Filters,
    /// Keys go to the search text.
    pub searching: bool,
    /// The example and step the search began on (Esc goes back to them).
    pub search_from: (usize, usize),
    /// What the search found in the steps of the example shown.
    pub step_matches: Option<StepMatches>,
    pub live: Option<LiveStatus>,
    /// The annotator's session, when labelling.
    pub labelling: Option<Labelling>,
    /// Text being typed on the status line (a note, a claim, a missed event).
    pub typing: Option<TextEntry>,
    pub quit: bool,
    /// A one-line message for the status bar (why an action did nothing, say).
    pub message: Option<String>,
    /// Whether the player makes sound (set from the player; `None` before the first clip).
    pub sound: Option<SoundStatus>,
    /// The window `p` is playing, in seconds, drawn on the time axis until playback stops.
    pub play_window: Option<PlayWindow>,
    /// A second traces file compared with this one, item by item.
    pub comparison: Option<Comparison>,
}

impl Inspector {
    pub fn new(examples: Vec<Example>) -> Self {
        Self {
            list_open: examples.len() > 1,
            examples,
            current: 0,
            step: 0,
            layers: Layers::All,
            heads: Heads::Mean,
            metric: StepMetric::Attention(Metric::Ratio),
            scale: ColourScale::Viridis,
            heatmap: HeatmapMode::Attention,
            comparing: false,
            heads_view: None,
            model: ModelStatus::Absent,
            job: None,
            reliance_hint_shown: false,
            view: (0.0, 1.0),
            playhead: 0.0,
            playing: false,
            help: false,
            help_legend: false,
            list_cursor: 0,
            screen_width: 0,
            filters: Filters::default(),
            searching: false,
            search_from: (0, 0),
            step_matches: None,
            live: None,
            labelling: None,
            typing: None,
            quit: false,
            message: None,
            sound: None,
            play_window: None,
            comparison: None,
        }
    }

    /// Applies `action`; returns what the caller must do outside the state.
    pub fn update(&mut self, action: Action) -> Effect {
        if let Some(why) = self.only_on_a(action) {
            self.message = Some(why);
            return Effect::None;
        }
        if self.moves_other_step(action) {
            if let Some(comparison) = &mut self.comparison {
                comparison.other.move_step(action);
            }
            return Effect::None;
        }
        let place = (self.current, self.step);
        let effect = self.apply(action);
        if place != (self.current, self.step) && action != Action::NextUnlabelled {
            self.on_step_changed();
        }
        self.sync_comparison();
        effect
    }

    /// Hands `action` to the part of the state it concerns.
    fn apply(&mut self, action: Action) -> Effect {
        use Action::*;
        self.message = None;
        if self.heads_view_takes(action) {
            return Effect::None;
        }
        match action {
            NextStep | PreviousStep | FirstStep | LastStep => self.move_step(action),
            NextExample | PreviousExample => self.move_example(action == NextExample),
            NextLayer | PreviousLayer | NextLayerBand | NextHeads | NextColourScale => {
                self.change_map_setting(action)
            }
            NextMetric => self.next_metric(),
            ToggleHeatmap => self.toggle_heatmap(),
            HideAudioFromStep => return self.hide_audio_from_step(),
            MeasureReliance => return self.measure_reliance(),
            ToggleHeadsView => self.toggle_heads_view(),
            ZoomIn | ZoomOut => self.zoom(action == ZoomIn),
            PanLeft | PanRight => self.pan(action == PanRight),
            TogglePlay => return Effect::TogglePlayback,
            PlayStepWindow => return self.play_step_window(),
            SwitchSide => self.switch_side(),
            WriteFigure => return self.write_figure(),
            ToggleList => self.toggle_list(),
            Open => self.open_at_list_cursor(),
            Search => self.start_search(),
            FilterOutcome | FilterTask | FilterLabel | ClearFilters => self.change_filter(action),
            Save => return self.save_run(),
            Back => return self.back(),
            ToggleHelp => self.toggle_help(),
            Quit => self.quit = true,
            LabelMatched | LabelHallucinated | LabelMisused | LabelNeutral | ClearLabel
            | NextClaim | AddClaim | Note | AddMissed | Undo | Redo | NextUnlabelled => {
                return self.labelling_action(action)
            }
        }
        Effect::None
    }

    /// A new step shows: the claim cursor starts at its first claim.
    fn on_step_changed(&mut self) {
        if let Some(labelling) = &mut self.labelling {
            labelling.claim = 0;
        }
    }

    /// Esc: closes what is open (help, the search, the pop-up list), else cancels the model's
    /// evidence job, else closes the intervention view, else cancels a live run.
    fn back(&mut self) -> Effect {
        if self.help {
            self.help = false;
            self.help_legend = false;
        } else if self.searching {
            self.searching = false;
            self.filters.query.clear();
            self.step_matches = None;
            self.refilter();
            let (example, step) = self.search_from;
            if example < self.examples.len() {
                self.select_example(example);
                self.list_cursor = self
                    .visible_examples()
                    .iter()
                    .position(|&i| i == example)
                    .unwrap_or(0);
            }
            self.step = step.min(self.steps().saturating_sub(1));
        } else if self.list_open && self.list_is_popup() {
            self.list_open = false;
        } else if self.job.as_ref().is_some_and(|job| !job.cancelling) {
            return self.cancel_job();
        } else if self.comparing {
            self.comparing = false;
        } else if self.live.as_ref().is_some_and(|l| l.running) {
            return Effect::CancelRun;
        } else {
            self.message = Some("q quits".into());
        }
        Effect::None
    }

    /// `?` opens the keys, then the legend, then closes.
    fn toggle_help(&mut self) {
        (self.help, self.help_legend) = match (self.help, self.help_legend) {
            (false, _) => (true, false),
            (true, false) => (true, true),
            (true, true) => (false, false),
        }
    }

    /// Sound is known to be off.
    pub fn sound_is_off(&self) -> bool {
        matches!(self.sound, Some(SoundStatus::Off { .. }))
    }

    pub fn example(&self) -> Option<&Example> {
        self.examples.get(self.current)
    }

    pub(super) fn steps(&self) -> usize {
        self.example().map_or(0, |e| e.trace.steps.len())
    }

    /// The layer and head selection in force.
    pub fn selection(&self) -> Selection {
        Selection {
            layers: self.layers.indices(self.dims().0),
            heads: self.heads,
        }
    }

    /// The selection the maps can show: per-head choices fall back to the head mean when the
    /// trace has no per-head maps.
    pub fn map_selection(&self) -> Selection {
        let has_head_maps = self.dims().3;
        Selection {
            heads: if has_head_maps {
                self.heads
            } else {
                Heads::Mean
            },
            ..self.selection()
        }
    }

    /// Layers, heads, audio tokens, and whether per-head maps were captured.
    pub fn dims(&self) -> (usize, usize, usize, bool) {
        self.example()
            .and_then(|e| e.attention.as_ref())
            .map_or((0, 0, 0, false), |a| {
                (a.layers, a.heads, a.audio_tokens, a.head_maps.is_some())
            })
    }

    /// A message from outside (the player's sound status, a sidecar that cannot be read); a
    /// message already showing stays.
    pub fn notify(&mut self, message: String) {
        self.message.get_or_insert(message);
    }

    /// The terminal's width at this draw (the list docks on wide screens).
    pub fn set_screen_width(&mut self, width: u16) {
        self.screen_width = width;
    }
}

#[cfg(test)]
pub(crate) mod compare_tests;
#[cfg(test)]
pub(crate) mod evidence_fixture;
#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod labelling_tests;
#[cfg(test)]
pub(crate) mod tests;
