//! The figure drawn from the hand-made example traces: its parts are all there, its numbers are
//! the inspector's, a compared pair shares one colour scale, and what cannot be drawn is refused.

use std::path::Path;

use super::*;
use crate::colour_scale::ColourScale;
use crate::example_traces::{example_trace, tones_spec};
use crate::model::AttentionRows;
use crate::trace::metrics::{Heads, Metric, Selection};
use crate::trace::Trace;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tones() -> (Trace, AttentionRows) {
    let (trace, arrays) = example_trace(&tones_spec());
    (trace, arrays.generated)
}

/// The `class` groups of an SVG document.
fn groups<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

fn texts(doc: &roxmltree::Document) -> String {
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_single_panel_has_every_part() {
    let (trace, rows) = tones();
    let clip = ClipSamples::find(&trace, repository());
    assert!(clip.is_some(), "the demo clip is in the repository");
    let panel = Panel::new(&trace, Some(&rows)).with_clip(clip);
    let svg = render_svg(&FigureSpec::new(panel, View::default())).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(groups(&doc, "heatmap-row").len(), trace.steps.len());
    assert_eq!(groups(&doc, "colour-bar").len(), 1);
    assert_eq!(groups(&doc, "decay").len(), 1);
    let spectrogram = &groups(&doc, "spectrogram")[0];
    assert!(
        spectrogram
            .children()
            .filter(|n| n.has_tag_name("path"))
            .count()
            > 5
    );
    let words = texts(&doc);
    for expected in [
        trace.prompt.question.as_deref().unwrap(),
        "gold: Three, falling",
        "✗",
        "all layers",
        "head mean",
        "metric: ratio",
        "colour scale: viridis",
        "HAL",
        "MIS",
        "MAT",
        "decay: ratio per step",
        "time (s)",
    ] {
        assert!(words.contains(expected), "{expected:?} in {words}");
    }
    // Each row's cells cover the part of the clip its audio tokens stand for, once.
    let edges: Vec<(f64, f64)> = groups(&doc, "heatmap-row")[0]
        .children()
        .filter(|n| n.has_tag_name("rect"))
        .map(|n| {
            let number = |name| n.attribute(name).unwrap().parse::<f64>().unwrap();
            (number("x"), number("x") + number("width"))
        })
        .collect();
    assert!(
        edges.windows(2).all(|w| w[1].0 <= w[0].1),
        "no gap between runs: {edges:?}"
    );
    let width = edges.last().unwrap().1 - edges[0].0;
    let columns = layout::Columns::new(DEFAULT_WIDTH);
    let covered = (rows.audio_tokens as f64 * trace.audio.seconds_per_audio_token)
        .min(trace.audio.duration_seconds);
    let expected = covered / trace.audio.duration_seconds * columns.map_width;
    // Each rectangle is written to two decimals.
    assert!((width - expected).abs() < 0.5, "{width} vs {expected}");
}

#[test]
fn the_numbers_are_the_inspector_s() {
    let (trace, rows) = tones();
    let view = View {
        selection: Selection {
            layers: vec![1],
            heads: Heads::Max,
        },
        metric: Metric::Focus,
        ..View::default()
    };
    let numbers = PanelNumbers::compute(&Panel::new(&trace, Some(&rows)), &view).unwrap();
    let attention = crate::trace::metrics::AttentionView::new(&rows, trace.input.ids.len());
    let step = &trace.steps[2];
    assert_eq!(
        numbers.values[2],
        attention
            .span_value(Metric::Focus, step.tokens, &view.selection)
            .unwrap()
    );
    let map_heads = if rows.head_maps.is_some() {
        Heads::Max
    } else {
        Heads::Mean
    };
    assert_eq!(numbers.map_heads, map_heads);
    let selection = Selection {
        heads: map_heads,
        ..view.selection.clone()
    };
    assert_eq!(
        numbers.maps[2],
        attention.span_map(step.tokens, &selection).unwrap()
    );
}

#[test]
fn a_missing_clip_is_said_and_the_figure_still_drawn() {
    let (mut trace, rows) = tones();
    trace.audio.path = "nowhere/gone.wav".into();
    assert!(ClipSamples::find(&trace, repository()).is_none());
    let spec = FigureSpec::new(Panel::new(&trace, Some(&rows)), View::default());
    let svg = render_svg(&spec).unwrap();
    assert!(svg.contains("clip not found: nowhere/gone.wav"), "{svg}");
}

#[test]
fn a_compared_pair_shares_one_colour_scale() {
    let (trace, rows) = tones();
    let mut weaker = rows.clone();
    weaker.audio_map.iter_mut().for_each(|v| *v *= 0.5);
    let mut other = trace.clone();
    other.id = "weaker".into();
    let spec = FigureSpec::new(
        Panel::new(&trace, Some(&rows)).named("strong"),
        View::default(),
    )
    .compare(Panel::new(&other, Some(&weaker)).named("weak"));
    let svg = render_svg(&spec).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let panels = groups(&doc, "panel");
    assert_eq!(panels.len(), 2);
    let top = svg::hex(ColourScale::Viridis.rgb(1.0));
    let top_cells = |panel: &roxmltree::Node| {
        panel
            .descendants()
            .filter(|n| n.attribute("class") == Some("heatmap-row"))
            .flat_map(|row| row.children())
            .filter(|n| n.attribute("fill") == Some(top.as_str()))
            .count()
    };
    assert!(
        top_cells(&panels[0]) >= 1,
        "the strongest cell is at the top"
    );
    assert_eq!(top_cells(&panels[1]), 0, "half as strong: never at the top");
    assert_eq!(groups(&doc, "colour-bar").len(), 1);
    let words = texts(&doc);
    assert!(
        words.contains("strong") && words.contains("weak"),
        "{words}"
    );
}

#[test]
fn what_cannot_be_drawn_is_refused() {
    let (trace, rows) = tones();
    let no_attention = FigureSpec::new(Panel::new(&trace, None), View::default());
    let error = render_svg(&no_attention).unwrap_err().to_string();
    assert!(error.contains("no attention"), "{error}");
    let bad_layer = FigureSpec::new(
        Panel::new(&trace, Some(&rows)),
        View {
            selection: Selection {
                layers: vec![99],
                heads: Heads::Mean,
            },
            ..View::default()
        },
    );
    let error = render_svg(&bad_layer).unwrap_err().to_string();
    assert!(error.contains("layer 99 does not exist"), "{error}");
    let bad_window = FigureSpec::new(
        Panel::new(&trace, Some(&rows)),
        View {
            window: (0.5, 0.5),
            ..View::default()
        },
    );
    assert!(render_svg(&bad_window).is_err());
    let dir = tempfile::tempdir().unwrap();
    let spec = FigureSpec::new(Panel::new(&trace, Some(&rows)), View::default());
    let error = write(&spec, &dir.path().join("figure.jpg"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("figure.jpg") && error.contains(".svg or .png"),
        "{error}"
    );
}

#[test]
fn a_png_is_drawn_at_the_asked_size() {
    let (trace, rows) = tones();
    let mut spec = FigureSpec::new(Panel::new(&trace, Some(&rows)), View::default());
    spec.width = 800.0;
    spec.png_scale = 1.5;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("figure.png");
    write(&spec, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, 1200);
}

/// A trace of `count` steps of one token each, with long texts.
fn many_steps(count: usize) -> (Trace, AttentionRows) {
    let (mut trace, rows) = tones();
    let template = trace.steps[1].clone();
    trace.steps = (0..count)
        .map(|index| crate::trace::Step {
            index,
            tokens: [index % rows.rows, index % rows.rows + 1],
            text: format!(
                "Step {index}: {} and then it goes on about what it heard for a long while",
                template.text
            ),
            ..template.clone()
        })
        .collect();
    trace.labels = None;
    (trace, rows)
}

#[test]
fn a_long_trace_keeps_every_row_and_says_which_texts_it_left_out() {
    let (trace, rows) = many_steps(150);
    let spec = FigureSpec::new(Panel::new(&trace, Some(&rows)), View::default());
    let svg = render_svg(&spec).unwrap();
    if let Ok(folder) = std::env::var("AUSCULT_FIGURE_DUMP") {
        write(&spec, &Path::new(&folder).join("long.png")).unwrap();
    }
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(groups(&doc, "heatmap-row").len(), 150);
    let shown = groups(&doc, "step-texts")[0]
        .children()
        .filter(|n| n.has_tag_name("text"))
        .count();
    assert!((20..=60).contains(&shown), "{shown} texts");
    let words = texts(&doc);
    assert!(words.contains("left out"), "{words}");
    // Every text fits its column.
    let columns = layout::Columns::new(DEFAULT_WIDTH);
    for node in groups(&doc, "step-texts")[0]
        .children()
        .filter(|n| n.has_tag_name("text"))
    {
        let line = node.text().unwrap_or("");
        assert!(
            text::width(line, layout::STEP_TEXT_SIZE) <= columns.text_width + 0.01,
            "{line}"
        );
    }
}

#[test]
fn a_middling_trace_wraps_its_texts_onto_one_line_each() {
    let (trace, rows) = many_steps(30);
    let spec = FigureSpec::new(Panel::new(&trace, Some(&rows)), View::default());
    if let Ok(folder) = std::env::var("AUSCULT_FIGURE_DUMP") {
        write(&spec, &Path::new(&folder).join("middling.png")).unwrap();
    }
    let svg = render_svg(&spec).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let shown = groups(&doc, "step-texts")[0]
        .children()
        .filter(|n| n.has_tag_name("text"))
        .count();
    assert_eq!(shown, 30);
    assert!(!texts(&doc).contains("left out"));
}
