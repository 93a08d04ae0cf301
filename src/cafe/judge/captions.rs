//! Captions: the ground truth the judge compares a trace with (and the inspector draws under the
//! time axis), one JSON object per line, `{"id": …, "caption": "…", "events": […]}`. `events`
//! is optional; its length is the trace's `N_tgt`; each event is a name (`"dog barks"`) or a
//! timed span (`{"name": "dog barks", "start": 1.2, "end": 2.0}`, in seconds). Any line that
//! cannot be used is an error naming `file:line`: a judge run against half a captions file would
//! label silently wrong.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// What is known to be in one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Caption {
    pub caption: String,
    /// The clip's events, when the captions file lists them.
    pub events: Option<Vec<CaptionEvent>>,
}

/// One event of a caption: its name, and when it sounds if the file says.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionEvent {
    pub name: String,
    /// Start and end in seconds.
    pub span: Option<(f32, f32)>,
}

#[derive(Deserialize)]
struct CaptionLine {
    id: CaptionId,
    caption: String,
    #[serde(default)]
    events: Option<Vec<EventEntry>>,
}

/// An event as the file writes it: a name, or a name with its span.
#[derive(Deserialize)]
#[serde(untagged)]
enum EventEntry {
    Name(String),
    Timed { name: String, start: f32, end: f32 },
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
        let events = match line.events {
            None => None,
            Some(entries) => Some(
                entries
                    .into_iter()
                    .map(|entry| {
                        event_of(entry)
                            .map_err(|e| anyhow::anyhow!("{}:{number}: {id:?} {e}", path.display()))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
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
                events,
            },
        );
    }
    Ok(captions)
}

/// Checks one event: a name that is not blank, and a span inside the clip's possible times.
fn event_of(entry: EventEntry) -> Result<CaptionEvent> {
    let (name, span) = match entry {
        EventEntry::Name(name) => (name, None),
        EventEntry::Timed { name, start, end } => (name, Some((start, end))),
    };
    if name.trim().is_empty() {
        bail!("has an empty event");
    }
    if let Some((start, end)) = span {
        if !(start.is_finite() && end.is_finite() && start >= 0.0 && start <= end) {
            bail!(
                "has an event {name:?} from {start} s to {end} s; give 0 ≤ start ≤ end, in seconds"
            );
        }
    }
    Ok(CaptionEvent { name, span })
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
            "{\"id\": \"t\", \"caption\": \"a bark, then a car\", \"events\": ",
            "[{\"name\": \"dog bark\", \"start\": 0.5, \"end\": 1.25}, \"car\"]}\n",
        ))
        .unwrap();
        assert_eq!(captions.len(), 3);
        assert_eq!(
            captions["a"].events.as_deref(),
            Some(
                &[CaptionEvent {
                    name: "dog bark".to_owned(),
                    span: None
                }][..]
            )
        );
        let timed = captions["t"].events.as_ref().unwrap();
        assert_eq!(timed[0].span, Some((0.5, 1.25)));
        assert_eq!(timed[1].span, None);
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
                "{\"id\": \"a\", \"caption\": \"x\", \"events\": [{\"name\": \"bark\", \"start\": 2, \"end\": 1}]}\n",
                ":1: \"a\" has an event \"bark\" from 2 s to 1 s; give 0 ≤ start ≤ end",
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
