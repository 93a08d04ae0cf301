//! The evidence views on the fixture's evidence (`state::evidence_fixture`), checked for
//! particular behaviour at 80×24 and 160×48: the evidence heatmap puts each step's occlusion on
//! the clip's time axis, the strip under the attention heatmap is the selected step's, the chosen
//! reliance metric drives the step values, the step panel shows reliance and the intervention,
//! the decay chart pairs attention with reliance, and the intervention view shows both texts.
//! The screen snapshots of these views are in `tests`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::tests::{draw, evidence_state, evidence_view, state, text};
use super::*;
use crate::model::Counterfactual;
use crate::trace::evidence_metrics::{EvidenceView, Reliance};
use crate::tui::layout::{column_time, regions, LEFT_COLUMN};
use crate::tui::palette::SHADES;
use crate::tui::state::evidence_fixture::INTERVENED_STEP;
use crate::tui::state::{HeatmapMode, StepMetric};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// The shade level (0 = blank … 4 = full) of each time cell of screen row `y` (`None`: not a
/// shade, such as the dot of a moment nothing measured).
fn levels(buf: &Buffer, y: u16) -> Vec<Option<usize>> {
    (LEFT_COLUMN..buf.area.width)
        .map(|x| {
            let symbol = buf[(x, y)].symbol();
            SHADES.iter().position(|s| s.to_string() == symbol)
        })
        .collect()
}

/// The time at the centre of each time column of the screen.
fn times(state: &Inspector, width: u16) -> Vec<f64> {
    let columns = width - LEFT_COLUMN;
    let duration = state.example().unwrap().trace.audio.duration_seconds;
    (0..columns)
        .map(|c| column_time(state.view, duration, columns, c))
        .collect()
}

#[test]
fn the_evidence_heatmap_puts_each_steps_occlusion_on_the_time_axis() {
    for (width, height) in SIZES {
        let state = evidence_view(1, &[Action::ToggleHeatmap]);
        assert_eq!(state.heatmap, HeatmapMode::Evidence);
        let buf = draw(&state, Palette::Monochrome, width, height);
        let screen = text(&buf);
        assert!(screen.contains("evidence heatmap"), "{screen}");
        let parts = regions(&state, buf.area).unwrap();
        assert_eq!(parts.occlusion, None, "the strip is the attention mode's");
        // Step 1 reports the first tone (0–0.6 s): its tokens lose most when the first window
        // (0–0.5 s) is zeroed, some for the second (0.5–1 s, which holds 0.1 s of it), nothing
        // after 1 s.
        let row = levels(&buf, parts.heatmap.y + 1);
        for (level, time) in row.iter().zip(times(&state, width)) {
            let expected = match time {
                t if t < 0.5 => 4,
                t if t < 1.0 => 1,
                _ => 0,
            };
            assert_eq!(*level, Some(expected), "at {time:.2} s\n{screen}");
        }
        // Step 8 hallucinates a bird: it relies on no part of the clip.
        let rows = usize::from(parts.heatmap.height);
        if rows > 8 {
            let hallucinated = levels(&buf, parts.heatmap.y + 8);
            assert!(hallucinated.iter().all(|&l| l == Some(0)), "{screen}");
        }
    }
}

#[test]
fn the_occlusion_strip_under_the_attention_heatmap_is_the_selected_steps() {
    for (width, height) in SIZES {
        let attention = evidence_view(1, &[]);
        let buf = draw(&attention, Palette::Monochrome, width, height);
        let parts = regions(&attention, buf.area).unwrap();
        let strip = parts
            .occlusion
            .expect("a strip with occlusion in the trace");
        assert_eq!(strip.y, parts.heatmap.bottom());
        assert_eq!(strip.width, parts.heatmap.width);
        let screen = text(&buf);
        let label: String = screen
            .lines()
            .nth(usize::from(strip.y))
            .unwrap()
            .chars()
            .take(22)
            .collect();
        assert_eq!(label, "   1 occlusion Δ ≤2.21", "{screen}");
        // Step 1's strip is the largest, so scaled to itself it draws as its row does in the
        // evidence heatmap (scaled to every visible row).
        let evidence = evidence_view(1, &[Action::ToggleHeatmap]);
        let evidence_buf = draw(&evidence, Palette::Monochrome, width, height);
        let row = regions(&evidence, buf.area).unwrap().heatmap.y + 1;
        assert_eq!(
            levels(&buf, strip.y),
            levels(&evidence_buf, row),
            "{screen}"
        );
    }
    // Without occlusion in the trace there is no strip.
    assert_eq!(
        regions(&state(), Rect::new(0, 0, 80, 24))
            .unwrap()
            .occlusion,
        None
    );
}

#[test]
fn a_reliance_metric_gives_the_step_values_and_the_panel_shows_reliance() {
    let state = evidence_view(INTERVENED_STEP, &[Action::NextMetric; 3]);
    assert_eq!(
        state.metric,
        StepMetric::Reliance(Reliance::Delta, Counterfactual::Silence)
    );
    let example = state.example().unwrap();
    let view = EvidenceView::new(example.evidence.as_ref().unwrap());
    let value = |step: usize, quantity, counterfactual| {
        let tokens = example.trace.steps[step].tokens;
        view.span_value(quantity, counterfactual, tokens).unwrap()
    };
    let screen = text(&draw(&state, Palette::TrueColor, 80, 24));
    // The step list shows each step's Δ under silence.
    for step in [1, 2, 7] {
        let shown = number::fit(value(step, Reliance::Delta, Counterfactual::Silence), 5, 2);
        assert!(
            screen
                .lines()
                .any(|l| l.starts_with(&format!("   {step} P  {shown}"))),
            "step {step}: {shown}\n{screen}"
        );
    }
    assert!(screen.contains("Δ silence 1.897"), "{screen}");
    let silence = format!(
        "reliance silence Δ {}  KL {}  flip 100%",
        number::fit_signed(value(3, Reliance::Delta, Counterfactual::Silence), 6, 2),
        number::fit(value(3, Reliance::Kl, Counterfactual::Silence), 5, 2),
    );
    assert!(screen.contains(&silence), "{silence}\n{screen}");
    assert!(screen.contains("reliance masked  Δ +0.95"), "{screen}");
    assert!(
        screen.contains("no audio from here: answer Three, rising → Two,"),
        "{screen}"
    );
}

#[test]
fn the_decay_chart_draws_attention_and_reliance_each_on_its_own_scale() {
    let attention = text(&draw(&evidence_state(), Palette::TrueColor, 80, 24));
    assert!(
        attention.contains("─ ratio • Δ silence ÷ max"),
        "{attention}"
    );
    let wide = text(&draw(&evidence_state(), Palette::TrueColor, 160, 48));
    assert!(
        wide.contains("─ ratio (÷0.21) • Δ silence (÷2.21)"),
        "{wide}"
    );
    let reliance = evidence_view(0, &[Action::NextMetric; 4]);
    let screen = text(&draw(&reliance, Palette::TrueColor, 80, 24));
    assert!(screen.contains("─ KL silence • ratio ÷ max"), "{screen}");
    // Without evidence, one curve in its own units with its trend.
    let plain = text(&draw(&state(), Palette::TrueColor, 80, 24));
    assert!(plain.contains("decay: ratio, trend"), "{plain}");
}

#[test]
fn the_intervention_view_shows_the_original_beside_the_regeneration() {
    for (width, height) in SIZES {
        let state = evidence_view(INTERVENED_STEP, &[Action::HideAudioFromStep]);
        assert!(state.comparing);
        let screen = text(&draw(&state, Palette::Monochrome, width, height));
        for expected in [
            "step 3: the audio hidden from here on · r or esc closes",
            "answer Three, rising ✗ → Two, falling ✗  the answer changed",
            "kept, having heard the audio: …",
            "as generated",
            "audio hidden from step 3",
            "At 1.2 s the noise begins.",
            "<answer>Two, falling</answer>",
        ] {
            assert!(screen.contains(expected), "{expected:?}\n{screen}");
        }
        // Side by side: the original step and the regenerated one on the same row.
        assert!(
            screen
                .lines()
                .any(|l| l.contains("At 1.2 s a third tone")
                    && l.contains("At 1.2 s the noise begins.")),
            "{screen}"
        );
        // The kept text ends where the step begins.
        let kept = screen
            .lines()
            .find(|l| l.contains("kept, having heard the audio"))
            .unwrap();
        assert!(
            kept.trim_end_matches('│').ends_with("a little higher."),
            "{kept}"
        );
    }
    // A step without one, and no model: the view says how to get it.
    let mut state = evidence_view(INTERVENED_STEP, &[Action::HideAudioFromStep]);
    state.update(Action::NextStep);
    let screen = text(&draw(&state, Palette::Monochrome, 80, 24));
    assert!(
        screen.contains("no regeneration from step 4 yet: r runs it"),
        "{screen}"
    );
}
