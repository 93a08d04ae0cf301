//! Heads that listen: every (layer, head) of a traces file ranked by how it attends to the audio.
//!
//! Two measures per head, pooled over the examples one at a time (`HeadTally::add`, so a traces
//! file of thousands of examples never holds more than one example's attention):
//!
//! - **mean audio ratio**: the head's audio ratio (`Metric::Ratio` of that layer and head: the
//!   share of the token's attention on the audio tokens) of every generated token, averaged over
//!   all generated tokens of all examples (per token, then over tokens: a long chain weighs more
//!   than a short one).
//! - **peak in the named event**: over the perception claims that name a ground-truth event with
//!   a time span (which steps those are is the caller's to say, as one optional span per step:
//!   `truth::Truth::claimed_event_spans`), the share whose head map, averaged over the step's
//!   tokens, peaks on an audio token whose time (`[j, j + 1) × seconds per audio token`, as the
//!   heatmap draws it) overlaps the event's span; with `n`, the claims measured. It needs
//!   per-head maps (`--per-head-maps`); without them, or without any such claim, it is `None`.
//!
//! Heads rank by the peak share where it was measured (then by the mean audio ratio), else by
//! the mean audio ratio; equal values keep layer and head order.

use std::cmp::Ordering;

use crate::model::AttentionRows;
use crate::trace::metrics::AttentionView;
use crate::trace::Step;

/// A span of the clip, in seconds: `(start, end)`.
pub type EventSpan = (f64, f64);

/// One example, as the ranking needs it.
pub struct ExampleHeads<'a> {
    /// Its generated tokens' attention.
    pub rows: &'a AttentionRows,
    pub steps: &'a [Step],
    /// For each step, the span of the event it names when it is a perception claim naming one.
    pub event_spans: &'a [Option<EventSpan>],
    /// Seconds of audio per audio token (`trace.audio.seconds_per_audio_token`).
    pub seconds_per_audio_token: f64,
}

/// Where a head's map peaked, over the claims measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakInEvent {
    /// Claims whose step map peaked inside the named event.
    pub inside: usize,
    /// Claims measured.
    pub n: usize,
}

impl PeakInEvent {
    pub fn share(&self) -> f64 {
        self.inside as f64 / self.n.max(1) as f64
    }
}

/// One head's measures.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadRow {
    pub layer: usize,
    pub head: usize,
    pub mean_audio_ratio: f64,
    /// `None` without per-head maps, or without a perception claim naming a timed event.
    pub peak_in_event: Option<PeakInEvent>,
}

/// What the ranking rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBasis {
    /// The peak share, over `n` claims.
    PeakInEvent { n: usize },
    /// The mean audio ratio: no example has per-head maps.
    NoHeadMaps,
    /// The mean audio ratio: no perception claim (of an example with per-head maps) names an
    /// event with a time span.
    NoNamedEvents,
    /// Nothing: no example had attention.
    NoAttention,
}

/// Every head, best first, and what the ranking covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeadRanking {
    pub rows: Vec<HeadRow>,
    /// Examples counted, and how many of them had per-head maps.
    pub examples: usize,
    pub examples_with_head_maps: usize,
    /// Generated tokens the mean audio ratio is over.
    pub tokens: usize,
    /// Perception claims naming a timed event, in every example counted (those of examples
    /// without per-head maps are not measured).
    pub claims: usize,
}

impl HeadRanking {
    pub fn basis(&self) -> RankBasis {
        match self.rows.first().and_then(|row| row.peak_in_event) {
            Some(peak) => RankBasis::PeakInEvent { n: peak.n },
            None if self.examples == 0 => RankBasis::NoAttention,
            None if self.examples_with_head_maps == 0 => RankBasis::NoHeadMaps,
            None => RankBasis::NoNamedEvents,
        }
    }

    /// The basis in a sentence, for the report and the inspector.
    pub fn describe_basis(&self) -> String {
        match self.basis() {
            RankBasis::PeakInEvent { n } => format!(
                "ranked by how often the head's map peaks inside the event a perception claim \
                 names ({n} claims), then by mean audio ratio"
            ),
            RankBasis::NoHeadMaps => "per-head maps were not captured (run or batch with \
                 --per-head-maps): ranked by mean audio ratio alone"
                .to_owned(),
            RankBasis::NoNamedEvents => "no perception claim names an event with a time span \
                 (a synthetic item's, or captions', with CAFE labels): ranked by mean audio ratio \
                 alone"
                .to_owned(),
            RankBasis::NoAttention => "no example has attention captured".to_owned(),
        }
    }
}

/// Sums over the examples added so far, per (layer, head) in row-major order.
#[derive(Debug, Clone, Default)]
pub struct HeadTally {
    /// `(layers, heads)` of the first example added; the others must match.
    shape: Option<(usize, usize)>,
    ratio_sum: Vec<f64>,
    peak_inside: Vec<usize>,
    measured_claims: usize,
    examples: usize,
    examples_with_head_maps: usize,
    tokens: usize,
    claims: usize,
}

impl HeadTally {
    /// Adds one example; an example of another shape than the first (another model) is not
    /// added, and why is returned.
    pub fn add(&mut self, example: &ExampleHeads) -> Result<(), String> {
        let rows = example.rows;
        let (layers, heads) = (rows.layers, rows.heads);
        if let Some(first) = self.shape.filter(|&first| first != (layers, heads)) {
            return Err(format!(
                "its attention has {layers} layers × {heads} heads, the first example's {} × {}",
                first.0, first.1
            ));
        }
        // The claims first: an example whose maps cannot be read is not counted at all.
        let view = AttentionView::new(rows, 0);
        let has_maps = rows.head_maps.is_some();
        let mut claims = 0;
        let mut measured = 0;
        let mut inside = vec![0usize; layers * heads];
        for (step, span) in example.steps.iter().zip(example.event_spans) {
            let Some(span) = span else { continue };
            let tokens = [step.tokens[0], step.tokens[1].min(rows.rows)];
            if tokens[1] <= tokens[0] {
                continue;
            }
            claims += 1;
            if !has_maps {
                continue;
            }
            let maps = view
                .span_head_maps(tokens)
                .map_err(|error| error.to_string())?;
            measured += 1;
            let frames = rows.audio_tokens.max(1);
            for (count, map) in inside.iter_mut().zip(maps.chunks_exact(frames)) {
                let peak = peak_frame(map);
                *count +=
                    usize::from(peak.is_some_and(|j| {
                        frame_overlaps(j, example.seconds_per_audio_token, *span)
                    }));
            }
        }
        if self.shape.is_none() {
            self.shape = Some((layers, heads));
            self.ratio_sum = vec![0.0; layers * heads];
            self.peak_inside = vec![0; layers * heads];
        }
        // Metric::Ratio of one layer and head is the stored value itself.
        for row in rows.audio_ratio.chunks_exact((layers * heads).max(1)) {
            for (sum, &ratio) in self.ratio_sum.iter_mut().zip(row) {
                *sum += f64::from(ratio);
            }
        }
        for (total, count) in self.peak_inside.iter_mut().zip(inside) {
            *total += count;
        }
        self.examples += 1;
        self.examples_with_head_maps += usize::from(has_maps);
        self.tokens += rows.rows;
        self.claims += claims;
        self.measured_claims += measured;
        Ok(())
    }

    /// Every head, best first.
    pub fn ranking(&self) -> HeadRanking {
        let (layers, heads) = self.shape.unwrap_or((0, 0));
        let mut rows: Vec<HeadRow> = (0..layers * heads)
            .map(|i| HeadRow {
                layer: i / heads,
                head: i % heads,
                mean_audio_ratio: self.ratio_sum[i] / self.tokens.max(1) as f64,
                peak_in_event: (self.measured_claims > 0).then_some(PeakInEvent {
                    inside: self.peak_inside[i],
                    n: self.measured_claims,
                }),
            })
            .collect();
        rows.sort_by(rank_order);
        HeadRanking {
            rows,
            examples: self.examples,
            examples_with_head_maps: self.examples_with_head_maps,
            tokens: self.tokens,
            claims: self.claims,
        }
    }
}

/// Better first: the larger peak share, then the larger mean audio ratio, then the lower layer
/// and head.
fn rank_order(a: &HeadRow, b: &HeadRow) -> Ordering {
    let share = |row: &HeadRow| row.peak_in_event.map_or(-1.0, |p| p.share());
    share(b)
        .total_cmp(&share(a))
        .then(b.mean_audio_ratio.total_cmp(&a.mean_audio_ratio))
        .then((a.layer, a.head).cmp(&(b.layer, b.head)))
}

/// The audio token a map peaks on (the first of equal maxima); `None` when the map is empty or
/// nowhere above zero.
fn peak_frame(map: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (j, &value) in map.iter().enumerate() {
        if value > best.map_or(0.0, |(_, top)| top) {
            best = Some((j, value));
        }
    }
    best.map(|(j, _)| j)
}

/// Whether audio token `frame`'s time, `[frame, frame + 1) × seconds_per_token`, overlaps
/// `span`.
fn frame_overlaps(frame: usize, seconds_per_token: f64, (start, end): EventSpan) -> bool {
    let from = frame as f64 * seconds_per_token;
    let to = from + seconds_per_token;
    from < end && to > start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::StepKind;

    fn step(tokens: [usize; 2]) -> Step {
        Step {
            index: 0,
            kind: StepKind::Perception,
            text: String::new(),
            bytes: [0, 0],
            tokens,
        }
    }

    /// 3 tokens, 2 layers, 2 heads, 5 audio tokens of 0.5 s. Layer 1 head 0 peaks on token 3
    /// (1.5–2.0 s) every row; the others peak on token 0.
    fn rows(head_maps: bool) -> AttentionRows {
        let (t, l, h, a) = (3, 2, 2, 5);
        let mut maps = Vec::new();
        for _ in 0..t {
            for layer in 0..l {
                for head in 0..h {
                    let peak = if (layer, head) == (1, 0) { 3 } else { 0 };
                    maps.extend((0..a).map(|j| if j == peak { 0.5 } else { 0.1 }));
                }
            }
        }
        AttentionRows {
            rows: t,
            layers: l,
            heads: h,
            audio_tokens: a,
            // [t][l][h]: the audio-heavy head is layer 0 head 1.
            audio_ratio: vec![
                0.1, 0.6, 0.2, 0.3, //
                0.2, 0.8, 0.2, 0.3, //
                0.3, 0.7, 0.2, 0.3,
            ],
            sink_mass: vec![0.0; t * l * h],
            audio_map: vec![0.0; t * l * a],
            head_maps: head_maps.then_some(maps),
            experts: None,
            top_k: 0,
        }
    }

    fn ranking(rows: &AttentionRows, spans: &[Option<EventSpan>]) -> HeadRanking {
        let steps = [step([0, 2]), step([2, 3])];
        let mut tally = HeadTally::default();
        tally
            .add(&ExampleHeads {
                rows,
                steps: &steps,
                event_spans: spans,
                seconds_per_audio_token: 0.5,
            })
            .unwrap();
        tally.ranking()
    }

    #[test]
    fn the_head_that_peaks_in_the_named_event_ranks_first_with_share_one() {
        let with_maps = rows(true);
        // Step 0 names an event at 1.6–1.9 s (inside audio token 3), step 1 none.
        let ranked = ranking(&with_maps, &[Some((1.6, 1.9)), None]);
        let top = &ranked.rows[0];
        assert_eq!((top.layer, top.head), (1, 0));
        assert_eq!(top.peak_in_event, Some(PeakInEvent { inside: 1, n: 1 }));
        assert_eq!(top.peak_in_event.unwrap().share(), 1.0);
        assert!(ranked.rows[1..]
            .iter()
            .all(|r| r.peak_in_event.unwrap().share() == 0.0));
        // The rest by mean audio ratio: layer 0 head 1, then layer 1 head 1, then layer 0 head 0.
        let order: Vec<_> = ranked.rows.iter().map(|r| (r.layer, r.head)).collect();
        assert_eq!(order, vec![(1, 0), (0, 1), (1, 1), (0, 0)]);
        assert_eq!(ranked.basis(), RankBasis::PeakInEvent { n: 1 });
        assert_eq!(ranked.claims, 1);
    }

    #[test]
    fn the_mean_audio_ratio_is_per_token_then_over_tokens() {
        let without_maps = rows(false);
        let ranked = ranking(&without_maps, &[None, None]);
        let ratio = |layer, head| {
            ranked
                .rows
                .iter()
                .find(|r| (r.layer, r.head) == (layer, head))
                .unwrap()
                .mean_audio_ratio
        };
        // Layer 0 head 0: (0.1 + 0.2 + 0.3) / 3; layer 0 head 1: (0.6 + 0.8 + 0.7) / 3.
        assert!((ratio(0, 0) - 0.2).abs() < 1e-6);
        assert!((ratio(0, 1) - 0.7).abs() < 1e-6);
        assert!((ratio(1, 1) - 0.3).abs() < 1e-6);
        assert_eq!(ranked.rows[0].layer, 0);
        assert_eq!(ranked.rows[0].head, 1);
        assert_eq!(ranked.tokens, 3);
        assert!(ranked.rows.iter().all(|r| r.peak_in_event.is_none()));
        assert_eq!(ranked.basis(), RankBasis::NoHeadMaps);
        let with_maps = rows(true);
        let unnamed = ranking(&with_maps, &[None, None]);
        assert!(unnamed.rows.iter().all(|r| r.peak_in_event.is_none()));
        assert_eq!(unnamed.basis(), RankBasis::NoNamedEvents);
        assert_eq!(unnamed.rows, ranked.rows, "the same ratios, the same order");
    }

    #[test]
    fn without_head_maps_a_named_event_is_counted_but_not_measured() {
        let without_maps = rows(false);
        let ranked = ranking(&without_maps, &[Some((1.6, 1.9)), Some((0.0, 0.4))]);
        assert_eq!(ranked.claims, 2);
        assert!(ranked.rows.iter().all(|r| r.peak_in_event.is_none()));
        assert_eq!(ranked.basis(), RankBasis::NoHeadMaps);
        assert!(ranked.describe_basis().contains("--per-head-maps"));
    }

    #[test]
    fn examples_pool_and_another_shape_is_refused() {
        let with_maps = rows(true);
        let steps = [step([0, 2]), step([2, 3])];
        let spans = [Some((1.6, 1.9)), Some((0.0, 0.4))];
        let mut tally = HeadTally::default();
        for _ in 0..2 {
            tally
                .add(&ExampleHeads {
                    rows: &with_maps,
                    steps: &steps,
                    event_spans: &spans,
                    seconds_per_audio_token: 0.5,
                })
                .unwrap();
        }
        let mut other = rows(true);
        other.heads = 1;
        let refused = tally.add(&ExampleHeads {
            rows: &other,
            steps: &steps,
            event_spans: &spans,
            seconds_per_audio_token: 0.5,
        });
        assert!(refused.unwrap_err().contains("1 heads"));
        let ranked = tally.ranking();
        assert_eq!((ranked.examples, ranked.tokens, ranked.claims), (2, 6, 4));
        // Step 1's event (0–0.4 s) is where the other heads peak: each wins half the claims.
        let top = &ranked.rows[0];
        assert_eq!((top.layer, top.head), (0, 1), "0.5 share, highest ratio");
        assert_eq!(top.peak_in_event, Some(PeakInEvent { inside: 2, n: 4 }));
        assert!(ranked
            .rows
            .iter()
            .all(|r| r.peak_in_event.unwrap().share() == 0.5));
    }

    #[test]
    fn frames_overlap_spans_and_peaks_are_the_first_maximum() {
        assert!(frame_overlaps(3, 0.5, (1.9, 2.4)));
        assert!(
            !frame_overlaps(3, 0.5, (2.0, 2.4)),
            "touching is not inside"
        );
        assert_eq!(peak_frame(&[0.1, 0.3, 0.3]), Some(1));
        assert_eq!(peak_frame(&[0.0, 0.0]), None);
        assert_eq!(peak_frame(&[]), None);
        assert_eq!(
            HeadTally::default().ranking().basis(),
            RankBasis::NoAttention
        );
    }
}
