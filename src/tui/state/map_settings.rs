//! What the maps and metrics show: which layers they average over, which heads, the colour
//! scale; each key steps through its choices in a fixed cycle (the metric's, which depends on the
//! trace's evidence, is in `evidence`). A new example may come from a smaller model, so a choice
//! it lacks falls back to all layers or the head mean.

use super::{Action, Inspector, Layers};
use crate::trace::metrics::Heads;

impl Inspector {
    /// A layer, head or colour-scale key: the next choice of that setting.
    pub(super) fn change_map_setting(&mut self, action: Action) {
        let (layers, heads, _, head_maps) = self.dims();
        match action {
            Action::NextLayer => {
                self.layers = match self.layers {
                    Layers::One(l) if l + 1 < layers => Layers::One(l + 1),
                    Layers::One(_) => Layers::All,
                    _ if layers > 0 => Layers::One(0),
                    _ => Layers::All,
                }
            }
            Action::PreviousLayer => {
                self.layers = match self.layers {
                    Layers::One(0) => Layers::All,
                    Layers::One(l) => Layers::One(l - 1),
                    _ if layers > 0 => Layers::One(layers - 1),
                    _ => Layers::All,
                }
            }
            Action::NextLayerBand => {
                self.layers = match self.layers {
                    Layers::Band(b) if b < 2 => Layers::Band(b + 1),
                    Layers::Band(_) => Layers::All,
                    _ if layers >= 3 => Layers::Band(0),
                    _ => {
                        self.message = Some("bands need at least 3 layers".into());
                        Layers::All
                    }
                }
            }
            Action::NextHeads => {
                self.heads = match self.heads {
                    Heads::Mean => Heads::Max,
                    Heads::Max if heads > 0 => Heads::One(0),
                    Heads::One(h) if h + 1 < heads => Heads::One(h + 1),
                    _ => Heads::Mean,
                };
                if self.heads != Heads::Mean && !head_maps {
                    self.message = Some(
                        "this trace has no per-head maps: the heatmap stays the head mean".into(),
                    );
                }
            }
            Action::NextColourScale => self.scale = self.scale.next(),
            _ => {}
        }
    }

    /// Keeps a layer or head choice the new example's model has (from its trace, since its
    /// attention may still be on disk); otherwise falls back to all layers or the head mean.
    pub(super) fn fit_selection(&mut self) {
        let Some(record) = self.example().and_then(|e| e.trace.attention.as_ref()) else {
            return;
        };
        let (layers, heads) = (record.layers, record.heads);
        if matches!(self.layers, Layers::One(l) if l >= layers)
            || (matches!(self.layers, Layers::Band(_)) && layers < 3)
        {
            self.layers = Layers::All;
        }
        if matches!(self.heads, Heads::One(h) if h >= heads) {
            self.heads = Heads::Mean;
        }
    }
}
