//! Labelling end to end: the real inspector in a pty, labelled by keyboard, its journal read back
//! by the library; and the durability check — the labelling process killed (SIGKILL) in the
//! middle of bursts of label keys, again and again, and every action the screen showed as saved
//! found in the journal on reopening.
//!
//! `cargo test --test all labelling_pty::`. Unix only.

#![cfg(unix)]

use crate::common;

use std::path::{Path, PathBuf};

use auscult::cafe::journal::LabelOp;
use auscult::cafe::journal_file::read_journal;
use auscult::trace::CafeLabel;
use common::pty::{dump, Pty, COLS};
use common::repo_path;

/// The bundled trace (12 steps; step 0 has no listed claim, step 1 the checker's "tone A4").
const HAND_MADE_TRACE: &str = "assets/demo/demo-tones.json";
const TRACE_ID: &str = "demo-tones";

/// A copy of the bundled trace and its sidecar in a fresh folder, so the journal is written
/// there.
fn trace_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bundled = repo_path(HAND_MADE_TRACE);
    for name in ["demo-tones.json", "demo-tones.attn.safetensors"] {
        std::fs::copy(bundled.with_file_name(name), dir.path().join(name)).unwrap();
    }
    let path = dir.path().join("demo-tones.json");
    (dir, path)
}

/// The status line, less the "sound off · " a build without sound output puts first.
fn status(screen: &vt100::Screen) -> String {
    let line = screen.rows(0, COLS).last().unwrap_or_default();
    line.strip_prefix("sound off · ")
        .map_or(line.clone(), str::to_owned)
}

/// The largest "saved #N" on the screen whose number is followed by a space (whole).
fn saved_number(screen: &vt100::Screen) -> Option<u64> {
    let text = screen.contents();
    text.match_indices("saved #")
        .filter_map(|(at, found)| {
            let rest = &text[at + found.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            rest[digits.len()..]
                .starts_with(' ')
                .then(|| digits.parse().ok())
                .flatten()
        })
        .max()
}

fn open(path: &Path, annotator: &str) -> Pty {
    let mut pty = Pty::spawn(
        &["inspect", path.to_str().unwrap(), "--annotator", annotator],
        &[],
    );
    pty.wait_for("the labelling status line", |s| {
        status(s).contains(&format!("{annotator} ")) || status(s).contains("labelling as")
    });
    pty.assert_running();
    pty
}

#[test]
fn label_keys_write_the_journal_and_reopening_shows_them() {
    let (dir, trace) = trace_copy();
    let mut pty = open(&trace, "ann");
    // Step 0 lists no claim: the label goes on the whole step.
    pty.press("4");
    pty.wait_for("#1 saved", |s| status(s).starts_with("saved #1 · NEU"));
    pty.press("j");
    pty.press("3");
    pty.wait_for("ann's label beside the checker's", |s| {
        s.contents()
            .contains("MIS  tone A4 (440 Hz)  (human:ann)  auto MAT")
    });
    pty.press("i");
    pty.press("too low");
    pty.wait_for("the note being typed", |s| {
        status(s).starts_with("note: too low")
    });
    pty.press("\r");
    pty.wait_for("the note saved", |s| {
        status(s).starts_with("saved #3 · note on tone A4")
    });
    pty.wait_for("the note shown", |s| s.contents().contains("“too low”"));
    pty.press("u");
    pty.wait_for("the note undone", |s| {
        status(s).starts_with("saved #4 · undid #3")
    });
    pty.press("U");
    pty.wait_for("the note redone", |s| {
        status(s).starts_with("saved #5 · redid #3")
    });
    // A claim the step makes that nobody listed, labelled hallucinated.
    pty.press("a");
    pty.press("a dog barks\r");
    pty.wait_for("the typed claim", |s| {
        s.contents().contains("a dog barks  (new: 1-4")
    });
    pty.press("2");
    pty.wait_for("the typed claim saved", |s| {
        status(s).starts_with("saved #6 · HAL a dog barks")
    });
    pty.press("M");
    pty.press("pink noise burst\r");
    pty.wait_for("the missed event", |s| {
        status(s).starts_with("saved #7 · missed: pink noise")
    });
    // Steps 0 and 1 are done; ] goes to step 2, where ann has no label to take off.
    pty.press("]");
    pty.wait_for("step 2 selected", |s| {
        s.rows(0, COLS).any(|row| row.starts_with("▶  2"))
    });
    pty.press("0");
    pty.wait_for("nothing to take off", |s| {
        status(s).starts_with("you have not labelled this claim")
    });
    // Any key clears the message (`?` three times: the keys, the legend, closed); the status
    // line then shows the progress.
    pty.press("???");
    pty.wait_for("the progress", |s| status(s).starts_with("ann 2/12 steps"));
    pty.quit_cleanly();

    let journal = dir.path().join("demo-tones.ann.labels.jsonl");
    let read = read_journal(&journal, Some("ann")).unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let labels = read.labels.labels_of(TRACE_ID);
    let claims: Vec<(usize, &str, CafeLabel, Option<&str>)> = labels
        .steps
        .iter()
        .map(|s| (s.step, s.event.as_str(), s.label, s.note.as_deref()))
        .collect();
    assert_eq!(claims.len(), 3, "{claims:?}");
    assert_eq!((claims[0].0, claims[0].2), (0, CafeLabel::Neutral));
    assert_eq!(
        claims[1],
        (1, "tone A4 (440 Hz)", CafeLabel::Misused, Some("too low"))
    );
    assert_eq!(claims[2], (1, "a dog barks", CafeLabel::Hallucinated, None));
    assert_eq!(labels.missed[0].event, "pink noise burst");

    // Reopened: the labels and the progress come back from the journal.
    let mut pty = open(&trace, "ann");
    pty.press("???");
    pty.wait_for("the progress, replayed", |s| {
        status(s).starts_with("ann 2/12 steps")
    });
    pty.press("j");
    pty.wait_for("ann's label, replayed", |s| {
        s.contents().contains("MIS  tone A4 (440 Hz)  (human:ann)")
    });
    // A second session on the same journal is warned, and its label keys only say why.
    let lines_before = std::fs::read_to_string(&journal).unwrap().lines().count();
    let mut second = Pty::spawn(
        &["inspect", trace.to_str().unwrap(), "--annotator", "ann"],
        &[],
    );
    second.wait_for("the warning", |s| {
        s.contents().contains("open in another auscult session")
    });
    second.press("j1");
    second.wait_for("labelling refused", |s| {
        status(s).contains("labelling is off here")
    });
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap().lines().count(),
        lines_before,
        "the second session wrote nothing"
    );
    drop(second);
    pty.quit_cleanly();

    // Another annotator sees ann's labels as another source, and starts at 0.
    let mut bob = open(&trace, "bob");
    bob.press("???");
    bob.wait_for("bob's progress", |s| {
        status(s).starts_with("bob 0/12 steps")
    });
    bob.press("j");
    bob.wait_for("ann's label shown to bob", |s| {
        s.contents().contains("(human:ann)")
    });
    bob.quit_cleanly();
}

/// Kills the labeller with SIGKILL in the middle of bursts of label keys, 20 times; each time the
/// journal must hold every action the screen had shown as saved, whole and in order.
#[test]
fn sigkill_in_a_burst_of_labels_loses_nothing_shown_as_saved() {
    const KILLS: usize = 20;
    let (dir, trace) = trace_copy();
    let journal = dir.path().join("demo-tones.ann.labels.jsonl");
    // A label, then the next step, round the steps: every key after a digit saves an entry.
    let keys = [
        "1", "j", "2", "j", "3", "j", "4", "g", "3", "]", "2", "u", "1", "U",
    ];
    let mut saved_before = 0u64;
    let mut rng_state = 0x2545_F491_4F6C_DD1Du64;
    let mut next_random = move |below: u64| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state % below
    };
    for round in 0..KILLS {
        let mut pty = open(&trace, "ann");
        // 20 to 40 keys at once; the kill comes once 1 to 8 of their saves have shown.
        let burst: String = (0..20 + next_random(21))
            .map(|k| keys[(k as usize + round) % keys.len()])
            .collect();
        let wait_for_saves = 1 + next_random(8);
        pty.press(&burst);
        let target = saved_before + wait_for_saves;
        // Read on a whole frame: one half drawn can mix the digits of two numbers.
        let shown = pty.read_whole_frame("saves to show", |s| {
            saved_number(s).filter(|&n| n >= target)
        });
        pty.signal(libc::SIGKILL);
        pty.wait_exit();

        let text = std::fs::read_to_string(&journal).unwrap();
        let read = read_journal(&journal, Some("ann")).unwrap();
        let entries: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "round {round}: entries whole and in order"
        );
        assert!(
            seqs.len() as u64 >= shown,
            "round {round}: the screen showed #{shown} saved, the journal holds {} entries\n{}",
            seqs.len(),
            dump(pty.lock().parser.screen())
        );
        // Only a line cut off at the very end could be unreadable, never one shown as saved.
        assert!(
            read.warnings.iter().all(|w| w.contains("cut off")),
            "round {round}: {:?}",
            read.warnings
        );
        assert_eq!(read.labels.next_seq(), seqs.len() as u64 + 1);
        let burst_saves = burst
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == 'u' || *c == 'U')
            .count();
        eprintln!(
            "round {round}: {burst_saves} saving keys sent, #{shown} shown, {} entries after the kill",
            seqs.len() as u64 - saved_before
        );
        saved_before = seqs.len() as u64;
    }
    assert!(saved_before >= KILLS as u64, "{saved_before} entries");

    // The labels replayed equal what applying the entries one by one gives, and the inspector
    // opens on them.
    let read = read_journal(&journal, Some("ann")).unwrap();
    let labels = read.labels.labels_of(TRACE_ID);
    assert!(!labels.steps.is_empty());
    let undo_entries = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<auscult::cafe::journal::JournalEntry>(l).ok())
        .filter(|e| matches!(e.op, LabelOp::Undo { .. }))
        .count();
    assert!(undo_entries > 0, "the bursts include undo");
    let mut pty = open(&trace, "ann");
    pty.press("???");
    let progress = format!("ann {}/12 steps", count_done(&labels));
    pty.wait_for("the replayed progress", |s| {
        status(s).starts_with(&progress)
    });
    pty.quit_cleanly();
}

/// Steps of the demo trace whose every claim ann labelled: the whole step where nobody listed a
/// claim (steps 0 and 11), or the checker's claim.
fn count_done(labels: &auscult::trace::TraceLabels) -> usize {
    let trace = auscult::trace::Trace::read(&repo_path(HAND_MADE_TRACE)).unwrap();
    let auto = trace.labels.unwrap_or_default();
    (0..trace.steps.len())
        .filter(|&step| {
            let listed: Vec<&str> = auto
                .steps
                .iter()
                .filter(|l| l.step == step)
                .map(|l| l.event.as_str())
                .collect();
            let mine: Vec<&str> = labels
                .steps
                .iter()
                .filter(|l| l.step == step)
                .map(|l| l.event.as_str())
                .collect();
            if listed.is_empty() {
                !mine.is_empty()
            } else {
                listed.iter().all(|e| mine.contains(e))
            }
        })
        .count()
}
