//! Text in a figure: the bundled font (DejaVu Sans, and its bold cut to Latin, Greek and the
//! marks the figure uses; `assets/fonts/`, whose licence and the subsetting command are beside
//! it), how wide a string is in it, and wrapping and truncating to a width. Widths come from the
//! font's own advances (through `skrifa`, which the PNG renderer already uses), so the PNG,
//! drawn with this very font, never overflows; SVG viewers without DejaVu Sans fall back to
//! Verdana or the system's sans-serif, which are no wider.

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// The font every figure is set in, bundled so a PNG looks the same on a machine without fonts.
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Its bold, for titles and names (a subset: characters it lacks are drawn regular).
pub static BOLD_FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold-subset.ttf");

/// Its family name, as the SVG asks for it and the PNG renderer's font database knows it.
pub const FONT_FAMILY: &str = "DejaVu Sans";

/// What the SVG asks for: the bundled face, then faces of about its width.
pub const FONT_STACK: &str = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif";

/// The ellipsis that ends a truncated text.
const ELLIPSIS: char = '…';

/// Which face a text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The width of `text` at `size` pixels in the bundled regular face.
pub fn width(text: &str, size: f64) -> f64 {
    width_in(text, size, Weight::Regular)
}

/// The width of `text` at `size` pixels in the bundled face of `weight`.
pub fn width_in(text: &str, size: f64, weight: Weight) -> f64 {
    let bytes = match weight {
        Weight::Regular => FONT_BYTES,
        Weight::Bold => BOLD_FONT_BYTES,
    };
    // The bundled fonts parse (`the_bundled_font_measures_text` checks it); should one not, an
    // average advance of 0.6 em stands in, as it does for a character the face lacks.
    let Ok(font) = FontRef::new(bytes) else {
        return text.chars().count() as f64 * 0.6 * size;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size as f32), LocationRef::default());
    text.chars()
        .map(|c| {
            charmap
                .map(c)
                .and_then(|glyph| metrics.advance_width(glyph))
                .map_or(0.6 * size, f64::from)
        })
        .sum()
}

/// `text` cut to fit `max_width` at `size`, ending in an ellipsis when cut (empty when not even
/// the ellipsis fits).
pub fn truncate(text: &str, size: f64, max_width: f64) -> String {
    truncate_in(text, size, max_width, Weight::Regular)
}

/// `truncate` in the face of `weight`.
pub fn truncate_in(text: &str, size: f64, max_width: f64, weight: Weight) -> String {
    let width = |text: &str, size: f64| width_in(text, size, weight);
    if width(text, size) <= max_width {
        return text.to_owned();
    }
    let room = max_width - width(&ELLIPSIS.to_string(), size);
    if room < 0.0 {
        return String::new();
    }
    let mut kept = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = width(&c.to_string(), size);
        if used + w > room {
            break;
        }
        kept.push(c);
        used += w;
    }
    format!("{}{ELLIPSIS}", kept.trim_end())
}

/// `text` in lines no wider than `max_width` at `size`, broken between words (a word wider than
/// a line is cut), at most `max_lines` of them; the last ends in an ellipsis when text is left.
pub fn wrap(text: &str, size: f64, max_width: f64, max_lines: usize) -> Vec<String> {
    wrap_in(text, size, max_width, max_lines, Weight::Regular)
}

/// `wrap` in the face of `weight`.
pub fn wrap_in(
    text: &str,
    size: f64,
    max_width: f64,
    max_lines: usize,
    weight: Weight,
) -> Vec<String> {
    let width = |text: &str, size: f64| width_in(text, size, weight);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate, size) <= max_width || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let cut = lines.len() > max_lines;
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        let ends = if cut {
            format!("{last}{ELLIPSIS}")
        } else {
            last.clone()
        };
        *last = truncate_in(&ends, size, max_width, weight);
    }
    lines
}

/// A step's text as a figure shows it: structural tags (`<think>`, `</answer>`…) left out and
/// every run of white space one space; the raw text when nothing else is left.
pub fn step_text(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        plain.push_str(&rest[..open]);
        let after = &rest[open..];
        match after.find('>') {
            Some(close) if is_tag(&after[1..close]) => rest = &after[close + 1..],
            _ => {
                plain.push('<');
                rest = &after[1..];
            }
        }
    }
    plain.push_str(rest);
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        collapsed
    }
}

/// Whether `inner` (between `<` and `>`) is a tag name such as `think` or `/answer`.
fn is_tag(inner: &str) -> bool {
    let name = inner.strip_prefix('/').unwrap_or(inner);
    !name.is_empty()
        && name.len() <= 24
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_measures_text() {
        assert!(FontRef::new(FONT_BYTES).is_ok());
        let bold = FontRef::new(BOLD_FONT_BYTES).unwrap();
        for c in ['Q', 'é', '✓', '✗', '■', '–'] {
            assert!(bold.charmap().map(c).is_some(), "{c} in bold");
        }
        assert!(width_in("Question", 12.0, Weight::Bold) > width("Question", 12.0));
        let narrow = width("iiii", 12.0);
        let wide = width("WWWW", 12.0);
        assert!(narrow > 5.0 && wide > 2.0 * narrow, "{narrow} {wide}");
        // Twice the size, twice the width.
        assert!((width("auscult", 24.0) - 2.0 * width("auscult", 12.0)).abs() < 1e-3);
        // The marks the title uses are in the font.
        let font = FontRef::new(FONT_BYTES).unwrap();
        for c in ['✓', '✗', '…', '→', 'Δ', '–'] {
            assert!(font.charmap().map(c).is_some(), "{c}");
        }
    }

    #[test]
    fn wrapping_keeps_to_the_width_and_marks_what_it_leaves_out() {
        let text = "At 0.6 s a second tone starts, a little higher than the first one, and holds";
        let lines = wrap(text, 11.0, 150.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| width(l, 11.0) <= 150.0), "{lines:?}");
        assert!(lines[1].ends_with('…'), "{lines:?}");
        assert_eq!(wrap("short", 11.0, 150.0, 2), vec!["short"]);
        assert_eq!(truncate("abc", 11.0, 1.0), "");
        let cut = truncate("a long event name", 11.0, 40.0);
        assert!(cut.ends_with('…') && width(&cut, 11.0) <= 40.0, "{cut}");
    }

    #[test]
    fn step_texts_lose_their_tags_and_line_breaks() {
        assert_eq!(step_text("<think>First I listen.\n"), "First I listen.");
        assert_eq!(step_text("</think>\n<answer>B</answer>"), "B");
        assert_eq!(step_text("a < b and c>d"), "a < b and c>d");
        assert_eq!(step_text("<think>"), "<think>");
    }
}
