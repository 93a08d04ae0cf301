//! Memory before loading: what a run will hold at its peak, against what the machine has free, so
//! that a model that cannot fit is refused in a second with the numbers and the options that
//! would fit, rather than killed by the kernel minutes into loading.
//!
//! The estimate adds, from the checkpoint's safetensors headers and config alone (no weight is
//! read):
//! - **weights** as they will be kept: the decoder's matrices at the quantized format's size
//!   (`blocks × bytes per block`) or the dense dtype's, the embedding table and the audio encoder's
//!   matrices at the dense dtype, every other tensor (norms, biases, convolutions, positions) in
//!   the compute dtype; only the tensors the model reads (a full Omni checkpoint's talker, vocoder
//!   and vision tower stay on disk);
//! - **the KV cache** for the prompt and every new token: `layers × 2 × kv_heads × head_dim`
//!   values a position, in the KV cache's dtype;
//! - **captured attention**: `layers × (2 × heads + audio tokens)` f32 a generated token (and the
//!   prompt's rows when they are captured);
//! - **the largest transient**: the prompt's attention scores and probabilities for one block of
//!   rows (`heads × rows × positions`, three f32 copies), the MLP's three `rows × intermediate`
//!   arrays, one matrix widened to f32 for the prompt's product, the audio encoder's own
//!   attention, the logits;
//! - **a fixed allowance** for the tokenizer, the program and the allocator.
//!
//! Measured against the peak RSS of real runs (the README's table): the estimate is meant to be
//! slightly above, never far below.

use std::path::PathBuf;

use candle_core::quantized::GgmlDType;
use candle_core::DType;
use safetensors::SafeTensors;

use super::config::ModelConfig;
use super::error::ModelError;
use super::family::Family;
use super::linear::block_format;

/// The tokenizer (a 150k-token vocabulary), the program, the allocator's slack.
const FIXED_BYTES: u64 = 400 << 20;
/// Prompt text around the audio tokens, when the prompt is not known yet.
const PROMPT_TEXT_TOKENS: usize = 256;
/// Query rows the prompt runs in at a time (`generate::PREFILL_ROWS`).
const PREFILL_ROWS: usize = 2048;

/// One tensor of the checkpoint, from its file's header.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<usize>,
    pub bytes_per_value: usize,
    /// The safetensors dtype's name (`BF16`, `F16`, `F32`, ...).
    pub dtype: String,
}

/// The tensors of the weight files, from their headers.
pub fn read_tensor_entries(files: &[PathBuf]) -> Result<Vec<TensorEntry>, ModelError> {
    let mut entries = Vec::new();
    for path in files {
        let io = |error| ModelError::Io {
            path: path.clone(),
            error,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: read-only; only the header is parsed (the pages of the data are never touched).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let (_, metadata) = SafeTensors::read_metadata(&map).map_err(|e| {
            ModelError::weights(path, format!("not a valid safetensors file ({e})"))
        })?;
        for (name, info) in metadata.tensors() {
            entries.push(TensorEntry {
                name,
                shape: info.shape.clone(),
                bytes_per_value: info.dtype.bitsize() / 8,
                dtype: format!("{:?}", info.dtype),
            });
        }
    }
    Ok(entries)
}

/// How the weights will be kept and what the run will do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// dtype of the weights kept dense.
    pub dense: DType,
    /// GGML format of the decoder's matrices.
    pub quantize: Option<GgmlDType>,
    /// dtype of activations (f32 on the CPU).
    pub compute: DType,
    pub kv_cache: DType,
    /// Seconds of audio (`None`: the encoder's whole window).
    pub audio_seconds: Option<f64>,
    pub new_tokens: usize,
    pub per_head_maps: bool,
    /// Reliance or occlusion will be measured: every generated token's logits are held
    /// (`reliance::evidence_bytes`).
    pub evidence: bool,
}

/// Whisper's front end: 100 mel frames a second (hop 160 at 16 kHz).
const MEL_FRAMES_PER_SECOND: f64 = 100.0;

/// The estimate, by part, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimate {
    pub weights: u64,
    pub kv_cache: u64,
    pub capture: u64,
    /// The logits reliance and occlusion hold (0 when not measured).
    pub evidence: u64,
    pub transient: u64,
    pub fixed: u64,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.weights + self.kv_cache + self.capture + self.evidence + self.transient + self.fixed
    }
}

/// What `plan` needs for the checkpoint `config` whose tensors are `entries`.
pub fn estimate(
    config: &ModelConfig,
    entries: &[TensorEntry],
    window_seconds: f64,
    plan: &Plan,
) -> Estimate {
    let text = &config.text_config;
    let audio = &config.audio_config;
    let prefix = match config.kind.weights_prefix {
        "" => String::new(),
        p => format!("{p}."),
    };
    let mut weights = 0u64;
    let mut largest_matrix = 0u64;
    for entry in entries {
        let Some(name) = entry.name.strip_prefix(&prefix) else {
            continue; // a full Omni checkpoint's talker and vocoder
        };
        if name.starts_with("visual.") {
            continue;
        }
        let values: usize = entry.shape.iter().product();
        let is_matrix = entry.shape.len() == 2
            && name.ends_with(".weight")
            && !name.contains("embed_positions");
        let is_embedding = name.contains("embed_tokens");
        let in_decoder = !name.contains("audio_tower") && !name.contains("multi_modal_projector");
        let bytes = if is_matrix && in_decoder && !is_embedding {
            // The head multiplies one row (the last): never widened.
            if !name.ends_with("lm_head.weight") {
                largest_matrix = largest_matrix.max(values as u64 * 4);
            }
            match plan
                .quantize
                .and_then(|format| block_format(format, entry.shape[1]))
            {
                Some(format) => (values / format.block_size() * format.type_size()) as u64,
                None => (values * plan.dense.size_in_bytes()) as u64,
            }
        } else if is_matrix {
            (values * plan.dense.size_in_bytes()) as u64
        } else {
            (values * plan.compute.size_in_bytes()) as u64
        };
        weights += bytes;
    }

    let seconds = plan
        .audio_seconds
        .unwrap_or(window_seconds)
        .min(window_seconds);
    // Whisper's 100 mel frames a second: 25 audio tokens a second for Qwen2-Audio and
    // Qwen2.5-Omni, 13 for Qwen3-Omni (`AudioTokenRate`).
    let audio_tokens = config
        .audio_token_rate()
        .count((seconds * MEL_FRAMES_PER_SECOND).ceil() as usize);
    let prompt = audio_tokens + PROMPT_TEXT_TOKENS;
    let positions = prompt + plan.new_tokens;
    let layers = text.num_hidden_layers as u64;
    let kv_per_position = layers
        * 2
        * (text.num_key_value_heads() * text.head_dim()) as u64
        * kv_bytes(plan.kv_cache);
    // The cache grows in chunks of 512 positions, copying one layer's cache when it does.
    let kv_cache = kv_per_position * positions.next_multiple_of(512) as u64;
    let heads = text.num_attention_heads as u64;
    let per_head = if plan.per_head_maps {
        heads * audio_tokens as u64
    } else {
        0
    };
    let capture =
        plan.new_tokens as u64 * layers * (2 * heads + audio_tokens as u64 + per_head) * 4;

    let rows = prompt.min(PREFILL_ROWS) as u64;
    let attention = 3 * heads * rows * positions as u64 * 4;
    let mlp_width = text
        .intermediate_size
        .max(text.moe_intermediate_size * text.num_experts_per_tok);
    let mlp = 3 * rows * mlp_width as u64 * 4;
    let widened = if plan.dense == DType::F32 && plan.quantize.is_none() {
        0
    } else {
        largest_matrix
    };
    let encoder = match config.kind.family {
        // One window: (heads, positions, positions) scores, three copies.
        Family::Qwen2Audio => {
            let positions = audio.max_source_positions as u64;
            3 * audio.encoder_attention_heads as u64 * positions * positions * 4
        }
        // Chunks of n_window positions attend within themselves.
        Family::Qwen25Omni => {
            let chunk = audio.n_window.unwrap_or(100) as u64;
            let chunks = (audio_tokens as u64 * 2).div_ceil(chunk).max(1);
            3 * audio.encoder_attention_heads as u64 * chunks * chunk * chunk * 4
        }
        // Windows of 13 tokens a chunk × n_window_infer / (2 n_window) chunks (104) attend
        // within themselves; the convolutions hold 64 chunks' first feature maps at a time.
        Family::Qwen3Omni => {
            let chunk_frames = 2 * audio.n_window.unwrap_or(50);
            let window = (13 * audio.n_window_infer.unwrap_or(800) / chunk_frames.max(1)) as u64;
            // At most 8 windows go through the layers at a time (`aut_encoder`).
            let windows = (audio_tokens as u64).div_ceil(window.max(1)).clamp(1, 8);
            let attention =
                3 * audio.encoder_attention_heads as u64 * windows * window * window * 4;
            let convolutions = 2
                * 64
                * audio.downsample_hidden_size.unwrap_or(480) as u64
                * audio.num_mel_bins.div_ceil(2) as u64
                * chunk_frames.div_ceil(2) as u64
                * 4;
            attention.max(convolutions)
        }
    };
    let logits = text.vocab_size as u64 * 4 * 2;
    let transient = (attention + mlp).max(encoder) + widened + logits;
    let evidence = if plan.evidence {
        super::reliance::evidence_bytes(plan.new_tokens, text.vocab_size)
    } else {
        0
    };
    Estimate {
        weights,
        kv_cache,
        capture,
        evidence,
        transient,
        fixed: FIXED_BYTES,
    }
}

fn kv_bytes(dtype: DType) -> u64 {
    dtype.size_in_bytes() as u64
}

/// Setting this (`8GB`, `512MB`, or bytes) makes the memory check plan for that much memory
/// instead of what the machine has: to see what a smaller machine would need, and for tests.
pub const AVAILABLE_OVERRIDE: &str = "AUSCULT_AVAILABLE_MEMORY";

/// Bytes this process could still take: the smaller of the machine's available memory and what
/// its control group still allows (or `AUSCULT_AVAILABLE_MEMORY`). `None` where neither can be
/// read.
pub fn available_bytes() -> Option<u64> {
    if let Some(bytes) = std::env::var(AVAILABLE_OVERRIDE)
        .ok()
        .and_then(|v| parse_bytes(&v))
    {
        return Some(bytes);
    }
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};
    let system = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    let machine = Some(system.available_memory()).filter(|&bytes| bytes > 0);
    match (machine, cgroup_headroom()) {
        (Some(machine), Some(limit)) => Some(machine.min(limit)),
        (machine, limit) => machine.or(limit),
    }
}

/// What the control group (a container's memory limit) still allows: its limit less what it
/// uses, not counting the page cache, which the kernel reclaims before it kills anything.
/// Hand-written because `sysinfo`'s cgroup figure counts the page cache as used (after reading a
/// 17 GB checkpoint it reported 12 GB free on a 24 GB machine with 22 GB available). Linux only;
/// cgroup v2, then v1, at the mount's root (a container's own group).
fn cgroup_headroom() -> Option<u64> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let stat = |text: &str, key: &str| {
        text.lines().find_map(|line| {
            line.strip_prefix(key)?
                .strip_prefix(' ')?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    let (limit, usage, file_cache) = if let Some(limit) = read("/sys/fs/cgroup/memory.max") {
        let limit = limit.trim().parse::<u64>().ok()?; // "max": no limit
        let usage = read("/sys/fs/cgroup/memory.current")?
            .trim()
            .parse::<u64>()
            .ok()?;
        let cache = read("/sys/fs/cgroup/memory.stat").and_then(|s| stat(&s, "file"));
        (limit, usage, cache.unwrap_or(0))
    } else {
        let limit = read("/sys/fs/cgroup/memory/memory.limit_in_bytes")?
            .trim()
            .parse::<u64>()
            .ok()?;
        let usage = read("/sys/fs/cgroup/memory/memory.usage_in_bytes")?
            .trim()
            .parse::<u64>()
            .ok()?;
        let cache = read("/sys/fs/cgroup/memory/memory.stat").and_then(|s| stat(&s, "total_cache"));
        (limit, usage, cache.unwrap_or(0))
    };
    // v1 writes "no limit" as a number near 2^63.
    if limit >= 1 << 60 {
        return None;
    }
    Some(limit.saturating_sub(usage.saturating_sub(file_cache)))
}

/// `8GB`, `512 MB`, `1000` (bytes): decimal units, as the messages print them.
fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    let value: f64 = number.trim().parse().ok()?;
    (value >= 0.0).then_some((value * scale) as u64)
}

/// `21.9 GB`.
pub fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::family::ModelType;

    fn qwen2_audio_7b() -> (ModelConfig, Vec<TensorEntry>) {
        // The real 7B's sizes: 4096 wide, 32 layers, 32 KV heads, 11008, vocabulary 156032;
        // encoder 1280 wide, 32 layers, 20 heads, 5120.
        let json = serde_json::json!({
            "model_type": "qwen2_audio",
            "audio_token_index": 151646,
            "audio_config": {"d_model": 1280, "encoder_layers": 32, "encoder_attention_heads": 20,
                              "encoder_ffn_dim": 5120, "num_mel_bins": 128, "max_source_positions": 1500},
            "text_config": {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                            "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 156032}
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let config = ModelConfig::load(&path).unwrap();
        let mut entries = Vec::new();
        let mut add = |name: String, shape: Vec<usize>| {
            entries.push(TensorEntry {
                name,
                shape,
                bytes_per_value: 2,
                dtype: "BF16".into(),
            })
        };
        for l in 0..32 {
            let p = format!("language_model.model.layers.{l}");
            for m in ["q_proj", "k_proj", "v_proj", "o_proj"] {
                add(format!("{p}.self_attn.{m}.weight"), vec![4096, 4096]);
            }
            for m in ["q_proj", "k_proj", "v_proj"] {
                add(format!("{p}.self_attn.{m}.bias"), vec![4096]);
            }
            add(format!("{p}.mlp.gate_proj.weight"), vec![11008, 4096]);
            add(format!("{p}.mlp.up_proj.weight"), vec![11008, 4096]);
            add(format!("{p}.mlp.down_proj.weight"), vec![4096, 11008]);
            add(format!("{p}.input_layernorm.weight"), vec![4096]);
            let e = format!("audio_tower.layers.{l}");
            for m in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                add(format!("{e}.self_attn.{m}.weight"), vec![1280, 1280]);
            }
            add(format!("{e}.fc1.weight"), vec![5120, 1280]);
            add(format!("{e}.fc2.weight"), vec![1280, 5120]);
        }
        add(
            "language_model.model.embed_tokens.weight".into(),
            vec![156032, 4096],
        );
        add("language_model.lm_head.weight".into(), vec![156032, 4096]);
        add("audio_tower.conv2.weight".into(), vec![1280, 1280, 3]);
        (config, entries)
    }

    fn plan(dense: DType, quantize: Option<GgmlDType>) -> Plan {
        Plan {
            dense,
            quantize,
            compute: DType::F32,
            kv_cache: DType::F32,
            audio_seconds: Some(30.0),
            new_tokens: 512,
            per_head_maps: false,
            evidence: false,
        }
    }

    #[test]
    fn measuring_reliance_counts_the_logits_it_holds() {
        let (config, entries) = qwen2_audio_7b();
        let plain = estimate(&config, &entries, 30.0, &plan(DType::BF16, None));
        let measuring = Plan {
            evidence: true,
            ..plan(DType::BF16, None)
        };
        let with_reliance = estimate(&config, &entries, 30.0, &measuring);
        // 512 generated tokens and one block of 128 counterfactual rows, 156,032 logits each.
        let vocab = config.text_config.vocab_size as u64;
        assert_eq!(with_reliance.evidence, (512 + 128) * vocab * 4);
        assert_eq!(plain.evidence, 0);
        assert_eq!(
            with_reliance.total() - plain.total(),
            with_reliance.evidence
        );
        assert!((0.39e9..0.41e9).contains(&(with_reliance.evidence as f64)));
    }

    #[test]
    fn a_7b_needs_what_its_weights_and_cache_say() {
        let (config, entries) = qwen2_audio_7b();
        let f32 = estimate(&config, &entries, 30.0, &plan(DType::F32, None));
        let bf16 = estimate(&config, &entries, 30.0, &plan(DType::BF16, None));
        let q8 = estimate(
            &config,
            &entries,
            30.0,
            &plan(DType::BF16, Some(GgmlDType::Q8_0)),
        );
        let q4 = estimate(
            &config,
            &entries,
            30.0,
            &plan(DType::BF16, Some(GgmlDType::Q4K)),
        );
        // Weights: 8.4 G values in f32 is 33.6 GB; bf16 half of it (but the conv in f32).
        assert!(
            (33.0e9..34.0e9).contains(&(f32.weights as f64)),
            "{}",
            f32.weights
        );
        assert!(
            (16.5e9..17.0e9).contains(&(bf16.weights as f64)),
            "{}",
            bf16.weights
        );
        // q8_0: 34 bytes per 32 of the decoder's 6.8 G matrix weights (head included), the
        // embedding and the encoder (2.54 GB) in bf16; q4_k: 144 bytes per 256.
        assert!(
            (9.9e9..10.3e9).contains(&(q8.weights as f64)),
            "{}",
            q8.weights
        );
        assert!(
            (6.3e9..6.8e9).contains(&(q4.weights as f64)),
            "{}",
            q4.weights
        );
        // The KV cache: 1 MB a position in f32 (32 layers × 2 × 4096 × 4 bytes), 1536 positions
        // (750 audio + 256 text + 512 new, rounded up to whole chunks of 512).
        assert_eq!(f32.kv_cache, 32 * 2 * 4096 * 4 * 1536);
        assert!(bf16.total() < f32.total());
    }

    #[test]
    fn sizes_parse_in_decimal_units() {
        assert_eq!(parse_bytes("8GB"), Some(8_000_000_000));
        assert_eq!(parse_bytes(" 512 MB "), Some(512_000_000));
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("8 GiB"), None);
    }

    #[test]
    fn an_omni_talker_is_not_counted() {
        let (mut config, mut entries) = qwen2_audio_7b();
        let before = estimate(&config, &entries, 30.0, &plan(DType::BF16, None));
        // A full Omni checkpoint's layout: the thinker's weights under `thinker.`.
        config.kind = ModelType::find("qwen2_5_omni").unwrap();
        for entry in &mut entries {
            entry.name = format!("thinker.{}", entry.name);
        }
        entries.push(TensorEntry {
            name: "talker.model.layers.0.mlp.up_proj.weight".into(),
            shape: vec![100_000, 1000],
            bytes_per_value: 2,
            dtype: "BF16".into(),
        });
        entries.push(TensorEntry {
            name: "thinker.visual.blocks.0.mlp.fc1.weight".into(),
            shape: vec![100_000, 1000],
            bytes_per_value: 2,
            dtype: "BF16".into(),
        });
        let after = estimate(&config, &entries, 30.0, &plan(DType::BF16, None));
        assert_eq!(before.weights, after.weights);
    }
}
