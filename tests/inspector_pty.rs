//! End-to-end: the real `auscult` binary driven through a pseudo-terminal.
//!
//! Each test spawns the binary in a 100×30 pty (portable-pty) with `TERM=xterm-256color`, parses
//! everything it writes into a screen (vt100), types keys and waits for what the screen should
//! then show. At the end it checks that the program left the terminal as it found it: off the
//! alternate screen and with the cursor shown, after its last frame, and the pty's line
//! discipline back in cooked mode (ICANON and ECHO set). The SIGTERM test is the specification
//! for a polite kill: exit promptly and restore the terminal all the same.
//!
//! Waits are bounded (a timeout panics with the screen as it was), never used as assertions.
//!
//! `cargo test --test all inspector_pty::`. Unix only.

#![cfg(unix)]

use crate::common;

use common::pty::{cells, dump, has_colour, has_row_starting, header, help_shown, Pty, COLS, ROWS};

// --- What the tests look for -------------------------------------------------------------------

/// The bundled trace, relative to the crate.
const HAND_MADE_TRACE: &str = "assets/demo/demo-tones.json";
/// The question of the bundled trace, on the header's first line.
const QUESTION: &str = "How many tones come before the noise";

// --- The tests ---------------------------------------------------------------------------------

#[test]
fn keys_drive_the_inspector_and_q_restores_the_terminal() {
    let mut pty = Pty::spawn(&["inspect", HAND_MADE_TRACE], &[]);
    pty.wait_for("the question", |s| s.contents().contains(QUESTION));
    pty.assert_raw_mode();
    pty.wait_for("a coloured heatmap", has_colour);
    pty.wait_for("the marker on step 0", |s| has_row_starting(s, "▶  0"));

    pty.press("j");
    pty.wait_for("the marker on step 1", |s| has_row_starting(s, "▶  1"));

    pty.press("l");
    pty.wait_for("\"layer 0\" in the header", |s| {
        header(s).iter().any(|row| row.contains("layer 0"))
    });

    pty.press("?");
    pty.wait_for("the help overlay", help_shown);
    // `?` again turns to the legend page, a third time closes it.
    pty.press("?");
    pty.wait_for("the legend", |s| {
        s.contents().contains("legend (? closes)") && s.contents().contains("focus: attention")
    });
    pty.press("?");
    pty.wait_for("the help overlay closed", |s| {
        !help_shown(s) && !s.contents().contains("legend (? closes)")
    });

    // Without the `sound` feature playback is a silent playhead: nothing to hear, but the
    // strip's clock runs ("▶ 0.4/3.5s").
    pty.press(" ");
    pty.wait_for("the playhead running", |s| {
        s.contents()
            .lines()
            .any(|row| row.starts_with("▶ ") && row.contains("/3.5s") && !row.starts_with("▶ 0.0/"))
    });
    pty.press("k");
    pty.wait_for("the marker back on step 0 after play", |s| {
        has_row_starting(s, "▶  0")
    });

    // A click (SGR mouse report, 1-based) on step 4's row selects it.
    let row = {
        let output = pty.lock();
        let contents = output.parser.screen().contents();
        contents
            .lines()
            .position(|line| line.starts_with("   4 "))
            .unwrap_or_else(|| panic!("step 4's row\n{contents}"))
    };
    pty.press(&format!("\x1b[<0;3;{}M\x1b[<0;3;{}m", row + 1, row + 1));
    pty.wait_for("the marker on step 4 after a click", |s| {
        has_row_starting(s, "▶  4")
    });
    pty.assert_running();

    pty.quit_cleanly();
}

/// `auscult` with no arguments: the bundled demo model runs live on the first bundled example;
/// its question shows at once, then the finished run's answer (scored against the item's), and
/// the steps carry the checker's CAFE tags.
#[test]
fn no_arguments_runs_the_demo_model_live() {
    let examples =
        std::fs::read_to_string(common::repo_path("assets/examples/traces.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(examples.lines().next().unwrap()).unwrap();
    let question: String = first["benchmark"]["question"]
        .as_str()
        .unwrap()
        .chars()
        .take(30)
        .collect();
    let predicted = format!(
        "predicted: {}",
        first["answer"]["extracted"].as_str().unwrap()
    );
    let mut pty = Pty::spawn(&[], &[]);
    pty.wait_for("the example's question", |s| {
        s.contents().contains(&question)
    });
    pty.wait_for("the bundled trace's answer, from the live run", |s| {
        header(s).iter().any(|line| line.contains(&predicted))
    });
    pty.wait_for("a CAFE tag", |s| {
        ["MAT", "HAL", "MIS"]
            .iter()
            .any(|tag| s.contents().contains(tag))
    });
    pty.quit_cleanly();
}

/// The live run's model stays loaded for the evidence keys: `r` regenerates from the selected
/// step with the audio hidden and shows it beside the original (`r` again closes it); `R`
/// measures reliance in the background, after which the metric key reaches Δ under silence.
#[test]
fn the_live_runs_model_hides_the_audio_from_a_step_and_measures_reliance() {
    let mut pty = Pty::spawn(&[], &[]);
    pty.wait_for("the live run's answer", |s| {
        header(s).iter().any(|line| line.contains("predicted: "))
    });
    pty.press("r");
    pty.wait_until(
        "the intervention beside the original",
        std::time::Duration::from_secs(60),
        |output| {
            let text = output.parser.screen().contents();
            text.contains("the audio hidden from here on")
                && text.contains("as generated")
                && (text.contains("the answer changed") || text.contains("the answer stayed"))
        },
    );
    pty.press("r");
    pty.wait_for("the heatmap again", |s| has_row_starting(s, "▶"));
    pty.press("R");
    pty.wait_until(
        "reliance measured",
        std::time::Duration::from_secs(60),
        |output| {
            let text = output.parser.screen().contents();
            text.contains("reliance measured (silence, masked)")
        },
    );
    pty.press("mmm");
    pty.wait_for("Δ under silence as the metric", |s| {
        header(s).iter().any(|line| line.contains("Δ silence"))
            && s.contents().contains("reliance silence Δ")
    });
    pty.quit_cleanly();
}

#[test]
fn resizing_redraws_and_too_small_says_so() {
    let mut pty = Pty::spawn(&["inspect", HAND_MADE_TRACE], &[]);
    pty.wait_for("the question", |s| s.contents().contains(QUESTION));
    pty.resize(16, 60);
    pty.wait_for(
        "the smallest layout: the selected step and the step text",
        |s| {
            let rows: Vec<String> = s.contents().lines().map(str::to_owned).collect();
            rows.len() == 16
                && has_row_starting(s, "▶  0 P")
                && rows.iter().any(|row| row.starts_with(" step 0 ·"))
                && !rows[15].is_empty()
        },
    );
    pty.resize(12, 50);
    pty.wait_for("\"terminal too small\"", |s| {
        s.contents().contains("terminal too small: 50×12")
    });
    pty.resize(ROWS, COLS);
    pty.wait_for("the full view again", |s| {
        s.contents().contains(QUESTION) && !s.contents().contains("too small")
    });
    pty.quit_cleanly();
}

#[test]
fn sigterm_exits_and_restores_the_terminal() {
    let mut pty = Pty::spawn(&["inspect", HAND_MADE_TRACE], &[]);
    pty.wait_for("the question", |s| s.contents().contains(QUESTION));
    pty.assert_raw_mode();

    pty.signal(libc::SIGTERM);
    // Any exit status will do (0, or 128 + 15 by convention); exiting promptly is the point.
    pty.wait_exit();
    pty.assert_terminal_restored();
}

#[test]
fn no_color_draws_shades_and_no_colour() {
    let mut pty = Pty::spawn(&["inspect", HAND_MADE_TRACE], &[("NO_COLOR", "1")]);
    pty.wait_for("the question", |s| s.contents().contains(QUESTION));
    // Each frame is flushed whole before the next key is read, so once the second frame shows,
    // the first is complete on the screen.
    pty.press("j");
    pty.wait_for("the marker on step 1", |s| has_row_starting(s, "▶  1"));
    {
        let output = pty.lock();
        let screen = output.parser.screen();
        let coloured: Vec<String> = cells(screen)
            .filter(|(_, _, cell)| {
                cell.fgcolor() != vt100::Color::Default || cell.bgcolor() != vt100::Color::Default
            })
            .take(5)
            .map(|(row, col, cell)| {
                format!(
                    "({row}, {col}) {:?} fg {:?} bg {:?}",
                    cell.contents(),
                    cell.fgcolor(),
                    cell.bgcolor()
                )
            })
            .collect();
        assert!(
            coloured.is_empty(),
            "NO_COLOR=1: cells with colour, first few: {coloured:?}\n{}",
            dump(screen)
        );
        assert!(
            screen.contents().contains(['░', '▒', '▓', '█']),
            "NO_COLOR=1: no shade characters in the heatmap\n{}",
            dump(screen)
        );
    }

    pty.quit_cleanly();
}

/// `demo compare`: the bundled demo model asks fresh items directly and with reasoning, and the
/// inspector opens on both; `o` hands the step keys to the reasoning side.
#[test]
fn demo_compare_opens_direct_and_reasoning_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    let mut pty = Pty::spawn(&["demo", "compare", "--n", "3", "--out", out_arg], &[]);
    pty.wait_for("both sides' titles", |s| {
        let text = s.contents();
        text.contains("A r1-aqa ") && text.contains("B r1-aqa-think")
    });
    // The list pops up over a traces file: close it, then step the reasoning side.
    pty.press("e");
    pty.wait_for("the list closed", |s| {
        !s.contents().contains("examples 3/3")
    });
    pty.press("o");
    pty.press("j");
    pty.wait_for("B's step 1 selected", |s| has_row_starting(s, "▶  1 "));
    pty.quit_cleanly();
    for prompt in ["r1-aqa", "r1-aqa-think"] {
        assert!(out.path().join(prompt).join("traces.jsonl").is_file());
    }
}

/// `W` writes the view as a figure beside the trace, and says where.
#[test]
fn the_figure_key_writes_the_view_beside_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["demo-tones.json", "demo-tones.attn.safetensors"] {
        std::fs::copy(
            common::repo_path("assets/demo").join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    let trace = dir.path().join("demo-tones.json");
    let mut pty = Pty::spawn(&["inspect", trace.to_str().unwrap()], &[]);
    pty.wait_for("the question", |s| s.contents().contains(QUESTION));
    pty.press("W");
    pty.wait_for("where the figure went", |s| {
        s.contents().contains("figure written to")
    });
    pty.quit_cleanly();
    let figure = std::fs::read_to_string(dir.path().join("demo-tones.figure.svg")).unwrap();
    assert!(figure.starts_with("<svg") || figure.starts_with("<?xml"));
    assert!(figure.contains("How many tones come before the noise"));
}
