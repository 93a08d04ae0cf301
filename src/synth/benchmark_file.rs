//! Synthetic items written as a benchmark: an MMAU-format JSON file (`mmau.json`), the clips it
//! names (`audio/synth-SEED.wav`) and a captions file with each clip's exact, timed events
//! (`captions.jsonl`), so that `batch`, `report`, `judge` and the inspector's event lane read
//! them as they read MMAU and its captions.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::evaluation::{eval_item_seed, write_clip, MAX_EVAL_SEED};
use super::events::{render, Event};
use super::phrasing::{loudness_word, sound_phrase};
use super::question::Item;

/// What [`write_benchmark`] wrote.
pub struct BenchmarkFiles {
    pub benchmark: PathBuf,
    pub captions: PathBuf,
    pub items: usize,
}

/// An event's name on the time axis: "low tone", "rising chirp", "noise burst".
pub fn event_name(event: &Event) -> String {
    sound_phrase(event.sound)
}

/// Seconds as the file writes them: events start and end on tenths of a second, which an `f32`
/// printed as it is would show as 0.20000000298023224.
fn tenths(seconds: f32) -> f64 {
    (f64::from(seconds) * 10.0).round() / 10.0
}

/// The `n` evaluation items of `seed` (the items `demo eval --seed SEED` asks) in `out`.
pub fn write_benchmark(out: &Path, seed: u64, n: usize) -> Result<BenchmarkFiles> {
    if seed > MAX_EVAL_SEED {
        bail!("--seed must be at most {MAX_EVAL_SEED} (larger seeds are training seeds)");
    }
    let benchmark = out.join("mmau.json");
    if benchmark.exists() {
        bail!(
            "{}: already exists; give another --out",
            benchmark.display()
        );
    }
    let audio = out.join("audio");
    std::fs::create_dir_all(&audio)
        .with_context(|| format!("{}: cannot create", audio.display()))?;
    let mut records = Vec::with_capacity(n);
    let mut captions = String::new();
    for index in 0..n {
        let item = Item::generate(eval_item_seed(seed, index));
        let id = format!("synth-{}", item.seed);
        let samples = render(
            &item.events,
            item.seconds,
            &mut ChaCha8Rng::seed_from_u64(item.seed),
        );
        write_clip(&audio.join(format!("{id}.wav")), &samples)?;
        records.push(json!({
            "id": id,
            "audio_id": format!("./audio/{id}.wav"),
            "question": item.question.text(),
            "choices": item.choices,
            "answer": item.answer,
            "dataset": "auscult-synthetic",
            "task": "sound",
            "split": format!("seed-{seed}"),
            "category": "synthetic",
            "sub-category": item.question.type_name(),
            "difficulty": format!("{} sounds", item.events.len()),
        }));
        let described: Vec<String> = item
            .events
            .iter()
            .map(|e| {
                format!(
                    "a {} {} from {:.1} s to {:.1} s",
                    loudness_word(e.loudness),
                    event_name(e),
                    e.onset,
                    e.end()
                )
            })
            .collect();
        let events: Vec<serde_json::Value> = item
            .events
            .iter()
            .map(|e| json!({"name": event_name(e), "start": tenths(e.onset), "end": tenths(e.end())}))
            .collect();
        let line = json!({"id": id, "caption": described.join(", then "), "events": events});
        captions.push_str(&line.to_string());
        captions.push('\n');
    }
    let captions_path = out.join("captions.jsonl");
    crate::durable::write(&captions_path, captions.as_bytes())?;
    let text = serde_json::to_string_pretty(&records)? + "\n";
    crate::durable::write(&benchmark, text.as_bytes())?;
    Ok(BenchmarkFiles {
        benchmark,
        captions: captions_path,
        items: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::records::read_benchmark;

    #[test]
    fn the_benchmark_reads_as_mmau_and_its_captions_hold_the_exact_events() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_benchmark(dir.path(), 5, 3).unwrap();
        let benchmark = read_benchmark(&files.benchmark, None).unwrap();
        assert_eq!(benchmark.items.len(), 3);
        for (index, read) in benchmark.items.iter().enumerate() {
            let read = read.as_ref().unwrap();
            let item = Item::generate(eval_item_seed(5, index));
            assert_eq!(read.record.id, format!("synth-{}", item.seed));
            assert_eq!(read.record.question, item.question.text());
            assert_eq!(read.record.answer, item.answer);
            assert!(read.audio.exists(), "{}", read.audio.display());
        }
        let captions = crate::cafe::judge::read_captions(&files.captions).unwrap();
        let item = Item::generate(eval_item_seed(5, 1));
        let events = captions[&format!("synth-{}", item.seed)]
            .events
            .clone()
            .unwrap();
        assert_eq!(events.len(), item.events.len());
        assert_eq!(events[0].name, event_name(&item.events[0]));
        let (start, end) = events[0].span.unwrap();
        assert!((start - item.events[0].onset).abs() < 1e-6);
        assert!((end - item.events[0].end()).abs() < 1e-6);
        // Written once: a second run into the same folder is refused.
        assert!(write_benchmark(dir.path(), 5, 3).is_err());
    }
}
