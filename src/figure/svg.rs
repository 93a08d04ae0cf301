//! A small SVG writer. The figure is written as SVG by hand rather than through plotters: it is
//! mostly rectangles and text whose every position the layout decides (wrapped step texts
//! beside their heatmap rows, event labels placed so they never overlap, one colour scale over
//! two panels), heatmap cells of one colour merged into one rectangle, and text measured in the
//! bundled font; plotters' charts would draw none of that for us. Coordinates are SVG pixels.

use std::fmt::Write as _;

use super::text::FONT_STACK;

/// Where a text's `x` is: its start, middle or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// How a text is drawn.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle<'a> {
    pub size: f64,
    pub fill: &'a str,
    pub bold: bool,
    pub italic: bool,
    pub anchor: Anchor,
}

impl<'a> TextStyle<'a> {
    pub fn new(size: f64, fill: &'a str) -> Self {
        TextStyle {
            size,
            fill,
            bold: false,
            italic: false,
            anchor: Anchor::Start,
        }
    }

    pub fn bold(self) -> Self {
        TextStyle { bold: true, ..self }
    }

    pub fn italic(self) -> Self {
        TextStyle {
            italic: true,
            ..self
        }
    }

    pub fn anchored(self, anchor: Anchor) -> Self {
        TextStyle { anchor, ..self }
    }
}

/// A piece of a text line in its own colour (and weight).
#[derive(Debug, Clone)]
pub struct Span {
    pub text: String,
    pub fill: Option<String>,
    pub bold: bool,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Self {
        Span {
            text: text.into(),
            fill: None,
            bold: false,
        }
    }

    pub fn coloured(text: impl Into<String>, fill: &str) -> Self {
        Span {
            text: text.into(),
            fill: Some(fill.to_owned()),
            bold: false,
        }
    }

    pub fn bold(self) -> Self {
        Span { bold: true, ..self }
    }
}

/// The SVG's elements, in drawing order.
#[derive(Debug, Default)]
pub struct Svg {
    body: String,
}

/// A number as SVG writes it: at most two decimals, no trailing zeros.
pub fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" | "" => "0".to_owned(),
        _ => text.to_owned(),
    }
}

/// `text` with XML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An `#rrggbb` colour.
pub fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

impl Svg {
    /// A filled rectangle.
    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#,
            num(x),
            num(y),
            num(width),
            num(height)
        );
    }

    /// A rectangle's outline.
    pub fn outline(&mut self, x: f64, y: f64, width: f64, height: f64, stroke: &str, line: f64) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{stroke}" stroke-width="{}"/>"#,
            num(x),
            num(y),
            num(width),
            num(height),
            num(line)
        );
    }

    /// A filled rectangle with an outline.
    pub fn boxed(&mut self, at: (f64, f64, f64, f64), fill: &str, stroke: &str) {
        let (x, y, width, height) = at;
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="{stroke}" stroke-width="0.8"/>"#,
            num(x),
            num(y),
            num(width),
            num(height)
        );
    }

    /// A straight line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"/>"#,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            num(width)
        );
    }

    /// A line through `points`, dashed when `dash` is given (`"4 3"`).
    pub fn polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: &str,
        width: f64,
        dash: Option<&str>,
    ) {
        let coordinates: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{},{}", num(x), num(y)))
            .collect();
        let dash = dash.map_or(String::new(), |d| format!(r#" stroke-dasharray="{d}""#));
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{}"{dash}/>"#,
            coordinates.join(" "),
            num(width)
        );
    }

    /// A filled circle.
    pub fn circle(&mut self, centre: (f64, f64), radius: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}"/>"#,
            num(centre.0),
            num(centre.1),
            num(radius)
        );
    }

    /// One line of text with its baseline at `y`.
    pub fn text(&mut self, x: f64, y: f64, text: &str, style: TextStyle) {
        self.spans(x, y, &[Span::plain(text)], style);
    }

    /// One line of text made of pieces in their own colours.
    pub fn spans(&mut self, x: f64, y: f64, spans: &[Span], style: TextStyle) {
        if spans.iter().all(|s| s.text.is_empty()) {
            return;
        }
        let anchor = match style.anchor {
            Anchor::Start => "",
            Anchor::Middle => r#" text-anchor="middle""#,
            Anchor::End => r#" text-anchor="end""#,
        };
        let weight = if style.bold {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let slant = if style.italic {
            r#" font-style="italic""#
        } else {
            ""
        };
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" fill="{}"{anchor}{weight}{slant}>"#,
            num(x),
            num(y),
            num(style.size),
            style.fill
        );
        for span in spans {
            let text = escape(&span.text);
            if span.fill.is_none() && !span.bold {
                self.body.push_str(&text);
                continue;
            }
            let fill = span
                .fill
                .as_ref()
                .map_or(String::new(), |f| format!(r#" fill="{f}""#));
            let weight = if span.bold {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let _ = write!(self.body, "<tspan{fill}{weight}>{text}</tspan>");
        }
        self.body.push_str("</text>\n");
    }

    /// Rectangles of one colour as one path (`(x, y, width, height)` each): far smaller than
    /// a rectangle element each, for pictures of many small cells.
    pub fn rects_path(&mut self, rects: &[(f64, f64, f64, f64)], fill: &str) {
        if rects.is_empty() {
            return;
        }
        let mut d = String::with_capacity(rects.len() * 24);
        for &(x, y, width, height) in rects {
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                num(x),
                num(y),
                num(width),
                num(height),
                num(width)
            );
        }
        let _ = writeln!(self.body, r#"<path fill="{fill}" d="{d}"/>"#);
    }

    /// Starts a group with the given class (the tests find the figure's parts by it).
    pub fn open_group(&mut self, class: &str) {
        let _ = writeln!(self.body, r#"<g class="{class}">"#);
    }

    /// Starts a group whose rectangles are drawn without anti-aliasing, so that cells sharing
    /// an edge leave no hairline between them.
    pub fn open_crisp_group(&mut self, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<g class="{class}" shape-rendering="crispEdges">"#
        );
    }

    pub fn close_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    /// The whole document, `width` × `height` pixels on a white background.
    pub fn finish(self, width: f64, height: f64) -> String {
        let (w, h) = (num(width.ceil()), num(height.ceil()));
        format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                "\n",
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xml:space="preserve">"#,
                "\n",
                r##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
                "\n",
                r#"<g font-family="{font}">"#,
                "\n{body}</g>\n</svg>\n"
            ),
            w = w,
            h = h,
            font = FONT_STACK,
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_are_written_as_svg_reads_them() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(hex((68, 1, 84)), "#440154");
        let mut svg = Svg::default();
        svg.spans(
            1.0,
            2.0,
            &[Span::plain("gold "), Span::coloured("✓", "#2e7d32").bold()],
            TextStyle::new(12.0, "#000"),
        );
        let doc = svg.finish(10.0, 10.0);
        assert!(
            doc.contains(r##"<tspan fill="#2e7d32" font-weight="bold">✓</tspan>"##),
            "{doc}"
        );
    }
}
