//! `auscult report`'s heads ranking (`heads.csv`) on a synthetic item's trace whose attention is
//! built by hand: one head's map peaks inside the event each perception claim names, the others
//! peak where no event is. With per-head maps that head ranks first with a share of 1 although
//! its audio ratio is the lowest; without them the peak columns are empty and the ratio ranks.

use crate::common;

use std::path::Path;

use auscult::example_traces::{example_trace, tones_spec};
use auscult::model::AttentionRows;
use auscult::synth::question::Item;
use auscult::trace::{
    append_line, write_sidecar, SidecarArrays, StepRules, StopReason, Trace, TraceLine,
};
use auscult::truth::Truth;
use common::CommandLine;

/// The head built to listen: the last layer's last head.
fn listening_head(trace: &Trace) -> (usize, usize) {
    (trace.model.layers - 1, trace.model.heads - 1)
}

/// A trace of the synthetic item of `seed` whose reasoning is the item's own target (so each
/// perception line names its event), and attention where only `listening_head` finds them.
fn synthetic_trace(seed: u64, head_maps: bool) -> (Trace, AttentionRows) {
    let item = Item::generate(seed);
    let mut trace = example_trace(&tones_spec()).0;
    trace.id = format!("synth-{seed}");
    trace.prompt.question = Some(item.question.text());
    trace.prompt.choices = item.choices.clone();
    trace.labels = None;
    let target = item.target_text();
    let pieces: Vec<String> = target.split_inclusive('\n').map(str::to_owned).collect();
    let ids = (0..pieces.len() as u32).collect();
    trace.record_generation(
        ids,
        target.clone(),
        &pieces,
        StopReason::StopToken,
        &StepRules::default(),
    );
    let truth = Truth::synthetic(&trace).expect("the item's own question");
    let spans = truth.claimed_event_spans(&trace);
    assert!(spans.iter().flatten().count() >= 2, "{target}");

    // The item's clip, not the tones example's.
    let per_token = trace.audio.seconds_per_audio_token;
    let audio = (f64::from(item.seconds) / per_token).ceil() as usize;
    trace.audio.duration_seconds = f64::from(item.seconds);
    trace.input.audio_span[1] = trace.input.audio_span[0] + audio;
    let (layers, heads) = (trace.model.layers, trace.model.heads);
    let covered = |j: usize| {
        let (from, to) = (j as f64 * per_token, (j + 1) as f64 * per_token);
        truth.events.iter().any(|e| from < e.end && to > e.start)
    };
    let silent = (0..audio)
        .find(|&j| !covered(j))
        .expect("a moment of the clip without an event");
    let step_of_token = |t: usize| {
        trace
            .steps
            .iter()
            .position(|s| (s.tokens[0]..s.tokens[1]).contains(&t))
    };
    let mut rows = AttentionRows {
        rows: pieces.len(),
        layers,
        heads,
        audio_tokens: audio,
        ..AttentionRows::default()
    };
    let mut maps = Vec::new();
    for t in 0..pieces.len() {
        let span = step_of_token(t).and_then(|s| spans[s]);
        for l in 0..layers {
            for h in 0..heads {
                let listening = (l, h) == listening_head(&trace);
                rows.audio_ratio.push(if listening { 0.05 } else { 0.3 });
                rows.sink_mass.push(0.5);
                let peak = match span {
                    Some((start, end)) if listening => ((start + end) / 2.0 / per_token) as usize,
                    _ => silent,
                };
                maps.extend((0..audio).map(|j| if j == peak { 0.01 } else { 0.0001 }));
            }
            rows.audio_map.extend(std::iter::repeat_n(0.001, audio));
        }
    }
    rows.head_maps = head_maps.then_some(maps);
    trace.record_attention("synth.attn.safetensors", &rows, None);
    (trace, rows)
}

/// Writes the trace as a one-line traces file in `dir`, its sidecar beside it; runs `report`.
fn report(dir: &Path, trace: Trace, rows: AttentionRows) -> (String, String) {
    let arrays = SidecarArrays {
        generated: rows,
        prompt: None,
        evidence: None,
    };
    write_sidecar(&dir.join("synth.attn.safetensors"), &arrays).unwrap();
    let traces = dir.join("traces.jsonl");
    let mut file = std::fs::File::create(&traces).unwrap();
    append_line(&mut file, &TraceLine::Done(Box::new(trace))).unwrap();
    let out = dir.join("report");
    let output = CommandLine::new("report").arg(&traces).out(&out).succeeds();
    let terminal = String::from_utf8_lossy(&output.stdout).into_owned();
    let csv = std::fs::read_to_string(out.join("heads.csv")).unwrap();
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(markdown.contains("## Heads that listen"), "{markdown}");
    (csv, terminal)
}

const HEADER: &str = "layer,head,mean_audio_ratio,peak_in_event_share,peak_in_event_n";

#[test]
fn report_ranks_the_head_that_peaks_in_the_named_events_first() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, rows) = synthetic_trace(4 << 32 | 3, true);
    let (layer, head) = listening_head(&trace);
    let heads = trace.model.layers * trace.model.heads;
    let claims = Truth::synthetic(&trace)
        .unwrap()
        .claimed_event_spans(&trace)
        .iter()
        .flatten()
        .count();
    let (csv, terminal) = report(dir.path(), trace, rows);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines.len(), 1 + heads, "{csv}");
    assert_eq!(
        lines[1],
        format!("{layer},{head},0.050000,1.0000,{claims}"),
        "{csv}"
    );
    assert!(
        lines[2..]
            .iter()
            .all(|l| l.ends_with(&format!(",0.0000,{claims}"))),
        "{csv}"
    );
    assert!(
        terminal.contains(&format!(
            "top heads (peak in the named event, n {claims}): L{layer}H{head} 1.00"
        )),
        "{terminal}"
    );
}

#[test]
fn report_without_head_maps_leaves_the_peak_columns_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, rows) = synthetic_trace(4 << 32 | 3, false);
    let heads = trace.model.layers * trace.model.heads;
    let (csv, terminal) = report(dir.path(), trace, rows);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines.len(), 1 + heads, "{csv}");
    assert!(lines[1..].iter().all(|l| l.ends_with(",,")), "{csv}");
    // By ratio: the heads at 0.3 first, in layer and head order; the listening one last.
    assert!(lines[1].starts_with("0,0,0.300000,"), "{csv}");
    assert!(lines[heads].ends_with(",0.050000,,"), "{csv}");
    assert!(terminal.contains("no per-head maps"), "{terminal}");
}
