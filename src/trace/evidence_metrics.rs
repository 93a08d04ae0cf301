//! Causal quantities per token and per step, from a sidecar's evidence arrays
//! (`model::Evidence`), as `docs/architecture.md` defines them: a token's reliance on the audio
//! under a counterfactual (the log-probability drop `delta`, the divergence `kl`, the top-1
//! `flip`), a step's mean of them over its tokens, and a step's occlusion strip (the mean drop
//! per occlusion window, on the clip's time axis). The report and the inspector both go through
//! this one API.

use crate::model::{Counterfactual, Evidence};

/// Which per-token causal quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Reliance {
    /// `log p(y_t | audio) − log p(y_t | counterfactual)`, nats: how much the audio raised the
    /// token that was generated.
    Delta,
    /// `KL(p(· | audio) ‖ p(· | counterfactual))`, nats: how much the audio moved the whole
    /// next-token distribution, even where the chosen token stays.
    Kl,
    /// 1 where the counterfactual's top-1 differs from the actual top-1, else 0 (its mean over a
    /// step is the share of flipped tokens).
    Flip,
}

/// The evidence of one generation.
pub struct EvidenceView<'a> {
    evidence: &'a Evidence,
}

impl<'a> EvidenceView<'a> {
    pub fn new(evidence: &'a Evidence) -> Self {
        Self { evidence }
    }

    /// The counterfactuals measured, in the order they were asked for.
    pub fn counterfactuals(&self) -> Vec<Counterfactual> {
        self.evidence
            .counterfactuals
            .iter()
            .map(|(c, _)| *c)
            .collect()
    }

    /// `quantity` under `counterfactual` for every generated token; `None` if not measured.
    pub fn token_values(
        &self,
        quantity: Reliance,
        counterfactual: Counterfactual,
    ) -> Option<Vec<f32>> {
        let rows = self.evidence.compared(counterfactual)?;
        Some(match quantity {
            Reliance::Delta => rows.delta.clone(),
            Reliance::Kl => rows.kl.clone(),
            Reliance::Flip => rows
                .top1
                .iter()
                .zip(&self.evidence.actual.top1)
                .map(|(c, a)| f32::from(u8::from(c != a)))
                .collect(),
        })
    }

    /// The mean of `quantity` over tokens `[start, end)` (cut to the tokens measured); `None`
    /// if not measured or the range is empty.
    pub fn span_value(
        &self,
        quantity: Reliance,
        counterfactual: Counterfactual,
        tokens: [usize; 2],
    ) -> Option<f32> {
        let values = self.token_values(quantity, counterfactual)?;
        mean_over(&values, tokens, 1).map(|means| means[0])
    }

    /// Occlusion windows measured (0 without occlusion).
    pub fn windows(&self) -> usize {
        self.evidence.occlusion.as_ref().map_or(0, |o| o.windows)
    }

    /// A step's occlusion strip: for each window, the mean over tokens `[start, end)` of the
    /// log-probability drop with that window zeroed; `None` without occlusion or tokens.
    pub fn occlusion_strip(&self, tokens: [usize; 2]) -> Option<Vec<f32>> {
        let occlusion = self.evidence.occlusion.as_ref()?;
        mean_over(&occlusion.delta, tokens, occlusion.windows)
    }
}

/// The mean of rows `[start, end)` of a row-major `[rows, width]` array, per column.
fn mean_over(values: &[f32], [start, end]: [usize; 2], width: usize) -> Option<Vec<f32>> {
    let rows = values.len() / width.max(1);
    let end = end.min(rows);
    if start >= end || width == 0 {
        return None;
    }
    let mut sums = vec![0f64; width];
    for row in values[start * width..end * width].chunks(width) {
        for (sum, &v) in sums.iter_mut().zip(row) {
            *sum += f64::from(v);
        }
    }
    let n = (end - start) as f64;
    Some(sums.iter().map(|s| (s / n) as f32).collect())
}

/// The value of a per-window strip at `seconds` of the clip: the mean over the windows that
/// cover that moment (`windows` are `[start, end)` seconds; overlapping windows share it), `None`
/// where none does.
pub fn strip_at(strip: &[f32], windows: &[[f64; 2]], seconds: f64) -> Option<f32> {
    let covering: Vec<f32> = windows
        .iter()
        .zip(strip)
        .filter(|(w, _)| w[0] <= seconds && seconds < w[1])
        .map(|(_, &v)| v)
        .collect();
    (!covering.is_empty()).then(|| covering.iter().sum::<f32>() / covering.len() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActualRows, ComparedRows, OcclusionRows};

    fn evidence() -> Evidence {
        Evidence {
            actual: ActualRows {
                log_prob: vec![-0.1, -0.2, -0.3],
                top1: vec![5, 6, 7],
            },
            counterfactuals: vec![(
                Counterfactual::Silence,
                ComparedRows {
                    delta: vec![1.0, 2.0, 3.0],
                    kl: vec![0.5, 0.0, 1.5],
                    top1: vec![5, 9, 9],
                },
            )],
            occlusion: Some(OcclusionRows {
                tokens: 3,
                windows: 2,
                delta: vec![1.0, 0.0, 3.0, 0.0, 5.0, 2.0],
                kl: vec![0.0; 6],
            }),
        }
    }

    #[test]
    fn step_values_are_means_over_the_steps_tokens() {
        let evidence = evidence();
        let view = EvidenceView::new(&evidence);
        assert_eq!(view.counterfactuals(), [Counterfactual::Silence]);
        let silence = Counterfactual::Silence;
        assert_eq!(view.span_value(Reliance::Delta, silence, [0, 2]), Some(1.5));
        assert_eq!(view.span_value(Reliance::Kl, silence, [1, 3]), Some(0.75));
        assert_eq!(
            view.span_value(Reliance::Flip, silence, [0, 3]),
            Some(2.0 / 3.0)
        );
        assert_eq!(view.span_value(Reliance::Delta, silence, [3, 5]), None);
        assert_eq!(
            view.span_value(Reliance::Delta, Counterfactual::Masked, [0, 1]),
            None
        );
        assert_eq!(view.occlusion_strip([1, 3]), Some(vec![4.0, 1.0]));
        assert_eq!(view.occlusion_strip([0, 9]), Some(vec![3.0, 2.0 / 3.0]));
        assert_eq!(view.windows(), 2);
    }

    #[test]
    fn a_strip_is_read_on_the_time_axis() {
        let windows = [[0.0, 1.0], [0.5, 1.5]];
        let strip = [2.0, 4.0];
        assert_eq!(strip_at(&strip, &windows, 0.2), Some(2.0));
        assert_eq!(strip_at(&strip, &windows, 0.7), Some(3.0));
        assert_eq!(strip_at(&strip, &windows, 1.2), Some(4.0));
        assert_eq!(strip_at(&strip, &windows, 1.5), None);
    }
}
