//! Benchmark files: MMAU (a JSON array) and MMAR (JSON Lines, or the older JSON array), read
//! into items with their audio paths resolved (the README lists the fields, under
//! `batch`).
//!
//! A malformed record does not stop the others: it comes back as an error naming its position
//! and id, and `batch` records it as a failed item.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::trace::{file_sha256, BenchmarkRecord};

/// One runnable benchmark item.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkItem {
    pub record: BenchmarkRecord,
    pub audio: PathBuf,
}

/// A record that could not be read, with the id to file it under.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub id: String,
    pub index: usize,
    pub error: String,
}

/// A benchmark file's records, in order.
pub struct Benchmark {
    pub path: PathBuf,
    pub sha256: String,
    pub items: Vec<Result<BenchmarkItem, BadRecord>>,
}

/// Reads `path`; audio paths are relative to `audio_root`, by default the file's folder.
pub fn read_benchmark(path: &Path, audio_root: Option<&Path>) -> Result<Benchmark> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let sha256 = file_sha256(path)?;
    let records: Vec<std::result::Result<Value, String>> = if text.trim_start().starts_with('[') {
        let array: Vec<Value> = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON array of records", path.display()))?;
        array.into_iter().map(Ok).collect()
    } else {
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).map_err(|e| format!("not JSON ({e})")))
            .collect()
    };
    let root = audio_root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    let file = path.display().to_string();
    let items = records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let fallback_id = format!("record-{index}");
            let record = record.map_err(|error| BadRecord {
                id: fallback_id.clone(),
                index,
                error: format!("{file}: record {}: {error}", index + 1),
            })?;
            parse_record(&record, index, &root, &file, &sha256).map_err(|error| {
                let id = record_id(&record).unwrap_or(fallback_id);
                BadRecord {
                    error: format!("{file}: record {} ({id}): {error}", index + 1),
                    id,
                    index,
                }
            })
        })
        .collect();
    Ok(Benchmark {
        path: path.to_owned(),
        sha256,
        items,
    })
}

/// `id` (a string, or a number written out), else the audio file's stem (early MMAU releases have no `id`).
fn record_id(record: &Value) -> Option<String> {
    match record.get("id") {
        Some(Value::String(id)) => return Some(id.clone()),
        Some(Value::Number(id)) => return Some(id.to_string()),
        _ => {}
    }
    let audio = record
        .get("audio_id")
        .or_else(|| record.get("audio_path"))?
        .as_str()?;
    Path::new(audio)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
}

/// A string field, or the first element of a one-element list (MMAU's `category` is sometimes
/// `["Reasoning"]`).
fn text_field(record: &Value, name: &str) -> std::result::Result<Option<String>, String> {
    match record.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => Ok(None),
            items => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(|parts| Some(parts.join(", ")))
                .ok_or_else(|| format!("\"{name}\" is a list of non-strings")),
        },
        Some(other) => Ok(Some(other.to_string())),
    }
}

fn parse_record(
    record: &Value,
    index: usize,
    root: &Path,
    file: &str,
    sha256: &str,
) -> std::result::Result<BenchmarkItem, String> {
    if !record.is_object() {
        return Err("not a JSON object".into());
    }
    let required = |name: &str| -> std::result::Result<String, String> {
        text_field(record, name)?.ok_or_else(|| format!("missing \"{name}\""))
    };
    let id = record_id(record).ok_or("no \"id\" and no audio path to name it by")?;
    let audio = text_field(record, "audio_id")?
        .or(text_field(record, "audio_path")?)
        .ok_or("missing \"audio_id\" (MMAU) or \"audio_path\" (MMAR)")?;
    let question = required("question")?;
    let answer = required("answer")?;
    let choices: Vec<String> = match record.get("choices") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("\"choices\" holds a non-string")?,
        Some(_) => return Err("\"choices\" is not a list".into()),
        None => return Err("missing \"choices\"".into()),
    };
    if choices.len() < 2 {
        return Err(format!(
            "{} choice(s); a question needs at least 2",
            choices.len()
        ));
    }
    if !choices.contains(&answer) {
        return Err(format!(
            "the answer {answer:?} is not among the choices {choices:?}"
        ));
    }
    let task = text_field(record, "task")?.or(text_field(record, "modality")?);
    Ok(BenchmarkItem {
        audio: root.join(audio.trim_start_matches("./")),
        record: BenchmarkRecord {
            id,
            question,
            choices,
            answer,
            task,
            category: text_field(record, "category")?,
            sub_category: text_field(record, "sub-category")?
                .or(text_field(record, "sub_category")?),
            difficulty: text_field(record, "difficulty")?,
            file: file.to_owned(),
            file_sha256: sha256.to_owned(),
            index,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MMAU: &str = r#"[
 {"id": "3fe64f3d", "audio_id": "./test-mini-audios/3fe64f3d.wav",
  "question": "Based on the given audio, identify the source of the speaking voice.",
  "choices": ["Man","Woman","Child","Robot"], "answer": "Man", "dataset": "AudioSet",
  "task": "sound", "split": "test-mini", "category": "Reasoning",
  "sub-category": "Acoustic Source Inference", "difficulty": "medium"},
 {"audio_id": "./test-mini-audios/no-id.wav", "question": "Q?", "choices": ["a", "b"], "answer": "a",
  "task": "music", "category": ["Information Extraction"], "difficulty": "easy"},
 {"id": "bad-answer", "audio_id": "x.wav", "question": "Q?", "choices": ["a", "b"], "answer": "c"},
 {"id": "no-question", "audio_id": "x.wav", "choices": ["a", "b"], "answer": "a"},
 {"id": 17, "audio_id": "x.wav", "question": "Q?", "choices": ["a", "b"], "answer": "a"}
]"#;

    const MMAR: &str = r#"{"id": "f0Vch", "audio_path": "./audio/f0Vch.wav", "question": "What is producing the sound?", "choices": ["Owl","Robot","Rooster","Parrot"], "answer": "Parrot", "modality": "mix-sound-speech", "category": "Semantic Layer", "sub-category": "Speaker Analysis", "language": "en"}
{"id": "broken", "audio_path": "./a
"#;

    #[test]
    fn mmau_records_with_their_quirks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mmau.json");
        std::fs::write(&path, MMAU).unwrap();
        let benchmark = read_benchmark(&path, None).unwrap();
        assert_eq!(benchmark.items.len(), 5);
        assert_eq!(benchmark.items[4].as_ref().unwrap().record.id, "17");
        let first = benchmark.items[0].as_ref().unwrap();
        assert_eq!(
            first.audio,
            dir.path().join("test-mini-audios/3fe64f3d.wav")
        );
        assert_eq!(first.record.task.as_deref(), Some("sound"));
        assert_eq!(
            first.record.sub_category.as_deref(),
            Some("Acoustic Source Inference")
        );
        let second = benchmark.items[1].as_ref().unwrap();
        assert_eq!(second.record.id, "no-id");
        assert_eq!(
            second.record.category.as_deref(),
            Some("Information Extraction")
        );
        let bad = benchmark.items[2].as_ref().unwrap_err();
        assert_eq!(bad.id, "bad-answer");
        assert!(
            bad.error.contains("record 3 (bad-answer)")
                && bad.error.contains("not among the choices"),
            "{}",
            bad.error
        );
        let missing = benchmark.items[3].as_ref().unwrap_err();
        assert!(
            missing.error.contains("missing \"question\""),
            "{}",
            missing.error
        );
    }

    #[test]
    fn mmar_json_lines_and_an_audio_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("MMAR-meta.jsonl");
        std::fs::write(&path, MMAR).unwrap();
        let root = Path::new("/data/mmar");
        let benchmark = read_benchmark(&path, Some(root)).unwrap();
        let item = benchmark.items[0].as_ref().unwrap();
        assert_eq!(item.audio, root.join("audio/f0Vch.wav"));
        assert_eq!(item.record.task.as_deref(), Some("mix-sound-speech"));
        let broken = benchmark.items[1].as_ref().unwrap_err();
        assert!(
            broken.error.contains("record 2: not JSON"),
            "{}",
            broken.error
        );
        assert_eq!(benchmark.sha256.len(), 64);
    }
}
