//! What a figure shows, as plain data: one panel (or two, to compare) of a trace with its
//! attention rows, ground-truth events and clip, and the view settings the numbers are computed
//! with (layers, heads, metric, colour scale, time window). The inspector builds one from its
//! current view; `auscult figure` from its arguments. Nothing here computes or draws.

use std::path::Path;

use crate::audio::decode_file;
use crate::colour_scale::ColourScale;
use crate::model::AttentionRows;
use crate::trace::metrics::{Metric, Selection};
use crate::trace::Trace;
use crate::truth::Truth;

/// The rate clips are decoded at for the spectrogram: the models' (and the inspector's) 16 kHz.
pub const CLIP_RATE: u32 = 16_000;

/// The figure's width in SVG pixels unless told otherwise; a PNG is drawn at `png_scale` times it.
pub const DEFAULT_WIDTH: f64 = 1200.0;

/// A figure: one panel, or two sharing the time axis and one colour scale.
#[derive(Debug, Clone)]
pub struct FigureSpec<'a> {
    /// One or two panels (`render_svg` refuses anything else).
    pub panels: Vec<Panel<'a>>,
    pub view: View,
    /// Width of the figure in SVG pixels (its height follows from what it shows).
    pub width: f64,
    /// PNG pixels per SVG pixel (2: print quality at the default width).
    pub png_scale: f32,
}

/// The view settings the numbers are computed with, as the inspector's header shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Layers (empty: all) and heads. The heatmap falls back to the head mean where a trace has
    /// no per-head maps, as the inspector's does.
    pub selection: Selection,
    /// The per-step value of the left column and the decay curve.
    pub metric: Metric,
    pub scale: ColourScale,
    /// The part of the clip shown, as fractions of its duration (`(0, 1)`: all of it).
    pub window: (f64, f64),
}

impl Default for View {
    fn default() -> Self {
        View {
            selection: Selection::default(),
            metric: Metric::Ratio,
            scale: ColourScale::Viridis,
            window: (0.0, 1.0),
        }
    }
}

/// One trace as a panel: the trace, its attention rows, the clip's events and samples.
#[derive(Debug, Clone)]
pub struct Panel<'a> {
    /// What the legend and the panel's header call it (a prompt style, a file's stem).
    pub name: String,
    pub trace: &'a Trace,
    /// The sidecar's generated rows (`None`: the figure says the trace has no attention).
    pub attention: Option<&'a AttentionRows>,
    /// The clip's ground-truth events, drawn as labelled spans.
    pub truth: Option<&'a Truth>,
    /// The clip's samples for the spectrogram (`None`: the strip says the clip was not found).
    pub clip: Option<ClipSamples>,
}

impl<'a> Panel<'a> {
    /// A panel named after the trace's id, with no events and no clip yet.
    pub fn new(trace: &'a Trace, attention: Option<&'a AttentionRows>) -> Self {
        Panel {
            name: trace.id.clone(),
            trace,
            attention,
            truth: None,
            clip: None,
        }
    }

    pub fn named(self, name: impl Into<String>) -> Self {
        Panel {
            name: name.into(),
            ..self
        }
    }

    pub fn with_truth(self, truth: Option<&'a Truth>) -> Self {
        Panel { truth, ..self }
    }

    pub fn with_clip(self, clip: Option<ClipSamples>) -> Self {
        Panel { clip, ..self }
    }
}

/// A clip's mono samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSamples {
    pub samples: Vec<f32>,
    pub rate: u32,
}

impl ClipSamples {
    /// The trace's clip, found as the inspector finds it (as recorded, then relative to
    /// `trace_dir`, then to the source checkout) and decoded at 16 kHz; `None` when it is not
    /// there or does not decode (traces travel without their audio: the figure says so).
    pub fn find(trace: &Trace, trace_dir: &Path) -> Option<ClipSamples> {
        let path = trace.find_clip(trace_dir)?;
        let audio = decode_file(&path, CLIP_RATE).ok()?;
        Some(ClipSamples {
            samples: audio.samples,
            rate: audio.rate,
        })
    }
}

impl<'a> FigureSpec<'a> {
    /// A figure of one panel under `view`, at the default size.
    pub fn new(panel: Panel<'a>, view: View) -> Self {
        FigureSpec {
            panels: vec![panel],
            view,
            width: DEFAULT_WIDTH,
            png_scale: 2.0,
        }
    }

    /// The same figure with `other` as a second panel, on the same time axis and colour scale.
    pub fn compare(mut self, other: Panel<'a>) -> Self {
        self.panels.truncate(1);
        self.panels.push(other);
        self
    }
}
