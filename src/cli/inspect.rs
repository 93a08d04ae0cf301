//! `auscult inspect`: open traces in the inspector; with no arguments, `auscult` opens the
//! bundled example trace.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::audio::decode_file;
use crate::audio::playback::{PlaybackClip, Player};
use crate::trace::{read_sidecar, read_traces, Trace, TraceLine};
use crate::tui::keys::KeyTable;
use crate::tui::state::{Example, Inspector};

/// The bundled example, relative to the crate (a source checkout) or the working directory.
const BUNDLED_TRACE: &str = "assets/demo/demo-tones.json";

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A trace (`.json` from `run`) or a traces file (`.jsonl` from `batch`).
    #[arg(value_name = "TRACE")]
    pub trace: Option<PathBuf>,
    /// A JSON file remapping keys: {"key name": "action", ...}.
    #[arg(long, value_name = "FILE.json")]
    pub keys: Option<PathBuf>,
}

fn load_examples(path: &Path) -> Result<Vec<Example>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let traces: Vec<Trace> = if path.extension().is_some_and(|e| e == "json") {
        vec![Trace::read(path)?]
    } else {
        let file = read_traces(path)?;
        file.lines
            .into_iter()
            .filter_map(|line| match line {
                TraceLine::Done(trace) => Some(*trace),
                TraceLine::Failed(_) => None,
            })
            .collect()
    };
    if traces.is_empty() {
        bail!("{}: no finished traces to inspect", path.display());
    }
    traces
        .into_iter()
        .map(|trace| {
            let attention = match &trace.attention {
                Some(record) => Some(read_sidecar(&base.join(&record.sidecar))?.generated),
                None => None,
            };
            Ok(Example { trace, attention })
        })
        .collect()
}

pub fn run(args: InspectArgs) -> Result<()> {
    let path = match &args.trace {
        Some(path) => path.clone(),
        None => {
            let beside_crate = Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_TRACE);
            if beside_crate.exists() {
                beside_crate
            } else {
                PathBuf::from(BUNDLED_TRACE)
            }
        }
    };
    let examples = load_examples(&path)?;
    let keys = match &args.keys {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("{}: cannot read", file.display()))?;
            KeyTable::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        None => KeyTable::default(),
    };
    // The clip of the first example; its path is relative to where the trace was made, so it is
    // also tried beside the trace and in the crate.
    let clip_path = PathBuf::from(&examples[0].trace.audio.path);
    let candidates = [
        clip_path.clone(),
        path.parent().unwrap_or(Path::new(".")).join(&clip_path),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(&clip_path),
    ];
    let duration = examples[0].trace.audio.duration_seconds;
    let player = match candidates
        .iter()
        .find(|p| p.exists())
        .map(|p| decode_file(p, 16_000))
    {
        Some(Ok(audio)) => {
            Player::open(&PlaybackClip::new(audio.source.clone(), audio.source_rate))
        }
        _ => Player::silent(
            duration,
            "the trace's clip was not found; the playhead runs silently",
        ),
    };
    crate::tui::app::run(Inspector::new(examples), keys, player)
}
