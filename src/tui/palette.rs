//! Colour: what the terminal can show (`Palette`) and how a value in 0..=1 becomes a colour
//! (`ColourScale`, defined in `colour_scale` so that figures share it; its 256- and 16-colour
//! ramps are here). Every colour the inspector draws goes through here, so the four palettes
//! (truecolor, 256, 16, none) stay consistent.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Serialize};

pub use crate::colour_scale::ColourScale;
use crate::trace::CafeLabel;

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

    /// The colour of `v` in 0..=1 on `scale`, as this palette shows it (`None`: no colour).
    /// In 256 and 16 colours the scale is a short ramp of table colours, each lighter than the
    /// last by a visible step, rather than the table colour nearest each value: nearest-colour
    /// lookup folds most of viridis's dark half into one grey-lavender (xterm 60).
    pub fn ramp(self, scale: ColourScale, v: f32) -> Option<Color> {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self {
            Palette::TrueColor => {
                let (r, g, b) = scale.rgb(v);
                Some(Color::Rgb(r, g, b))
            }
            Palette::Ansi256 => {
                let steps = scale.xterm_steps();
                let step = (v * (steps.len() - 1) as f32).round() as usize;
                Some(Color::Indexed(steps[step.min(steps.len() - 1)]))
            }
            Palette::Ansi16 => Some(scale.basic_steps()[shade_index(v)]),
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
    SHADES[shade_index(v)]
}

fn shade_index(v: f32) -> usize {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((v * (SHADES.len() - 1) as f32).round() as usize).min(SHADES.len() - 1)
}

/// Lightness steps (CIELAB L*) the 256-colour ramps keep between neighbours: enough to tell
/// them apart at a glance.
const MIN_LIGHTNESS_STEP: f32 = 4.0;

/// How far (ΔE*ab) a 256-colour step may sit from the scale's own colour: further, and it is a
/// grey or another hue standing in for the scale.
const MAX_HUE_DRIFT: f32 = 20.0;

impl ColourScale {
    /// The scale in the xterm 256-colour table: walking the scale, the nearest table colour,
    /// kept where it is at least `MIN_LIGHTNESS_STEP` lighter than the last one kept. So the
    /// steps are ordered dark to light and neighbours differ visibly; values spread evenly
    /// over them.
    fn xterm_steps(self) -> &'static [u8] {
        static STEPS: [OnceLock<Vec<u8>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match self {
            ColourScale::Viridis => 0,
            ColourScale::Magma => 1,
            ColourScale::Grey => 2,
        };
        STEPS[slot].get_or_init(|| {
            // The table's colours (cube and greys) with their CIELAB coordinates.
            let table: Vec<(u8, [f32; 3])> = (16..=255u8).map(|i| (i, lab(xterm_rgb(i)))).collect();
            let mut steps: Vec<u8> = Vec::new();
            let mut last_lightness = f32::NEG_INFINITY;
            for i in 0..=512 {
                let target = lab(self.rgb(i as f32 / 512.0));
                // The closest table colour of about the same lightness: nearest-colour lookup
                // alone skips most lightness levels of the coarse 6×6×6 cube.
                let Some(&(index, colour)) = table
                    .iter()
                    .filter(|(_, c)| {
                        (c[0] - target[0]).abs() <= MIN_LIGHTNESS_STEP
                            && distance(*c, target) <= MAX_HUE_DRIFT
                    })
                    .min_by(|a, b| distance(a.1, target).total_cmp(&distance(b.1, target)))
                else {
                    continue;
                };
                if colour[0] >= last_lightness + MIN_LIGHTNESS_STEP {
                    steps.push(index);
                    last_lightness = colour[0];
                }
            }
            steps
        })
    }

    /// The scale in the 16 basic colours, one per shade character (`SHADES`), chosen so that
    /// ink (the shade's coverage × the colour's lightness) grows from step to step.
    fn basic_steps(self) -> [Color; 5] {
        match self {
            ColourScale::Viridis => [
                Color::Blue,
                Color::Blue,
                Color::Cyan,
                Color::Green,
                Color::LightYellow,
            ],
            ColourScale::Magma => [
                Color::Magenta,
                Color::Magenta,
                Color::Red,
                Color::LightRed,
                Color::LightYellow,
            ],
            ColourScale::Grey => [
                Color::DarkGray,
                Color::DarkGray,
                Color::Gray,
                Color::Gray,
                Color::White,
            ],
        }
    }
}

/// The RGB colour of an xterm 256-colour table index from 16 up (the cube and the grey ramp).
fn xterm_rgb(index: u8) -> (u8, u8, u8) {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    if index >= 232 {
        let grey = 8 + 10 * (index - 232);
        (grey, grey, grey)
    } else {
        let cube = index.saturating_sub(16);
        (
            LEVELS[usize::from(cube / 36)],
            LEVELS[usize::from(cube / 6 % 6)],
            LEVELS[usize::from(cube % 6)],
        )
    }
}

/// CIELAB coordinates (L*, a*, b*; D65 white) of an sRGB colour.
fn lab((r, g, b): (u8, u8, u8)) -> [f32; 3] {
    let linear = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (linear(r), linear(g), linear(b));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.950_47;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.088_83;
    let f = |t: f32| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    [
        116.0 * f(y) - 16.0,
        500.0 * (f(x) - f(y)),
        200.0 * (f(y) - f(z)),
    ]
}

/// CIE76 colour difference ΔE*ab.
fn distance(p: [f32; 3], q: [f32; 3]) -> f32 {
    p.iter()
        .zip(q)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f32>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// CIELAB lightness L* (0 black … 100 white) of an sRGB colour.
    fn lightness(rgb: (u8, u8, u8)) -> f32 {
        lab(rgb)[0]
    }

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
        for index in [16, 60, 231, 232, 244, 255] {
            let (r, g, b) = xterm_rgb(index);
            assert_eq!(xterm_index(r, g, b), index);
        }
    }

    fn delta_e(a: (u8, u8, u8), b: (u8, u8, u8)) -> f32 {
        distance(lab(a), lab(b))
    }

    /// In 256 colours every scale keeps at least 8 steps, ordered dark to light, each visibly
    /// apart from the next; its dark half is more than one colour (viridis's used to be xterm
    /// 60 throughout).
    #[test]
    fn ramps_in_256_colours_stay_ordered_and_distinguishable() {
        for scale in [ColourScale::Viridis, ColourScale::Magma, ColourScale::Grey] {
            let colours: Vec<(u8, u8, u8)> =
                scale.xterm_steps().iter().map(|&i| xterm_rgb(i)).collect();
            assert!(colours.len() >= 8, "{scale:?}: {colours:?}");
            // Each step stays near the scale: within ΔE 20 of the scale's colour of its lightness.
            for &colour in &colours {
                let closest = (0..=200)
                    .map(|i| delta_e(scale.rgb(i as f32 / 200.0), colour))
                    .fold(f32::INFINITY, f32::min);
                assert!(
                    closest <= MAX_HUE_DRIFT,
                    "{scale:?}: {colour:?} is ΔE {closest} off the scale"
                );
            }
            for pair in colours.windows(2) {
                assert!(
                    lightness(pair[1]) >= lightness(pair[0]) + MIN_LIGHTNESS_STEP,
                    "{scale:?}: {pair:?}"
                );
                assert!(
                    delta_e(pair[0], pair[1]) >= MIN_LIGHTNESS_STEP,
                    "{scale:?}: {pair:?}"
                );
            }
            let dark_half: std::collections::HashSet<Option<Color>> = (0..50)
                .map(|i| Palette::Ansi256.ramp(scale, i as f32 / 100.0))
                .collect();
            assert!(dark_half.len() >= 4, "{scale:?}: {dark_half:?}");
            // Values only ever move up the ramp.
            let index = |v: f32| {
                let Some(Color::Indexed(i)) = Palette::Ansi256.ramp(scale, v) else {
                    panic!("an indexed colour");
                };
                scale.xterm_steps().iter().position(|&s| s == i).unwrap()
            };
            for i in 0..100 {
                assert!(index((i + 1) as f32 / 100.0) >= index(i as f32 / 100.0));
            }
        }
    }

    /// In 16 colours a value is a shade character in a colour: the ink (coverage × lightness,
    /// with the standard VGA colours) grows from step to step, by a visible amount.
    #[test]
    fn ramps_in_16_colours_stay_ordered() {
        let vga = |colour: Color| match colour {
            Color::Blue => (0, 0, 170),
            Color::Cyan => (0, 170, 170),
            Color::Green => (0, 170, 0),
            Color::Magenta => (170, 0, 170),
            Color::Red => (170, 0, 0),
            Color::LightRed => (255, 85, 85),
            Color::LightYellow => (255, 255, 85),
            Color::DarkGray => (85, 85, 85),
            Color::Gray => (170, 170, 170),
            Color::White => (255, 255, 255),
            other => panic!("{other:?} is not in a ramp"),
        };
        for scale in [ColourScale::Viridis, ColourScale::Magma, ColourScale::Grey] {
            let ink: Vec<f32> = (0..SHADES.len())
                .map(|step| {
                    let v = step as f32 / (SHADES.len() - 1) as f32;
                    let colour = Palette::Ansi16.ramp(scale, v).unwrap();
                    assert_eq!(shade(v), SHADES[step]);
                    step as f32 / 4.0 * lightness(vga(colour))
                })
                .collect();
            assert!(
                ink.windows(2).all(|w| w[1] >= w[0] + 4.0),
                "{scale:?}: {ink:?}"
            );
        }
    }
}
