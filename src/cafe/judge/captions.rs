//! Captions: the ground truth the judge compares a trace with, one JSON object per line,
//! `{"id": …, "caption": "…", "events": ["…", …]}` (`events` optional; its length is the
//! trace's `N_tgt`). Any line that cannot be used is an error naming `file:line`: a judge run
//! against half a captions file would label silently wrong.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// What is known to be in one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Caption {
    pub caption: String,
    /// The clip's events, when the captions file lists them.
    pub events: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct CaptionLine {
    id: CaptionId,
    caption: String,
    #[serde(default)]
    events: Option<Vec<String>>,
}

/// Benchmarks write ids as strings or numbers; a trace's id is always a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum CaptionId {
    Text(String),
    Number(u64),
}

impl CaptionId {
    fn into_string(self) -> String {
        match self {
            CaptionId::Text(text) => text,
            CaptionId::Number(number) => number.to_string(),
        }
    }
}

/// Reads a captions file into id → caption.
pub fn read_captions(path: &Path) -> Result<HashMap<String, Caption>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut captions = HashMap::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: CaptionLine = serde_json::from_str(raw).map_err(|e| {
            anyhow::anyhow!(
                "{}:{number}: not a captions line, expected {{\"id\": …, \"caption\": \"…\", \"events\": [\"…\"]}} ({e})",
                path.display()
            )
        })?;
        let id = line.id.into_string();
        if line.caption.trim().is_empty() {
            bail!(
                "{}:{number}: the caption of {id:?} is empty",
                path.display()
            );
        }
        if let Some(events) = &line.events {
            if events.iter().any(|event| event.trim().is_empty()) {
                bail!("{}:{number}: {id:?} has an empty event", path.display());
            }
        }
        if let Some(first) = first_line_of.insert(id.clone(), number) {
            bail!(
                "{}:{number}: {id:?} already has a caption (line {first})",
                path.display()
            );
        }
        captions.insert(
            id,
            Caption {
                caption: line.caption,
                events: line.events,
            },
        );
    }
    Ok(captions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<HashMap<String, Caption>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("captions.jsonl");
        std::fs::write(&path, text).unwrap();
        read_captions(&path)
    }

    #[test]
    fn captions_with_and_without_events_and_numeric_ids() {
        let captions = read(concat!(
            "{\"id\": \"a\", \"caption\": \"a dog barks\", \"events\": [\"dog bark\"]}\n",
            "\n",
            "{\"id\": 7, \"caption\": \"rain\"}\n",
        ))
        .unwrap();
        assert_eq!(captions.len(), 2);
        assert_eq!(
            captions["a"].events.as_deref(),
            Some(&["dog bark".to_owned()][..])
        );
        assert_eq!(captions["7"].caption, "rain");
        assert_eq!(captions["7"].events, None);
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        let cases = [
            (
                "{\"id\": \"a\", \"caption\": \"x\"}\n{\"id\": \"b\"}\n",
                ":2: not a captions line",
            ),
            (
                "{\"id\": \"a\", \"caption\": \" \"}\n",
                ":1: the caption of \"a\" is empty",
            ),
            (
                "{\"id\": \"a\", \"caption\": \"x\"}\n{\"id\": \"a\", \"caption\": \"y\"}\n",
                ":2: \"a\" already has a caption (line 1)",
            ),
            (
                "{\"id\": \"a\", \"caption\": \"x\", \"events\": [\"\"]}\n",
                ":1: \"a\" has an empty event",
            ),
        ];
        for (text, expected) in cases {
            let error = read(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{expected:?} in {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }
}
