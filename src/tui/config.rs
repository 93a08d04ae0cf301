//! The user's inspector settings, a JSON file:
//! `{"keys": {"x": "quit", "w": "next_step"}, "colour": "256", "scale": "magma",
//! "annotator": "ann"}` (the annotator's name turns labelling on, as `--annotator` does).
//!
//! It is read from `--config FILE`, else `$AUSCULT_CONFIG`, else
//! `$XDG_CONFIG_HOME/auscult/config.json` (or `~/.config/auscult/config.json`); a default file
//! that does not exist means the defaults, a named one that does not exist is an error. Unknown
//! fields are refused so a typo does not pass silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use super::action::Action;
use super::keys::{is_key_name, KeyTable, NAMED_KEYS};
use super::palette::{ColourScale, Palette};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    keys: BTreeMap<String, Action>,
    colour: Option<Palette>,
    scale: Option<ColourScale>,
    annotator: Option<String>,
}

/// Settings in force: the key table, and colour choices that override the environment's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub keys: KeyTable,
    pub palette: Option<Palette>,
    pub scale: Option<ColourScale>,
    /// Who labels (`human:<name>`), if labelling is on.
    pub annotator: Option<String>,
    /// The file the settings came from, if any.
    pub source: Option<PathBuf>,
}

impl Config {
    /// Reads the settings: `explicit` (from `--config`) must exist; the default locations may not.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("AUSCULT_CONFIG").map(PathBuf::from));
        match named {
            Some(path) => Self::read(&path),
            None => match default_path().filter(|p| p.is_file()) {
                Some(path) => Self::read(&path),
                None => Ok(Self::default()),
            },
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the config file", path.display()))?;
        Self::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            .map(|config| Config {
                source: Some(path.to_path_buf()),
                ..config
            })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ConfigFile =
            serde_json::from_str(text).map_err(|e| format!("not an auscult config ({e})"))?;
        if let Some(bad) = file.keys.keys().find(|k| !is_key_name(k)) {
            let named: Vec<&str> = NAMED_KEYS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "unknown key {bad:?} (a key is one character or one of {})",
                named.join(", ")
            ));
        }
        if let Some(name) = &file.annotator {
            crate::cafe::journal::check_annotator(name)?;
        }
        Ok(Config {
            keys: KeyTable::with_remap(&file.keys),
            palette: file.colour,
            scale: file.scale,
            annotator: file.annotator,
            source: None,
        })
    }
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("auscult").join("config.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_remaps_keys_and_picks_colours() {
        let config = Config::parse(
            r#"{"keys": {"x": "quit", "q": "next_step"}, "colour": "256", "scale": "magma", "annotator": "ann"}"#,
        )
        .unwrap();
        assert_eq!(config.keys.action_for("x"), Some(Action::Quit));
        assert_eq!(config.keys.action_for("q"), Some(Action::NextStep));
        assert_eq!(config.palette, Some(Palette::Ansi256));
        assert_eq!(config.scale, Some(ColourScale::Magma));
        assert_eq!(config.annotator.as_deref(), Some("ann"));
        assert_eq!(Config::parse("{}").unwrap(), Config::default());
    }

    #[test]
    fn mistakes_are_named() {
        for (text, fragment) in [
            (r#"{"keys": {"q": "fly"}}"#, "unknown variant `fly`"),
            (r#"{"colours": "256"}"#, "unknown field `colours`"),
            (r#"{"colour": "65536"}"#, "unknown variant `65536`"),
            ("{", "not an auscult config"),
            (r#"{"annotator": "a b"}"#, "annotator name \"a b\""),
            (
                r#"{"keys": {"Esc": "quit"}}"#,
                "unknown key \"Esc\" (a key is one character",
            ),
        ] {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }
}
