//! The key table: one list of bindings drives both key dispatch and the help overlay, so they
//! cannot drift apart. Keys are named as the terminal layer reports them ("j", "down", "space",
//! "?"); users remap them with a JSON object of key name → action in their config file.

use std::collections::BTreeMap;

use super::state::Action;

/// One binding: the key, what it does, and the help line.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub key: String,
    pub action: Action,
    pub help: &'static str,
}

/// What each action does, in words, for the help overlay.
fn help_for(action: Action) -> &'static str {
    match action {
        Action::NextStep => "next step",
        Action::PreviousStep => "previous step",
        Action::FirstStep => "first step",
        Action::LastStep => "last step",
        Action::NextExample => "next example",
        Action::PreviousExample => "previous example",
        Action::NextLayer => "next layer (all → 0 → 1 → …)",
        Action::PreviousLayer => "previous layer",
        Action::NextHeads => "heads: mean → max → one by one",
        Action::NextMetric => "metric: ratio → sink-corrected → focus",
        Action::ZoomIn => "zoom in on the time axis",
        Action::ZoomOut => "zoom out",
        Action::PanLeft => "pan left",
        Action::PanRight => "pan right",
        Action::TogglePlay => "play / pause the clip",
        Action::PlayStepWindow => "play what this step attended to most",
        Action::ToggleHelp => "this help",
        Action::Quit => "quit",
    }
}

const DEFAULTS: &[(&str, Action)] = &[
    ("j", Action::NextStep),
    ("down", Action::NextStep),
    ("k", Action::PreviousStep),
    ("up", Action::PreviousStep),
    ("g", Action::FirstStep),
    ("home", Action::FirstStep),
    ("G", Action::LastStep),
    ("end", Action::LastStep),
    ("n", Action::NextExample),
    ("N", Action::PreviousExample),
    ("l", Action::NextLayer),
    ("L", Action::PreviousLayer),
    ("h", Action::NextHeads),
    ("m", Action::NextMetric),
    ("+", Action::ZoomIn),
    ("-", Action::ZoomOut),
    ("left", Action::PanLeft),
    ("right", Action::PanRight),
    ("space", Action::TogglePlay),
    ("p", Action::PlayStepWindow),
    ("?", Action::ToggleHelp),
    ("q", Action::Quit),
    ("esc", Action::Quit),
];

/// The bindings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTable {
    bindings: Vec<Binding>,
}

impl Default for KeyTable {
    fn default() -> Self {
        Self {
            bindings: DEFAULTS
                .iter()
                .map(|&(key, action)| Binding {
                    key: key.to_owned(),
                    action,
                    help: help_for(action),
                })
                .collect(),
        }
    }
}

impl KeyTable {
    /// The defaults with `remap` (key name → action) applied: a remapped key replaces what it
    /// did before; other keys keep their defaults.
    pub fn with_remap(remap: &BTreeMap<String, Action>) -> Self {
        let mut table = Self::default();
        table.bindings.retain(|b| !remap.contains_key(&b.key));
        table
            .bindings
            .extend(remap.iter().map(|(key, &action)| Binding {
                key: key.clone(),
                action,
                help: help_for(action),
            }));
        table
    }

    /// Reads a remap from JSON text, e.g. `{"x": "quit", "w": "next_step"}`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let remap: BTreeMap<String, Action> =
            serde_json::from_str(text).map_err(|e| format!("not a key map ({e})"))?;
        Ok(Self::with_remap(&remap))
    }

    pub fn action_for(&self, key: &str) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.key == key)
            .map(|b| b.action)
    }

    /// Help lines, one per action, with every key bound to it: `("j, down", "next step")`.
    pub fn help_lines(&self) -> Vec<(String, &'static str)> {
        let mut lines: Vec<(Action, Vec<&str>)> = Vec::new();
        for binding in &self.bindings {
            match lines
                .iter_mut()
                .find(|(action, _)| *action == binding.action)
            {
                Some((_, keys)) => keys.push(&binding.key),
                None => lines.push((binding.action, vec![&binding.key])),
            }
        }
        lines
            .into_iter()
            .map(|(action, keys)| (keys.join(", "), help_for(action)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_drives_dispatch_and_help() {
        let table = KeyTable::default();
        assert_eq!(table.action_for("j"), Some(Action::NextStep));
        assert_eq!(table.action_for("?"), Some(Action::ToggleHelp));
        assert_eq!(table.action_for("z"), None);
        let help = table.help_lines();
        assert!(help.contains(&("j, down".to_owned(), "next step")));
        // Every action a key reaches has a help line, and every help line a key.
        for binding in &table.bindings {
            assert!(help
                .iter()
                .any(|(keys, text)| keys.contains(&binding.key) && *text == binding.help));
        }
    }

    #[test]
    fn remapping_replaces_a_key_and_shows_in_help() {
        let table = KeyTable::from_json(r#"{"q": "next_step", "x": "quit"}"#).unwrap();
        assert_eq!(table.action_for("q"), Some(Action::NextStep));
        assert_eq!(table.action_for("x"), Some(Action::Quit));
        assert_eq!(table.action_for("esc"), Some(Action::Quit));
        let help = table.help_lines();
        assert!(help
            .iter()
            .any(|(keys, text)| keys.contains('x') && *text == "quit"));
        assert!(KeyTable::from_json(r#"{"q": "fly"}"#)
            .unwrap_err()
            .contains("not a key map"));
    }
}
