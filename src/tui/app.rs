//! The terminal loop: feed the live run's and the model worker's events, load the current
//! example's clip, draw, wait for a key, a click or a tick, update, repeat. `terminal::Session`
//! restores the terminal on every way out.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use ratatui::crossterm::event::{
    self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use ratatui::layout::Rect;

use super::clip::{load_clip, load_picture};
use super::keys::{key_name, KeyTable};
use super::live::LiveRun;
use super::model_worker::{Job, ModelWorker};
use super::mouse::{pointer_for, Mouse};
use super::state::{
    Action, Effect, EntryKey, EvidenceJob, Example, Inspector, SearchKey, StepMetric, WorkerEvent,
};
use super::terminal::{Session, Stop};
use super::view::{render, Palette};
use crate::audio::playback::Player;
use crate::cafe::journal::LabelOp;
use crate::cafe::journal_file::JournalWriter;
use crate::figure;
use crate::trace::read_sidecar;

/// How often the screen is redrawn while nothing happens (the playhead moves, tokens stream).
const TICK: Duration = Duration::from_millis(50);

/// What the loop holds besides the state: how to draw, what plays, and the live run.
pub struct App {
    pub state: Inspector,
    pub keys: KeyTable,
    pub palette: Palette,
    /// Folder of the trace file, where recorded clip paths are also looked for.
    pub trace_dir: PathBuf,
    pub live: Option<LiveRun>,
    /// The model that runs the evidence asked for (`r`, `R`): the live run's, or one loaded
    /// with `inspect FILE --model DIR`.
    pub worker: Option<ModelWorker>,
    /// Where `s` saves a finished live run.
    pub save_to: Option<PathBuf>,
    /// The annotator's journal, when labelling.
    pub journal: Option<JournalWriter>,
    /// Folder of the compared traces file (`inspect A --compare B`), where B's clips are found.
    pub other_dir: Option<PathBuf>,
}

/// An example as a figure's panel (its clip looked for in `dir`), named when compared.
fn figure_panel<'a>(example: &'a Example, dir: &Path, name: Option<&str>) -> figure::Panel<'a> {
    let panel = figure::Panel::new(&example.trace, example.attention.as_ref())
        .with_truth(example.truth.as_ref())
        .with_clip(figure::ClipSamples::find(&example.trace, dir));
    match name {
        Some(name) => panel.named(name),
        None => panel,
    }
}

/// Reads example `shown`'s attention and evidence from its sidecar, if not in memory yet, and
/// lets the other examples' arrays and pictures go.
fn load_shown(examples: &mut [Example], shown: usize) -> Result<(), String> {
    for (index, example) in examples.iter_mut().enumerate() {
        if index != shown && example.sidecar.is_some() {
            example.set_attention(None);
            example.evidence = None;
            example.spectrogram = None;
        }
    }
    let Some(example) = examples.get_mut(shown) else {
        return Ok(());
    };
    if example.attention.is_none() {
        if let Some(path) = &example.sidecar {
            let arrays = read_sidecar(path).map_err(|e| format!("{e:#}"))?;
            example.set_attention(Some(arrays.generated));
            example.evidence = arrays.evidence;
        }
    }
    Ok(())
}

impl App {
    /// Runs the inspector until the user quits or a signal asks it to stop.
    pub fn run(mut self) -> Result<()> {
        let mut session = Session::start()?;
        let result = self.run_in(&mut session);
        session.restore();
        if let Some(stop) = result? {
            // Shown once the terminal is back, or on whatever standard error still reaches.
            let saved = match &self.journal {
                Some(journal) => format!(
                    "every label made is already saved in {}",
                    journal.path().display()
                ),
                None => "nothing was unsaved".to_owned(),
            };
            anyhow::bail!("{stop}; {saved}");
        }
        // A live run that failed leaves the inspector with its reason as the error.
        match self.state.live.take() {
            Some(live) if live.failed() => {
                anyhow::bail!("{}", live.phase.trim_start_matches("failed: "))
            }
            _ => Ok(()),
        }
    }

    /// The loop; returns why it stopped when no key asked it to.
    fn run_in(&mut self, session: &mut Session) -> Result<Option<Stop>> {
        // No player until there is an example (a live run has none until its prompt is ready).
        let mut player: Option<Player> = None;
        let mut loaded: Option<(usize, f64)> = None;
        while !self.state.quit {
            if let Some(stop) = session.stop() {
                return Ok(Some(stop));
            }
            let effects = match &mut self.live {
                Some(live) => live.feed(&mut self.state),
                None => Vec::new(),
            };
            for effect in effects {
                self.apply_effect(effect, &mut player);
            }
            if let Some(worker) = &mut self.worker {
                worker.feed(&mut self.state);
            }
            // The current example's clip, once per example (and again when a live run's
            // trace arrives with the clip's real duration).
            let duration = self
                .state
                .example()
                .map_or(0.0, |e| e.trace.audio.duration_seconds);
            if loaded != Some((self.state.current, duration)) && self.state.example().is_some() {
                player = Some(self.load_current());
                loaded = Some((self.state.current, duration));
            }
            if let Some(player) = &mut player {
                // The sound status is shown as state (a short "sound off" on the status line,
                // the reason under `?`), not as a message that each new clip would repeat.
                if player.take_notice().is_some() {
                    self.state.sound = Some(player.status().clone());
                }
                self.state
                    .set_playback(player.position(), player.is_playing());
            }
            let size = session.terminal.size()?;
            self.state.set_screen_width(size.width);
            let (state, keys, palette) = (&self.state, &self.keys, self.palette);
            session
                .terminal
                .draw(|frame| render(state, keys, palette, frame.area(), frame.buffer_mut()))?;
            // A dead terminal was caught by `session.stop()` above; crossterm's poll (its
            // level-triggered `use-dev-tty` source) returns within the tick whatever happens.
            if !event::poll(TICK)? {
                continue;
            }
            let area = Rect::new(0, 0, size.width, size.height);
            let effect = match event::read()? {
                Event::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
                Event::Mouse(mouse) => {
                    let (column, row) = (mouse.column, mouse.row);
                    let mouse = match mouse.kind {
                        MouseEventKind::Down(MouseButton::Left) => Mouse::Click { column, row },
                        MouseEventKind::ScrollDown => Mouse::Wheel {
                            down: true,
                            column,
                            row,
                        },
                        MouseEventKind::ScrollUp => Mouse::Wheel {
                            down: false,
                            column,
                            row,
                        },
                        _ => continue,
                    };
                    match pointer_for(&self.state, area, mouse) {
                        Some(pointer) => self.state.point(pointer),
                        None => Effect::None,
                    }
                }
                _ => Effect::None,
            };
            self.apply_effect(effect, &mut player);
        }
        Ok(None)
    }

    /// Does what an update asked for outside the state.
    fn apply_effect(&mut self, effect: Effect, player: &mut Option<Player>) {
        match (effect, player) {
            (Effect::None, _) => {}
            (Effect::TogglePlayback, Some(player)) => player.toggle(),
            (Effect::PlayRange(from, to), Some(player)) => player.play_range(from, to),
            (Effect::Seek(seconds), Some(player)) => player.seek(seconds),
            (Effect::TogglePlayback | Effect::PlayRange(..) | Effect::Seek(_), None) => {}
            (Effect::CancelRun, _) => {
                if let Some(live) = &self.live {
                    live.cancel();
                }
            }
            (Effect::SaveRun, _) => self.save_run(),
            (Effect::Record { trace, op }, _) => self.record(&trace, op),
            (Effect::Evidence(job), _) => self.submit(job),
            (Effect::CancelEvidence, _) => {
                if let Some(worker) = &self.worker {
                    worker.cancel();
                }
            }
            (Effect::WriteFigure, _) => {
                let outcome = self
                    .write_figure()
                    .map(|path| path.display().to_string())
                    .map_err(|e| format!("{e:#}"));
                self.state.on_figure_written(outcome);
            }
        }
    }

    /// Hands an evidence job to the model worker with what it needs; what cannot be handed out
    /// fails the job on the status line.
    fn submit(&mut self, what: EvidenceJob) {
        let outcome = self
            .state
            .examples
            .get(what.example())
            .ok_or_else(|| anyhow::anyhow!("the example is gone"))
            .and_then(|example| Job::for_example(what, example, &self.trace_dir))
            .and_then(|job| match &self.worker {
                Some(worker) => worker.submit(job),
                None => anyhow::bail!("no model is loaded"),
            });
        if let Err(e) = outcome {
            self.state.on_worker(WorkerEvent::Failed(format!("{e:#}")));
        }
    }

    /// Loads what the current example shows from disk (its attention, evidence and clip) and
    /// lets the others' go, and the same for its partner in a comparison; returns the player for
    /// its clip.
    fn load_current(&mut self) -> Player {
        let current = self.state.current;
        if let Err(e) = load_shown(&mut self.state.examples, current) {
            self.state.notify(e);
        }
        let example = &mut self.state.examples[current];
        let (picture, player) = load_clip(&example.trace, &self.trace_dir);
        example.spectrogram = picture;
        if let Some(comparison) = &mut self.state.comparison {
            let other = &mut comparison.other;
            let partner = comparison
                .partners
                .get(current)
                .copied()
                .flatten()
                .unwrap_or(other.current);
            let loaded = load_shown(&mut other.examples, partner);
            let dir = self.other_dir.as_deref().unwrap_or(&self.trace_dir);
            if let Some(example) = other.examples.get_mut(partner) {
                // B's clip is only drawn; A's plays.
                example.spectrogram = load_picture(&example.trace, dir);
            }
            if let Err(e) = loaded {
                self.state.notify(e);
            }
        }
        player
    }

    fn on_key(&mut self, key: KeyEvent) -> Effect {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return self.state.update(Action::Quit);
        }
        if self.state.typing.is_some() {
            let entry_key = match key.code {
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    EntryKey::Char(c)
                }
                KeyCode::Backspace => EntryKey::Backspace,
                KeyCode::Enter => EntryKey::Commit,
                KeyCode::Esc => EntryKey::Cancel,
                _ => return Effect::None,
            };
            return self.state.type_entry(entry_key);
        }
        if self.state.searching {
            match key.code {
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.state.type_search(SearchKey::Char(c));
                    return Effect::None;
                }
                KeyCode::Backspace => {
                    self.state.type_search(SearchKey::Backspace);
                    return Effect::None;
                }
                KeyCode::Tab => {
                    self.state.type_search(SearchKey::NextMatch);
                    return Effect::None;
                }
                KeyCode::Enter => return self.state.update(Action::Open),
                KeyCode::Esc => return self.state.update(Action::Back),
                _ => {}
            }
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Effect::None;
        }
        match key_name(key.code).and_then(|name| self.keys.action_for(&name)) {
            Some(action) => self.state.update(action),
            None => Effect::None,
        }
    }

    /// Appends a label action to the journal (synced to disk) and only then applies it.
    fn record(&mut self, trace: &str, op: LabelOp) {
        let outcome = match &mut self.journal {
            Some(journal) => journal.append(trace, op).map_err(|e| format!("{e:#}")),
            None => Err("no journal is open".to_owned()),
        };
        match outcome {
            Ok(saved) => {
                self.state.on_recorded(Ok(saved.entry));
                if let Some(reason) = saved.unconfirmed {
                    self.state.on_unconfirmed(&reason);
                }
            }
            Err(reason) => self.state.on_recorded(Err(reason)),
        }
    }

    /// Writes the view as `<id>.figure.svg` beside the traces (`-2`, `-3`, … when taken), with
    /// the comparison's other side when there is one.
    fn write_figure(&self) -> Result<PathBuf> {
        let state = &self.state;
        let example = state
            .example()
            .ok_or_else(|| anyhow::anyhow!("no example"))?;
        let StepMetric::Attention(metric) = state.metric else {
            anyhow::bail!("figures draw attention metrics");
        };
        let view = figure::View {
            selection: state.selection(),
            metric,
            scale: state.scale,
            window: state.view,
        };
        let names = state.comparison.as_ref().map(|c| &c.names);
        let mut spec = figure::FigureSpec::new(
            figure_panel(example, &self.trace_dir, names.map(|n| n[0].as_str())),
            view,
        );
        if let (Some(partner), Some(names)) = (state.partner(), names) {
            let dir = self.other_dir.as_deref().unwrap_or(&self.trace_dir);
            spec = spec.compare(figure_panel(partner, dir, Some(&names[1])));
        }
        let safe_id: String = example
            .trace
            .id
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = (1..)
            .map(|n| match n {
                1 => self.trace_dir.join(format!("{safe_id}.figure.svg")),
                n => self.trace_dir.join(format!("{safe_id}.figure-{n}.svg")),
            })
            .find(|path| !path.exists())
            .ok_or_else(|| anyhow::anyhow!("no free file name"))?;
        figure::write(&spec, &path)?;
        Ok(path)
    }

    fn save_run(&mut self) {
        let Some(live) = &self.live else {
            return;
        };
        let outcome = live
            .save(&self.state, self.save_to.as_deref())
            .map(|path| path.display().to_string())
            .map_err(|e| format!("{e:#}"));
        self.state.on_saved(outcome);
    }
}
