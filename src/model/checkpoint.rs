//! A loaded checkpoint directory: configuration, processor and model, on one device and dtype.
//!
//! The directory is the Hugging Face layout (`config.json`, safetensors shards and their index,
//! tokenizer, chat template, front-end config).
//! Loading checks everything it can before the first prompt: the model type, the front end
//! against the encoder's window, the tokenizer's audio token, the template, every tensor's name
//! and shape, and (unless forced) that the run fits in memory. How to load (dtype,
//! quantization, device) is `load_options`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};

use super::audio_lm::AudioLm;
use super::config::{GenerationConfig, ModelConfig};
use super::error::ModelError;
use super::family::Family;
use super::kernels::Kernels;
use super::linear::LinearLoader;
use super::load_options::{DeviceKind, LoadOptions, Precision, Quantization};
use super::memory::{self, Estimate, Plan, TensorEntry};
use super::processor::{PreparedInput, Processor};
use super::quantized_cache::{self, QuantizedCache};
use super::weights::{load_var_builder, short, weight_files};

/// What quantization did at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantizationReport {
    pub format: Quantization,
    /// Linear layers quantized to the format.
    pub layers: usize,
    /// Linear layers quantized to the format's fallback (`q5_0` for `q4_k`): their rows are not
    /// whole super-blocks of 256.
    pub fallback: usize,
    /// Linear layers kept dense: their rows are not whole blocks of 32 either.
    pub kept_dense: usize,
    /// Whether the layers came from the cache.
    pub from_cache: bool,
    /// The cache file read or written, if any.
    pub cache_file: Option<PathBuf>,
}

pub struct Checkpoint {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub generation: GenerationConfig,
    pub processor: Processor,
    pub model: AudioLm,
    pub device: Device,
    /// dtype of the weights kept dense.
    pub precision: Precision,
    pub quantization: Option<QuantizationReport>,
    /// What the memory check estimated for the run.
    pub memory_estimate: Estimate,
    /// Seconds spent loading.
    pub load_seconds: f64,
}

impl Checkpoint {
    /// Loads at `precision` (weights and, on a GPU, compute) on `device`, without a memory check
    /// or quantization.
    pub fn load(dir: &Path, precision: Precision, device: DeviceKind) -> Result<Self, ModelError> {
        let options = LoadOptions {
            precision: Some(precision),
            force: true,
            ..LoadOptions::new(device)
        };
        Self::load_with(dir, &options)
    }

    pub fn load_with(dir: &Path, options: &LoadOptions) -> Result<Self, ModelError> {
        let started = Instant::now();
        check_checkpoint_dir(dir)?;
        let config_path = dir.join("config.json");
        let config = ModelConfig::load(&config_path)?;
        let mut generation = GenerationConfig::load(&dir.join("generation_config.json"))?;
        if generation.eos_token_id.is_empty() {
            generation.eos_token_id = config.eos_token_ids().to_vec();
        }
        let processor = Processor::load(dir, config.audio_token_index, config.audio_token_rate())?;
        let defaulted = processor.defaults_used();
        if config.kind.family != Family::Qwen2Audio && !defaulted.is_empty() {
            // Qwen2-Audio's 30 s window and "Audio 1:" template would silently change an Omni
            // model's inputs.
            return Err(ModelError::config(
                &config_path,
                format!(
                    "a {} checkpoint needs its own {}; this directory has none",
                    config.model_type,
                    defaulted.join(" and ")
                ),
            ));
        }

        let mel = processor.mel_config();
        let audio = &config.audio_config;
        // Qwen2-Audio's encoder takes exactly one window; the Omni thinker's any number of
        // frames, so only its mel bins must agree.
        let window_frames = match config.kind.family {
            Family::Qwen2Audio => 2 * audio.max_source_positions,
            Family::Qwen25Omni | Family::Qwen3Omni => mel.frames(),
        };
        if mel.feature_size != audio.num_mel_bins || mel.frames() != window_frames {
            return Err(ModelError::config(
                &dir.join("preprocessor_config.json"),
                format!(
                    "the front end gives {} mel bins x {} frames, but the audio encoder takes {} x {} (config.json)",
                    mel.feature_size,
                    mel.frames(),
                    audio.num_mel_bins,
                    window_frames
                ),
            ));
        }

        let device = options.device.device()?;
        let files = weight_files(dir)?;
        let entries = memory::read_tensor_entries(&files)?;
        let precision = options
            .precision
            .unwrap_or_else(|| stored_precision(&config, &entries));
        // On the CPU activations are f32 whatever the weights (the kernels widen bf16 and f16
        // in registers); on a GPU they are in the weights' dtype, unless quantized (f32).
        let compute = match (options.device, options.quantize) {
            (DeviceKind::Cpu, _) | (_, Some(_)) => DType::F32,
            (DeviceKind::Cuda, None) => precision.dtype(),
        };
        let kv_cache = if options.kv_cache_f16 {
            DType::F16
        } else {
            compute
        };
        let plan = |dense: Precision, quantize: Option<Quantization>| Plan {
            dense: dense.dtype(),
            quantize: quantize.map(Quantization::ggml),
            compute: if options.device == DeviceKind::Cpu {
                DType::F32
            } else {
                compute
            },
            kv_cache,
            audio_seconds: options.audio_seconds,
            new_tokens: options.new_tokens,
            per_head_maps: false,
            evidence: options.evidence,
        };
        // A front end that pads nothing hears the whole clip, however long.
        let window = if config.audio_token_rate().pads_to_window() {
            mel.chunk_length as f64
        } else {
            options.audio_seconds.unwrap_or(mel.chunk_length as f64)
        };
        let estimate_for =
            |dense, quantize| memory::estimate(&config, &entries, window, &plan(dense, quantize));
        let memory_estimate = estimate_for(precision, options.quantize);
        if !options.force && options.device == DeviceKind::Cpu {
            if let Some(available) = memory::available_bytes() {
                if memory_estimate.total() > available {
                    return Err(ModelError::Input(too_big_message(
                        dir,
                        precision,
                        options.quantize,
                        memory_estimate.total(),
                        available,
                        &estimate_for,
                    )));
                }
            }
        }

        let cache = match options.quantize.filter(|_| options.cache) {
            Some(format) => options
                .cache_dir
                .clone()
                .or_else(quantized_cache::default_cache_dir)
                .map(|root| {
                    QuantizedCache::open(
                        &quantized_cache::quantized_dir(&root),
                        &files,
                        format.ggml(),
                    )
                })
                .transpose()?,
            None => None,
        };
        let encoder_linears = LinearLoader::dense(precision.dtype());
        let decoder_linears = LinearLoader::new(
            precision.dtype(),
            options.quantize.map(Quantization::ggml),
            cache.as_ref(),
        );
        if options.quantize.is_some() && !cache.as_ref().is_some_and(QuantizedCache::hit) {
            eprintln!(
                "quantizing {} to {} ({})...",
                dir.display(),
                options.quantize.map_or("", Quantization::name),
                if cache.is_some() {
                    "once; later loads read the cache"
                } else {
                    "the cache is off: every load quantizes"
                }
            );
        }
        let vb = load_var_builder(&files, compute, &device)?;
        let model = AudioLm::load_with(
            &config,
            vb,
            Kernels::Fast,
            &encoder_linears,
            &decoder_linears,
        )
        .map_err(|e| ModelError::weights(dir, short(&e)))?
        .with_kv_cache_dtype(kv_cache);
        let quantization = options.quantize.map(|format| {
            let (layers, fallback, kept_dense) = decoder_linears.counts();
            let from_cache = cache.as_ref().is_some_and(QuantizedCache::hit);
            let cache_file = match &cache {
                Some(cache) if from_cache => Some(cache.path().to_owned()),
                Some(cache) => match cache.save() {
                    Ok(written) => written,
                    Err(error) => {
                        eprintln!("warning: the quantized layers were not cached: {error}");
                        None
                    }
                },
                None => None,
            };
            QuantizationReport {
                format,
                layers,
                fallback,
                kept_dense,
                from_cache,
                cache_file,
            }
        });
        Ok(Self {
            dir: dir.to_owned(),
            config,
            generation,
            processor,
            model,
            device,
            precision,
            quantization,
            memory_estimate,
            load_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Seconds of audio one audio token stands for, with this checkpoint's front end
    /// (0.04 s for Qwen2-Audio and Qwen2.5-Omni, 1/13 s for Qwen3-Omni: `AudioTokenRate`).
    pub fn seconds_per_audio_token(&self) -> f64 {
        self.config
            .audio_token_rate()
            .seconds_per_token(self.processor.mel_config())
    }

    /// Seconds of a `clip_seconds` clip the model hears: the front end's window (a longer clip
    /// is cut to it), or the whole clip where the front end neither pads nor cuts (Qwen3-Omni).
    pub fn window_seconds(&self, clip_seconds: f64) -> f64 {
        let window = self.processor.mel_config().chunk_length as f64;
        if self.config.audio_token_rate().pads_to_window() {
            window
        } else {
            clip_seconds
        }
    }

    /// Encodes the clip of `input` and returns the prompt's embeddings (seq, hidden).
    pub fn embed_input(&self, input: &PreparedInput) -> Result<Tensor, ModelError> {
        let mel = &input.mel;
        let features = Tensor::from_slice(&mel.features, (mel.n_mels, mel.frames), &self.device)?;
        let audio_rows = self.model.encode_audio(&features, input.valid_frames)?;
        Ok(self.model.embed_prompt(&input.input_ids, &audio_rows)?)
    }
}

/// The precision the checkpoint's decoder is stored in (its first matrix's).
fn stored_precision(config: &ModelConfig, entries: &[TensorEntry]) -> Precision {
    let _ = config;
    entries
        .iter()
        .find(|e| e.shape.len() == 2 && e.name.contains("layers."))
        .map_or(Precision::F32, |e| {
            Precision::of_stored(e.bytes_per_value, &e.dtype)
        })
}

/// `DIR: needs 33.6 GB as f32, 21.9 GB available: --dtype bf16 needs 17.4 GB, --quantize q8_0
/// 9.3 GB (--force loads anyway)`.
fn too_big_message(
    dir: &Path,
    precision: Precision,
    quantize: Option<Quantization>,
    needed: u64,
    available: u64,
    estimate_for: &dyn Fn(Precision, Option<Quantization>) -> Estimate,
) -> String {
    let chosen = match quantize {
        Some(q) => format!("with --quantize {}", q.name()),
        None => format!("as {}", precision.name()),
    };
    let mut options: Vec<(String, u64)> = Vec::new();
    for dense in [Precision::Bf16, Precision::F16] {
        if quantize.is_none() && dense != precision && precision == Precision::F32 {
            options.push((
                format!("--dtype {}", dense.name()),
                estimate_for(dense, None).total(),
            ));
            break;
        }
    }
    let dense = if precision == Precision::F32 {
        Precision::Bf16
    } else {
        precision
    };
    for q in [Quantization::Q8_0, Quantization::Q4K] {
        if Some(q) != quantize {
            options.push((
                format!("--quantize {}", q.name()),
                estimate_for(dense, Some(q)).total(),
            ));
        }
    }
    let fitting: Vec<String> = options
        .iter()
        .filter(|(_, bytes)| *bytes <= available)
        .map(|(flag, bytes)| format!("{flag} needs {}", memory::gigabytes(*bytes)))
        .collect();
    let advice = if fitting.is_empty() {
        // Only a smaller option is worth naming: q8_0 is no advice to someone who asked for q4_k.
        let smallest = options
            .iter()
            .filter(|(_, bytes)| *bytes < needed)
            .min_by_key(|(_, b)| *b);
        match smallest {
            Some((flag, bytes)) => format!(
                "nothing fits; the smallest, {flag}, needs {}",
                memory::gigabytes(*bytes)
            ),
            None => "nothing smaller to try".to_owned(),
        }
    } else {
        fitting.join(", ")
    };
    format!(
        "{}: needs {} {chosen}, {} available: {advice} (--force loads anyway)",
        dir.display(),
        memory::gigabytes(needed),
        memory::gigabytes(available),
    )
}

/// What `--model` must name, said in one line when it does not: a folder (not a file in it)
/// holding a checkpoint's `config.json` beside its tokenizer and weights.
pub fn check_checkpoint_dir(dir: &Path) -> Result<(), ModelError> {
    const WANTED: &str = "--model takes a checkpoint folder: the one holding config.json, \
                          tokenizer.json and the *.safetensors weights";
    let problem = if !dir.exists() {
        format!("no such folder; {WANTED}")
    } else if !dir.is_dir() {
        format!("is a file; {WANTED}")
    } else if !dir.join("config.json").is_file() {
        format!("not a checkpoint (it has no config.json); {WANTED}")
    } else {
        return Ok(());
    };
    Err(ModelError::Config {
        path: dir.to_owned(),
        message: problem,
    })
}
