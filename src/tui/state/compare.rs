//! Two traces files compared item by item (`inspect A --compare B`): B's examples are held as an
//! inspector of their own whose view settings (layers, heads, metric, colour scale, the clip's
//! window, the playhead) follow A's after every update, so both sides show the same item on one
//! time axis. The step keys move the side in focus (`o` switches); the example keys, the list and
//! its filters move the pair. The outcome filter, in a comparison, filters pairs: both right, both
//! wrong, only A right, only B right.

use std::collections::{HashMap, HashSet};

use super::super::filter::PairOutcome;
use super::{Action, Example, Inspector};

/// One side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    /// A, then B: in the order of `Comparison::names`.
    pub const BOTH: [Side; 2] = [Side::A, Side::B];

    /// The side's place in `BOTH`.
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Side::A => 'A',
            Side::B => 'B',
        }
    }
}

/// The second traces file and how its examples pair with the first's.
pub struct Comparison {
    /// B's examples, as an inspector whose settings follow A's.
    pub other: Box<Inspector>,
    /// For each of A's examples, the index of the example of B with the same id.
    pub partners: Vec<Option<usize>>,
    /// The side the step keys move.
    pub focus: Side,
    /// What each side is called (its prompt's or its file's name).
    pub names: [String; 2],
}

impl Comparison {
    /// A's current example's partner in B, if it has one.
    pub fn partner_of(&self, a_index: usize) -> Option<usize> {
        self.partners.get(a_index).copied().flatten()
    }
}

impl Inspector {
    /// Compares this inspector's examples with `other`'s, paired by item id. Fails (in words)
    /// when no id is shared; says on the status line how many of either side have no partner.
    pub fn start_comparison(
        &mut self,
        other: Vec<Example>,
        names: [String; 2],
    ) -> Result<(), String> {
        let by_id: HashMap<&str, usize> = other
            .iter()
            .enumerate()
            .map(|(i, e)| (e.trace.id.as_str(), i))
            .collect();
        let partners: Vec<Option<usize>> = self
            .examples
            .iter()
            .map(|e| by_id.get(e.trace.id.as_str()).copied())
            .collect();
        let paired = partners.iter().flatten().count();
        // B's examples some example of A pairs with (two of A's may share an id, and a partner).
        let b_paired = partners.iter().flatten().collect::<HashSet<_>>().len();
        if paired == 0 {
            return Err(format!(
                "{} and {} share no item id: compare traces of the same items",
                names[0], names[1]
            ));
        }
        let (a_alone, b_alone) = (self.examples.len() - paired, other.len() - b_paired);
        if a_alone + b_alone > 0 {
            let pairs = if paired == 1 { "pair" } else { "pairs" };
            self.notify(format!(
                "{paired} {pairs}; without a partner: {a_alone} of {}, {b_alone} of {}",
                names[0], names[1]
            ));
        }
        let mut other = Inspector::new(other);
        other.list_open = false;
        self.comparison = Some(Comparison {
            other: Box::new(other),
            partners,
            focus: Side::A,
            names,
        });
        self.sync_comparison();
        Ok(())
    }

    /// The partner (B's example) of the example shown, in a comparison.
    pub fn partner(&self) -> Option<&Example> {
        let comparison = self.comparison.as_ref()?;
        let index = comparison.partner_of(self.current)?;
        comparison.other.examples.get(index)
    }

    /// How example `index` and its partner answered (`None`: not comparing, no partner, or an
    /// answer not scored).
    pub fn pair_outcome(&self, index: usize) -> Option<PairOutcome> {
        let comparison = self.comparison.as_ref()?;
        let partner = comparison
            .other
            .examples
            .get(comparison.partner_of(index)?)?;
        let right = |e: &Example| e.trace.answer.as_ref().map(|a| a.correct);
        Some(PairOutcome::of(
            right(&self.examples[index])?,
            right(partner)?,
        ))
    }

    /// The step keys go to the other side.
    pub(super) fn switch_side(&mut self) {
        match &mut self.comparison {
            Some(comparison) => {
                comparison.focus = match comparison.focus {
                    Side::A => Side::B,
                    Side::B => Side::A,
                };
            }
            None => {
                self.message = Some("one trace: open it with --compare B to compare".into());
            }
        }
    }

    /// Puts `side` in focus (in a comparison).
    pub(super) fn focus(&mut self, side: Side) {
        if let Some(comparison) = &mut self.comparison {
            comparison.focus = side;
        }
    }

    /// Whether `action` moves B's step rather than A's (B is in focus and has the item).
    pub(super) fn moves_other_step(&self, action: Action) -> bool {
        use Action::*;
        matches!(action, NextStep | PreviousStep | FirstStep | LastStep)
            && !(self.list_open && self.list_is_popup())
            && self.heads_view.is_none()
            && !self.comparing
            && !self.searching
            && self
                .comparison
                .as_ref()
                .is_some_and(|c| c.focus == Side::B && c.partner_of(self.current).is_some())
    }

    /// Why `action` is refused with B in focus: it works on A's step (playing where it looked,
    /// the evidence keys).
    pub(super) fn only_on_a(&self, action: Action) -> Option<String> {
        use Action::*;
        let focus = self.comparison.as_ref()?.focus;
        (focus == Side::B && matches!(action, PlayStepWindow | HideAudioFromStep | MeasureReliance))
            .then(|| "this key works on A's step: o puts A in focus".to_owned())
    }

    /// B follows A: the partner of A's example, A's view settings; B's step stays where it was
    /// while the pair stays the same.
    pub(super) fn sync_comparison(&mut self) {
        let current = self.current;
        let Some(comparison) = &mut self.comparison else {
            return;
        };
        let other = &mut comparison.other;
        match comparison.partners.get(current).copied().flatten() {
            Some(partner) if partner != other.current => {
                other.current = partner;
                other.step = 0;
            }
            _ => {}
        }
        other.layers = self.layers;
        other.heads = self.heads;
        other.metric = self.metric;
        other.scale = self.scale;
        other.heatmap = self.heatmap;
        other.view = self.view;
        other.playhead = self.playhead;
        other.playing = self.playing;
        other.play_window = self.play_window;
        other.screen_width = self.screen_width;
        other.step = other.step.min(other.steps().saturating_sub(1));
    }
}
