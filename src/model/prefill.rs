//! Running a context (a prompt, or a prompt and the tokens kept of a generation) into the KV
//! cache: in blocks for long prompts, from the rows the cache already holds, and with the audio
//! keys hidden from the rows after a given position (the `masked` counterfactual's and the
//! interventions' continuations).

use std::ops::Range;

use candle_core::{Result, Tensor};

use super::audio_lm::AudioLm;
use super::capture::{CaptureRequest, LayerCapture};
use super::decoder::Logits;

/// Query rows the prompt is run in at a time: a 300 s Qwen2.5-Omni clip makes a prompt of about
/// 7,600 tokens, whose attention scores and probabilities for all rows at once would take about
/// 6.5 GB per layer of a 28-head model; in blocks of 2,048 rows, about 1.7 GB. Shorter prompts
/// (every Qwen2-Audio prompt) run in one pass.
pub const PREFILL_ROWS: usize = 2048;

/// Runs rows `from..` of `embeds` through the decoder at their positions (the cache holding the
/// rows before `from`) in blocks of at most `block_rows` query rows, each after the KV cache the
/// earlier ones filled (the same attention rows, the same logits up to float rounding). Where
/// every row's attention is to be captured, it runs in one pass (a block's rows see only part of
/// the audio span).
pub fn prefill(
    model: &mut AudioLm,
    embeds: &Tensor,
    from: usize,
    capture: &CaptureRequest,
    block_rows: usize,
) -> Result<(Tensor, Vec<LayerCapture>)> {
    let rows = embeds.dim(0)?;
    let every_row = matches!(
        capture,
        CaptureRequest::Reduced {
            last_row_only: false,
            ..
        } | CaptureRequest::Full
    );
    if rows - from <= block_rows || every_row {
        let rest = embeds.narrow(0, from, rows - from)?;
        return model.forward_embeds(&rest, from, capture, Logits::Last);
    }
    let mut start = from;
    loop {
        let len = block_rows.min(rows - start);
        let block = embeds.narrow(0, start, len)?; // (len, hidden): rows start..start + len
        if start + len == rows {
            return model.forward_embeds(&block, start, capture, Logits::Last);
        }
        model.forward_embeds(&block, start, &CaptureRequest::Off, Logits::Last)?;
        start += len;
    }
}

/// Runs `context` into the cleared cache from position 0, capturing nothing (the rows a later
/// continuation keeps).
pub fn prefill_context(model: &mut AudioLm, context: &Tensor) -> Result<()> {
    model.clear_kv_cache();
    prefill(model, context, 0, &CaptureRequest::Off, PREFILL_ROWS)?;
    Ok(())
}

/// Runs rows `from..` of `context` into the cache and returns the last row's logits and
/// capture. With `hidden = Some((h, keys))`, rows from position `h` on do not see `keys` (the
/// rows before it are run as usual, uncaptured).
pub fn run_context(
    model: &mut AudioLm,
    context: &Tensor,
    from: usize,
    hidden: Option<(usize, &Range<usize>)>,
    capture: &CaptureRequest,
) -> Result<(Tensor, Vec<LayerCapture>)> {
    let rows = context.dim(0)?;
    if from >= rows {
        candle_core::bail!("the context has {rows} rows; none after {from} to run");
    }
    let Some((hide_from, keys)) = hidden.filter(|(h, _)| *h < rows) else {
        return prefill(model, context, from, capture, PREFILL_ROWS);
    };
    let visible_end = hide_from.max(from);
    if visible_end > from {
        prefill(
            model,
            &context.narrow(0, 0, visible_end)?,
            from,
            &CaptureRequest::Off,
            PREFILL_ROWS,
        )?;
    }
    let hidden_rows = context.narrow(0, visible_end, rows - visible_end)?;
    model.forward_embeds_hiding(&hidden_rows, visible_end, Some(keys), capture, Logits::Last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::generate::reduced;
    use crate::model::AttentionRows;

    /// A prompt run in blocks through the KV cache gives the one-pass logits and last-row
    /// capture (up to float rounding) and fills the cache with every row; asked for every prompt
    /// row's attention, it runs in one pass.
    #[test]
    fn a_prompt_in_blocks_gives_what_one_pass_gives() {
        let (mut checkpoint, input, embeds) =
            crate::model::test_support::fixture_with_clip("qwen2_audio/tiny_a", "mid.wav");
        let rows = embeds.dim(0).unwrap();
        assert!(rows > 3 * 32, "{rows} prompt rows: several blocks of 32");
        let last_row = CaptureRequest::Reduced {
            audio_span: input.audio_span.clone(),
            per_head_maps: true,
            last_row_only: true,
        };
        let model = &mut checkpoint.model;
        let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let mut outcomes = Vec::new();
        for block in [rows, 32] {
            model.clear_kv_cache();
            let (logits, captured) = prefill(model, &embeds, 0, &last_row, block).unwrap();
            assert_eq!(model.cached_positions(), rows);
            let capture = AttentionRows::from_layers(&reduced(captured).unwrap()).unwrap();
            outcomes.push((values(&logits), capture));
        }
        let (one_pass, blocks) = (&outcomes[0], &outcomes[1]);
        let largest = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max)
        };
        assert!(largest(&one_pass.0, &blocks.0) < 1e-5);
        assert_eq!(blocks.1.rows, 1);
        assert!(largest(&one_pass.1.audio_ratio, &blocks.1.audio_ratio) < 1e-6);
        assert!(largest(&one_pass.1.audio_map, &blocks.1.audio_map) < 1e-6);

        // Every row wanted: one pass even with a small block.
        let every_row = CaptureRequest::Reduced {
            audio_span: input.audio_span.clone(),
            per_head_maps: false,
            last_row_only: false,
        };
        model.clear_kv_cache();
        let (_, captured) = prefill(model, &embeds, 0, &every_row, 32).unwrap();
        let all = AttentionRows::from_layers(&reduced(captured).unwrap()).unwrap();
        assert_eq!(all.rows, rows);
    }
}
