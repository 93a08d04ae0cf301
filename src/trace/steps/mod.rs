//! Reasoning steps: a generation split into contiguous runs of tokens, each with its text and
//! its kind.
//!
//! The text is first cut where `StepRules` say (`cuts`); every cut is then moved to a token
//! boundary, so a step's text is exactly what its tokens decode to (a cut inside a multi-byte
//! character's tokens goes before the character); each step then gets its kind (`kind`). This
//! file does the moving to token boundaries; `rules` holds what can be configured.

mod cuts;
mod kind;
mod rules;

use serde::{Deserialize, Serialize};

use cuts::segment_text;
use kind::kind_of;
pub use rules::{StepKind, StepRules};

/// One step: a token range and the text those tokens decode to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub index: usize,
    /// Generated-token range `[start, end)`.
    pub tokens: [usize; 2],
    /// Byte range `[start, end)` of the generated text.
    #[serde(rename = "chars")]
    pub bytes: [usize; 2],
    pub kind: StepKind,
    /// The step's text, trimmed of surrounding whitespace.
    pub text: String,
}

/// Where each piece starts in the pieces' concatenation (a trace's `generation.piece_offsets`).
pub fn piece_offsets(pieces: &[String]) -> Vec<usize> {
    pieces
        .iter()
        .scan(0, |end, piece| {
            let start = *end;
            *end += piece.len();
            Some(start)
        })
        .collect()
}

/// Splits a generation into steps. `pieces[k]` is the text token `k` adds; their concatenation
/// is the generated text.
pub fn split_steps(pieces: &[String], rules: &StepRules) -> Vec<Step> {
    let text: String = pieces.concat();
    // Token k covers text[starts[k]..starts[k + 1]].
    let mut starts = Vec::with_capacity(pieces.len() + 1);
    let mut offset = 0;
    for piece in pieces {
        starts.push(offset);
        offset += piece.len();
    }
    starts.push(offset);

    let segments = segment_text(&text, rules);
    // Each cut moves to the start of the first token that ends after it.
    let mut token_cuts: Vec<usize> = segments
        .iter()
        .skip(1)
        .map(|segment| token_at(&starts, segment.start))
        .collect();
    token_cuts.insert(0, 0);
    token_cuts.push(pieces.len());

    let mut steps = Vec::new();
    for (i, window) in token_cuts.windows(2).enumerate() {
        let (first, end) = (window[0], window[1]);
        if end <= first {
            continue;
        }
        let (byte_start, byte_end) = (starts[first], starts[end]);
        let step_text = text[byte_start..byte_end].trim();
        if step_text.is_empty() {
            continue;
        }
        let enclosing = segments[i.min(segments.len() - 1)].tag.clone();
        steps.push(Step {
            index: steps.len(),
            tokens: [first, end],
            bytes: [byte_start, byte_end],
            kind: kind_of(step_text, enclosing.as_deref(), rules),
            text: step_text.to_owned(),
        });
    }
    steps
}

/// The token a cut at byte `at` goes before: the one holding that byte, moved back over empty
/// pieces just before it (they are the first bytes of the same multi-byte character).
fn token_at(starts: &[usize], at: usize) -> usize {
    let tokens = starts.len() - 1;
    let mut k = (0..tokens).find(|&k| starts[k + 1] > at).unwrap_or(tokens);
    while k > 0 && starts[k - 1] == starts[k] {
        k -= 1;
    }
    k
}

#[cfg(test)]
mod tests;
