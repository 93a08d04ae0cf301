//! A linear layer whose weights stay as the user chose to keep them — float32, bfloat16 or
//! float16 as stored, or GGML blocks (`q8_0`, `q4_k`) — while the activations are float32 on the
//! CPU.
//!
//! Decoding reads every weight once per token, so its speed is the memory bandwidth divided by
//! the weights' size. Three paths, by the number of input rows and where the weights live:
//! - **one row on the CPU** (a decoded token): a matrix–vector product that reads each weight
//!   row once and widens bf16/f16 to f32 in registers (`matrix_vector`); no f32 copy of the
//!   weights is ever made. `q8_0` and `q4_k` blocks are widened the same way
//!   (`quantized_kernels`), up to `QUANTIZED_DIRECT_ROWS` rows; other block formats go to
//!   candle's `QMatMul`.
//! - **many rows on the CPU** (a prompt): the weight is widened to f32 (quantized blocks
//!   dequantized, in parallel) into a scratch buffer reused from matrix to matrix and multiplied
//!   by the f32 GEMM candle uses, the fastest product this machine has (`prompt_product`); the
//!   scratch holds one matrix (at most 272 MB for a 7B's MLP) until the forward pass ends.
//! - **anything else** (a GPU, or activations in the weights' own dtype): candle's matmul.

use std::cell::Cell;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Result, Storage, Tensor};
use candle_nn::{Init, VarBuilder};
use rayon::prelude::*;

use super::half_kernels;
use super::prompt_product;
use super::quantized_cache::QuantizedCache;
use super::quantized_kernels;

/// How a linear layer's weight is held in memory.
#[derive(Debug, Clone)]
enum Weight {
    /// (out, in) at its dtype (f32, bf16 or f16).
    Dense(Tensor),
    /// (out, in) in GGML blocks; the `QTensor` is kept to write the quantization cache.
    Quantized {
        matmul: QMatMul,
        blocks: Arc<QTensor>,
    },
}

#[derive(Debug, Clone)]
pub struct Linear {
    weight: Weight,
    bias: Option<Tensor>, // (out), in the compute dtype
    out_dim: usize,
}

impl Linear {
    /// A layer over a dense weight `(out, in)`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        let out_dim = weight.dims().first().copied().unwrap_or(0);
        Self {
            weight: Weight::Dense(weight),
            bias,
            out_dim,
        }
    }

    /// A layer over GGML blocks of a weight `(out, in)`.
    pub fn quantized(blocks: Arc<QTensor>, bias: Option<Tensor>) -> Result<Self> {
        let out_dim = blocks.shape().dims()[0];
        Ok(Self {
            weight: Weight::Quantized {
                matmul: QMatMul::from_arc(blocks.clone())?,
                blocks,
            },
            bias,
            out_dim,
        })
    }

    /// The weight's GGML blocks, when it is quantized.
    pub fn blocks(&self) -> Option<&Arc<QTensor>> {
        match &self.weight {
            Weight::Quantized { blocks, .. } => Some(blocks),
            Weight::Dense(_) => None,
        }
    }

    /// Bytes the weight occupies.
    pub fn weight_bytes(&self) -> usize {
        match &self.weight {
            Weight::Dense(w) => w.elem_count() * w.dtype().size_in_bytes(),
            Weight::Quantized { blocks, .. } => blocks.storage_size_in_bytes(),
        }
    }

    /// `weight · x` row by row on the CPU for f32 activations: one row over a dense weight, up
    /// to `QUANTIZED_DIRECT_ROWS` over quantized blocks; `None` when that path does not apply.
    fn matrix_vector(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        if xs.dtype() != DType::F32 || !matches!(xs.device(), Device::Cpu) {
            return Ok(None);
        }
        let rows = rows(xs);
        let x = || xs.flatten_all()?.to_vec1::<f32>();
        let y = match &self.weight {
            Weight::Dense(weight) if rows == 1 => {
                let (storage, layout) = weight.storage_and_layout();
                let (Storage::Cpu(cpu), Some((start, end))) =
                    (&*storage, layout.contiguous_offsets())
                else {
                    return Ok(None);
                };
                let x = x()?;
                match weight.dtype() {
                    DType::F32 => {
                        half_kernels::matrix_vector(&cpu.as_slice::<f32>()?[start..end], &x)
                    }
                    DType::BF16 => {
                        half_kernels::matrix_vector(&cpu.as_slice::<half::bf16>()?[start..end], &x)
                    }
                    DType::F16 => {
                        half_kernels::matrix_vector(&cpu.as_slice::<half::f16>()?[start..end], &x)
                    }
                    _ => return Ok(None),
                }
            }
            Weight::Quantized { blocks, .. }
                if rows <= QUANTIZED_DIRECT_ROWS
                    && blocks.device().is_cpu()
                    && quantized_kernels::supports(blocks.dtype()) =>
            {
                let x = x()?;
                let in_dim = x.len() / rows.max(1);
                let mut y = Vec::with_capacity(rows * self.out_dim);
                for row in x.chunks_exact(in_dim.max(1)) {
                    y.extend(quantized_kernels::matrix_vector(blocks, row)?);
                }
                y
            }
            _ => return Ok(None),
        };
        debug_assert_eq!(y.len(), rows * self.out_dim);
        Ok(Some(Tensor::from_vec(
            y,
            output_shape(xs, self.out_dim),
            xs.device(),
        )?))
    }

    /// Many rows on the CPU times a bf16/f16, q8_0 or q4_k weight, widened into the reused
    /// scratch (`prompt_product`); `None` for any other case.
    fn prompt_product(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        match &self.weight {
            Weight::Dense(w)
                if matches!(w.dtype(), DType::BF16 | DType::F16) && w.device().is_cpu() =>
            {
                let (out_dim, in_dim) = w.dims2()?;
                prompt_product::product(xs, out_dim, in_dim, |dst| half_kernels::widen_into(w, dst))
            }
            Weight::Quantized { blocks, .. }
                if matches!(blocks.dtype(), GgmlDType::Q8_0 | GgmlDType::Q4K)
                    && blocks.device().is_cpu() =>
            {
                let (out_dim, in_dim) = blocks.shape().dims2()?;
                prompt_product::product(xs, out_dim, in_dim, |dst| {
                    quantized_kernels::dequantize_into(blocks, dst)
                })
            }
            _ => Ok(None),
        }
    }

    /// The weight as a dense tensor of `dtype`: itself, or a temporary widened or dequantized
    /// copy.
    fn dense_as(&self, dtype: DType, device: &Device) -> Result<Tensor> {
        match &self.weight {
            Weight::Dense(w) if w.dtype() == dtype => Ok(w.clone()),
            Weight::Dense(w) if dtype == DType::F32 && matches!(w.device(), Device::Cpu) => {
                half_kernels::widen(w)
            }
            Weight::Dense(w) => w.to_dtype(dtype),
            Weight::Quantized { blocks, .. } if device.is_cpu() && blocks.device().is_cpu() => {
                quantized_kernels::dequantize(blocks)?.to_dtype(dtype)
            }
            Weight::Quantized { blocks, .. } => blocks.dequantize(device)?.to_dtype(dtype),
        }
    }
}

/// Rows of `xs`: every dimension but the last.
fn rows(xs: &Tensor) -> usize {
    xs.dims()[..xs.rank() - 1].iter().product()
}

/// `xs`'s shape with the last dimension `out_dim`.
fn output_shape(xs: &Tensor, out_dim: usize) -> Vec<usize> {
    let mut shape = xs.dims().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = out_dim;
    }
    shape
}

/// Input rows up to which a quantized layer multiplies its blocks directly, a row at a time
/// (reading the blocks once a row); above it, the weight is dequantized for the call and the f32
/// GEMM runs, which is faster over a prompt's hundreds of rows.
const QUANTIZED_DIRECT_ROWS: usize = 4;

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = if let Some(ys) = self.matrix_vector(xs)? {
            ys
        } else {
            match &self.weight {
                Weight::Quantized { matmul, .. } if rows(xs) <= QUANTIZED_DIRECT_ROWS => {
                    matmul.forward(xs)?
                }
                _ => match self.prompt_product(xs)? {
                    Some(ys) => ys,
                    None => {
                        let weight = self.dense_as(xs.dtype(), xs.device())?;
                        candle_nn::Linear::new(weight, None).forward(xs)?
                    }
                },
            }
        };
        debug_assert_eq!(ys.dims().last().copied(), Some(self.out_dim));
        match &self.bias {
            Some(bias) => ys.broadcast_add(&bias.to_dtype(ys.dtype())?),
            None => Ok(ys),
        }
    }
}

/// Loads the linear layers of one part of the model (the audio encoder, or the decoder) the way
/// the user chose: dense at one dtype, or quantized to GGML blocks (from the quantization cache
/// when it holds the layer). Counts what it did, for the trace and the load message.
pub struct LinearLoader<'a> {
    /// The dtype of weights kept dense: every layer when nothing is quantized, the embedding
    /// table, and layers whose rows are not whole blocks of the quantized format.
    pub dense: DType,
    /// The GGML format of the quantized layers, if any.
    pub quantize: Option<GgmlDType>,
    pub cache: Option<&'a QuantizedCache>,
    quantized: Cell<usize>,
    fallback: Cell<usize>,
    kept_dense: Cell<usize>,
}

impl<'a> LinearLoader<'a> {
    /// Every layer dense at `dtype`.
    pub fn dense(dtype: DType) -> Self {
        Self::new(dtype, None, None)
    }

    pub fn new(
        dense: DType,
        quantize: Option<GgmlDType>,
        cache: Option<&'a QuantizedCache>,
    ) -> Self {
        Self {
            dense,
            quantize,
            cache,
            quantized: Cell::new(0),
            fallback: Cell::new(0),
            kept_dense: Cell::new(0),
        }
    }

    /// `(quantized, quantized in the fallback format, kept dense)` layers loaded so far.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.quantized.get(),
            self.fallback.get(),
            self.kept_dense.get(),
        )
    }

    /// The layer `vb` (`weight` (out, in), and `bias` (out) when `bias`).
    pub fn load(
        &self,
        in_dim: usize,
        out_dim: usize,
        vb: VarBuilder,
        bias: bool,
    ) -> Result<Linear> {
        let bias = if bias {
            Some(vb.get(out_dim, "bias")?)
        } else {
            None
        };
        let shape = (out_dim, in_dim);
        let dense = |vb: VarBuilder| -> Result<Linear> {
            let weight = vb.get_with_hints_dtype(shape, "weight", Init::Const(0.0), self.dense)?;
            Ok(Linear::new(weight, bias.clone()))
        };
        let Some(requested) = self.quantize else {
            return dense(vb);
        };
        let Some(format) = block_format(requested, in_dim) else {
            self.kept_dense.set(self.kept_dense.get() + 1);
            return dense(vb);
        };
        let counter = if format == requested {
            &self.quantized
        } else {
            &self.fallback
        };
        counter.set(counter.get() + 1);
        let name = format!("{}.weight", vb.prefix());
        if let Some(blocks) = self.cache.and_then(|cache| cache.get(&name, shape, format)) {
            return Linear::quantized(blocks, bias);
        }
        let weight = vb.get_with_hints_dtype(shape, "weight", Init::Const(0.0), DType::F32)?;
        let blocks = Arc::new(quantize(&weight, format)?);
        drop(weight);
        if let Some(cache) = self.cache {
            cache.record(&name, blocks.clone());
        }
        Linear::quantized(blocks, bias)
    }

    /// An embedding table `(vocab, hidden)` at the dense dtype.
    pub fn embedding(
        &self,
        vocab: usize,
        hidden: usize,
        vb: VarBuilder,
    ) -> Result<candle_nn::Embedding> {
        let table =
            vb.get_with_hints_dtype((vocab, hidden), "weight", Init::Const(0.0), self.dense)?;
        Ok(candle_nn::Embedding::new(table, hidden))
    }
}

/// The format a layer whose rows hold `in_dim` values is quantized to when `requested` is asked
/// for: `requested` when a row is whole blocks of it; for a k-quant (super-blocks of 256) whose
/// rows are whole blocks of 32, the 32-block format llama.cpp falls back to (`q4_k` → `q5_0`);
/// otherwise none (the layer stays dense).
pub fn block_format(requested: GgmlDType, in_dim: usize) -> Option<GgmlDType> {
    if in_dim.is_multiple_of(requested.block_size()) {
        return Some(requested);
    }
    let fallback = match requested {
        GgmlDType::Q4K => GgmlDType::Q5_0,
        GgmlDType::Q5K => GgmlDType::Q5_1,
        GgmlDType::Q6K => GgmlDType::Q8_0,
        _ => return None,
    };
    in_dim
        .is_multiple_of(fallback.block_size())
        .then_some(fallback)
}

/// Quantizes `weight` (out, in) to `format`, rows split across the rayon pool (candle's own
/// `QTensor::quantize` runs on one thread; a 7B's weights take minutes that way).
pub fn quantize(weight: &Tensor, format: GgmlDType) -> Result<QTensor> {
    let (out_dim, in_dim) = weight.dims2()?;
    let block = format.block_size();
    if !in_dim.is_multiple_of(block) {
        candle_core::bail!(
            "a row of {in_dim} values is not a whole number of {format:?} blocks of {block}"
        );
    }
    let values = weight
        .to_dtype(DType::F32)?
        .to_device(&Device::Cpu)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let rows_per_task = 64;
    let pieces: Vec<Vec<u8>> = values
        .par_chunks(rows_per_task * in_dim)
        .map(|rows| -> Result<Vec<u8>> {
            // A tensor of its own: candle's quantize reads its storage from the start, whatever
            // a narrowed view's offset.
            let rows = Tensor::from_slice(rows, (rows.len() / in_dim, in_dim), &Device::Cpu)?;
            Ok(QTensor::quantize(&rows, format)?.data()?.into_owned())
        })
        .collect::<Result<_>>()?;
    let bytes: Vec<u8> = pieces.concat();
    let storage = candle_core::quantized::QStorage::from_data(
        std::borrow::Cow::Owned(bytes),
        &Device::Cpu,
        format,
    )?;
    QTensor::new(storage, (out_dim, in_dim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    /// The one-row path and the many-row path, for every dense dtype, against candle's f32
    /// product on the same (rounded) weights.
    #[test]
    fn dense_layers_match_candle_matmul() -> Result<()> {
        let device = Device::Cpu;
        // 77 inputs: not a multiple of any vector width, so the tails are exercised.
        let weight = Tensor::randn(0f32, 1.0, (37, 77), &device)?;
        let bias = Tensor::randn(0f32, 1.0, 37, &device)?;
        for dtype in [DType::F32, DType::BF16, DType::F16] {
            let stored = weight.to_dtype(dtype)?;
            let linear = Linear::new(stored.clone(), Some(bias.clone()));
            let reference =
                candle_nn::Linear::new(stored.to_dtype(DType::F32)?, Some(bias.clone()));
            for rows in [1, 5] {
                let x = Tensor::randn(0f32, 1.0, (1, rows, 77), &device)?;
                let ours = linear.forward(&x)?;
                assert_eq!(ours.dims(), &[1, rows, 37]);
                let difference = largest_difference(&ours, &reference.forward(&x)?);
                assert!(difference < 1e-4, "{dtype:?}, {rows} rows: {difference}");
            }
        }
        Ok(())
    }

    /// Quantized layers agree with the dequantized weight's product, one row and many.
    #[test]
    fn quantized_layers_match_their_dequantized_weights() -> Result<()> {
        let device = Device::Cpu;
        let weight = Tensor::randn(0f32, 1.0, (130, 512), &device)?;
        for format in [GgmlDType::Q8_0, GgmlDType::Q4K] {
            let blocks = Arc::new(quantize(&weight, format)?);
            let dequantized = blocks.dequantize(&device)?;
            // Parallel quantization gives candle's own bytes.
            let whole = QTensor::quantize(&weight, format)?;
            let (ours, theirs) = (blocks.data()?, whole.data()?);
            let first = ours.iter().zip(theirs.iter()).position(|(a, b)| a != b);
            assert_eq!((ours.len(), first), (theirs.len(), None), "{format:?}");
            let linear = Linear::quantized(blocks, None)?;
            let reference = candle_nn::Linear::new(dequantized, None);
            for rows in [1, 40] {
                let x = Tensor::randn(0f32, 1.0, (1, rows, 512), &device)?;
                let ours = linear.forward(&x)?;
                let expected = reference.forward(&x)?;
                // The direct path also quantizes the activations (to 8 bits): relative error.
                let scale = expected.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
                let difference = largest_difference(&ours, &expected) / scale;
                assert!(difference < 2e-2, "{format:?}, {rows} rows: {difference}");
            }
        }
        Ok(())
    }

    #[test]
    fn k_quants_fall_back_to_32_blocks_as_llama_cpp_does() {
        assert_eq!(block_format(GgmlDType::Q4K, 4096), Some(GgmlDType::Q4K));
        assert_eq!(block_format(GgmlDType::Q4K, 128), Some(GgmlDType::Q5_0));
        assert_eq!(block_format(GgmlDType::Q4K, 100), None);
        assert_eq!(block_format(GgmlDType::Q8_0, 96), Some(GgmlDType::Q8_0));
        assert_eq!(block_format(GgmlDType::Q8_0, 100), None);
    }

    #[test]
    fn a_row_that_is_not_whole_blocks_is_refused() {
        let weight = Tensor::zeros((4, 100), DType::F32, &Device::Cpu).unwrap();
        let error = quantize(&weight, GgmlDType::Q8_0).unwrap_err().to_string();
        assert!(error.contains("not a whole number"), "{error}");
    }
}
