//! Reports over traces files: accuracy, decay curves and their slope, the correlation of
//! reasoning length with accuracy; written as CSV tables, SVG plots and a `report.md` that embeds
//! them, with a compact summary for the terminal.
//!
//! It reads traces and sidecars only (the report never calls the model).
//! CAFE metrics come from the traces' own labels and every label file: the annotators' journals
//! beside each traces file, and the files named with `labels` (a judge's output, an export).
//! Every (layer, head) is ranked by how it listens (`heads`, written as `heads.csv`).

pub mod evidence;
mod evidence_files;
pub mod heads;
mod heads_files;
mod plots;
pub mod stats;
pub mod summary;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cafe::label_files::gather_labels;
use crate::cafe::CafeCounts;
use crate::model::Counterfactual;
use crate::trace::metrics::Selection;
use crate::trace::{read_traces, Trace, TraceLine};
use evidence::{
    audio_need_rows, intervention_curve, reliance_curve, reliance_slope, AudioNeedRow,
    InterventionPoint, OcclusionPeak, ReliancePoint,
};
use heads::{EventSpan, ExampleHeads, HeadRanking, HeadTally};
pub use stats::{accuracy_rows, pearson, slope, step_curve, token_curve, AccuracyRow, CurvePoint};
pub use summary::{summarize, ExampleSummary};

/// Report settings.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Width of the token-position bins of the decay curve.
    pub bin_tokens: usize,
    pub selection: Selection,
    /// Label files to add to the traces' labels (journals beside the traces are read anyway).
    pub labels: Vec<PathBuf>,
    /// For each step of a trace, the span of the ground-truth event it claims, if any (the
    /// heads' peak-in-event measure; the truth sits above the report, so the caller says).
    pub event_spans: fn(&Trace) -> Vec<Option<EventSpan>>,
}

/// What a report found, for the terminal and for tests.
#[derive(Debug, Clone)]
pub struct Report {
    pub traces: usize,
    pub failed: usize,
    pub accuracy: Vec<AccuracyRow>,
    pub step_curve: Vec<CurvePoint>,
    pub token_curve: Vec<CurvePoint>,
    /// Slope of step ratio on step index, pooled over every step of every trace.
    pub step_slope: Option<f64>,
    /// Pearson correlation of generated length with correctness.
    pub length_accuracy_r: Option<f64>,
    /// CAFE counts pooled over the labelled traces, and how many there are.
    pub cafe: CafeCounts,
    pub labelled_traces: usize,
    /// Pearson correlation of generated length with perception accuracy (`Acc_per`).
    pub length_perception_r: Option<f64>,
    /// Accuracy with and without the audio, per counterfactual used for the answers.
    pub audio_need: Vec<AudioNeedRow>,
    /// Step reliance by step index, and its slope per counterfactual measured.
    pub reliance_curve: Vec<ReliancePoint>,
    pub reliance_slopes: Vec<(Counterfactual, Option<f64>)>,
    /// Answer changes against the step the audio was hidden from.
    pub interventions: Vec<InterventionPoint>,
    /// Each step's occlusion peak, by trace id.
    pub occlusion_peaks: Vec<(String, OcclusionPeak)>,
    /// Every (layer, head), best listener first.
    pub heads: HeadRanking,
    /// Problems met while reading (skipped lines, sidecars left out).
    pub warnings: Vec<String>,
    /// The label files read, described.
    pub label_files: Vec<String>,
    pub files: Vec<PathBuf>,
}

/// What the traces files held, summarised.
struct Loaded {
    summaries: Vec<ExampleSummary>,
    heads: HeadRanking,
    failed: usize,
    warnings: Vec<String>,
    label_files: Vec<String>,
}

/// Reads every traces file (JSON Lines, or one `run` trace as `.json`), each example's sidecar
/// once, and lets it go before the next.
fn load(paths: &[PathBuf], options: &ReportOptions) -> Result<Loaded> {
    let (mut summaries, mut failed, mut warnings) = (Vec::new(), 0, Vec::new());
    let mut heads = HeadTally::default();
    let mut label_files = Vec::new();
    for path in paths {
        let gathered = gather_labels(path, &options.labels, None)?;
        warnings.extend(gathered.warnings().cloned());
        label_files.extend(gathered.files.iter().map(|f| f.describe()));
        let base = path.parent().unwrap_or(Path::new("."));
        let lines = if path.extension().is_some_and(|e| e == "json") {
            vec![TraceLine::Done(Box::new(Trace::read(path)?))]
        } else {
            let file = read_traces(path)?;
            warnings.extend(file.skipped);
            file.lines
        };
        for line in lines {
            match line {
                TraceLine::Done(mut trace) => {
                    gathered.apply(&mut trace);
                    let arrays = summary::read_arrays(&trace, base);
                    let (summary, warning) =
                        summary::summarize_read(&trace, &arrays, &options.selection);
                    warnings.extend(warning);
                    summaries.push(summary);
                    if let Ok(Some(arrays)) = &arrays {
                        let rows = &arrays.generated;
                        if summary::rows_mismatch(&trace, rows).is_none() {
                            let spans = (options.event_spans)(&trace);
                            let added = heads.add(&ExampleHeads {
                                rows,
                                steps: &trace.steps,
                                event_spans: &spans,
                                seconds_per_audio_token: trace.audio.seconds_per_audio_token,
                            });
                            if let Err(why) = added {
                                warnings.push(format!(
                                    "{}: {why}; it is left out of the heads' ranking",
                                    trace.id
                                ));
                            }
                        }
                    }
                }
                TraceLine::Failed(_) => failed += 1,
            }
        }
    }
    label_files.sort();
    label_files.dedup();
    Ok(Loaded {
        summaries,
        heads: heads.ranking(),
        failed,
        warnings,
        label_files,
    })
}

/// Builds the report of `paths` and writes it to `out`.
pub fn write_report(paths: &[PathBuf], out: &Path, options: &ReportOptions) -> Result<Report> {
    let Loaded {
        summaries,
        heads,
        failed,
        warnings,
        label_files,
    } = load(paths, options)?;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let report = Report {
        traces: summaries.len(),
        failed,
        accuracy: accuracy_rows(&summaries),
        step_curve: step_curve(&summaries),
        token_curve: token_curve(&summaries, options.bin_tokens),
        step_slope: slope(&stats::step_points(&summaries)),
        length_accuracy_r: pearson(&stats::length_correct_pairs(&summaries)),
        cafe: summaries
            .iter()
            .filter_map(|s| s.cafe)
            .fold(CafeCounts::default(), |mut all, c| {
                all.add(&c);
                all
            }),
        labelled_traces: summaries.iter().filter(|s| s.cafe.is_some()).count(),
        length_perception_r: pearson(&stats::length_perception_pairs(&summaries)),
        audio_need: audio_need_rows(&summaries),
        reliance_curve: reliance_curve(&summaries),
        reliance_slopes: Counterfactual::ALL
            .into_iter()
            .filter(|&c| {
                summaries
                    .iter()
                    .any(|s| s.evidence.step_reliance.iter().any(|(m, _)| *m == c))
            })
            .map(|c| (c, reliance_slope(&summaries, c)))
            .collect(),
        interventions: intervention_curve(&summaries),
        occlusion_peaks: summaries
            .iter()
            .flat_map(|s| {
                s.evidence
                    .occlusion_peaks
                    .iter()
                    .map(|p| (s.id.clone(), p.clone()))
            })
            .collect(),
        heads,
        warnings,
        label_files,
        files: Vec::new(),
    };
    let mut files = Vec::new();

    let path = out.join("accuracy.csv");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["by", "group", "items", "correct", "accuracy"])?;
    for row in &report.accuracy {
        writer.write_record([
            row.by,
            &row.group,
            &row.items.to_string(),
            &row.correct.to_string(),
            &format!("{:.4}", row.accuracy()),
        ])?;
    }
    crate::durable::write(&path, &writer.into_inner()?)?;
    files.push(path);
    for (name, points, x_name) in [
        ("step_decay.csv", &report.step_curve, "step_index"),
        ("token_decay.csv", &report.token_curve, "token_bin_start"),
    ] {
        let path = out.join(name);
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["split", x_name, "mean_ratio", "mean_focus", "examples"])?;
        for p in points.iter() {
            writer.write_record([
                p.split.as_str(),
                &p.x.to_string(),
                &format!("{:.6}", p.mean_ratio),
                &format!("{:.6}", p.mean_focus),
                &p.examples.to_string(),
            ])?;
        }
        crate::durable::write(&path, &writer.into_inner()?)?;
        files.push(path);
    }
    let path = out.join("cafe.csv");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "labelled_traces",
        "matched",
        "hallucinated",
        "misused",
        "neutral",
        "missed",
        "targets",
        "acc_per",
        "err_per",
        "err_use",
        "err_omit",
    ])?;
    let c = &report.cafe;
    let ratio = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
    writer.write_record([
        report.labelled_traces.to_string(),
        c.matched.to_string(),
        c.hallucinated.to_string(),
        c.misused.to_string(),
        c.neutral.to_string(),
        c.missed.to_string(),
        c.targets.to_string(),
        ratio(c.acc_per()),
        ratio(c.err_per()),
        ratio(c.err_use()),
        ratio(c.err_omit()),
    ])?;
    crate::durable::write(&path, &writer.into_inner()?)?;
    files.push(path);
    let plots = [
        (
            "step_ratio.svg",
            "Audio ratio by reasoning step",
            "step index",
            &report.step_curve,
            plots::Quantity::Ratio,
        ),
        (
            "step_focus.svg",
            "Audio focus by reasoning step",
            "step index",
            &report.step_curve,
            plots::Quantity::Focus,
        ),
        (
            "token_ratio.svg",
            "Audio ratio by generated-token position",
            "generated token",
            &report.token_curve,
            plots::Quantity::Ratio,
        ),
        (
            "token_focus.svg",
            "Audio focus by generated-token position",
            "generated token",
            &report.token_curve,
            plots::Quantity::Focus,
        ),
    ];
    for (name, title, x_label, points, quantity) in plots {
        let path = out.join(name);
        let splits = ["all", "correct", "incorrect"];
        plots::decay_plot(&path, (title, x_label), points, quantity, &splits)?;
        files.push(path);
    }
    files.extend(evidence_files::write_evidence_files(out, &report)?);
    files.push(heads_files::write_heads_csv(out, &report.heads)?);
    let path = out.join("report.md");
    crate::durable::write(&path, markdown(&report, paths).as_bytes())?;
    files.push(path);
    Ok(Report { files, ..report })
}

fn format_option(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

fn markdown(report: &Report, inputs: &[PathBuf]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# auscult report\n");
    let sources: Vec<String> = inputs
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect();
    let _ = writeln!(
        md,
        "From {}: {} traces, {} failed items.\n",
        sources.join(", "),
        report.traces,
        report.failed
    );
    let _ = writeln!(md, "## Accuracy\n\n| by | group | items | correct | accuracy |\n| --- | --- | --- | --- | --- |");
    for row in &report.accuracy {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} % |",
            row.by,
            row.group,
            row.items,
            row.correct,
            100.0 * row.accuracy()
        );
    }
    let _ = writeln!(
        md,
        "\n## Perception decay\n\nSlope of the step audio ratio on step index (all steps pooled): {}.\n\
         Pearson correlation of reasoning length (generated tokens) with correctness: {}.\n",
        format_option(report.step_slope, 5),
        format_option(report.length_accuracy_r, 3)
    );
    let _ = writeln!(md, "## CAFE\n");
    if report.labelled_traces == 0 {
        let _ = writeln!(md, "No trace carries CAFE labels.\n");
    } else {
        let c = &report.cafe;
        let _ = writeln!(
            md,
            "{} labelled traces: {} claims (matched {}, hallucinated {}, misused {}), {} neutral, {} missed of {} target events.\n\n\
             | Acc_per | Err_per | Err_use | Err_omit |\n| --- | --- | --- | --- |\n| {} | {} | {} | {} |\n\n\
             Pearson correlation of reasoning length with perception accuracy: {}.\n",
            report.labelled_traces,
            c.predicted(),
            c.matched,
            c.hallucinated,
            c.misused,
            c.neutral,
            c.missed,
            c.targets,
            format_option(c.acc_per(), 3),
            format_option(c.err_per(), 3),
            format_option(c.err_use(), 3),
            format_option(c.err_omit(), 3),
            format_option(report.length_perception_r, 3)
        );
    }
    for (file, caption) in [
        (
            "step_ratio.svg",
            "Mean audio ratio of each reasoning step, by step index",
        ),
        (
            "step_focus.svg",
            "Mean audio focus (length-controlled) of each step",
        ),
        (
            "token_ratio.svg",
            "Mean audio ratio by generated-token position (binned)",
        ),
        (
            "token_focus.svg",
            "Mean audio focus by generated-token position (binned)",
        ),
    ] {
        let _ = writeln!(md, "![{caption}]({file})\n\n*{caption}.*\n");
    }
    let _ = writeln!(
        md,
        "Tables: `accuracy.csv`, `step_decay.csv`, `token_decay.csv`.\n"
    );
    md.push_str(&evidence_files::evidence_markdown(report));
    md.push_str(&heads_files::heads_markdown(&report.heads));
    if !report.warnings.is_empty() {
        let _ = writeln!(md, "\n## Warnings\n");
        for warning in &report.warnings {
            let _ = writeln!(md, "- {warning}");
        }
    }
    md
}

/// The compact summary printed in the terminal.
pub fn terminal_summary(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} traces, {} failed", report.traces, report.failed);
    let _ = writeln!(
        out,
        "{:<12} {:<28} {:>6} {:>9}",
        "by", "group", "items", "accuracy"
    );
    for row in &report.accuracy {
        let group: String = row.group.chars().take(28).collect();
        let _ = writeln!(
            out,
            "{:<12} {:<28} {:>6} {:>8.1}%",
            row.by,
            group,
            row.items,
            100.0 * row.accuracy()
        );
    }
    let _ = writeln!(
        out,
        "step-ratio slope {}, length-accuracy r {}",
        format_option(report.step_slope, 5),
        format_option(report.length_accuracy_r, 3)
    );
    for row in &report.audio_need {
        let _ = writeln!(
            out,
            "without the audio ({}): accuracy {:.1}% against {:.1}% with it, over {} items",
            row.counterfactual,
            100.0 * row.accuracy_without(),
            100.0 * row.accuracy_with(),
            row.items
        );
    }
    for (counterfactual, slope) in &report.reliance_slopes {
        let _ = writeln!(
            out,
            "step-reliance slope ({counterfactual}) {}",
            format_option(*slope, 5)
        );
    }
    if let Some(line) = heads_files::heads_line(&report.heads) {
        let _ = writeln!(out, "{line}");
    }
    if report.labelled_traces > 0 {
        let c = &report.cafe;
        let _ = writeln!(
            out,
            "CAFE over {} traces: Acc_per {}, Err_per {}, Err_use {}, Err_omit {}",
            report.labelled_traces,
            format_option(c.acc_per(), 3),
            format_option(c.err_per(), 3),
            format_option(c.err_use(), 3),
            format_option(c.err_omit(), 3)
        );
    }
    out
}
