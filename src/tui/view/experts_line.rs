//! The step panel's routing line, for a mixture-of-experts decoder: the experts the selected
//! step's rows were routed to in the selected layers (row t is the position whose logits chose
//! token t, as for attention: the token before it), most used first, each with its share of
//! the routing slots (`trace::expert_metrics`) and, where the line has room, that share over
//! the one uniform routing would give it: "experts L0–3, k 8/128  #17 55% (×8.7)  #3 50% …",
//! or where that leaves too few, "… #17 55% #3 50% #88 41% …".

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::trace::expert_metrics::{expert_shares, uniform_share, ExpertShares};
use crate::tui::state::Inspector;

/// The fewest experts worth giving up the uniform comparison for: with fewer fitting, the line
/// lists shares alone.
const FEWEST_WITH_RATIOS: usize = 3;

/// The selected step's routing line, fitted to `width` columns; `None` for a dense trace.
pub(super) fn line(state: &Inspector, width: u16) -> Option<Line<'static>> {
    let example = state.example()?;
    let rows = example.attention.as_ref()?;
    let step = example.trace.steps.get(state.step)?;
    let layers = state.layers.indices(rows.layers);
    let shares = expert_shares(rows, step.tokens, &layers)?;
    let experts = example.trace.model.experts.map_or(0, |e| e.count);
    let span = match (layers.first(), layers.last()) {
        (None, _) => format!("L0–{}", rows.layers.saturating_sub(1)),
        (Some(a), Some(b)) if a != b => format!("L{a}–{b}"),
        (Some(a), _) => format!("L{a}"),
    };
    let picks = match experts {
        0 => format!("k {}", shares.top_k),
        n => format!("k {}/{n}", shares.top_k),
    };
    let prefix = format!("experts {span}, {picks}  ");
    // A column to spare, so that the line ends clear of what is beside the panel.
    let room = usize::from(width).saturating_sub(prefix.chars().count() + 1);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let mut spans = vec![Span::styled(prefix, dim)];
    spans.extend(fitted(&shares, uniform_share(shares.top_k, experts), room));
    Some(Line::from(spans))
}

/// As many experts as fit in `room` columns, with " …" when some are left out: with their ratio
/// to `uniform`, two spaces apart, when at least `FEWEST_WITH_RATIOS` (or all) fit so; else one
/// space apart (the `#` keeps them apart).
fn fitted(shares: &ExpertShares, uniform: Option<f32>, room: usize) -> Vec<Span<'static>> {
    let entry = |index: usize, ratio: bool| -> Vec<(String, bool)> {
        let share = shares.shares[index];
        let mut parts = vec![(
            format!("#{} {:.0}%", share.expert, 100.0 * share.share),
            false,
        )];
        if let (true, Some(uniform)) = (ratio, uniform) {
            parts.push((format!(" (×{:.1})", share.share / uniform), true));
        }
        parts
    };
    let layout = |ratio: bool| -> (Vec<(String, bool)>, usize) {
        let mut parts = Vec::new();
        let mut used = 0;
        let mut shown = 0;
        for index in 0..shares.shares.len() {
            let next = entry(index, ratio);
            let gap = match (index, ratio) {
                (0, _) => 0,
                (_, true) => 2,
                (_, false) => 1,
            };
            let width: usize = gap + next.iter().map(|(s, _)| s.chars().count()).sum::<usize>();
            let rest = shares.shares.len() - index - 1;
            // Room for this one, and for the ellipsis if more remain.
            if used + width + if rest > 0 { 2 } else { 0 } > room {
                break;
            }
            parts.push((" ".repeat(gap), false));
            parts.extend(next);
            used += width;
            shown += 1;
        }
        (parts, shown)
    };
    let all = shares.shares.len();
    let (mut parts, shown) = match layout(uniform.is_some()) {
        (parts, shown) if shown >= FEWEST_WITH_RATIOS.min(all) => (parts, shown),
        _ => layout(false),
    };
    if shown < all {
        parts.push((" …".to_owned(), true));
    }
    let dim = Style::new().add_modifier(Modifier::DIM);
    parts
        .into_iter()
        .map(|(text, faint)| {
            if faint {
                Span::styled(text, dim)
            } else {
                Span::raw(text)
            }
        })
        .collect()
}
