//! The key table: one list of bindings drives both key dispatch and the help overlay, so they
//! cannot drift apart. Keys are named as the terminal layer reports them ("j", "down", "space",
//! "?"); users remap them in their config file (`config`), as key name → action.

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyCode;

use super::action::Action;

/// Keys with names; every other key is named by its character ("j", "G", "?").
pub const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("tab", KeyCode::Tab),
    ("esc", KeyCode::Esc),
    ("enter", KeyCode::Enter),
];

/// The key's name as the key table knows it.
pub fn key_name(code: KeyCode) -> Option<String> {
    if let Some((name, _)) = NAMED_KEYS.iter().find(|(_, named)| *named == code) {
        return Some((*name).to_owned());
    }
    match code {
        KeyCode::Char(c) => Some(c.to_string()),
        _ => None,
    }
}

/// Whether `name` names a key (for checking a config file's remap).
pub fn is_key_name(name: &str) -> bool {
    name.chars().count() == 1 || NAMED_KEYS.iter().any(|(named, _)| *named == name)
}

/// One binding: the key, what it does, and the help line.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub key: String,
    pub action: Action,
    pub help: &'static str,
}

/// The label actions, which the help lists on one line, and that line's text.
const LABELS: [Action; 4] = [
    Action::LabelMatched,
    Action::LabelHallucinated,
    Action::LabelMisused,
    Action::LabelNeutral,
];
const LABELS_HELP: &str = "label: MAT HAL MIS NEU";

/// What each action does, in words, for the help overlay.
fn help_for(action: Action) -> &'static str {
    // At most 27 characters: the overlay fits two columns in 80.
    match action {
        Action::NextStep => "next step",
        Action::PreviousStep => "previous step",
        Action::FirstStep => "first step",
        Action::LastStep => "last step",
        Action::NextExample => "next example",
        Action::PreviousExample => "previous example",
        Action::NextLayer => "next layer (all, 0, 1, …)",
        Action::PreviousLayer => "previous layer",
        Action::NextLayerBand => "layer thirds, then all",
        Action::NextHeads => "heads: mean, max, each",
        Action::NextMetric => "metric: attention, reliance",
        Action::ToggleHeatmap => "heatmap: attention/evidence",
        Action::NextColourScale => "colour scale",
        Action::ZoomIn => "zoom in on the time axis",
        Action::ZoomOut => "zoom out",
        Action::PanLeft => "pan left",
        Action::PanRight => "pan right",
        Action::TogglePlay => "play / pause the clip",
        Action::PlayStepWindow => "play where the step looked",
        Action::SwitchSide => "compare: the other side",
        Action::WriteFigure => "save the view as a figure",
        Action::ToggleList => "show / hide the examples",
        Action::Open => "open the selected example",
        Action::Search => "search the examples",
        Action::FilterOutcome => "filter: correct, incorrect",
        Action::FilterTask => "filter: task",
        Action::FilterLabel => "filter: has HAL, MIS, …",
        Action::ClearFilters => "clear the filters",
        Action::Save => "save the live run",
        Action::Back => "close, or cancel the run",
        Action::ToggleHelp => "keys, then the legend",
        Action::Quit => "quit",
        Action::LabelMatched => "label: matched",
        Action::LabelHallucinated => "label: hallucinated",
        Action::LabelMisused => "label: misused",
        Action::LabelNeutral => "label: neutral",
        Action::ClearLabel => "take your label off",
        Action::NextClaim => "next claim of the step",
        Action::AddClaim => "type a claim to label",
        Action::Note => "note on the claim",
        Action::AddMissed => "missed event (trace)",
        Action::Undo => "undo a label",
        Action::Redo => "redo",
        Action::NextUnlabelled => "next unlabelled step",
        Action::HideAudioFromStep => "no audio from this step on",
        Action::MeasureReliance => "measure reliance (model)",
        Action::ToggleHeadsView => "heads that listen",
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
    ("b", Action::NextLayerBand),
    ("h", Action::NextHeads),
    ("m", Action::NextMetric),
    ("v", Action::ToggleHeatmap),
    ("c", Action::NextColourScale),
    ("+", Action::ZoomIn),
    ("-", Action::ZoomOut),
    ("left", Action::PanLeft),
    ("right", Action::PanRight),
    ("space", Action::TogglePlay),
    ("p", Action::PlayStepWindow),
    ("o", Action::SwitchSide),
    ("W", Action::WriteFigure),
    ("e", Action::ToggleList),
    ("enter", Action::Open),
    ("/", Action::Search),
    ("f", Action::FilterOutcome),
    ("t", Action::FilterTask),
    ("F", Action::FilterLabel),
    ("x", Action::ClearFilters),
    ("s", Action::Save),
    ("esc", Action::Back),
    ("?", Action::ToggleHelp),
    ("q", Action::Quit),
    ("1", Action::LabelMatched),
    ("2", Action::LabelHallucinated),
    ("3", Action::LabelMisused),
    ("4", Action::LabelNeutral),
    ("0", Action::ClearLabel),
    ("tab", Action::NextClaim),
    ("a", Action::AddClaim),
    ("i", Action::Note),
    ("M", Action::AddMissed),
    ("u", Action::Undo),
    ("U", Action::Redo),
    ("]", Action::NextUnlabelled),
    ("r", Action::HideAudioFromStep),
    ("R", Action::MeasureReliance),
    ("H", Action::ToggleHeadsView),
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

    pub fn action_for(&self, key: &str) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.key == key)
            .map(|b| b.action)
    }

    /// The first key bound to `action` ("-" when none is).
    pub fn key_for(&self, action: Action) -> &str {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map_or("-", |b| b.key.as_str())
    }

    /// The status line's reminder of the main keys, with the keys in force, as many as fit in
    /// `width` columns; the help and quit keys always show.
    pub fn status_hint(&self, width: usize) -> String {
        let pair = |a: Action, b: Action| format!("{}/{}", self.key_for(a), self.key_for(b));
        let entries = [
            (pair(Action::NextStep, Action::PreviousStep), "step"),
            (
                pair(Action::NextExample, Action::PreviousExample),
                "example",
            ),
            (self.key_for(Action::NextLayer).to_owned(), "layer"),
            (self.key_for(Action::NextHeads).to_owned(), "heads"),
            (self.key_for(Action::NextMetric).to_owned(), "metric"),
            (self.key_for(Action::TogglePlay).to_owned(), "play"),
            (self.key_for(Action::PlayStepWindow).to_owned(), "play step"),
            (self.key_for(Action::ToggleList).to_owned(), "list"),
        ];
        let tail = format!(
            "{} keys  {} quit",
            self.key_for(Action::ToggleHelp),
            self.key_for(Action::Quit)
        );
        fit_hint(&entries, &tail, width)
    }

    /// The status line's reminder of the labelling keys, as many as fit in `width` columns.
    pub fn label_hint(&self, width: usize) -> String {
        let labels = format!(
            "{}/{}/{}/{}",
            self.key_for(Action::LabelMatched),
            self.key_for(Action::LabelHallucinated),
            self.key_for(Action::LabelMisused),
            self.key_for(Action::LabelNeutral)
        );
        let entries = [
            (labels, "MAT/HAL/MIS/NEU"),
            (self.key_for(Action::NextClaim).to_owned(), "claim"),
            (self.key_for(Action::NextUnlabelled).to_owned(), "next"),
            (self.key_for(Action::Undo).to_owned(), "undo"),
            (self.key_for(Action::Note).to_owned(), "note"),
        ];
        let tail = format!("{} keys", self.key_for(Action::ToggleHelp));
        fit_hint(&entries, &tail, width)
    }

    /// Help lines, one per action, with every key bound to it: `("j, down", "next step")`;
    /// the four labels share one (`("1 2 3 4", "label: MAT HAL MIS NEU")`).
    pub fn help_lines(&self) -> Vec<(String, &'static str)> {
        self.help_entries()
            .into_iter()
            .map(|(_, keys, text)| (keys, text))
            .collect()
    }

    /// Each action a key reaches, its keys ("j, down") and what it does, in table order (the
    /// four labels on one line, under the first).
    pub fn help_entries(&self) -> Vec<(Action, String, &'static str)> {
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
        let label_keys: Vec<String> = LABELS
            .iter()
            .filter_map(|label| lines.iter().find(|(action, _)| action == label))
            .map(|(_, keys)| keys.join(","))
            .collect();
        let grouped = label_keys.len() == LABELS.len();
        let mut help = Vec::new();
        for (action, keys) in lines {
            if !grouped || !LABELS.contains(&action) {
                help.push((action, keys.join(", "), help_for(action)));
            } else if action == LABELS[0] {
                help.push((action, label_keys.join(" "), LABELS_HELP));
            }
        }
        help
    }
}

/// "keys what  keys what  … tail": as many entries as fit in `width` columns with `tail`.
fn fit_hint(entries: &[(String, &str)], tail: &str, width: usize) -> String {
    let mut hint = String::new();
    for (keys, what) in entries {
        let entry = format!("{keys} {what}  ");
        if hint.chars().count() + entry.chars().count() + tail.chars().count() > width {
            break;
        }
        hint.push_str(&entry);
    }
    hint + tail
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
        assert!(help.contains(&("1 2 3 4".to_owned(), LABELS_HELP)));
        assert!(
            help.iter().all(|(_, text)| text.chars().count() <= 27),
            "{help:?}"
        );
        // Every action a key reaches has a help line (the labels' shared one), and every help
        // line a key.
        for binding in &table.bindings {
            let text = if LABELS.contains(&binding.action) {
                LABELS_HELP
            } else {
                binding.help
            };
            assert!(help
                .iter()
                .any(|(keys, line)| keys.contains(&binding.key) && *line == text));
        }
    }

    #[test]
    fn key_names_round_trip() {
        for (name, code) in NAMED_KEYS {
            assert_eq!(key_name(*code).as_deref(), Some(*name));
            assert!(is_key_name(name));
        }
        assert_eq!(key_name(KeyCode::Char('G')).as_deref(), Some("G"));
        assert_eq!(key_name(KeyCode::F(1)), None);
        assert!(is_key_name("?") && !is_key_name("Esc") && !is_key_name("ctrl-x"));
        // Every default binding is a key name.
        assert!(DEFAULTS.iter().all(|(key, _)| is_key_name(key)));
    }

    #[test]
    fn remapping_replaces_a_key_and_shows_in_help() {
        let remap = [
            ("q".to_owned(), Action::NextStep),
            ("x".to_owned(), Action::Quit),
        ];
        let table = KeyTable::with_remap(&remap.into_iter().collect());
        assert_eq!(table.action_for("q"), Some(Action::NextStep));
        assert_eq!(table.action_for("x"), Some(Action::Quit));
        assert_eq!(table.action_for("esc"), Some(Action::Back));
        let help = table.help_lines();
        assert!(help
            .iter()
            .any(|(keys, text)| keys.contains('x') && *text == "quit"));
    }
}
