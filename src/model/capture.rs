//! Attention capture: what the decoder's attention records, reduced on the device.
//!
//! For each query row (a generated token, or a prompt token on request) and each layer the
//! attention probabilities are reduced, right after the softmax, to per-head audio ratios
//! (`Σ_{j∈A} a[h, j]`), per-head sink mass (`a[h, 0]`) and the head-mean map over the audio span
//! (optionally the per-head maps), as `trace::metrics` defines them. Nothing of size
//! `seq × seq` outlives the layer that computed it, so memory per captured token is
//! `O(layers × (heads + audio tokens))`.
//!
//! Capture is an explicit value the forward pass fills: asking for it is a `CaptureRequest`, the
//! answer a `LayerCapture` of the same kind for each layer.

use std::ops::Range;

use candle_core::{DType, Result, Tensor};

/// What the decoder's attention records during one forward call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureRequest {
    /// Record nothing (the path used to measure capture's cost).
    Off,
    /// Reduce query rows to ratios, sink mass and audio maps.
    Reduced {
        audio_span: Range<usize>,
        per_head_maps: bool,
        /// Only the last query row (a prompt whose own rows are not wanted: its last row is
        /// the first generated token's record).
        last_row_only: bool,
    },
    /// Keep the full probability matrices: for checking against a reference only.
    Full,
}

/// One layer's reduced attention for the query rows of one forward call (float32), and in a
/// mixture-of-experts layer the experts its router chose for them.
#[derive(Debug, Clone)]
pub struct ReducedLayer {
    pub audio_ratio: Tensor,       // (q, heads)
    pub sink_mass: Tensor,         // (q, heads)
    pub audio_map: Tensor,         // (q, audio tokens), mean over heads
    pub head_maps: Option<Tensor>, // (q, heads, audio tokens)
    /// `(q, top_k)` expert ids, most probable first; `None` in a dense layer.
    pub experts: Option<Vec<u32>>,
}

/// What one forward call captured, per layer, matching the request.
#[derive(Debug, Clone)]
pub enum LayerCapture {
    Off,
    Reduced(ReducedLayer),
    /// (heads, q, kv) probabilities.
    Full(Tensor),
}

impl CaptureRequest {
    /// Captures one layer's attention. `probs` is (1, heads, q, kv), already softmaxed.
    pub fn capture(&self, probs: &Tensor) -> Result<LayerCapture> {
        match self {
            CaptureRequest::Off => Ok(LayerCapture::Off),
            CaptureRequest::Full => Ok(LayerCapture::Full(probs.squeeze(0)?.to_dtype(DType::F32)?)),
            CaptureRequest::Reduced {
                audio_span,
                per_head_maps,
                last_row_only,
            } => {
                let probs = probs.squeeze(0)?; // (heads, q, kv)
                let probs = if *last_row_only {
                    let q = probs.dim(1)?;
                    probs.narrow(1, q - 1, 1)? // (heads, 1, kv)
                } else {
                    probs
                };
                let probs = probs.to_dtype(DType::F32)?;
                let kv = probs.dim(2)?;
                if audio_span.is_empty() || audio_span.end > kv {
                    candle_core::bail!(
                        "audio span {}..{} is not inside the {kv} attended positions",
                        audio_span.start,
                        audio_span.end
                    );
                }
                let audio = probs.narrow(2, audio_span.start, audio_span.len())?; // (heads, q, n_audio)
                let audio_ratio = audio.sum(2)?.t()?.contiguous()?; // (q, heads)
                let sink_mass = probs.narrow(2, 0, 1)?.squeeze(2)?.t()?.contiguous()?; // (q, heads)
                let audio_map = audio.mean(0)?; // (q, n_audio)
                let head_maps = if *per_head_maps {
                    Some(audio.transpose(0, 1)?.contiguous()?) // (q, heads, n_audio)
                } else {
                    None
                };
                Ok(LayerCapture::Reduced(ReducedLayer {
                    audio_ratio,
                    sink_mass,
                    audio_map,
                    head_maps,
                    experts: None,
                }))
            }
        }
    }

    /// Adds a mixture-of-experts layer's routing, `(q, top_k)` expert ids for the call's rows,
    /// to what its attention captured (only the last row's when the request asks for that).
    pub fn capture_experts(&self, ids: &[u32], top_k: usize, captured: &mut LayerCapture) {
        let (CaptureRequest::Reduced { last_row_only, .. }, LayerCapture::Reduced(layer)) =
            (self, captured)
        else {
            return;
        };
        let kept = if *last_row_only {
            &ids[ids.len().saturating_sub(top_k)..]
        } else {
            ids
        };
        layer.experts = Some(kept.to_vec());
    }
}

/// Reduced attention of consecutive query rows, copied to the host, every layer.
///
/// Row-major arrays: `audio_ratio` and `sink_mass` (rows, layers, heads), `audio_map` (rows,
/// layers, audio tokens), `head_maps` (rows, layers, heads, audio tokens), and for a
/// mixture-of-experts decoder `experts` (rows, layers, top_k).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttentionRows {
    pub rows: usize,
    pub layers: usize,
    pub heads: usize,
    pub audio_tokens: usize,
    pub audio_ratio: Vec<f32>,
    pub sink_mass: Vec<f32>,
    pub audio_map: Vec<f32>,
    pub head_maps: Option<Vec<f32>>,
    /// The experts each row was routed to in each layer, most probable first (`NO_EXPERT` in a
    /// dense layer); `None` for a dense decoder.
    pub experts: Option<Vec<u16>>,
    /// Experts per row and layer in `experts` (0 without).
    pub top_k: usize,
}

/// `AttentionRows::experts`' entry for a layer whose MLP is dense.
pub const NO_EXPERT: u16 = u16::MAX;

impl AttentionRows {
    /// Gathers per-layer reductions into host arrays (one device-to-host copy per array).
    pub fn from_layers(layers: &[ReducedLayer]) -> Result<Self> {
        let first = layers
            .first()
            .ok_or_else(|| candle_core::Error::Msg("no layers captured".into()))?;
        let (rows, heads) = first.audio_ratio.dims2()?;
        let audio_tokens = first.audio_map.dim(1)?;
        let stack = |pick: &dyn Fn(&ReducedLayer) -> Tensor| -> Result<Vec<f32>> {
            let parts: Vec<Tensor> = layers.iter().map(pick).collect();
            Tensor::stack(&parts, 1)?.flatten_all()?.to_vec1::<f32>()
        };
        let head_maps = if first.head_maps.is_some() {
            Some(stack(&|l| {
                l.head_maps.clone().expect("every layer has head maps")
            })?)
        } else {
            None
        };
        let top_k = layers
            .iter()
            .filter_map(|l| l.experts.as_ref())
            .map(|ids| ids.len() / rows.max(1))
            .max()
            .unwrap_or(0);
        let experts = (top_k > 0).then(|| {
            let mut experts = Vec::with_capacity(rows * layers.len() * top_k);
            for row in 0..rows {
                for layer in layers {
                    match &layer.experts {
                        Some(ids) => experts.extend(
                            ids[row * top_k..(row + 1) * top_k]
                                .iter()
                                .map(|&id| u16::try_from(id).unwrap_or(NO_EXPERT)),
                        ),
                        None => experts.extend(std::iter::repeat_n(NO_EXPERT, top_k)),
                    }
                }
            }
            experts
        });
        Ok(Self {
            rows,
            layers: layers.len(),
            heads,
            audio_tokens,
            audio_ratio: stack(&|l| l.audio_ratio.clone())?,
            sink_mass: stack(&|l| l.sink_mass.clone())?,
            audio_map: stack(&|l| l.audio_map.clone())?,
            head_maps,
            experts,
            top_k,
        })
    }

    /// An empty collection with these sizes, to append rows to.
    pub fn empty_like(&self) -> Self {
        Self {
            rows: 0,
            layers: self.layers,
            heads: self.heads,
            audio_tokens: self.audio_tokens,
            head_maps: self.head_maps.as_ref().map(|_| Vec::new()),
            experts: self.experts.as_ref().map(|_| Vec::new()),
            top_k: self.top_k,
            ..Default::default()
        }
    }

    /// Rows `range` alone.
    pub fn slice_rows(&self, range: std::ops::Range<usize>) -> Self {
        fn slice<T: Clone>(values: &[T], rows: usize, range: &std::ops::Range<usize>) -> Vec<T> {
            let per_row = values.len() / rows.max(1);
            values[range.start * per_row..range.end * per_row].to_vec()
        }
        let rows = self.rows;
        let slice_f32 = |values: &[f32]| slice(values, rows, &range);
        Self {
            rows: range.len(),
            layers: self.layers,
            heads: self.heads,
            audio_tokens: self.audio_tokens,
            audio_ratio: slice_f32(&self.audio_ratio),
            sink_mass: slice_f32(&self.sink_mass),
            audio_map: slice_f32(&self.audio_map),
            head_maps: self.head_maps.as_deref().map(slice_f32),
            experts: self.experts.as_deref().map(|ids| slice(ids, rows, &range)),
            top_k: self.top_k,
        }
    }

    /// Row `t` alone.
    pub fn row(&self, t: usize) -> Self {
        self.slice_rows(t..t + 1)
    }

    /// The last `n` rows alone.
    pub fn last_rows(&self, n: usize) -> Self {
        let n = n.min(self.rows);
        self.slice_rows(self.rows - n..self.rows)
    }

    /// Appends `other`'s rows (same sizes).
    pub fn append(&mut self, other: &AttentionRows) {
        debug_assert_eq!(
            (self.layers, self.heads, self.audio_tokens),
            (other.layers, other.heads, other.audio_tokens)
        );
        self.rows += other.rows;
        self.audio_ratio.extend_from_slice(&other.audio_ratio);
        self.sink_mass.extend_from_slice(&other.sink_mass);
        self.audio_map.extend_from_slice(&other.audio_map);
        if let (Some(mine), Some(theirs)) = (self.head_maps.as_mut(), other.head_maps.as_ref()) {
            mine.extend_from_slice(theirs);
        }
        if let (Some(mine), Some(theirs)) = (self.experts.as_mut(), other.experts.as_ref()) {
            mine.extend_from_slice(theirs);
        }
    }

    /// Bytes held per row: the `O(layers × (heads + audio tokens))` of the design.
    pub fn bytes_per_row(&self) -> usize {
        let per_layer = 2 * self.heads
            + self.audio_tokens
            + self
                .head_maps
                .as_ref()
                .map_or(0, |_| self.heads * self.audio_tokens);
        4 * self.layers * per_layer + 2 * self.layers * self.top_k
    }
}
