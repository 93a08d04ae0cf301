//! The help overlay, in two pages over the view: every binding of the key table, grouped by
//! action (in two columns when one does not fit the height, and when two do not, without the
//! keys of what the session is not doing); then the legend, what the metrics
//! (attention and reliance), the evidence heatmap, step kinds and CAFE tags mean and whether
//! sound is on.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use crate::audio::playback::SoundStatus;
use crate::tui::keys::KeyTable;
use crate::tui::state::{Action, Inspector};

pub(super) fn render_keys(keys: &KeyTable, state: &Inspector, area: Rect, buf: &mut Buffer) {
    let mut entries = keys.help_entries();
    // Two columns between the borders; when they do not fit, the keys of what this session
    // is not doing (labelling, a live run, a comparison) give way.
    let fits = |n: usize| n.div_ceil(2) + 2 <= usize::from(area.height);
    let shortened = !fits(entries.len());
    if shortened {
        entries.retain(|(action, ..)| in_use(*action, state));
    }
    let help: Vec<(String, &str)> = entries
        .into_iter()
        .map(|(_, keys, text)| (keys, text))
        .collect();
    let key_width = help
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = help
        .into_iter()
        .map(|(keys, text)| {
            Line::from(vec![
                Span::styled(
                    format!("{keys:>key_width$}  "),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(text),
            ])
        })
        .collect();
    let footer = if shortened {
        "more keys show while labelling, comparing or running live"
    } else {
        "mouse: click a step, a cell (seeks) or an example; the wheel scrolls"
    };
    let mouse = Line::from(Span::styled(
        footer,
        Style::new().add_modifier(Modifier::DIM),
    ));
    let columns = if lines.len() as u16 + 3 > area.height {
        2
    } else {
        1
    };
    let rows = lines.len().div_ceil(columns) as u16;
    // The mouse's line goes when the keys need its row.
    let footer_rows = u16::from(rows + 3 <= area.height);
    let height = (rows + 2 + footer_rows).min(area.height);
    let width = if columns == 2 { 96 } else { 60 }.min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    let block = Block::bordered().title(" keys (? again: the legend) ");
    let inner = block.inner(popup);
    block.render(popup, buf);
    let [body, footer] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(footer_rows)]).areas(inner);
    Paragraph::new(mouse).render(footer, buf);
    let halves =
        Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(body);
    for (half, chunk) in halves.iter().zip(lines.chunks(rows as usize)) {
        Paragraph::new(chunk.to_vec()).render(*half, buf);
    }
}

/// Whether `action` does something in this session (labelling keys while labelling, saving in
/// a live run, switching sides in a comparison; the rest always).
fn in_use(action: Action, state: &Inspector) -> bool {
    use Action::*;
    match action {
        LabelMatched | LabelHallucinated | LabelMisused | LabelNeutral | ClearLabel | NextClaim
        | AddClaim | Note | AddMissed | Undo | Redo | NextUnlabelled => state.labelling.is_some(),
        Save => state.live.is_some(),
        SwitchSide => state.comparison.is_some(),
        _ => true,
    }
}

/// What the numbers, letters and tags on screen mean (the README's "The inspector" says more).
const LEGEND: [(&str, &str); 7] = [
    (
        "ratio",
        "the share of a token's attention that goes to the audio tokens, 0 to 1; a step's \
         value is the mean over its tokens (and the selected layers and heads)",
    ),
    (
        "sink-corrected",
        "the ratio with the attention sink left out: ratio / (1 − attention to the first token)",
    ),
    (
        "focus",
        "attention per audio token ÷ attention per other token; 1 means no preference. Unlike \
         the ratio it does not fall just because the context grows, so it tests decay against \
         that confound; it can reach the thousands",
    ),
    (
        "reliance",
        "what the audio did to a step's tokens, by running them again without it (silence: \
         the clip silenced; masked: the audio hidden from them): Δ, how much it raised the \
         chosen token's log-probability (nats); KL, how far it moved the whole distribution; \
         flip, the share of tokens whose top choice changes",
    ),
    (
        "evidence",
        "the occlusion heatmap: per step, the mean Δ when each window of the clip is zeroed \
         (a negative Δ shows as 0)",
    ),
    (
        "kind",
        "what a step does: P perception, R reasoning, A answer, V review, · other",
    ),
    (
        "CAFE",
        "a claim's label: MAT matched, HAL hallucinated, MIS misused, NEU neutral",
    ),
];

/// The second page: the legend, and the sound status.
pub(super) fn render_legend(sound: Option<&SoundStatus>, area: Rect, buf: &mut Buffer) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let sound = sound.map(|status| match status {
        SoundStatus::On { device, rate } => format!("on, {device} at {rate} Hz"),
        SoundStatus::Off { reason } => {
            format!("off, because {reason}; the playhead runs on a silent clock")
        }
    });
    let mut lines: Vec<Line> = Vec::new();
    for (what, meaning) in LEGEND
        .iter()
        .map(|(w, m)| (*w, (*m).to_owned()))
        .chain(sound.map(|s| ("sound", s)))
    {
        lines.push(Line::from(vec![
            Span::styled(format!("{what}: "), bold),
            Span::raw(meaning),
        ]));
    }
    let width = 72.min(area.width);
    let inner_width = width.saturating_sub(2).max(1);
    // Rows once wrapped: a word-wrap can take a row more than the characters alone.
    let rows: u16 = lines
        .iter()
        .map(|line| (line.width() as u16 + 8).div_ceil(inner_width).max(1))
        .sum();
    let height = (rows + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" legend (? closes) "))
        .render(popup, buf);
}
