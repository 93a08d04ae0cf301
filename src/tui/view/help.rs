//! The help overlay: every binding of the key table, grouped by action, over the view; in two
//! columns when one does not fit the height.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::tui::keys::KeyTable;

pub(super) fn render(keys: &KeyTable, area: Rect, buf: &mut Buffer) {
    let help = keys.help_lines();
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
    let mouse = Line::from(Span::styled(
        "mouse: click a step, a cell (seeks) or an example; the wheel scrolls",
        Style::new().add_modifier(Modifier::DIM),
    ));
    let columns = if lines.len() as u16 + 3 > area.height {
        2
    } else {
        1
    };
    let rows = lines.len().div_ceil(columns) as u16;
    let height = (rows + 3).min(area.height);
    let width = if columns == 2 { 96 } else { 60 }.min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    let block = Block::bordered().title(" keys ");
    let inner = block.inner(popup);
    block.render(popup, buf);
    let [body, footer] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    Paragraph::new(mouse).render(footer, buf);
    let halves =
        Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(body);
    for (half, chunk) in halves.iter().zip(lines.chunks(rows as usize)) {
        Paragraph::new(chunk.to_vec()).render(*half, buf);
    }
}
