//! Rendering: the inspector's state drawn into a buffer, never changed by it.
//!
//! One screen at 80×24, richer when larger (`layout` decides where each part goes): a header
//! (question, choices, gold and predicted answer, model, view settings), the clip's spectrogram
//! strip with the playhead and its time axis, the clip's ground-truth events in a lane under the
//! axis, the step × time heatmap (attention, or occlusion evidence) with each step's value bar
//! and CAFE tag and the selected step's occlusion strip, the selected step's text with its
//! tokens tinted by their own value, the experts it was routed to (a mixture of experts), its
//! reliance and labelled claims, the decay chart (an attention and a reliance curve when both
//! exist), a status line, and for a traces file the example list. Two traces files compared (`compare`) show both sides of each item on one time
//! axis and one colour scale. The intervention view (the original continuation beside the one
//! regenerated without the audio) and `?`'s help lay over it. Colour goes through `palette`; the
//! numbers come from `values`.

mod compare;
mod decay;
mod experts_line;
mod header;
mod heads;
mod heatmap;
mod help;
mod intervention;
mod list;
mod number;
mod step_panel;
mod timeline;
mod truth_lane;
mod values;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::keys::KeyTable;
use super::layout::{comparison_area, regions, MIN_HEIGHT, MIN_WIDTH};
pub use super::palette::Palette;
use super::state::{Action, EntryPurpose, Inspector};
use crate::trace::CafeLabel;
use crate::trace::StepKind;

/// Draws the whole screen.
pub fn render(state: &Inspector, keys: &KeyTable, palette: Palette, area: Rect, buf: &mut Buffer) {
    let Some(regions) = regions(state, area) else {
        let text = format!(
            "terminal too small: {}×{}, auscult needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        );
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    };
    let values = values::step_values(state, state.metric);
    header::render(state, palette, regions.header, buf);
    match &regions.compare {
        Some(panes) => compare::render(state, keys, palette, &regions, panes, &values, buf),
        None => {
            timeline::render(state, palette, &regions, buf);
            truth_lane::render(state, palette, &regions, buf);
            heatmap::render(state, palette, &values, regions.heatmap, buf);
            if let Some(area) = regions.occlusion {
                heatmap::render_occlusion_strip(state, palette, area, buf);
            }
            step_panel::render(state, keys, palette, regions.step_panel, buf);
            if let Some(area) = regions.decay {
                decay::render(state, palette, &values, area, buf);
            }
        }
    }
    if state.comparing {
        intervention::render(state, keys, palette, comparison_area(&regions), buf);
    }
    if let Some(view) = &state.heads_view {
        heads::render(state, view, keys, comparison_area(&regions), buf);
    }
    render_status(state, keys, regions.status, buf);
    if let Some(area) = regions.list {
        list::render(state, keys, palette, area, regions.list_is_popup, buf);
    }
    if state.help {
        if state.help_legend {
            help::render_legend(state.sound.as_ref(), area, buf);
        } else {
            help::render_keys(keys, state, area, buf);
        }
    }
}

fn render_status(state: &Inspector, keys: &KeyTable, area: Rect, buf: &mut Buffer) {
    // Sound being off is said in two words before whatever else the line says (`?` says why).
    let sound = if state.sound_is_off() && state.typing.is_none() && !state.searching {
        "sound off · "
    } else {
        ""
    };
    let width = (area.width as usize).saturating_sub(sound.chars().count());
    let text = if let Some(entry) = &state.typing {
        let what = match entry.purpose {
            EntryPurpose::Note => "note",
            EntryPurpose::Claim => "claim",
            EntryPurpose::Missed => "missed event",
        };
        format!("{what}: {}▏  (enter saves, esc cancels)", entry.text)
    } else if state.searching {
        let found = match state.step_matches {
            Some(found) if found.total > 0 => format!(
                "step {}, match {} of {} · tab next · ",
                state.step,
                found.selected.map_or(0, |i| i + 1),
                found.total
            ),
            Some(_) => "no step matches · ".to_owned(),
            None => String::new(),
        };
        format!(
            "search: {}▏  ({found}enter keeps, esc clears)",
            state.filters.query
        )
    } else if let Some(message) = &state.message {
        message.clone()
    } else if let Some(job) = &state.job {
        format!(
            "{} · {} cancels",
            job.describe(),
            keys.key_for(Action::Back)
        )
    } else if let Some(live) = &state.live {
        let saved = live
            .saved
            .as_ref()
            .map_or(String::new(), |p| format!(" · saved to {p}"));
        let hint = if live.running {
            format!("{} cancels", keys.key_for(Action::Back))
        } else {
            format!("{} saves the trace", keys.key_for(Action::Save))
        };
        format!("live run: {}{saved} · {hint} · ? keys", live.phase)
    } else if let Some(labelling) = &state.labelling {
        let (done, total) = labelling.progress;
        let saved = labelling
            .last_saved
            .map_or(String::new(), |seq| format!(" · saved #{seq}"));
        let head = format!("{} {done}/{total} steps{saved} · ", labelling.annotator);
        let width = width.saturating_sub(head.chars().count());
        head + &keys.label_hint(width)
    } else {
        keys.status_hint(width)
    };
    Paragraph::new(format!("{sound}{text}"))
        .style(Style::new().add_modifier(Modifier::DIM))
        .render(area, buf);
}

fn kind_letter(kind: StepKind) -> char {
    match kind {
        StepKind::Perception => 'P',
        StepKind::Reasoning => 'R',
        StepKind::Answer => 'A',
        StepKind::Review => 'V',
        StepKind::Other => '·',
    }
}

/// The label shown for a step: among the labels that count for its claims (human over judge
/// over auto), the worst (an error outranks a match).
fn step_label(state: &Inspector, step: usize) -> Option<CafeLabel> {
    let labels = state.example()?.trace.labels.as_ref()?;
    let severity = |label: CafeLabel| match label {
        CafeLabel::Hallucinated => 3,
        CafeLabel::Misused => 2,
        CafeLabel::Matched => 1,
        CafeLabel::Neutral => 0,
    };
    crate::cafe::claims_of_step(labels, step)
        .iter()
        .map(|claim| claim.winner().label)
        .max_by_key(|&label| severity(label))
}

#[cfg(test)]
mod behaviour_tests;
#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod heads_tests;
#[cfg(test)]
mod tests;
