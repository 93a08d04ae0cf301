//! `auscult figure`: the SVG it writes has every part of the view (a heatmap row per step, the
//! colour bar, the labels), a PNG has the size asked for, two compared traces share one colour
//! scale, and bad input is one line naming the file and what to do.

use crate::common;

use std::path::{Path, PathBuf};

use auscult::colour_scale::ColourScale;
use auscult::trace::{read_sidecar, write_sidecar, Trace};
use common::{expect_one_line_error, repo_path, CommandLine};

fn demo_trace() -> PathBuf {
    repo_path("assets/demo/demo-tones.json")
}

/// The `class` groups of a parsed SVG.
fn groups<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

fn all_text(doc: &roxmltree::Document) -> String {
    doc.descendants()
        .filter_map(|n| n.is_text().then(|| n.text()).flatten())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_svg_has_a_row_per_step_the_colour_bar_and_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figure.svg");
    CommandLine::new("figure")
        .arg(demo_trace())
        .out(&out)
        .args(&["--layers", "1,2", "--heads", "max", "--metric", "focus"])
        .args(&["--scale", "magma", "--window", "0.5,3"])
        .succeeds();
    let svg = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the figure is well-formed XML");
    let trace = Trace::read(&demo_trace()).unwrap();
    assert_eq!(groups(&doc, "heatmap-row").len(), trace.steps.len());
    assert_eq!(groups(&doc, "colour-bar").len(), 1);
    assert_eq!(groups(&doc, "decay").len(), 1);
    assert!(
        groups(&doc, "spectrogram")[0]
            .children()
            .any(|n| n.has_tag_name("path")),
        "the clip is found and drawn"
    );
    let text = all_text(&doc);
    for expected in [
        "How many tones come before the noise",
        "gold: Three, falling",
        "✗",
        "layers 1–2",
        "head max",
        "metric: focus",
        "colour scale: magma",
        "0.50–3.00 s of 3.50 s",
        "HAL",
        "MIS",
        "MAT",
        "decay: focus per step",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
}

#[test]
fn a_png_has_its_signature_and_the_size_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figure.PNG");
    CommandLine::new("figure")
        .arg(repo_path("assets/examples/traces.jsonl"))
        .option("--id", "synth-30064771074")
        .out(&out)
        .args(&["--width", "900", "--png-scale", "1.5"])
        .succeeds();
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(width, 1350);
    assert!(height > 600, "{height}");
}

/// `demo-tones.json` copied into `dir` as `name.json`, its attention maps scaled by `factor`.
fn scaled_copy(dir: &Path, name: &str, factor: f32) -> PathBuf {
    let mut trace = Trace::read(&demo_trace()).unwrap();
    let mut arrays = read_sidecar(&repo_path("assets/demo/demo-tones.attn.safetensors")).unwrap();
    arrays
        .generated
        .audio_map
        .iter_mut()
        .for_each(|v| *v *= factor);
    if let Some(maps) = arrays.generated.head_maps.as_mut() {
        maps.iter_mut().for_each(|v| *v *= factor);
    }
    let sidecar = format!("{name}.attn.safetensors");
    trace.attention.as_mut().unwrap().sidecar = sidecar.clone();
    write_sidecar(&dir.join(&sidecar), &arrays).unwrap();
    let path = dir.join(format!("{name}.json"));
    trace.write(&path).unwrap();
    path
}

#[test]
fn compared_traces_share_one_colour_scale() {
    let dir = tempfile::tempdir().unwrap();
    let strong = scaled_copy(dir.path(), "strong", 1.0);
    let weak = scaled_copy(dir.path(), "weak", 0.5);
    let out = dir.path().join("compare.svg");
    CommandLine::new("figure")
        .arg(&strong)
        .option("--compare", &weak)
        .out(&out)
        .succeeds();
    let svg = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let panels = groups(&doc, "panel");
    assert_eq!(panels.len(), 2);
    assert_eq!(groups(&doc, "colour-bar").len(), 1, "one scale for both");
    let top = {
        let (r, g, b) = ColourScale::Viridis.rgb(1.0);
        format!("#{r:02x}{g:02x}{b:02x}")
    };
    let top_cells: Vec<usize> = panels
        .iter()
        .map(|panel| {
            panel
                .descendants()
                .filter(|n| n.attribute("class") == Some("heatmap-row"))
                .flat_map(|row| row.children())
                .filter(|n| n.attribute("fill") == Some(top.as_str()))
                .count()
        })
        .collect();
    assert!(top_cells[0] >= 1, "{top_cells:?}");
    assert_eq!(
        top_cells[1], 0,
        "half as strong never reaches the top: {top_cells:?}"
    );
    let text = all_text(&doc);
    assert!(
        text.contains("strong") && text.contains("weak"),
        "both named: {text}"
    );
}

#[test]
fn bad_input_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figure.svg");
    let figure = |trace: &Path| CommandLine::new("figure").arg(trace).out(&out);

    let missing = dir.path().join("missing.json");
    expect_one_line_error(&figure(&missing).run(), &["missing.json", "no such file"]);

    let wrong_out = dir.path().join("figure.jpg");
    let output = CommandLine::new("figure")
        .arg(demo_trace())
        .out(&wrong_out)
        .run();
    expect_one_line_error(&output, &["figure.jpg", ".svg or .png"]);

    let output = figure(&repo_path("assets/demo/demo-set.jsonl"))
        .option("--id", "no-such-item")
        .run();
    expect_one_line_error(&output, &["demo-set.jsonl", "no-such-item", "demo-tones"]);

    let mut trace = Trace::read(&demo_trace()).unwrap();
    trace.attention = None;
    let bare = dir.path().join("bare.json");
    trace.write(&bare).unwrap();
    expect_one_line_error(&figure(&bare).run(), &["bare.json", "no attention"]);

    let output = figure(&demo_trace()).option("--layers", "99").run();
    expect_one_line_error(&output, &["layer 99 does not exist"]);

    let output = figure(&demo_trace()).option("--window", "3,1").run();
    expect_one_line_error(&output, &["--window"]);
    assert!(!out.exists(), "nothing written after an error");
}
