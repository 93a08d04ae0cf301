//! The terminal loop: draw, wait for a key, update, repeat. ratatui's `try_init` puts the
//! terminal in raw mode on the alternate screen and installs a panic hook that restores it; the
//! loop restores it on every way out.

use std::time::Duration;

use anyhow::Result;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use super::keys::KeyTable;
use super::state::{Effect, Inspector};
use super::view::{render, Palette};
use crate::audio::playback::Player;

/// How often the screen is redrawn while nothing happens (the playhead moves).
const TICK: Duration = Duration::from_millis(100);

/// The key's name as the key table knows it.
fn key_name(code: KeyCode, modifiers: KeyModifiers) -> Option<String> {
    Some(match code {
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => "esc".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Enter => "enter".into(),
        _ => return None,
    })
}

/// Runs the inspector until the user quits. `player` plays the current clip (silently when
/// there is no sound device).
pub fn run(mut state: Inspector, keys: KeyTable, mut player: Player) -> Result<()> {
    let palette = Palette::from_env();
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> Result<()> {
        while !state.quit {
            if let Some(notice) = player.take_notice() {
                state.message = Some(notice);
            }
            terminal
                .draw(|frame| render(&state, &keys, palette, frame.area(), frame.buffer_mut()))?;
            if !event::poll(TICK)? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            let Some(action) =
                key_name(key.code, key.modifiers).and_then(|name| keys.action_for(&name))
            else {
                continue;
            };
            match state.update(action) {
                Effect::None => {}
                Effect::TogglePlayback => player.toggle(),
                Effect::PlayRange(from, to) => player.play_range(from, to),
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}
