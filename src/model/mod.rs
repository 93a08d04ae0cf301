//! The model layer: Qwen2-Audio in candle, with attention capture that scales to 7B.
//!
//! One code path for every checkpoint: a tiny test fixture, the bundled demo model and a 7B
//! checkpoint differ only in their files. Bottom-up: `config` and `weights` read the directory,
//! `processor` turns a clip and a prompt into inputs, `audio_encoder` and `decoder` are the
//! network (the decoder's attention fills a `capture` request), `qwen2_audio` joins them,
//! `generate` decodes, and `checkpoint` loads it all.

mod audio_encoder;
mod audio_lm;
pub mod capture;
mod checkpoint;
pub mod config;
mod decoder;
pub mod drift;
mod error;
pub mod family;
pub mod generate;
mod half_kernels;
pub mod kernels;
pub mod linear;
mod load_options;
pub mod memory;
mod omni_audio_encoder;
mod processor;
pub mod prompt_product;
pub mod quantized_cache;
mod quantized_kernels;
pub mod sampler;
mod weights;

pub use audio_encoder::{audio_token_count, seconds_per_audio_token, MEL_FRAMES_PER_AUDIO_TOKEN};
pub use audio_lm::AudioLm;
pub use capture::{AttentionRows, CaptureRequest, LayerCapture};
pub use checkpoint::{check_checkpoint_dir, Checkpoint, QuantizationReport};
pub use decoder::Logits;
pub use error::ModelError;
pub use generate::{
    generate, CaptureOptions, GenerateOptions, Generation, GenerationEvent, StoppedBy, Timings,
};
pub use linear::LinearLoader;
pub use load_options::{DeviceKind, LoadOptions, Precision, Quantization};
pub use processor::{PreparedInput, Processor, TextStream, DEFAULT_CHAT_TEMPLATE};
pub use sampler::{Sampler, Sampling};
