//! Agreement between annotators on CAFE labels: Cohen's kappa for two, Fleiss' kappa for more,
//! overall and per label, with confusion matrices.
//!
//! An item is one claim (trace, step, event); only items every rater labelled count (claims
//! typed differently by two annotators are different items, and are reported as uncovered).
//! Per-label kappa is the kappa of "this label or not". Missed events (trace level) are left
//! out: they are free text, not a choice among labels.
//!
//! Cohen (1960): `κ = (p_o − p_e) / (1 − p_e)`, `p_o` the share of items both gave the same
//! label, `p_e = Σ_k p_A(k) p_B(k)`. Fleiss (1971): with `n_ik` raters giving item `i` label `k`,
//! `m` raters and `N` items, `P_i = (Σ_k n_ik² − m) / (m(m − 1))`, `p_k = Σ_i n_ik / (N m)`,
//! `κ = (mean P_i − Σ_k p_k²) / (1 − Σ_k p_k²)`, and per label
//! `κ_k = 1 − Σ_i n_ik (m − n_ik) / (N m (m − 1) p_k (1 − p_k))`.
//! Kappa is undefined (`None`) when chance agreement is 1 (every rater used one label only).

use std::collections::BTreeMap;

use serde::Serialize;

use super::claims;

use crate::trace::{CafeLabel, TraceLabels};

/// Cohen's kappa of two raters' labels over the same items (`confusion[a][b]`: items rater A
/// gave category `a` and rater B category `b`).
pub fn cohen_kappa(confusion: &[Vec<usize>]) -> Option<f64> {
    let n: usize = confusion.iter().flatten().sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let k = confusion.len();
    let observed = (0..k).map(|i| confusion[i][i]).sum::<usize>() as f64 / n;
    let chance: f64 = (0..k)
        .map(|i| {
            let row: usize = confusion[i].iter().sum();
            let column: usize = confusion.iter().map(|r| r[i]).sum();
            (row as f64 / n) * (column as f64 / n)
        })
        .sum();
    (chance < 1.0).then(|| (observed - chance) / (1.0 - chance))
}

/// The 2×2 confusion of "category `k` or not".
fn binary(confusion: &[Vec<usize>], k: usize) -> Vec<Vec<usize>> {
    let mut two = vec![vec![0; 2]; 2];
    for (a, row) in confusion.iter().enumerate() {
        for (b, &count) in row.iter().enumerate() {
            two[usize::from(a != k)][usize::from(b != k)] += count;
        }
    }
    two
}

/// Fleiss' kappa, overall and per category, from `counts[i][k]`: raters who gave item `i`
/// category `k` (every item rated by the same number of raters, at least 2).
pub fn fleiss_kappa(counts: &[Vec<usize>]) -> (Option<f64>, Vec<Option<f64>>) {
    let categories = counts.first().map_or(0, Vec::len);
    let raters: usize = counts.first().map_or(0, |row| row.iter().sum());
    let items = counts.len();
    if items == 0 || raters < 2 {
        return (None, vec![None; categories]);
    }
    let (n, m) = (items as f64, raters as f64);
    let shares: Vec<f64> = (0..categories)
        .map(|k| counts.iter().map(|row| row[k]).sum::<usize>() as f64 / (n * m))
        .collect();
    let mean_agreement = counts
        .iter()
        .map(|row| {
            let squares: f64 = row.iter().map(|&c| (c * c) as f64).sum();
            (squares - m) / (m * (m - 1.0))
        })
        .sum::<f64>()
        / n;
    let chance: f64 = shares.iter().map(|p| p * p).sum();
    let overall = (chance < 1.0).then(|| (mean_agreement - chance) / (1.0 - chance));
    let per_category = (0..categories)
        .map(|k| {
            let p = shares[k];
            let spread = n * m * (m - 1.0) * p * (1.0 - p);
            let disagreement: f64 = counts
                .iter()
                .map(|row| (row[k] * (raters - row[k])) as f64)
                .sum();
            (spread > 0.0).then(|| 1.0 - disagreement / spread)
        })
        .collect();
    (overall, per_category)
}

/// One rater: a name and their labels by trace id.
#[derive(Debug, Clone)]
pub struct Rater {
    pub name: String,
    pub labels: BTreeMap<String, TraceLabels>,
}

impl Rater {
    /// The rater's label of each claim: (trace, step, event) → label.
    fn items(&self) -> BTreeMap<(String, usize, String), CafeLabel> {
        let mut items = BTreeMap::new();
        for (trace, labels) in &self.labels {
            for claim in claims(labels) {
                items.insert(
                    (trace.clone(), claim.step, claim.event.to_owned()),
                    claim.winner().label,
                );
            }
        }
        items
    }
}

/// Cohen's kappa of one pair, with its confusion matrix (rows: the first rater).
#[derive(Debug, Clone, Serialize)]
pub struct PairAgreement {
    pub raters: [String; 2],
    pub items: usize,
    pub observed: Option<f64>,
    pub kappa: Option<f64>,
    /// Per label, in `CafeLabel::ALL` order.
    pub kappa_per_label: Vec<Option<f64>>,
    pub confusion: Vec<Vec<usize>>,
}

/// Agreement of every rater given.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub raters: Vec<String>,
    pub labels: Vec<&'static str>,
    /// Claims every rater labelled.
    pub items: usize,
    /// Claims some but not all raters labelled (left out).
    pub uncovered: usize,
    /// Fleiss' kappa over the items (for two raters it is close to Cohen's but not equal).
    pub fleiss: Option<f64>,
    pub fleiss_per_label: Vec<Option<f64>>,
    /// Cohen's kappa of each pair of raters.
    pub pairs: Vec<PairAgreement>,
}

/// Agreement between `raters` (two or more).
pub fn agreement(raters: &[Rater]) -> Agreement {
    let items: Vec<BTreeMap<(String, usize, String), CafeLabel>> =
        raters.iter().map(Rater::items).collect();
    let mut all_keys: Vec<&(String, usize, String)> = items.iter().flat_map(|i| i.keys()).collect();
    all_keys.sort();
    all_keys.dedup();
    let common: Vec<&(String, usize, String)> = all_keys
        .iter()
        .copied()
        .filter(|key| items.iter().all(|i| i.contains_key(*key)))
        .collect();
    let index = |label: CafeLabel| CafeLabel::ALL.iter().position(|&l| l == label).unwrap_or(0);
    let counts: Vec<Vec<usize>> = common
        .iter()
        .map(|key| {
            let mut row = vec![0; CafeLabel::ALL.len()];
            for rater in &items {
                row[index(rater[*key])] += 1;
            }
            row
        })
        .collect();
    let (fleiss, fleiss_per_label) = fleiss_kappa(&counts);
    let mut pairs = Vec::new();
    for a in 0..raters.len() {
        for b in a + 1..raters.len() {
            let mut confusion = vec![vec![0; CafeLabel::ALL.len()]; CafeLabel::ALL.len()];
            for (key, &label) in &items[a] {
                if let Some(&other) = items[b].get(key) {
                    confusion[index(label)][index(other)] += 1;
                }
            }
            let n: usize = confusion.iter().flatten().sum();
            let agreed: usize = (0..confusion.len()).map(|k| confusion[k][k]).sum();
            pairs.push(PairAgreement {
                raters: [raters[a].name.clone(), raters[b].name.clone()],
                items: n,
                observed: (n > 0).then(|| agreed as f64 / n as f64),
                kappa: cohen_kappa(&confusion),
                kappa_per_label: (0..CafeLabel::ALL.len())
                    .map(|k| cohen_kappa(&binary(&confusion, k)))
                    .collect(),
                confusion,
            });
        }
    }
    Agreement {
        raters: raters.iter().map(|r| r.name.clone()).collect(),
        labels: CafeLabel::ALL.iter().map(|l| l.name()).collect(),
        items: common.len(),
        uncovered: all_keys.len() - common.len(),
        fleiss,
        fleiss_per_label,
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(value: Option<f64>, expected: f64) {
        let value = value.expect("defined");
        assert!((value - expected).abs() < 1e-9, "{value} vs {expected}");
    }

    #[test]
    fn cohen_matches_a_hand_computed_example() {
        // 50 items: both "yes" 20, A yes B no 5, A no B yes 10, both no 15.
        // p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4.
        close(cohen_kappa(&[vec![20, 5], vec![10, 15]]), 0.4);
        // Three categories, rows A, columns B:
        //   [10 2 0]   30 items; the diagonal holds 10 + 8 + 8 = 26, so p_o = 26/30.
        //   [ 1 8 1]   rows (A) 12, 10, 8; columns (B) 11, 10, 9.
        //   [ 0 0 8]   p_e = (12·11 + 10·10 + 8·9)/900 = 304/900.
        // κ = (26/30 − 304/900) / (1 − 304/900) = (780 − 304)/(900 − 304) = 476/596.
        let three = [vec![10, 2, 0], vec![1, 8, 1], vec![0, 0, 8]];
        close(cohen_kappa(&three), 476.0 / 596.0);
        // "Category 3 or not": [[8, 0], [1, 21]]: p_o = 29/30, p_e = (8·9 + 22·21)/900 = 534/900,
        // κ = (870 − 534)/(900 − 534) = 336/366.
        close(cohen_kappa(&binary(&three, 2)), 336.0 / 366.0);
        // Perfect agreement on one label only: chance agreement is 1, kappa undefined.
        assert_eq!(cohen_kappa(&[vec![5, 0], vec![0, 0]]), None);
        assert_eq!(cohen_kappa(&[vec![0, 0], vec![0, 0]]), None);
    }

    #[test]
    fn fleiss_matches_the_textbook_example_and_a_hand_computed_one() {
        // Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories, κ = 0.210.
        let counts = [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
        .map(|row| row.to_vec());
        let (kappa, _) = fleiss_kappa(&counts);
        assert!((kappa.unwrap() - 0.20993).abs() < 1e-4, "{kappa:?}");
        // 3 items, 3 raters, 2 labels: [3,0], [2,1], [0,3].
        // P_i = 1, 1/3, 1 → mean 7/9; p = 5/9, 4/9 → P_e = 41/81; κ = (63−41)/(81−41) = 0.55.
        // Per label: 1 − (0 + 2 + 0)/(3·3·2·(5/9)(4/9)) = 1 − 162/360 = 0.55 (two labels: equal).
        let (kappa, per_label) = fleiss_kappa(&[vec![3, 0], vec![2, 1], vec![0, 3]]);
        close(kappa, 0.55);
        close(per_label[0], 0.55);
        close(per_label[1], 0.55);
        assert_eq!(fleiss_kappa(&[]).0, None);
    }

    fn rater(name: &str, labels: &[(&str, usize, &str, CafeLabel)]) -> Rater {
        let mut by_trace: BTreeMap<String, TraceLabels> = BTreeMap::new();
        for &(trace, step, event, label) in labels {
            by_trace
                .entry(trace.into())
                .or_default()
                .steps
                .push(crate::trace::StepLabel {
                    step,
                    event: event.into(),
                    label,
                    source: crate::trace::LabelSource::human(name),
                    note: None,
                });
        }
        Rater {
            name: name.into(),
            labels: by_trace,
        }
    }

    #[test]
    fn raters_are_compared_on_the_claims_they_all_labelled() {
        use CafeLabel::*;
        let ann = rater(
            "ann",
            &[
                ("t1", 0, "tone", Matched),
                ("t1", 1, "bark", Hallucinated),
                ("t2", 0, "sweep", Misused),
                ("t2", 1, "so", Neutral),
                ("t2", 2, "only ann", Matched),
            ],
        );
        let bob = rater(
            "bob",
            &[
                ("t1", 0, "tone", Matched),
                ("t1", 1, "bark", Misused),
                ("t2", 0, "sweep", Misused),
                ("t2", 1, "so", Neutral),
            ],
        );
        let two = agreement(&[ann.clone(), bob.clone()]);
        assert_eq!((two.items, two.uncovered), (4, 1));
        let pair = &two.pairs[0];
        assert_eq!(pair.confusion[1][2], 1, "ann HAL, bob MIS");
        assert_eq!(pair.observed, Some(0.75));
        // A: MAT 1, HAL 1, MIS 1, NEU 1; B: MAT 1, MIS 2, NEU 1 (of 4).
        // p_e = (1·1 + 1·0 + 1·2 + 1·1)/16 = 0.25; κ = (0.75 − 0.25)/0.75 = 2/3.
        close(pair.kappa, 2.0 / 3.0);
        // Matched or not: [[1,0],[0,3]] → κ = 1. Hallucinated: A 1, B 0 → [[0,1],[0,3]]:
        // p_o = 0.75, p_e = (1·0 + 3·4)/16 = 0.75 → κ = 0.
        close(pair.kappa_per_label[0], 1.0);
        close(pair.kappa_per_label[1], 0.0);
        let three = agreement(&[ann, bob.clone(), bob]);
        assert_eq!(three.pairs.len(), 3);
        close(three.pairs[2].kappa, 1.0);
        assert!(three.fleiss.unwrap() > 0.0 && three.fleiss.unwrap() < 1.0);
    }
}
