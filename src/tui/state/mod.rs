//! Inspector state and its one update function: state in, action in, state out. Rendering reads
//! this state and never changes it; what must happen outside (sound, disk, the model) comes back
//! as an `Effect`.

mod labelling;
mod layers;
mod live;

use std::path::PathBuf;

pub use super::action::{Action, Effect, LiveEvent, Pointer};
use super::filter::{cycle, Filters, Outcome};
use super::palette::ColourScale;
use super::spectrogram::Spectrogram;
use crate::audio::playback::SoundStatus;
use crate::model::AttentionRows;
use crate::trace::metrics::{AttentionView, Heads, Metric, Selection};
use crate::trace::CafeLabel;
use crate::trace::{StepRules, Trace};
pub use labelling::{EntryKey, EntryPurpose, Labelling, ShownClaim, TextEntry};
pub use layers::Layers;

/// One trace, its attention, and the picture of its clip, as the inspector holds them.
pub struct Example {
    pub trace: Trace,
    pub attention: Option<AttentionRows>,
    /// Where the attention is read from when the example is shown (a traces file holds
    /// thousands of examples; only the current one's arrays are kept in memory).
    pub sidecar: Option<PathBuf>,
    /// Filled when the clip is found and decoded; the strip says why when it is not.
    pub spectrogram: Option<Spectrogram>,
}

impl Example {
    pub fn new(trace: Trace, attention: Option<AttentionRows>) -> Self {
        Self {
            trace,
            attention,
            sidecar: None,
            spectrogram: None,
        }
    }

    /// The question asked (the prompt's text when the trace has no question).
    pub fn question(&self) -> &str {
        let prompt = &self.trace.prompt;
        prompt.question.as_deref().unwrap_or(&prompt.text)
    }

    /// The choices as the header shows them: "(A) one  (B) two".
    pub fn choices_line(&self) -> String {
        self.trace
            .prompt
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("({}) {c}", (b'A' + (i % 26) as u8) as char))
            .collect::<Vec<_>>()
            .join("  ")
    }

    /// An example whose attention stays on disk until it is shown.
    pub fn on_disk(trace: Trace, sidecar: Option<PathBuf>) -> Self {
        Self {
            sidecar,
            ..Self::new(trace, None)
        }
    }
}

/// Where a live run stands.
#[derive(Debug, Clone)]
pub struct LiveStatus {
    /// "loading the model", "generating, 12 tokens", "finished: …", "cancelled …", "failed: …".
    pub phase: String,
    pub running: bool,
    /// Where the finished run was saved, once it is.
    pub saved: Option<String>,
    /// How the streamed text is cut into steps (the run's own rules).
    pub rules: StepRules,
    /// Each streamed token's text.
    pub pieces: Vec<String>,
}

impl LiveStatus {
    pub fn failed(&self) -> bool {
        self.phase.starts_with("failed: ")
    }
}

pub struct Inspector {
    pub examples: Vec<Example>,
    pub current: usize,
    pub step: usize,
    pub layers: Layers,
    pub heads: Heads,
    pub metric: Metric,
    pub scale: ColourScale,
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
}

/// The stretch of the clip `p` plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayWindow {
    pub from: f64,
    pub to: f64,
    /// The player has reported playing it (it stops being drawn when playback then stops).
    pub started: bool,
}

/// Smallest visible fraction of the clip when zooming in.
const MIN_VIEW: f64 = 1.0 / 64.0;

impl Inspector {
    pub fn new(examples: Vec<Example>) -> Self {
        Self {
            list_open: examples.len() > 1,
            examples,
            current: 0,
            step: 0,
            layers: Layers::All,
            heads: Heads::Mean,
            metric: Metric::Ratio,
            scale: ColourScale::Viridis,
            view: (0.0, 1.0),
            playhead: 0.0,
            playing: false,
            help: false,
            help_legend: false,
            list_cursor: 0,
            screen_width: 0,
            filters: Filters::default(),
            searching: false,
            live: None,
            labelling: None,
            typing: None,
            quit: false,
            message: None,
            sound: None,
            play_window: None,
        }
    }

    /// Sound is known to be off.
    pub fn sound_is_off(&self) -> bool {
        matches!(self.sound, Some(SoundStatus::Off { .. }))
    }

    pub fn example(&self) -> Option<&Example> {
        self.examples.get(self.current)
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

    pub(super) fn steps(&self) -> usize {
        self.example().map_or(0, |e| e.trace.steps.len())
    }

    /// Indices of the examples the filters let through, in file order.
    pub fn visible_examples(&self) -> Vec<usize> {
        self.examples
            .iter()
            .enumerate()
            .filter(|(_, e)| self.filters.matches(&e.trace))
            .map(|(i, _)| i)
            .collect()
    }

    /// The tasks of the examples, sorted, each once.
    fn tasks(&self) -> Vec<String> {
        let mut tasks: Vec<String> = self
            .examples
            .iter()
            .filter_map(|e| e.trace.benchmark.as_ref()?.task.clone())
            .collect();
        tasks.sort();
        tasks.dedup();
        tasks
    }

    fn select_example(&mut self, index: usize) {
        if index != self.current {
            self.current = index;
            self.step = 0;
            self.view = (0.0, 1.0);
            self.playhead = 0.0;
            self.play_window = None;
            self.fit_selection();
        }
    }

    /// Keeps a layer or head choice the new example's model has (from its trace, since its
    /// attention may still be on disk); otherwise falls back to all layers or the head mean.
    fn fit_selection(&mut self) {
        let Some(record) = self.example().and_then(|e| e.trace.attention.as_ref()) else {
            return;
        };
        let (layers, heads) = (record.layers, record.heads);
        if matches!(self.layers, Layers::One(l) if l >= layers)
            || (matches!(self.layers, Layers::Band(_)) && layers < 3)
        {
            self.layers = Layers::All;
        }
        if matches!(self.heads, Heads::One(h) if h >= heads) {
            self.heads = Heads::Mean;
        }
    }

    /// After the filters change: keep the cursor on the current example if it still shows,
    /// otherwise move to the first that does.
    fn refilter(&mut self) {
        let visible = self.visible_examples();
        match visible.iter().position(|&i| i == self.current) {
            Some(row) => self.list_cursor = row,
            None => {
                self.list_cursor = 0;
                match visible.first() {
                    Some(&first) => self.select_example(first),
                    None => self.message = Some("no example matches the filters".into()),
                }
            }
        }
    }

    /// Applies `action`; returns what the caller must do outside the state.
    pub fn update(&mut self, action: Action) -> Effect {
        let place = (self.current, self.step);
        let effect = self.apply(action);
        if place != (self.current, self.step) && action != Action::NextUnlabelled {
            self.on_step_changed();
        }
        effect
    }

    /// A new step shows: the claim cursor starts at its first claim.
    fn on_step_changed(&mut self) {
        if let Some(labelling) = &mut self.labelling {
            labelling.claim = 0;
        }
    }

    fn apply(&mut self, action: Action) -> Effect {
        self.message = None;
        let last_step = self.steps().saturating_sub(1);
        let (layers, heads, _, head_maps) = self.dims();
        let in_list = self.list_open && !self.searching;
        match action {
            Action::NextStep | Action::PreviousStep if in_list && self.list_is_popup() => {
                let rows = self.visible_examples().len();
                self.list_cursor = if action == Action::NextStep {
                    (self.list_cursor + 1).min(rows.saturating_sub(1))
                } else {
                    self.list_cursor.saturating_sub(1)
                };
            }
            Action::NextStep => self.step = (self.step + 1).min(last_step),
            Action::PreviousStep => self.step = self.step.saturating_sub(1),
            Action::FirstStep => self.step = 0,
            Action::LastStep => self.step = last_step,
            Action::NextExample | Action::PreviousExample => {
                let visible = self.visible_examples();
                if visible.is_empty() {
                    self.message = Some("no example matches the filters".into());
                    return Effect::None;
                }
                let row = visible.iter().position(|&i| i == self.current);
                let n = visible.len();
                let next = match (row, action == Action::NextExample) {
                    (None, _) => 0,
                    (Some(r), true) => (r + 1) % n,
                    (Some(r), false) => (r + n - 1) % n,
                };
                self.list_cursor = next;
                self.select_example(visible[next]);
            }
            Action::NextLayer => {
                self.layers = match self.layers {
                    Layers::One(l) if l + 1 < layers => Layers::One(l + 1),
                    Layers::One(_) => Layers::All,
                    _ if layers > 0 => Layers::One(0),
                    _ => Layers::All,
                }
            }
            Action::PreviousLayer => {
                self.layers = match self.layers {
                    Layers::One(0) => Layers::All,
                    Layers::One(l) => Layers::One(l - 1),
                    _ if layers > 0 => Layers::One(layers - 1),
                    _ => Layers::All,
                }
            }
            Action::NextLayerBand => {
                self.layers = match self.layers {
                    Layers::Band(b) if b < 2 => Layers::Band(b + 1),
                    Layers::Band(_) => Layers::All,
                    _ if layers >= 3 => Layers::Band(0),
                    _ => {
                        self.message = Some("bands need at least 3 layers".into());
                        Layers::All
                    }
                }
            }
            Action::NextHeads => {
                self.heads = match self.heads {
                    Heads::Mean => Heads::Max,
                    Heads::Max if heads > 0 => Heads::One(0),
                    Heads::One(h) if h + 1 < heads => Heads::One(h + 1),
                    _ => Heads::Mean,
                };
                if self.heads != Heads::Mean && !head_maps {
                    self.message = Some(
                        "this trace has no per-head maps: the heatmap stays the head mean".into(),
                    );
                }
            }
            Action::NextMetric => {
                self.metric = match self.metric {
                    Metric::Ratio => Metric::SinkCorrected,
                    Metric::SinkCorrected => Metric::Focus,
                    Metric::Focus => Metric::Ratio,
                }
            }
            Action::NextColourScale => self.scale = self.scale.next(),
            Action::ZoomIn | Action::ZoomOut => {
                let (start, end) = self.view;
                let width = if action == Action::ZoomIn {
                    ((end - start) / 2.0).max(MIN_VIEW)
                } else {
                    ((end - start) * 2.0).min(1.0)
                };
                // Zoom about the playhead or the selected step: where it is on screen it stays;
                // off screen, the new view centres on it.
                let start = match self.zoom_anchor() {
                    Some(anchor) if (start..=end).contains(&anchor) => {
                        anchor - (anchor - start) * width / (end - start)
                    }
                    Some(anchor) => anchor - width / 2.0,
                    None => (start + end) / 2.0 - width / 2.0,
                }
                .clamp(0.0, 1.0 - width);
                self.view = (start, start + width);
            }
            Action::PanLeft | Action::PanRight => {
                let (start, end) = self.view;
                let width = end - start;
                let shift = if action == Action::PanLeft {
                    -width / 4.0
                } else {
                    width / 4.0
                };
                let start = (start + shift).clamp(0.0, 1.0 - width);
                self.view = (start, start + width);
            }
            Action::TogglePlay => return Effect::TogglePlayback,
            Action::PlayStepWindow => match self.step_window() {
                Some((from, to)) => {
                    self.play_window = Some(PlayWindow {
                        from,
                        to,
                        started: false,
                    });
                    return Effect::PlayRange(from, to);
                }
                None => self.message = Some("no attention captured for this step".into()),
            },
            Action::ToggleList => {
                if self.examples.len() < 2 {
                    self.message = Some("one example: open a traces file for a list".into());
                } else {
                    self.list_open = !self.list_open;
                    self.refilter();
                }
            }
            Action::Open => {
                if self.searching {
                    self.searching = false;
                }
                if self.list_open {
                    if let Some(&index) = self.visible_examples().get(self.list_cursor) {
                        self.select_example(index);
                        if self.list_is_popup() {
                            self.list_open = false;
                        }
                    }
                }
            }
            Action::Search => {
                self.searching = true;
                if self.examples.len() > 1 {
                    self.list_open = true;
                }
            }
            Action::FilterOutcome => {
                self.filters.outcome = match self.filters.outcome {
                    Outcome::All => Outcome::Correct,
                    Outcome::Correct => Outcome::Incorrect,
                    Outcome::Incorrect => Outcome::All,
                };
                self.refilter();
            }
            Action::FilterTask => {
                let tasks = self.tasks();
                if tasks.is_empty() {
                    self.message = Some("these traces name no tasks".into());
                } else {
                    self.filters.task = cycle(&self.filters.task, &tasks);
                    self.refilter();
                }
            }
            Action::FilterLabel => {
                use CafeLabel::*;
                self.filters.label = cycle(
                    &self.filters.label,
                    &[Hallucinated, Misused, Matched, Neutral],
                );
                self.refilter();
            }
            Action::ClearFilters => {
                self.filters = Filters::default();
                self.refilter();
            }
            Action::Save => match &self.live {
                Some(live) if live.running => self.message = Some("the run is still going".into()),
                Some(_)
                    if self.examples.is_empty()
                        || self.live.as_ref().is_some_and(LiveStatus::failed) =>
                {
                    self.message = Some("the run failed: nothing to save".into())
                }
                Some(_) => return Effect::SaveRun,
                None => self.message = Some("only a live run can be saved".into()),
            },
            Action::Back => {
                if self.help {
                    self.help = false;
                    self.help_legend = false;
                } else if self.searching {
                    self.searching = false;
                    self.filters.query.clear();
                    self.refilter();
                } else if self.list_open && self.list_is_popup() {
                    self.list_open = false;
                } else if self.live.as_ref().is_some_and(|l| l.running) {
                    return Effect::CancelRun;
                } else {
                    self.message = Some("q quits".into());
                }
            }
            // `?` opens the keys, then the legend, then closes.
            Action::ToggleHelp => {
                (self.help, self.help_legend) = match (self.help, self.help_legend) {
                    (false, _) => (true, false),
                    (true, false) => (true, true),
                    (true, true) => (false, false),
                }
            }
            Action::Quit => self.quit = true,
            Action::LabelMatched => return self.label_claim(Some(CafeLabel::Matched)),
            Action::LabelHallucinated => return self.label_claim(Some(CafeLabel::Hallucinated)),
            Action::LabelMisused => return self.label_claim(Some(CafeLabel::Misused)),
            Action::LabelNeutral => return self.label_claim(Some(CafeLabel::Neutral)),
            Action::ClearLabel => return self.label_claim(None),
            Action::NextClaim => self.next_claim(),
            Action::AddClaim => self.begin_entry(EntryPurpose::Claim),
            Action::Note => self.begin_entry(EntryPurpose::Note),
            Action::AddMissed => self.begin_entry(EntryPurpose::Missed),
            Action::Undo => return self.undo_or_redo(false),
            Action::Redo => return self.undo_or_redo(true),
            Action::NextUnlabelled => self.next_unlabelled(),
        }
        Effect::None
    }

    /// Whether the list is drawn over the view rather than docked beside it (the layout's rule,
    /// asked with the width of the last draw).
    pub fn list_is_popup(&self) -> bool {
        !super::layout::list_docks(self.screen_width, self.examples.len())
    }

    /// A key typed while searching: the query narrows the list as it is typed.
    pub fn type_search(&mut self, key: SearchKey) {
        match key {
            SearchKey::Char(c) => self.filters.query.push(c),
            SearchKey::Backspace => {
                self.filters.query.pop();
            }
        }
        self.refilter();
    }

    /// Handles a click or the wheel, already resolved to what was under the pointer.
    pub fn point(&mut self, pointer: Pointer) -> Effect {
        let place = (self.current, self.step);
        let effect = self.point_at(pointer);
        if place != (self.current, self.step) {
            self.on_step_changed();
        }
        effect
    }

    fn point_at(&mut self, pointer: Pointer) -> Effect {
        if self.typing.is_some() {
            // The typed text belongs where typing began; enter or esc first.
            return Effect::None;
        }
        self.message = None;
        match pointer {
            Pointer::SelectStep(step) => self.step = step.min(self.steps().saturating_sub(1)),
            Pointer::SelectCell { step, seconds } => {
                if let Some(step) = step {
                    self.step = step.min(self.steps().saturating_sub(1));
                }
                return Effect::Seek(seconds);
            }
            Pointer::SelectExample(index) => {
                if index < self.examples.len() {
                    self.select_example(index);
                    if let Some(row) = self.visible_examples().iter().position(|&i| i == index) {
                        self.list_cursor = row;
                    }
                    if self.list_is_popup() {
                        self.list_open = false;
                    }
                }
            }
            Pointer::Scroll { down, in_list } => {
                let action = match (in_list && self.list_is_popup(), in_list, down) {
                    // In the pop-up the wheel moves the cursor, as j/k do there.
                    (true, _, true) => Action::NextStep,
                    (true, _, false) => Action::PreviousStep,
                    (false, true, true) => Action::NextExample,
                    (false, true, false) => Action::PreviousExample,
                    (false, false, true) => Action::NextStep,
                    (false, false, false) => Action::PreviousStep,
                };
                return self.update(action);
            }
        }
        Effect::None
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

    /// What became of `Effect::SaveRun`: the path written, or why not.
    pub fn on_saved(&mut self, outcome: Result<String, String>) {
        self.message = Some(match outcome {
            Ok(path) => {
                if let Some(live) = &mut self.live {
                    live.saved = Some(path.clone());
                }
                format!("saved {path}")
            }
            Err(reason) => format!("not saved: {reason}"),
        });
    }

    /// Sets the playhead from the player (outside input, like a key).
    pub fn set_playback(&mut self, seconds: f64, playing: bool) {
        self.playhead = seconds;
        self.playing = playing;
        if let Some(window) = &mut self.play_window {
            if playing {
                window.started = true;
            } else if window.started || seconds >= window.to - 1e-6 {
                self.play_window = None;
            }
        }
    }

    /// Where zooming centres, as a fraction of the clip: the playhead once the clip has played
    /// or been sought, else the middle of the selected step's window, else nothing.
    fn zoom_anchor(&self) -> Option<f64> {
        let duration = self.example()?.trace.audio.duration_seconds;
        if duration <= 0.0 {
            return None;
        }
        let seconds = if self.playing || self.playhead > 0.0 {
            self.playhead
        } else {
            let (from, to) = self.step_window()?;
            (from + to) / 2.0
        };
        Some((seconds / duration).clamp(0.0, 1.0))
    }

    /// The part of the clip the selected step attended to most, in seconds: the run of audio
    /// tokens around the step map's peak that stay above half of it.
    pub fn step_window(&self) -> Option<(f64, f64)> {
        let example = self.example()?;
        let rows = example.attention.as_ref()?;
        let step = example.trace.steps.get(self.step)?;
        let view = AttentionView::new(rows, example.trace.input.ids.len());
        let map = view.span_map(step.tokens, &self.map_selection()).ok()?;
        let (peak, &top) = map.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        if top <= 0.0 {
            return None;
        }
        let above = |j: &usize| map[*j] >= top / 2.0;
        let first = (0..=peak)
            .rev()
            .take_while(|j| above(j))
            .last()
            .unwrap_or(peak);
        let last = (peak..map.len())
            .take_while(|j| above(j))
            .last()
            .unwrap_or(peak);
        let per_token = example.trace.audio.seconds_per_audio_token;
        let end = ((last + 1) as f64 * per_token).min(example.trace.audio.duration_seconds);
        Some((first as f64 * per_token, end))
    }
}

/// A key typed into the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKey {
    Char(char),
    Backspace,
}

#[cfg(test)]
mod labelling_tests;
#[cfg(test)]
pub(crate) mod tests;
