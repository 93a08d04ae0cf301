//! The report's heads files: `heads.csv` (every (layer, head), best listener first), the section
//! of `report.md` that names the top heads, and the terminal's line about them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::heads::{HeadRanking, HeadRow, RankBasis};

/// Heads named in the markdown and on the terminal.
const TOP: usize = 5;

/// Writes `heads.csv` into `out`: one row per (layer, head) in rank order; the peak columns are
/// empty where the peak was not measured.
pub fn write_heads_csv(out: &Path, ranking: &HeadRanking) -> Result<PathBuf> {
    let path = out.join("heads.csv");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "layer",
        "head",
        "mean_audio_ratio",
        "peak_in_event_share",
        "peak_in_event_n",
    ])?;
    for row in &ranking.rows {
        let (share, n) = row
            .peak_in_event
            .map_or((String::new(), String::new()), |p| {
                (format!("{:.4}", p.share()), p.n.to_string())
            });
        writer.write_record([
            row.layer.to_string(),
            row.head.to_string(),
            format!("{:.6}", row.mean_audio_ratio),
            share,
            n,
        ])?;
    }
    crate::durable::write(&path, &writer.into_inner()?)?;
    Ok(path)
}

/// The heads' section of `report.md`: what the ranking rests on and the top heads.
pub fn heads_markdown(ranking: &HeadRanking) -> String {
    let mut md = String::from("\n## Heads that listen\n\n");
    if ranking.basis() == RankBasis::NoAttention {
        let _ = writeln!(md, "No trace has attention captured.");
        return md;
    }
    let _ = writeln!(
        md,
        "{} heads over {} traces ({} with per-head maps), {} generated tokens; {}.\n",
        ranking.rows.len(),
        ranking.examples,
        ranking.examples_with_head_maps,
        ranking.tokens,
        ranking.describe_basis()
    );
    let _ = writeln!(
        md,
        "| rank | layer | head | mean audio ratio | peak in the named event |\n| --- | --- | --- | --- | --- |"
    );
    for (rank, row) in ranking.rows.iter().take(TOP).enumerate() {
        let peak = row.peak_in_event.map_or("n/a".to_owned(), |p| {
            format!("{:.2} ({} of {})", p.share(), p.inside, p.n)
        });
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.4} | {peak} |",
            rank + 1,
            row.layer,
            row.head,
            row.mean_audio_ratio
        );
    }
    let _ = writeln!(md, "\nEvery head: `heads.csv`.");
    md
}

/// The terminal's line: the top heads and what they rank by; `None` without attention.
pub fn heads_line(ranking: &HeadRanking) -> Option<String> {
    let by = match ranking.basis() {
        RankBasis::NoAttention => return None,
        RankBasis::PeakInEvent { n } => format!("peak in the named event, n {n}"),
        RankBasis::NoHeadMaps => "mean audio ratio; no per-head maps".to_owned(),
        RankBasis::NoNamedEvents => "mean audio ratio; no claim names a timed event".to_owned(),
    };
    let top: Vec<String> = ranking.rows.iter().take(TOP).map(short).collect();
    Some(format!("top heads ({by}): {}", top.join(", ")))
}

/// "L3H5 0.94" (the peak share) or "L3H5 0.312" (the mean audio ratio).
fn short(row: &HeadRow) -> String {
    match row.peak_in_event {
        Some(peak) => format!("L{}H{} {:.2}", row.layer, row.head, peak.share()),
        None => format!("L{}H{} {:.3}", row.layer, row.head, row.mean_audio_ratio),
    }
}
