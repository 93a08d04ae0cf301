//! How a value in 0..=1 becomes a colour: the colour scales (viridis, magma, grey) as RGB, with
//! nothing about terminals or files. The inspector (`tui::palette`, which adds its 256- and
//! 16-colour ramps) and the figures (`figure`) both colour through here, so a figure and the
//! screen it was made from agree. It sits at the bottom of the layers because both use it.

use serde::{Deserialize, Serialize};

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
    /// Every scale, in the order the inspector's key cycles through them.
    pub const ALL: [ColourScale; 3] = [ColourScale::Viridis, ColourScale::Magma, ColourScale::Grey];

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

    /// The scale's RGB colour at `v` in 0..=1 (clamped; not a number is 0), interpolated
    /// between anchors.
    pub fn rgb(self, v: f32) -> (u8, u8, u8) {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let anchors = self.anchors();
        let position = v * (anchors.len() - 1) as f32;
        let low = (position.floor() as usize).min(anchors.len() - 2);
        let t = position - low as f32;
        let (a, b) = (anchors[low], anchors[low + 1]);
        let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
        (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

impl std::str::FromStr for ColourScale {
    type Err = String;

    /// A scale by its name ("viridis", "magma", "grey"; "gray" too).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = if text == "gray" { "grey" } else { text };
        ColourScale::ALL
            .into_iter()
            .find(|scale| scale.name() == wanted)
            .ok_or_else(|| format!("{text:?} is not a colour scale (viridis, magma, grey)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ends_are_the_anchors_and_names_read_back() {
        assert_eq!(ColourScale::Viridis.rgb(0.0), (68, 1, 84));
        assert_eq!(ColourScale::Viridis.rgb(1.0), (253, 231, 37));
        assert_eq!(ColourScale::Grey.rgb(f32::NAN), (0, 0, 0));
        assert_eq!(ColourScale::Magma.rgb(7.0), (252, 253, 191));
        for scale in ColourScale::ALL {
            assert_eq!(scale.name().parse(), Ok(scale));
        }
        assert_eq!("gray".parse(), Ok(ColourScale::Grey));
        assert!("jet"
            .parse::<ColourScale>()
            .unwrap_err()
            .contains("viridis"));
    }
}
