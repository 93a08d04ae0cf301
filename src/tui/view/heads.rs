//! The heads view, over the heatmap and the step panel: every (layer, head) ranked over the open
//! examples by how it listens (how often its map peaks inside the event a perception claim
//! names, and its mean audio ratio), what the ranking rests on in one line, and the cursor; the
//! head the inspector shows now is marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Clear, Widget};

use crate::report::heads::{HeadRanking, HeadRow, RankBasis};
use crate::trace::metrics::Heads;
use crate::tui::keys::KeyTable;
use crate::tui::layout::first_visible_step;
use crate::tui::state::{Action, HeadsView, Inspector, Layers};

use super::number;

/// Cells of the bar beside each head's value.
const BAR: usize = 10;

pub(super) fn render(
    state: &Inspector,
    view: &HeadsView,
    keys: &KeyTable,
    area: Rect,
    buf: &mut Buffer,
) {
    Clear.render(area, buf);
    let block = Block::bordered().title(format!(
        " heads that listen · {} shows one · {} closes ",
        keys.key_for(Action::Open),
        keys.key_for(Action::Back)
    ));
    let inner = block.inner(area);
    block.render(area, buf);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let width = usize::from(inner.width);
    let mut notes = basis_lines(&view.ranking);
    if let Some(reason) = &view.first_reason {
        notes.push(format!("{} left out; {reason}", examples(view.left_out)));
    }
    let mut y = inner.y;
    for note in notes {
        if y >= inner.bottom() {
            return;
        }
        buf.set_string(inner.x, y, clip(&note, width), dim);
        y += 1;
    }
    if y >= inner.bottom() {
        return;
    }
    let header = " rank layer head  audio ratio  peak in event";
    buf.set_string(
        inner.x,
        y,
        clip(header, width),
        dim.add_modifier(Modifier::BOLD),
    );
    y += 1;
    let rows_visible = usize::from(inner.bottom().saturating_sub(y));
    let first = first_visible_step(view.cursor, rows_visible);
    let top = view.ranking.rows.first().map_or(0.0, value).max(1e-9);
    for (rank, row) in view
        .ranking
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_visible)
    {
        let shown = state.layers == Layers::One(row.layer) && state.heads == Heads::One(row.head);
        let marker = match (rank == view.cursor, shown) {
            (true, _) => '▶',
            (false, true) => '•',
            (false, false) => ' ',
        };
        let peak = row.peak_in_event.map_or("-".to_owned(), |p| {
            let count = format!("{}/{}", p.inside, p.n);
            format!("{} {count:>9}", number::fit(p.share() as f32, 4, 2))
        });
        let bar_len = ((value(row) / top) * BAR as f64).round() as usize;
        let text = format!(
            "{marker}{:>4} {:>5} {:>4}  {:>11}  {peak:<14}  {}",
            rank + 1,
            row.layer,
            row.head,
            number::fit(row.mean_audio_ratio as f32, 5, 3),
            "■".repeat(bar_len.min(BAR))
        );
        let style = if rank == view.cursor {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        buf.set_string(inner.x, y, clip(&text, width), style);
        y += 1;
    }
}

/// What the ranking covers, and what it rests on: a line each.
fn basis_lines(ranking: &HeadRanking) -> Vec<String> {
    let over = format!(
        "{} heads over {} ({} with per-head maps), {} generated tokens",
        ranking.rows.len(),
        examples(ranking.examples),
        ranking.examples_with_head_maps,
        ranking.tokens
    );
    let basis = match ranking.basis() {
        RankBasis::PeakInEvent { n } => {
            format!("ranked by peaks inside the event a claim names (n {n}), then by audio ratio")
        }
        RankBasis::NoHeadMaps => {
            "per-head maps were not captured (--per-head-maps): ranked by audio ratio".to_owned()
        }
        RankBasis::NoNamedEvents => {
            "no perception claim names a timed event: ranked by audio ratio".to_owned()
        }
        RankBasis::NoAttention => "no example has attention captured".to_owned(),
    };
    vec![over, basis]
}

fn examples(n: usize) -> String {
    if n == 1 {
        "1 example".to_owned()
    } else {
        format!("{n} examples")
    }
}

/// The value a head ranks by: its peak share where measured, else its mean audio ratio.
fn value(row: &HeadRow) -> f64 {
    row.peak_in_event
        .map_or(row.mean_audio_ratio, |p| p.share())
}

/// `text` cut to `width` characters.
fn clip(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}
