//! `auscult figure`: a trace's view as an SVG or PNG figure (the spectrogram, the truth events,
//! the step × time heatmap with its colour bar, each step's labels and text, the decay curve),
//! or two traces compared on one time axis and one colour scale. The drawing is `figure`'s; this
//! file reads the traces, their sidecars, clips and ground truth, and the view's settings.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cafe::judge::read_captions;
use crate::colour_scale::ColourScale;
use crate::figure::{self, ClipSamples, FigureSpec, Panel, View};
use crate::model::AttentionRows;
use crate::trace::metrics::{Heads, Metric, Selection};
use crate::trace::{read_sidecar, read_traces, Trace};
use crate::truth::Truth;

#[derive(Debug, Args)]
pub struct FigureArgs {
    /// A trace (`.json` from `run`) or a traces file (`.jsonl` from `batch` or `demo eval`).
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    /// A second trace or traces file, drawn under the first on the same time axis and colour
    /// scale, its decay curve in the same chart (from a traces file: the example with TRACE's
    /// id, else the first; --compare-id picks another).
    #[arg(long, value_name = "TRACE")]
    pub compare: Option<PathBuf>,
    /// Where to write the figure: a `.svg` or a `.png` file.
    #[arg(long, value_name = "FIG.svg|FIG.png")]
    pub out: PathBuf,
    /// The example of a traces file to draw (default: the first finished one).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The example of the --compare traces file.
    #[arg(long, value_name = "ID", requires = "compare")]
    pub compare_id: Option<String>,
    /// Layers to average (comma-separated, 0-based; default all).
    #[arg(long, value_name = "L,..", value_delimiter = ',')]
    pub layers: Vec<usize>,
    /// Heads: their mean, their max, or one head's index.
    #[arg(long, value_name = "mean|max|H", default_value = "mean", value_parser = parse_heads)]
    pub heads: Heads,
    /// The per-step value of the row labels and the decay curve: ratio, sink-corrected or focus.
    #[arg(long, value_name = "METRIC", default_value = "ratio", value_parser = parse_metric)]
    pub metric: Metric,
    /// The heatmap's colour scale: viridis, magma or grey.
    #[arg(long, value_name = "SCALE", default_value = "viridis")]
    pub scale: ColourScale,
    /// The part of the clip to draw, in seconds (default: all of it).
    #[arg(long, value_name = "FROM,TO", value_delimiter = ',', num_args = 1)]
    pub window: Option<Vec<f64>>,
    /// The clips' ground truth for the events lane: a captions file with timed events (as
    /// `inspect --captions` reads it). Synthetic items' exact events are drawn without it.
    #[arg(long, value_name = "FILE.jsonl")]
    pub captions: Option<PathBuf>,
    /// The figure's width in SVG pixels (its height follows from what it shows).
    #[arg(long, value_name = "PX", default_value_t = figure::DEFAULT_WIDTH)]
    pub width: f64,
    /// PNG pixels per SVG pixel.
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    pub png_scale: f32,
}

/// A trace read for a figure: with its attention rows, ground truth and the folder its paths
/// are relative to.
struct Loaded {
    trace: Trace,
    rows: AttentionRows,
    truth: Option<Truth>,
    folder: PathBuf,
    name: String,
}

pub fn run(args: FigureArgs) -> Result<()> {
    check_output(&args.out)?;
    let first = load(&args.trace, args.id.as_deref(), args.captions.as_deref())?;
    let second = match &args.compare {
        Some(path) => {
            let id = args.compare_id.as_deref().or(Some(first.trace.id.as_str()));
            let preferred_only = args.compare_id.is_some();
            Some(load_preferring(
                path,
                id,
                preferred_only,
                args.captions.as_deref(),
            )?)
        }
        None => None,
    };
    // Alone, a trace is named by its id (the legend's only line); compared, by its file.
    let mut names = vec![first.trace.id.clone()];
    if let (Some(second), Some(path)) = (&second, &args.compare) {
        names = vec![first.name.clone(), second.name.clone()];
        distinguish(&mut names, &[&args.trace, path]);
    }
    let view = View {
        selection: Selection {
            layers: args.layers.clone(),
            heads: args.heads,
        },
        metric: args.metric,
        scale: args.scale,
        window: window_fraction(args.window.as_deref(), &first, second.as_ref())?,
    };
    let mut spec = FigureSpec::new(panel(&first, &names[0]), view);
    if let Some(second) = &second {
        spec = spec.compare(panel(second, &names[1]));
    }
    spec.width = args.width;
    spec.png_scale = args.png_scale;
    figure::write(&spec, &args.out)
        .with_context(|| format!("{}: the figure was not written", args.out.display()))?;
    for (index, panel) in spec.panels.iter().enumerate() {
        if panel.clip.is_none() {
            eprintln!(
                "panel {}: clip {} not found: the strip says so",
                index + 1,
                panel.trace.audio.path
            );
        }
    }
    eprintln!("{}: figure written", args.out.display());
    Ok(())
}

/// A loaded trace as a panel called `name`, with its clip when it is found.
fn panel<'a>(loaded: &'a Loaded, name: &str) -> Panel<'a> {
    Panel::new(&loaded.trace, Some(&loaded.rows))
        .named(name)
        .with_truth(loaded.truth.as_ref())
        .with_clip(ClipSamples::find(&loaded.trace, &loaded.folder))
}

/// Refuses an output whose extension `figure::write` does not know, before any work.
fn check_output(path: &Path) -> Result<()> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !figure::EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()) {
        bail!(
            "{}: a figure is written as .svg or .png (by the file's extension)",
            path.display()
        );
    }
    Ok(())
}

/// The example `id` of `path` (the first when `None`).
fn load(path: &Path, id: Option<&str>, captions: Option<&Path>) -> Result<Loaded> {
    load_preferring(path, id, true, captions)
}

/// The example `id` of `path`; when `id` need not be there (`required` false), the first.
fn load_preferring(
    path: &Path,
    id: Option<&str>,
    required: bool,
    captions: Option<&Path>,
) -> Result<Loaded> {
    let traces = finished_traces(path)?;
    let trace = match id {
        Some(id) => match traces.iter().position(|t| t.id == id) {
            Some(index) => traces.into_iter().nth(index),
            None if !required => traces.into_iter().next(),
            None => {
                let known: Vec<&str> = traces.iter().take(5).map(|t| t.id.as_str()).collect();
                bail!(
                    "{}: no finished trace with id {id:?} (it has {}{})",
                    path.display(),
                    known.join(", "),
                    if traces.len() > known.len() {
                        ", …"
                    } else {
                        ""
                    }
                )
            }
        },
        None => traces.into_iter().next(),
    }
    .with_context(|| format!("{}: no finished traces to draw", path.display()))?;
    let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let Some(record) = &trace.attention else {
        bail!(
            "{}: trace {} has no attention (it was run with capture off): run it again with \
             capture on to draw it",
            path.display(),
            trace.id
        );
    };
    let rows = read_sidecar(&folder.join(&record.sidecar))?.generated;
    let truth = match captions {
        Some(file) => read_captions(file)?
            .get(&trace.id)
            .and_then(Truth::from_caption)
            .or_else(|| Truth::synthetic(&trace)),
        None => Truth::synthetic(&trace),
    };
    Ok(Loaded {
        name: display_name(path, &trace),
        trace,
        rows,
        truth,
        folder,
    })
}

/// The finished traces of a `.json` trace or a `.jsonl` traces file.
fn finished_traces(path: &Path) -> Result<Vec<Trace>> {
    if !path.is_file() {
        bail!(
            "{}: no such file (give a trace .json from `auscult run` or a traces .jsonl from \
             `auscult batch` or `auscult demo eval`)",
            path.display()
        );
    }
    if path.extension().is_some_and(|e| e == "json") {
        return Ok(vec![Trace::read(path)?]);
    }
    Ok(read_traces(path)?.finished())
}

/// What the legend calls a trace: its file's stem, or for `demo eval`'s `traces.jsonl` the
/// folder it is in (named after the prompt); a lone `.json` trace by its id.
fn display_name(path: &Path, trace: &Trace) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    match (stem, folder) {
        ("traces", Some(folder)) => folder.to_owned(),
        ("", _) => trace.id.clone(),
        (stem, _) => stem.to_owned(),
    }
}

/// Two panels called the same are told apart by their files' paths, else by A and B.
fn distinguish(names: &mut [String], paths: &[&Path]) {
    if names.len() == 2 && names[0] == names[1] {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        if shown[0] != shown[1] {
            names.clone_from_slice(&shown);
        } else {
            names[0].push_str(" (A)");
            names[1].push_str(" (B)");
        }
    }
}

/// `--window FROM,TO` in seconds as fractions of the longer clip.
fn window_fraction(
    seconds: Option<&[f64]>,
    first: &Loaded,
    second: Option<&Loaded>,
) -> Result<(f64, f64)> {
    let Some(seconds) = seconds else {
        return Ok((0.0, 1.0));
    };
    let duration = second
        .map_or(0.0, |s| s.trace.audio.duration_seconds)
        .max(first.trace.audio.duration_seconds);
    match seconds {
        &[from, to] if from >= 0.0 && to > from && duration > 0.0 => {
            Ok((from / duration, (to / duration).min(1.0)))
        }
        _ => bail!(
            "--window takes FROM,TO in seconds with 0 ≤ FROM < TO (the clip is {duration:.2} s)"
        ),
    }
}

fn parse_heads(text: &str) -> Result<Heads, String> {
    match text {
        "mean" => Ok(Heads::Mean),
        "max" => Ok(Heads::Max),
        _ => text
            .parse()
            .map(Heads::One)
            .map_err(|_| format!("{text:?} is not mean, max or a head's index")),
    }
}

fn parse_metric(text: &str) -> Result<Metric, String> {
    match text {
        "ratio" => Ok(Metric::Ratio),
        "sink-corrected" | "sink_corrected" => Ok(Metric::SinkCorrected),
        "focus" => Ok(Metric::Focus),
        _ => Err(format!("{text:?} is not ratio, sink-corrected or focus")),
    }
}
