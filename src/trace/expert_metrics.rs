//! Which experts a mixture-of-experts decoder routed a span of tokens to, from the sidecar's
//! expert ids (`AttentionRows::experts`): each expert's share of the span's routing slots, a
//! slot being one token in one selected layer whose MLP is sparse. A slot picks `top_k` experts,
//! so the shares sum to `top_k`, and an expert the router used as often as any other would get
//! `top_k / experts` (`uniform_share`).

use std::collections::BTreeMap;

use crate::model::capture::NO_EXPERT;
use crate::model::AttentionRows;

/// One expert's share of a span's routing slots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpertShare {
    pub expert: u16,
    /// The fraction of the slots whose top k included this expert (0 to 1).
    pub share: f32,
}

/// The experts a span of tokens was routed to, most used first.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertShares {
    /// Every expert picked at least once, by share (then by id).
    pub shares: Vec<ExpertShare>,
    /// Routing slots counted: tokens × the selected layers that are sparse.
    pub slots: usize,
    /// Experts picked per slot.
    pub top_k: usize,
}

/// Each expert's share of the routing slots of tokens `[start, end)` in `layers` (empty: all;
/// indices past the model's layers are ignored). `None` when the rows carry no expert ids or no
/// slot is left: no tokens, or only dense layers (`NO_EXPERT`) selected.
pub fn expert_shares(
    rows: &AttentionRows,
    [start, end]: [usize; 2],
    layers: &[usize],
) -> Option<ExpertShares> {
    let ids = rows.experts.as_deref()?;
    let top_k = rows.top_k;
    if top_k == 0 {
        return None;
    }
    let layers: Vec<usize> = if layers.is_empty() {
        (0..rows.layers).collect()
    } else {
        layers
            .iter()
            .copied()
            .filter(|&l| l < rows.layers)
            .collect()
    };
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    let mut slots = 0;
    for token in start..end.min(rows.rows) {
        for &layer in &layers {
            let at = (token * rows.layers + layer) * top_k;
            let Some(slot) = ids.get(at..at + top_k) else {
                continue;
            };
            let mut picked = slot.iter().copied().filter(|&e| e != NO_EXPERT).peekable();
            if picked.peek().is_none() {
                continue;
            }
            slots += 1;
            for expert in picked {
                *counts.entry(expert).or_default() += 1;
            }
        }
    }
    if slots == 0 {
        return None;
    }
    let mut shares: Vec<ExpertShare> = counts
        .into_iter()
        .map(|(expert, count)| ExpertShare {
            expert,
            share: count as f32 / slots as f32,
        })
        .collect();
    shares.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.expert.cmp(&b.expert)));
    Some(ExpertShares {
        shares,
        slots,
        top_k,
    })
}

/// The share each of `experts` experts would get if the router spread `top_k` picks per slot
/// evenly over them (`None` when the number of experts is unknown).
pub fn uniform_share(top_k: usize, experts: usize) -> Option<f32> {
    (experts > 0).then(|| top_k as f32 / experts as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tokens, three layers (layer 1 dense), top 2 of 8 experts.
    fn rows() -> AttentionRows {
        let dense = [NO_EXPERT, NO_EXPERT];
        let experts = [
            [[1, 2], dense, [1, 3]], // token 0
            [[1, 4], dense, [5, 1]], // token 1
            [[6, 7], dense, [6, 1]], // token 2
        ]
        .concat()
        .concat();
        AttentionRows {
            rows: 3,
            layers: 3,
            experts: Some(experts),
            top_k: 2,
            ..AttentionRows::default()
        }
    }

    fn pairs(shares: &ExpertShares) -> Vec<(u16, f32)> {
        shares.shares.iter().map(|s| (s.expert, s.share)).collect()
    }

    #[test]
    fn shares_count_the_sparse_slots_of_the_span_and_sum_to_top_k() {
        let shares = expert_shares(&rows(), [0, 2], &[]).unwrap();
        // Tokens 0 and 1 in layers 0 and 2 (layer 1 is dense): four slots.
        assert_eq!((shares.slots, shares.top_k), (4, 2));
        assert_eq!(
            pairs(&shares),
            [(1, 1.0), (2, 0.25), (3, 0.25), (4, 0.25), (5, 0.25)]
        );
        let total: f32 = shares.shares.iter().map(|s| s.share).sum();
        assert!((total - 2.0).abs() < 1e-6);
    }

    #[test]
    fn shares_keep_to_the_selected_layers_and_the_rows_there_are() {
        let first = expert_shares(&rows(), [0, 3], &[0]).unwrap();
        assert_eq!(first.slots, 3);
        assert_eq!(
            pairs(&first)[..2],
            [(1, 2.0 / 3.0), (2, 1.0 / 3.0)],
            "{first:?}"
        );
        // A span running past the rows captured so far (a live run) counts the rows there are.
        let last = expert_shares(&rows(), [2, 9], &[2]).unwrap();
        assert_eq!((last.slots, pairs(&last)), (1, vec![(1, 1.0), (6, 1.0)]));
        // Only the dense layer, no tokens, or no ids at all: nothing to share.
        assert_eq!(expert_shares(&rows(), [0, 3], &[1]), None);
        assert_eq!(expert_shares(&rows(), [1, 1], &[]), None);
        let dense = AttentionRows {
            experts: None,
            top_k: 0,
            ..rows()
        };
        assert_eq!(expert_shares(&dense, [0, 3], &[]), None);
    }

    #[test]
    fn the_uniform_share_is_top_k_over_the_experts() {
        assert_eq!(uniform_share(8, 128), Some(0.0625));
        assert_eq!(uniform_share(8, 0), None);
    }
}
