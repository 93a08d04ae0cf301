//! Attention metrics over captured rows, as `Metric` defines them: audio ratio,
//! sink-corrected ratio, audio focus and audio maps, per token and per step, for any selection
//! of layers and heads. The selection is a view setting: stored data always keeps every layer
//! and head, and the report and the inspector both go through this one API.

use serde::{Deserialize, Serialize};

use crate::model::AttentionRows;

/// Which per-token quantity to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `r = Σ_{j∈A} a[j]`.
    Ratio,
    /// `r / (1 − a[0])`: the ratio with the attention sink taken out.
    SinkCorrected,
    /// `(r / |A|) / ((1 − r) / (n_ctx − |A|))`: attention per audio token over attention per
    /// other token, which does not fall just because the context grows.
    Focus,
}

/// How heads are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Heads {
    Mean,
    Max,
    One(usize),
}

/// Layers and heads to look at. An empty `layers` means all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub layers: Vec<usize>,
    pub heads: Heads,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            layers: Vec::new(),
            heads: Heads::Mean,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    #[error("layer {0} does not exist (the model has {1})")]
    NoSuchLayer(usize, usize),
    #[error("head {0} does not exist (the model has {1})")]
    NoSuchHead(usize, usize),
    #[error("per-head audio maps were not captured (run with --per-head-maps)")]
    NoHeadMaps,
    #[error("token {0} is outside the {1} captured rows")]
    NoSuchToken(usize, usize),
}

/// Captured rows of one generation, with what the metrics need to know about the context.
pub struct AttentionView<'a> {
    rows: &'a AttentionRows,
    /// Positions row 0 attends to (the prompt length for generated tokens: row `t` sees
    /// `context_at_row0 + t` positions).
    context_at_row0: usize,
}

/// Below this, `1 − x` is treated as zero (the division is undefined; the value is 0).
const EPSILON: f32 = 1e-12;

impl<'a> AttentionView<'a> {
    pub fn new(rows: &'a AttentionRows, context_at_row0: usize) -> Self {
        Self {
            rows,
            context_at_row0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows.rows
    }

    fn layers(&self, selection: &Selection) -> Result<Vec<usize>, MetricError> {
        let n = self.rows.layers;
        if selection.layers.is_empty() {
            return Ok((0..n).collect());
        }
        for &l in &selection.layers {
            if l >= n {
                return Err(MetricError::NoSuchLayer(l, n));
            }
        }
        Ok(selection.layers.clone())
    }

    fn check_heads(&self, heads: Heads) -> Result<(), MetricError> {
        match heads {
            Heads::One(h) if h >= self.rows.heads => {
                Err(MetricError::NoSuchHead(h, self.rows.heads))
            }
            _ => Ok(()),
        }
    }

    /// The metric for one row, layer and head.
    fn value(&self, metric: Metric, t: usize, l: usize, h: usize) -> f32 {
        let index = (t * self.rows.layers + l) * self.rows.heads + h;
        let r = self.rows.audio_ratio[index];
        match metric {
            Metric::Ratio => r,
            Metric::SinkCorrected => {
                let rest = 1.0 - self.rows.sink_mass[index];
                if rest > EPSILON {
                    r / rest
                } else {
                    0.0
                }
            }
            Metric::Focus => {
                let audio = self.rows.audio_tokens as f32;
                let others = (self.context_at_row0 + t) as f32 - audio;
                let rest = 1.0 - r;
                if rest > EPSILON && others > 0.0 {
                    (r / audio) / (rest / others)
                } else {
                    0.0
                }
            }
        }
    }

    /// The metric of row `t`: heads combined as selected, then the mean over selected layers.
    pub fn token_value(
        &self,
        metric: Metric,
        t: usize,
        selection: &Selection,
    ) -> Result<f32, MetricError> {
        if t >= self.rows.rows {
            return Err(MetricError::NoSuchToken(t, self.rows.rows));
        }
        self.check_heads(selection.heads)?;
        let layers = self.layers(selection)?;
        let heads = self.rows.heads;
        let per_layer = layers.iter().map(|&l| match selection.heads {
            Heads::Mean => {
                (0..heads).map(|h| self.value(metric, t, l, h)).sum::<f32>() / heads as f32
            }
            Heads::Max => (0..heads)
                .map(|h| self.value(metric, t, l, h))
                .fold(f32::MIN, f32::max),
            Heads::One(h) => self.value(metric, t, l, h),
        });
        Ok(per_layer.sum::<f32>() / layers.len() as f32)
    }

    /// The metric of every row.
    pub fn token_values(
        &self,
        metric: Metric,
        selection: &Selection,
    ) -> Result<Vec<f32>, MetricError> {
        (0..self.rows.rows)
            .map(|t| self.token_value(metric, t, selection))
            .collect()
    }

    /// Mean of the metric over rows `tokens` (a step's `R_s`); `None` for an empty range.
    pub fn span_value(
        &self,
        metric: Metric,
        tokens: [usize; 2],
        selection: &Selection,
    ) -> Result<Option<f32>, MetricError> {
        let [start, end] = tokens;
        if end <= start {
            return Ok(None);
        }
        let mut total = 0.0;
        for t in start..end {
            total += self.token_value(metric, t, selection)?;
        }
        Ok(Some(total / (end - start) as f32))
    }

    /// Where row `t` looks in the clip: one value per audio token, heads combined as selected
    /// (per-head maps are needed for anything but the mean), mean over selected layers.
    pub fn token_map(&self, t: usize, selection: &Selection) -> Result<Vec<f32>, MetricError> {
        if t >= self.rows.rows {
            return Err(MetricError::NoSuchToken(t, self.rows.rows));
        }
        self.check_heads(selection.heads)?;
        let layers = self.layers(selection)?;
        let (n_audio, heads, n_layers) =
            (self.rows.audio_tokens, self.rows.heads, self.rows.layers);
        let mut map = vec![0f32; n_audio];
        for &l in &layers {
            match selection.heads {
                Heads::Mean => {
                    let row = &self.rows.audio_map[(t * n_layers + l) * n_audio..][..n_audio];
                    map.iter_mut().zip(row).for_each(|(m, v)| *m += v);
                }
                Heads::Max | Heads::One(_) => {
                    let maps = self
                        .rows
                        .head_maps
                        .as_ref()
                        .ok_or(MetricError::NoHeadMaps)?;
                    let head_row =
                        |h: usize| &maps[((t * n_layers + l) * heads + h) * n_audio..][..n_audio];
                    for (j, m) in map.iter_mut().enumerate() {
                        *m += match selection.heads {
                            Heads::One(h) => head_row(h)[j],
                            _ => (0..heads).map(|h| head_row(h)[j]).fold(f32::MIN, f32::max),
                        };
                    }
                }
            }
        }
        map.iter_mut().for_each(|m| *m /= layers.len() as f32);
        Ok(map)
    }

    /// Mean map over rows `tokens` (a step's `M_s`).
    pub fn span_map(
        &self,
        tokens: [usize; 2],
        selection: &Selection,
    ) -> Result<Vec<f32>, MetricError> {
        let [start, end] = tokens;
        let mut total = vec![0f32; self.rows.audio_tokens];
        for t in start..end {
            let map = self.token_map(t, selection)?;
            total.iter_mut().zip(map).for_each(|(a, b)| *a += b);
        }
        let n = end.saturating_sub(start).max(1) as f32;
        total.iter_mut().for_each(|a| *a /= n);
        Ok(total)
    }
    /// Every head's map over rows `tokens`, each the mean over those rows, as (layers, heads,
    /// audio tokens) row-major: `span_map` with one layer and `Heads::One(h)`, for every layer
    /// and head at once. Needs per-head maps; an empty range gives zeros.
    pub fn span_head_maps(&self, tokens: [usize; 2]) -> Result<Vec<f32>, MetricError> {
        let maps = self
            .rows
            .head_maps
            .as_ref()
            .ok_or(MetricError::NoHeadMaps)?;
        let [start, end] = tokens;
        if end > self.rows.rows {
            return Err(MetricError::NoSuchToken(end - 1, self.rows.rows));
        }
        let per_row = self.rows.layers * self.rows.heads * self.rows.audio_tokens;
        let mut total = vec![0f32; per_row];
        for t in start..end {
            let row = &maps[t * per_row..][..per_row];
            total.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        let n = end.saturating_sub(start).max(1) as f32;
        total.iter_mut().for_each(|a| *a /= n);
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows, two layers, two heads, three audio tokens, prompt of 10 positions.
    fn rows() -> AttentionRows {
        // audio_ratio[t][l][h]
        let audio_ratio = vec![
            0.5, 0.1, /* t0 l0 */ 0.3, 0.2, /* t0 l1 */
            0.4, 0.0, /* t1 l0 */ 0.2, 0.2, /* t1 l1 */
        ];
        let sink_mass = vec![0.5, 0.8, 0.0, 0.5, 0.2, 1.0, 0.6, 0.0];
        // head maps [t][l][h][j]; the head-mean map is their mean.
        let head_maps = vec![
            0.2, 0.2, 0.1, 0.0, 0.0, 0.1, // t0 l0 h0, h1
            0.1, 0.1, 0.1, 0.1, 0.1, 0.0, // t0 l1
            0.4, 0.0, 0.0, 0.0, 0.0, 0.0, // t1 l0
            0.0, 0.1, 0.1, 0.0, 0.0, 0.2, // t1 l1
        ];
        let audio_map = head_maps
            .chunks(3)
            .collect::<Vec<_>>()
            .chunks(2)
            .flat_map(|pair| {
                (0..3)
                    .map(|j| (pair[0][j] + pair[1][j]) / 2.0)
                    .collect::<Vec<_>>()
            })
            .collect();
        AttentionRows {
            rows: 2,
            layers: 2,
            heads: 2,
            audio_tokens: 3,
            audio_ratio,
            sink_mass,
            audio_map,
            head_maps: Some(head_maps),
            experts: None,
            top_k: 0,
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn ratio_by_head_and_layer_selection() {
        let rows = rows();
        let view = AttentionView::new(&rows, 10);
        let all = Selection::default();
        // t0: layer 0 mean (0.5 + 0.1) / 2 = 0.3, layer 1 mean 0.25 → 0.275.
        assert!(close(
            view.token_value(Metric::Ratio, 0, &all).unwrap(),
            0.275
        ));
        let max = Selection {
            layers: vec![],
            heads: Heads::Max,
        };
        // t0: max 0.5 and 0.3 → 0.4.
        assert!(close(
            view.token_value(Metric::Ratio, 0, &max).unwrap(),
            0.4
        ));
        let one = Selection {
            layers: vec![1],
            heads: Heads::One(1),
        };
        assert!(close(
            view.token_value(Metric::Ratio, 1, &one).unwrap(),
            0.2
        ));
        // Step over both rows: t1 = (0.2 + 0.2) / 2 = 0.2 → (0.275 + 0.2) / 2.
        assert!(close(
            view.span_value(Metric::Ratio, [0, 2], &all)
                .unwrap()
                .unwrap(),
            0.2375
        ));
        assert_eq!(view.span_value(Metric::Ratio, [1, 1], &all).unwrap(), None);
    }

    #[test]
    fn sink_corrected_ratio() {
        let rows = rows();
        let view = AttentionView::new(&rows, 10);
        let one = |l, h| Selection {
            layers: vec![l],
            heads: Heads::One(h),
        };
        // t0 l0 h0: 0.5 / (1 − 0.5) = 1.0; t0 l0 h1: 0.1 / 0.2 = 0.5.
        assert!(close(
            view.token_value(Metric::SinkCorrected, 0, &one(0, 0))
                .unwrap(),
            1.0
        ));
        assert!(close(
            view.token_value(Metric::SinkCorrected, 0, &one(0, 1))
                .unwrap(),
            0.5
        ));
        // t1 l0 h1: sink mass 1 → undefined, reported as 0.
        assert_eq!(
            view.token_value(Metric::SinkCorrected, 1, &one(0, 1))
                .unwrap(),
            0.0
        );
    }

    #[test]
    fn focus_controls_for_context_length() {
        let rows = rows();
        let view = AttentionView::new(&rows, 10);
        let one = Selection {
            layers: vec![0],
            heads: Heads::One(0),
        };
        // t0: r 0.5 over 3 audio tokens, 0.5 over 10 − 3 = 7 others → (0.5/3) / (0.5/7) = 7/3.
        assert!(close(
            view.token_value(Metric::Focus, 0, &one).unwrap(),
            7.0 / 3.0
        ));
        // t1 sees 11 positions: (0.4/3) / (0.6/8) = 16/9.
        assert!(close(
            view.token_value(Metric::Focus, 1, &one).unwrap(),
            16.0 / 9.0
        ));
    }

    #[test]
    fn maps_by_selection() {
        let rows = rows();
        let view = AttentionView::new(&rows, 10);
        let mean = view.token_map(0, &Selection::default()).unwrap();
        // Layer 0 head mean [0.1, 0.1, 0.1], layer 1 [0.1, 0.1, 0.05] → mean over layers.
        for (got, want) in mean.iter().zip([0.1, 0.1, 0.075]) {
            assert!(close(*got, want), "{mean:?}");
        }
        let max = view
            .token_map(
                1,
                &Selection {
                    layers: vec![0],
                    heads: Heads::Max,
                },
            )
            .unwrap();
        assert_eq!(max, vec![0.4, 0.0, 0.0]);
        let step = view
            .span_map(
                [0, 2],
                &Selection {
                    layers: vec![1],
                    heads: Heads::One(1),
                },
            )
            .unwrap();
        for (got, want) in step.iter().zip([0.05, 0.05, 0.1]) {
            assert!(close(*got, want), "{step:?}");
        }
    }

    #[test]
    fn every_head_s_span_map_at_once() {
        let rows = rows();
        let view = AttentionView::new(&rows, 10);
        let all = view.span_head_maps([0, 2]).unwrap();
        for l in 0..2 {
            for h in 0..2 {
                let one = Selection {
                    layers: vec![l],
                    heads: Heads::One(h),
                };
                let want = view.span_map([0, 2], &one).unwrap();
                assert_eq!(&all[(l * 2 + h) * 3..][..3], want.as_slice(), "l{l} h{h}");
            }
        }
        assert_eq!(
            view.span_head_maps([1, 3]),
            Err(MetricError::NoSuchToken(2, 2))
        );
        let mut no_maps = rows.clone();
        no_maps.head_maps = None;
        let view = AttentionView::new(&no_maps, 10);
        assert_eq!(view.span_head_maps([0, 1]), Err(MetricError::NoHeadMaps));
    }

    #[test]
    fn bad_selections_are_errors() {
        let mut rows = rows();
        let view = AttentionView::new(&rows, 10);
        let layer = Selection {
            layers: vec![2],
            heads: Heads::Mean,
        };
        assert_eq!(
            view.token_value(Metric::Ratio, 0, &layer),
            Err(MetricError::NoSuchLayer(2, 2))
        );
        let head = Selection {
            layers: vec![],
            heads: Heads::One(5),
        };
        assert_eq!(
            view.token_value(Metric::Ratio, 0, &head),
            Err(MetricError::NoSuchHead(5, 2))
        );
        assert_eq!(
            view.token_value(Metric::Ratio, 9, &Selection::default()),
            Err(MetricError::NoSuchToken(9, 2))
        );
        rows.head_maps = None;
        let view = AttentionView::new(&rows, 10);
        let max = Selection {
            layers: vec![],
            heads: Heads::Max,
        };
        assert_eq!(view.token_map(0, &max), Err(MetricError::NoHeadMaps));
    }
}
