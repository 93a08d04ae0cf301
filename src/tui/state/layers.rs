//! Which layers the metrics and maps average over: all, a third of them, or one.

/// Which layers the metrics and maps average over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layers {
    All,
    /// Third `0`, `1` or `2` of the layers (early, middle, late).
    Band(usize),
    One(usize),
}

impl Layers {
    /// The layer indices of a model with `count` layers (empty: all).
    pub fn indices(self, count: usize) -> Vec<usize> {
        match self {
            Layers::All => Vec::new(),
            Layers::One(l) => vec![l],
            Layers::Band(b) => {
                let (start, end) = (b * count / 3, ((b + 1) * count / 3).max(b * count / 3 + 1));
                (start..end.min(count)).collect()
            }
        }
    }

    /// In words, for the header: "all layers", "layers 0–3", "layer 5".
    pub fn describe(self, count: usize) -> String {
        match self {
            Layers::All => "all layers".to_owned(),
            Layers::One(l) => format!("layer {l}"),
            Layers::Band(_) => {
                let indices = self.indices(count);
                match (indices.first(), indices.last()) {
                    (Some(a), Some(b)) if a != b => format!("layers {a}–{b}"),
                    (Some(a), _) => format!("layer {a}"),
                    _ => "no layers".to_owned(),
                }
            }
        }
    }
}
