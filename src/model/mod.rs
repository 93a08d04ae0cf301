//! The model layer: audio-language models in candle (Qwen2-Audio and the Qwen2.5-Omni thinker),
//! with attention capture that scales to 7B. It knows only models: it imports the audio layer
//! (log-mel features) and the bottom utilities, nothing above.
//!
//! One code path for every checkpoint: a tiny test fixture, the bundled demo model and a 7B
//! checkpoint differ only in their files. Bottom-up:
//! - **reading a checkpoint directory**: `family` is the table of loadable `model_type`s (family,
//!   where the settings and weights are); `config` reads `config.json` and
//!   `generation_config.json` by it; `weights` maps the safetensors; `processor` turns a clip and
//!   a prompt into token ids and log-mel features with the checkpoint's template and tokenizer.
//! - **the kernels**: `kernels` (softmax, norms, RoPE: fused, or differentiable for training),
//!   `linear` (a linear layer whose weights stay f32, bf16, f16 or GGML blocks), with its CPU
//!   products in `half_kernels`, `quantized_kernels` and `prompt_product`, and
//!   `quantized_cache` keeping quantized layers between loads.
//! - **the network**: `audio_encoder` (Qwen2-Audio's Whisper encoder and projector, and the audio
//!   token rate both families share) and `omni_audio_encoder` (the thinker's chunked encoder);
//!   `decoder` (Qwen2, shared by both, with its KV cache; `forward(xs, pos, capture, logits)`
//!   says where its rows go and the cache checks it), whose attention fills a `capture`
//!   request; `audio_lm` joins an encoder and the decoder through the audio-token scatter.
//! - **running it**: `prefill` runs a prompt (or a kept context) into the cache, `sampler` and
//!   `generate` decode (from a fresh prompt or continuing a kept context), `drift` compares two models on the same
//!   tokens, `reliance` runs the same tokens again without the audio (counterfactuals,
//!   occlusion) to measure how much each one depends on it.
//! - **loading**: `load_options` (dtype, quantization, device), `memory` (refusing a run that
//!   will not fit before loading), and `checkpoint`, which loads a directory into a
//!   `Checkpoint`: config, processor and model on one device. `error` says what failed, naming
//!   the file.

mod audio_encoder;
mod audio_lm;
mod audio_tokens;
mod aut_encoder;
pub mod capture;
mod checkpoint;
pub mod config;
mod decoder;
pub mod drift;
mod error;
mod experts;
pub mod family;
pub mod generate;
mod half_kernels;
pub mod kernels;
pub mod linear;
mod load_options;
pub mod memory;
mod omni_audio_encoder;
mod prefill;
mod processor;
pub mod prompt_product;
pub mod quantized_cache;
mod quantized_kernels;
pub mod reliance;
pub mod sampler;
#[cfg(test)]
mod test_support;
mod weights;

pub use audio_encoder::{audio_token_count, seconds_per_audio_token, MEL_FRAMES_PER_AUDIO_TOKEN};
pub use audio_lm::AudioLm;
pub use audio_tokens::AudioTokenRate;
pub use capture::{AttentionRows, CaptureRequest, LayerCapture};
pub use checkpoint::{check_checkpoint_dir, Checkpoint, QuantizationReport};
pub use decoder::Logits;
pub use error::ModelError;
pub use generate::{
    generate, generate_continuation, CaptureOptions, Continuation, GenerateOptions, Generation,
    GenerationEvent, StoppedBy, Timings,
};
pub use linear::LinearLoader;
pub use load_options::{DeviceKind, LoadOptions, Precision, Quantization};
pub use prefill::prefill_context;
pub use processor::{PreparedInput, Processor, TextStream, DEFAULT_CHAT_TEMPLATE};
pub use reliance::{
    measure_evidence, ActualRows, ComparedRows, Counterfactual, Evidence, EvidenceRequest,
    EvidenceTimings, OcclusionRows, OcclusionWindows,
};
pub use sampler::{Sampler, Sampling};
