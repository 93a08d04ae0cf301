//! Each step's map over the clip, computed once per layer and head selection, and every step's
//! value under the metric in force: the heatmap draws every visible row on every frame (20 a
//! second), a step of a long trace over a 300 s clip averages tens of thousands of numbers, and
//! the values of 2,000 steps of a 28-layer, 28-head model average millions. The cache is a memo, not state: what it holds is
//! always what `AttentionView::span_map` would give, so drawing through it changes nothing that
//! can be seen. It lives in the example (cleared whenever its attention is replaced) behind a
//! `RefCell`, so rendering, which only reads the state, can fill it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::StepMetric;
use crate::trace::metrics::{AttentionView, Heads, Selection};
use crate::trace::Step;

/// More maps than this and the cache starts again (each holds one value per audio token: at
/// 7,500 audio tokens, 256 maps take 7.7 MB).
const MOST_MAPS: usize = 256;

/// A step's map and its largest value (the heatmap's colour scale).
/// Every step's value (`None`: not measured or captured).
pub type StepValues = Rc<Vec<Option<f32>>>;

/// Sets of step values remembered.
const MOST_VALUES: usize = 4;

#[derive(Debug, PartialEq)]
pub struct StepMap {
    pub values: Vec<f32>,
    pub max: f32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MapKey {
    tokens: [usize; 2],
    layers: Vec<usize>,
    heads: HeadsKey,
}

/// `Heads`, hashable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HeadsKey {
    Mean,
    Max,
    One(usize),
}

impl From<Heads> for HeadsKey {
    fn from(heads: Heads) -> Self {
        match heads {
            Heads::Mean => HeadsKey::Mean,
            Heads::Max => HeadsKey::Max,
            Heads::One(h) => HeadsKey::One(h),
        }
    }
}

/// What every step's values were computed for: the metric and selection, and the steps and
/// rows there were (a live run's grow).
#[derive(Debug, Clone, PartialEq)]
struct ValuesKey {
    metric: StepMetric,
    selection: Selection,
    steps: usize,
    last_step: Option<[usize; 2]>,
    rows: usize,
}

/// The maps and values computed so far.
#[derive(Debug, Default)]
pub struct StepMaps {
    maps: RefCell<HashMap<MapKey, Rc<StepMap>>>,
    /// The last values asked for, newest first (a frame asks for two metrics when the decay
    /// chart draws a companion curve).
    values: RefCell<Vec<(ValuesKey, StepValues)>>,
}

impl StepMaps {
    /// The map of generated tokens `tokens` under `selection` (`None`: not captured, or
    /// empty), computed on first use.
    pub fn get(
        &self,
        view: &AttentionView,
        tokens: [usize; 2],
        selection: &Selection,
    ) -> Option<Rc<StepMap>> {
        let key = MapKey {
            tokens,
            layers: selection.layers.clone(),
            heads: selection.heads.into(),
        };
        if let Some(map) = self.maps.borrow().get(&key) {
            return Some(Rc::clone(map));
        }
        let values = view
            .span_map(tokens, selection)
            .ok()
            .filter(|m| !m.is_empty())?;
        let max = values.iter().copied().fold(0f32, f32::max);
        let map = Rc::new(StepMap { values, max });
        let mut maps = self.maps.borrow_mut();
        if maps.len() >= MOST_MAPS {
            maps.clear();
        }
        maps.insert(key, Rc::clone(&map));
        Some(map)
    }

    /// Every step's value under `metric` and `selection`, computed by `compute` unless it was
    /// for the same steps and rows last time.
    pub fn values(
        &self,
        metric: StepMetric,
        selection: &Selection,
        steps: &[Step],
        rows: usize,
        compute: impl FnOnce() -> Vec<Option<f32>>,
    ) -> StepValues {
        let key = ValuesKey {
            metric,
            selection: selection.clone(),
            steps: steps.len(),
            last_step: steps.last().map(|s| s.tokens),
            rows,
        };
        if let Some((_, values)) = self.values.borrow().iter().find(|(k, _)| *k == key) {
            return Rc::clone(values);
        }
        let values = Rc::new(compute());
        let mut remembered = self.values.borrow_mut();
        remembered.insert(0, (key, Rc::clone(&values)));
        remembered.truncate(MOST_VALUES);
        values
    }

    /// Forgets every map and value (the attention or evidence they were computed from is gone
    /// or replaced).
    pub fn clear(&self) {
        self.maps.borrow_mut().clear();
        self.values.borrow_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::{example_trace, tones_spec};

    #[test]
    fn a_remembered_map_is_the_computed_one_for_each_selection() {
        let (trace, arrays) = example_trace(&tones_spec());
        let view = AttentionView::new(&arrays.generated, trace.input.ids.len());
        let maps = StepMaps::default();
        let tokens = trace.steps[3].tokens;
        for heads in [Heads::Mean, Heads::Max, Heads::One(2)] {
            for layers in [vec![], vec![1], vec![0, 3]] {
                let selection = Selection { layers, heads };
                let first = maps.get(&view, tokens, &selection).unwrap();
                let again = maps.get(&view, tokens, &selection).unwrap();
                assert!(Rc::ptr_eq(&first, &again), "computed once");
                let expected = view.span_map(tokens, &selection).unwrap();
                assert_eq!(first.values, expected);
                let max = expected.iter().copied().fold(0f32, f32::max);
                assert_eq!(first.max, max);
            }
        }
        assert_eq!(maps.maps.borrow().len(), 9);
        maps.clear();
        assert!(maps.maps.borrow().is_empty());
        let past_the_end = [trace.steps[3].tokens[0], arrays.generated.rows + 1];
        let selection = Selection {
            layers: vec![],
            heads: Heads::Mean,
        };
        assert_eq!(maps.get(&view, past_the_end, &selection), None);
    }

    #[test]
    fn values_are_computed_again_when_what_they_depend_on_changes() {
        let (trace, _) = example_trace(&tones_spec());
        let maps = StepMaps::default();
        let computed = std::cell::Cell::new(0);
        let ask = |metric, layers: Vec<usize>, steps: &[Step], rows| {
            let selection = Selection {
                layers,
                heads: Heads::Mean,
            };
            maps.values(metric, &selection, steps, rows, || {
                computed.set(computed.get() + 1);
                vec![Some(computed.get() as f32)]
            })
        };
        use crate::trace::metrics::Metric;
        let ratio = StepMetric::Attention(Metric::Ratio);
        let steps = &trace.steps;
        assert_eq!(*ask(ratio, vec![], steps, 10), vec![Some(1.0)]);
        assert_eq!(
            *ask(ratio, vec![], steps, 10),
            vec![Some(1.0)],
            "remembered"
        );
        ask(StepMetric::Attention(Metric::Focus), vec![], steps, 10);
        ask(StepMetric::Attention(Metric::Focus), vec![1], steps, 10);
        ask(
            StepMetric::Attention(Metric::Focus),
            vec![1],
            &steps[..5],
            10,
        );
        ask(
            StepMetric::Attention(Metric::Focus),
            vec![1],
            &steps[..5],
            11,
        );
        assert_eq!(computed.get(), 5);
        let focus = StepMetric::Attention(Metric::Focus);
        assert_eq!(*ask(focus, vec![1], &steps[..5], 10), vec![Some(4.0)]);
        assert_eq!(
            *ask(ratio, vec![], steps, 10),
            vec![Some(6.0)],
            "four are kept"
        );
        maps.clear();
        ask(
            StepMetric::Attention(Metric::Focus),
            vec![1],
            &steps[..5],
            11,
        );
        assert_eq!(computed.get(), 7);
    }
}
