//! The report's evidence files: `audio_need.csv` (accuracy with and without the audio),
//! `reliance_decay.csv` and `step_reliance.svg` (step reliance by step index),
//! `step_ratio_by_audio_need.svg` (the attention decay of items that need the audio against
//! those answerable without it), `interventions.csv` and `interventions.svg` (answer changed
//! against the step the audio was hidden from) and `occlusion_steps.csv` (each step's occlusion
//! peak); and their section of `report.md`. Each is written only when its evidence was measured.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::plots::{self, line_colour, Quantity, Series};
use super::Report;

fn write_csv(path: &Path, header: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    crate::durable::write(path, &writer.into_inner()?)
}

/// Writes the evidence files `report` has data for into `out`; returns their paths.
pub fn write_evidence_files(out: &Path, report: &Report) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !report.audio_need.is_empty() {
        let path = out.join("audio_need.csv");
        let rows = report
            .audio_need
            .iter()
            .map(|r| {
                vec![
                    r.counterfactual.clone(),
                    r.items.to_string(),
                    format!("{:.4}", r.accuracy_with()),
                    format!("{:.4}", r.accuracy_without()),
                    r.correct_without_audio.to_string(),
                    r.need_audio.to_string(),
                ]
            })
            .collect();
        let header = [
            "counterfactual",
            "items",
            "accuracy_with_audio",
            "accuracy_without_audio",
            "answerable_without_audio",
            "right_only_with_audio",
        ];
        write_csv(&path, &header, rows)?;
        files.push(path);
        let path = out.join("step_ratio_by_audio_need.svg");
        plots::decay_plot(
            &path,
            (
                "Audio ratio by step: items that need the audio and those that do not",
                "step index",
            ),
            &report.step_curve,
            Quantity::Ratio,
            &["needs_audio", "answerable_without_audio"],
        )?;
        files.push(path);
    }
    if !report.reliance_curve.is_empty() {
        let path = out.join("reliance_decay.csv");
        let rows = report
            .reliance_curve
            .iter()
            .map(|p| {
                vec![
                    p.counterfactual.to_string(),
                    p.split.clone(),
                    p.step.to_string(),
                    format!("{:.6}", p.mean_delta),
                    format!("{:.6}", p.mean_kl),
                    p.examples.to_string(),
                ]
            })
            .collect();
        let header = [
            "counterfactual",
            "split",
            "step_index",
            "mean_delta",
            "mean_kl",
            "examples",
        ];
        write_csv(&path, &header, rows)?;
        files.push(path);
        let mut series: Vec<Series> = Vec::new();
        let names: Vec<String> = report
            .reliance_slopes
            .iter()
            .map(|(c, _)| format!("delta, {c}"))
            .collect();
        for (index, ((counterfactual, _), name)) in
            report.reliance_slopes.iter().zip(&names).enumerate()
        {
            let values = report
                .reliance_curve
                .iter()
                .filter(|p| p.counterfactual == *counterfactual && p.split == "all")
                .map(|p| (p.step as f64, p.mean_delta))
                .collect();
            series.push((name.as_str(), line_colour(index), values));
        }
        let path = out.join("step_reliance.svg");
        plots::line_plot(
            &path,
            [
                "Audio reliance by reasoning step",
                "step index",
                "mean log-probability drop without the audio (nats)",
            ],
            series,
        )?;
        files.push(path);
    }
    if !report.interventions.is_empty() {
        let path = out.join("interventions.csv");
        let rows = report
            .interventions
            .iter()
            .map(|p| {
                vec![
                    p.step.to_string(),
                    p.tried.to_string(),
                    p.changed.to_string(),
                    format!("{:.4}", p.changed_share()),
                    p.accuracy_after()
                        .map_or_else(String::new, |a| format!("{a:.4}")),
                ]
            })
            .collect();
        let header = [
            "from_step",
            "tried",
            "answer_changed",
            "share_changed",
            "accuracy_after",
        ];
        write_csv(&path, &header, rows)?;
        files.push(path);
        let changed = report
            .interventions
            .iter()
            .map(|p| (p.step as f64, p.changed_share()))
            .collect();
        let accuracy = report
            .interventions
            .iter()
            .filter_map(|p| Some((p.step as f64, p.accuracy_after()?)))
            .collect();
        let path = out.join("interventions.svg");
        plots::line_plot(
            &path,
            [
                "Answer changed when the audio is hidden from step k on",
                "k (the step the audio is hidden from)",
                "share of items",
            ],
            vec![
                ("answer changed", line_colour(0), changed),
                ("still right", line_colour(1), accuracy),
            ],
        )?;
        files.push(path);
    }
    if !report.occlusion_peaks.is_empty() {
        let path = out.join("occlusion_steps.csv");
        let rows = report
            .occlusion_peaks
            .iter()
            .map(|(id, p)| {
                vec![
                    id.clone(),
                    p.step.to_string(),
                    format!("{:?}", p.kind).to_lowercase(),
                    format!("{:.3}", p.window[0]),
                    format!("{:.3}", p.window[1]),
                    format!("{:.6}", p.peak_delta),
                    format!("{:.6}", p.mean_delta),
                ]
            })
            .collect();
        let header = [
            "trace",
            "step",
            "kind",
            "peak_window_start",
            "peak_window_end",
            "peak_delta",
            "mean_delta",
        ];
        write_csv(&path, &header, rows)?;
        files.push(path);
    }
    Ok(files)
}

/// The evidence section of `report.md` (empty when nothing was measured).
pub fn evidence_markdown(report: &Report) -> String {
    let mut md = String::new();
    let measured = !report.audio_need.is_empty()
        || !report.reliance_curve.is_empty()
        || !report.interventions.is_empty()
        || !report.occlusion_peaks.is_empty();
    if !measured {
        return md;
    }
    let _ = writeln!(md, "## Causal evidence\n");
    if !report.audio_need.is_empty() {
        let _ = writeln!(
            md,
            "### Does the answer need the audio?\n\n| without the audio | items | accuracy with audio | \
             accuracy without | answerable without audio | right only with audio |\n\
             | --- | --- | --- | --- | --- | --- |"
        );
        for r in &report.audio_need {
            let _ = writeln!(
                md,
                "| {} | {} | {:.1} % | {:.1} % | {:.1} % | {} |",
                r.counterfactual,
                r.items,
                100.0 * r.accuracy_with(),
                100.0 * r.accuracy_without(),
                100.0 * r.correct_without_audio as f64 / r.items.max(1) as f64,
                r.need_audio
            );
        }
        let _ = writeln!(
            md,
            "\n![Audio ratio by step, split by audio need](step_ratio_by_audio_need.svg)\n\n\
             *The attention decay of items whose answer without the audio is wrong (they need \
             it) against items answered right without it; `step_decay.csv` and \
             `token_decay.csv` hold both splits.*\n"
        );
    }
    if !report.reliance_curve.is_empty() {
        let slopes: Vec<String> = report
            .reliance_slopes
            .iter()
            .map(|(c, s)| format!("{c} {}", super::format_option(*s, 5)))
            .collect();
        let _ = writeln!(
            md,
            "### Reliance decay\n\nSlope of the step delta (the log-probability drop of the \
             generated tokens without the audio) on step index, all steps pooled: {}.\n\n\
             ![Audio reliance by step](step_reliance.svg)\n\n*Mean step delta by step index \
             (`reliance_decay.csv` also has the KL divergence and the audio-need splits).*\n",
            slopes.join(", ")
        );
    }
    if !report.interventions.is_empty() {
        let _ = writeln!(
            md,
            "### Hiding the audio from step k on\n\n![Answer changed against k](interventions.svg)\n\n\
             *Share of items whose extracted answer changed when the audio was hidden from the \
             start of step k on, and share still answered right (`interventions.csv`). Hiding \
             the audio keys is outside what a model saw in training: a changed answer may be a \
             different choice or no answer at all.*\n"
        );
    }
    if !report.occlusion_peaks.is_empty() {
        let mean_peak = report
            .occlusion_peaks
            .iter()
            .map(|(_, p)| f64::from(p.peak_delta))
            .sum::<f64>()
            / report.occlusion_peaks.len() as f64;
        let _ = writeln!(
            md,
            "### Occlusion\n\n{} steps with an occlusion strip; mean largest drop {mean_peak:.4} \
             nats. Each step's peak window is in `occlusion_steps.csv`.\n",
            report.occlusion_peaks.len()
        );
    }
    md
}
