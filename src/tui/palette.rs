//! Colour: what the terminal can show (`Palette`) and how a value in 0..=1 becomes a colour
//! (`ColourScale`). Every colour the inspector draws goes through here, so the four palettes
//! (truecolor, 256, 16, none) stay consistent.

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Serialize};

use crate::cafe::CafeLabel;

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Palette {
    /// 24-bit colour.
    #[serde(rename = "truecolor")]
    TrueColor,
    /// The xterm 256-colour table.
    #[serde(rename = "256")]
    Ansi256,
    /// The 16 basic colours: ramps become shade characters in a few hues.
    #[serde(rename = "16")]
    Ansi16,
    /// No colour at all (`NO_COLOR`): shade characters and bold/dim text.
    #[serde(rename = "none")]
    Monochrome,
}

impl Palette {
    /// From the environment: `NO_COLOR` (set to anything) wins, then `COLORTERM`
    /// (truecolor/24bit), then `TERM` (…256color, dumb).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        Self::detect(&var("NO_COLOR"), &var("COLORTERM"), &var("TERM"))
    }

    pub fn detect(no_color: &str, colorterm: &str, term: &str) -> Self {
        if !no_color.is_empty() || term == "dumb" {
            Palette::Monochrome
        } else if colorterm == "truecolor" || colorterm == "24bit" {
            Palette::TrueColor
        } else if term.contains("256") {
            Palette::Ansi256
        } else {
            Palette::Ansi16
        }
    }

    /// Whether ramps are drawn as shade characters rather than background colours.
    pub fn uses_shades(self) -> bool {
        matches!(self, Palette::Ansi16 | Palette::Monochrome)
    }

    /// An RGB colour as this palette shows it (`None`: no colour).
    pub fn rgb(self, (r, g, b): (u8, u8, u8)) -> Option<Color> {
        match self {
            Palette::TrueColor => Some(Color::Rgb(r, g, b)),
            Palette::Ansi256 => Some(Color::Indexed(xterm_index(r, g, b))),
            Palette::Ansi16 => Some(basic_colour(r, g, b)),
            Palette::Monochrome => None,
        }
    }

    /// A named colour (green for right, red for wrong…), or nothing without colour.
    pub fn named(self, colour: Color) -> Option<Color> {
        (self != Palette::Monochrome).then_some(colour)
    }

    /// `style` with foreground `colour` where the palette has colour.
    pub fn fg(self, style: Style, colour: Color) -> Style {
        match self.named(colour) {
            Some(c) => style.fg(c),
            None => style,
        }
    }

    /// The style of a CAFE tag: coloured, or bold for the error labels without colour.
    pub fn label_style(self, label: CafeLabel) -> Style {
        let colour = match label {
            CafeLabel::Matched => Color::Green,
            CafeLabel::Hallucinated => Color::Red,
            CafeLabel::Misused => Color::Yellow,
            CafeLabel::Neutral => Color::Gray,
        };
        match self {
            Palette::Monochrome => match label {
                CafeLabel::Hallucinated | CafeLabel::Misused => {
                    Style::new().add_modifier(Modifier::BOLD)
                }
                _ => Style::new(),
            },
            _ => Style::new().fg(colour),
        }
    }
}

/// Shade characters from empty to full, for palettes without background ramps.
pub const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// The shade character for `v` in 0..=1.
pub fn shade(v: f32) -> char {
    let index = (v.clamp(0.0, 1.0) * (SHADES.len() - 1) as f32).round() as usize;
    SHADES[index.min(SHADES.len() - 1)]
}

/// How a value in 0..=1 becomes a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourScale {
    /// Perceptually uniform dark blue → green → yellow (matplotlib's viridis).
    Viridis,
    /// Black → purple → orange → pale yellow (matplotlib's magma).
    Magma,
    /// Black → white.
    Grey,
}

impl ColourScale {
    pub fn next(self) -> Self {
        match self {
            ColourScale::Viridis => ColourScale::Magma,
            ColourScale::Magma => ColourScale::Grey,
            ColourScale::Grey => ColourScale::Viridis,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ColourScale::Viridis => "viridis",
            ColourScale::Magma => "magma",
            ColourScale::Grey => "grey",
        }
    }

    /// The scale's anchor colours, evenly spaced over 0..=1 (sampled from matplotlib).
    fn anchors(self) -> &'static [(u8, u8, u8)] {
        match self {
            ColourScale::Viridis => &[
                (68, 1, 84),
                (71, 44, 122),
                (59, 81, 139),
                (44, 113, 142),
                (33, 144, 141),
                (39, 173, 129),
                (92, 200, 99),
                (170, 220, 50),
                (253, 231, 37),
            ],
            ColourScale::Magma => &[
                (0, 0, 4),
                (28, 16, 68),
                (79, 18, 123),
                (129, 37, 129),
                (181, 54, 122),
                (229, 80, 100),
                (251, 135, 97),
                (254, 194, 135),
                (252, 253, 191),
            ],
            ColourScale::Grey => &[(0, 0, 0), (255, 255, 255)],
        }
    }

    /// The scale's RGB colour at `v` in 0..=1, interpolated between anchors.
    pub fn rgb(self, v: f32) -> (u8, u8, u8) {
        let anchors = self.anchors();
        let position = v.clamp(0.0, 1.0) * (anchors.len() - 1) as f32;
        let low = (position.floor() as usize).min(anchors.len() - 2);
        let t = position - low as f32;
        let (a, b) = (anchors[low], anchors[low + 1]);
        let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
        (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// The nearest colour of the xterm 256-colour table (its 6×6×6 cube or its grey ramp).
fn xterm_index(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest_level = |c: u8| {
        (0..6)
            .min_by_key(|&i| (i32::from(LEVELS[i]) - i32::from(c)).abs())
            .expect("six levels") as u8
    };
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube = (
        LEVELS[ri as usize],
        LEVELS[gi as usize],
        LEVELS[bi as usize],
    );
    let mean = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let grey_step = (mean.saturating_sub(8) / 10).min(23) as u8;
    let grey = 8 + 10 * grey_step;
    let distance = |(x, y, z): (u8, u8, u8)| {
        let d = |p: u8, q: u8| (i32::from(p) - i32::from(q)).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if distance((grey, grey, grey)) < distance(cube) {
        232 + grey_step
    } else {
        16 + 36 * ri + 6 * gi + bi
    }
}

/// The nearest of the 16 basic colours (by hue family and brightness).
fn basic_colour(r: u8, g: u8, b: u8) -> Color {
    const BASIC: [(Color, (u8, u8, u8)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (170, 0, 0)),
        (Color::Green, (0, 170, 0)),
        (Color::Yellow, (170, 85, 0)),
        (Color::Blue, (0, 0, 170)),
        (Color::Magenta, (170, 0, 170)),
        (Color::Cyan, (0, 170, 170)),
        (Color::Gray, (170, 170, 170)),
        (Color::DarkGray, (85, 85, 85)),
        (Color::LightRed, (255, 85, 85)),
        (Color::LightGreen, (85, 255, 85)),
        (Color::LightYellow, (255, 255, 85)),
        (Color::LightBlue, (85, 85, 255)),
        (Color::LightMagenta, (255, 85, 255)),
        (Color::LightCyan, (85, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    BASIC
        .iter()
        .min_by_key(|(_, (x, y, z))| {
            let d = |p: u8, q: u8| (i32::from(p) - i32::from(q)).pow(2);
            d(*x, r) + d(*y, g) + d(*z, b)
        })
        .map(|(colour, _)| *colour)
        .expect("sixteen colours")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_picks_the_palette() {
        assert_eq!(
            Palette::detect("1", "truecolor", "xterm-256color"),
            Palette::Monochrome
        );
        assert_eq!(
            Palette::detect("", "truecolor", "xterm"),
            Palette::TrueColor
        );
        assert_eq!(Palette::detect("", "", "tmux-256color"), Palette::Ansi256);
        assert_eq!(Palette::detect("", "", "xterm"), Palette::Ansi16);
        assert_eq!(Palette::detect("", "", "dumb"), Palette::Monochrome);
    }

    #[test]
    fn scales_run_from_dark_to_light() {
        for scale in [ColourScale::Viridis, ColourScale::Magma, ColourScale::Grey] {
            let luma = |(r, g, b): (u8, u8, u8)| {
                0.2126 * f32::from(r) + 0.7152 * f32::from(g) + 0.0722 * f32::from(b)
            };
            let values: Vec<f32> = (0..=10).map(|i| luma(scale.rgb(i as f32 / 10.0))).collect();
            assert!(
                values.windows(2).all(|w| w[1] > w[0]),
                "{scale:?}: {values:?}"
            );
        }
        assert_eq!(ColourScale::Viridis.rgb(0.0), (68, 1, 84));
        assert_eq!(ColourScale::Viridis.rgb(1.0), (253, 231, 37));
    }

    #[test]
    fn nearest_indexed_colours() {
        assert_eq!(xterm_index(0, 0, 0), 16);
        assert_eq!(xterm_index(255, 255, 255), 231);
        assert_eq!(xterm_index(255, 0, 0), 196);
        assert_eq!(xterm_index(128, 128, 128), 232 + 12);
        assert_eq!(basic_colour(250, 240, 30), Color::LightYellow);
        assert_eq!(basic_colour(20, 0, 40), Color::Black);
        assert_eq!(basic_colour(30, 140, 150), Color::Cyan);
    }
}
