//! The demo model's checkpoint directory: a small Qwen2-Audio configuration (an 80-bin, 8 s front
//! end for 2–6 s clips; a 2-layer encoder 64 wide; a 4-layer decoder 128 wide), the demo
//! tokenizer, the chat template, and weights initialised from a seed. It is an ordinary Hugging
//! Face checkpoint directory: `Checkpoint::load` reads it like any other, and training starts
//! from it.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde_json::json;
use tokenizers::Tokenizer;

use crate::model::config::ModelConfig;
use crate::model::{AudioLm, DEFAULT_CHAT_TEMPLATE};

/// The clip window in seconds: the longest synthetic clip is 6 s.
pub const WINDOW_SECONDS: usize = 8;
const MEL_BINS: usize = 80;
/// Standard deviation of initial weights (transformers' `initializer_range` default).
const INIT_STD: f64 = 0.02;

/// `config.json` of the demo model for a vocabulary of `vocab` tokens.
pub fn demo_config(tokenizer: &Tokenizer) -> Result<serde_json::Value> {
    let id = |token: &str| {
        tokenizer
            .token_to_id(token)
            .with_context(|| format!("the tokenizer has no {token}"))
    };
    Ok(json!({
        "architectures": ["Qwen2AudioForConditionalGeneration"],
        "model_type": "qwen2_audio",
        "audio_token_index": id("<|AUDIO|>")?,
        "audio_config": {
            "model_type": "qwen2_audio_encoder",
            "activation_function": "gelu",
            "d_model": 64,
            "encoder_attention_heads": 4,
            "encoder_ffn_dim": 256,
            "encoder_layers": 2,
            "max_source_positions": WINDOW_SECONDS * 100 / 2,
            "num_mel_bins": MEL_BINS,
            "scale_embedding": false,
            "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
            "encoder_layerdrop": 0.0, "initializer_range": INIT_STD
        },
        "text_config": {
            "model_type": "qwen2",
            "vocab_size": tokenizer.get_vocab_size(true),
            "hidden_size": 128,
            "intermediate_size": 512,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "hidden_act": "silu",
            "max_position_embeddings": 1024,
            "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
            "tie_word_embeddings": false,
            "use_sliding_window": false,
            "sliding_window": null,
            "attention_dropout": 0.0,
            "eos_token_id": id("<|im_end|>")?,
            "pad_token_id": id("<|endoftext|>")?,
            "bos_token_id": null,
            "initializer_range": INIT_STD
        },
        "dtype": "float32"
    }))
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes every file of the checkpoint but the weights.
pub fn write_checkpoint_files(dir: &Path, tokenizer: &Tokenizer) -> Result<ModelConfig> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let config = demo_config(tokenizer)?;
    write_json(&dir.join("config.json"), &config)?;
    tokenizer
        .save(dir.join("tokenizer.json"), true)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("tokenizer.json").display()))?;
    std::fs::write(dir.join("chat_template.jinja"), DEFAULT_CHAT_TEMPLATE)?;
    let front_end = json!({
        "feature_extractor_type": "WhisperFeatureExtractor",
        "feature_size": MEL_BINS,
        "sampling_rate": 16000,
        "chunk_length": WINDOW_SECONDS,
        "n_fft": 400,
        "hop_length": 160,
        "n_samples": WINDOW_SECONDS * 16000,
        "nb_max_frames": WINDOW_SECONDS * 100,
        "padding_side": "right",
        "padding_value": 0.0,
        "return_attention_mask": true,
        "dither": 0.0
    });
    write_json(&dir.join("preprocessor_config.json"), &front_end)?;
    write_json(
        &dir.join("processor_config.json"),
        &json!({
            "processor_class": "Qwen2AudioProcessor",
            "audio_token": "<|AUDIO|>",
            "audio_bos_token": "<|audio_bos|>",
            "audio_eos_token": "<|audio_eos|>",
            "feature_extractor": front_end
        }),
    )?;
    write_json(
        &dir.join("tokenizer_config.json"),
        &json!({
            "tokenizer_class": "PreTrainedTokenizerFast",
            "unk_token": "<unk>",
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "model_max_length": 1024
        }),
    )?;
    let eos = config["text_config"]["eos_token_id"].clone();
    let pad = config["text_config"]["pad_token_id"].clone();
    write_json(
        &dir.join("generation_config.json"),
        &json!({"do_sample": false, "eos_token_id": [eos, pad.clone()], "pad_token_id": pad}),
    )?;
    ModelConfig::load(&dir.join("config.json")).map_err(Into::into)
}

/// Whisper's fixed sinusoidal positions: `[sin | cos]` over `channels / 2` timescales.
fn sinusoids(length: usize, channels: usize) -> Vec<f32> {
    let half = channels / 2;
    let increment = (10_000f64).ln() / (half as f64 - 1.0);
    let mut values = Vec::with_capacity(length * channels);
    for position in 0..length {
        let angle = |i: usize| position as f64 * (-increment * i as f64).exp();
        values.extend((0..half).map(|i| angle(i).sin() as f32));
        values.extend((0..half).map(|i| angle(i).cos() as f32));
    }
    values
}

/// The model's variables, initialised from `seed`: norms' weights one, biases zero, audio
/// positions sinusoidal, every other weight normal with standard deviation 0.02. The same seed
/// gives the same weights.
pub fn init_weights(config: &ModelConfig, seed: u64, device: &Device) -> Result<VarMap> {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
    AudioLm::load(config, vb)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, INIT_STD as f32)?;
    // Only this function holds the map's lock: it cannot be poisoned.
    let data = varmap.data().lock().expect("the variables");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let count = shape.elem_count();
        let values: Vec<f32> = if name.ends_with("embed_positions.weight") {
            let dims = shape.dims();
            sinusoids(dims[0], dims[1])
        } else if name.ends_with(".bias") {
            vec![0.0; count]
        } else if name.contains("norm") {
            vec![1.0; count]
        } else {
            (0..count).map(|_| normal.sample(&mut rng)).collect()
        };
        var.set(&Tensor::from_vec(values, shape, device)?)?;
    }
    drop(data);
    Ok(varmap)
}

/// A fresh demo checkpoint in `dir`: the files, and weights initialised from `seed`.
pub fn init_checkpoint(dir: &Path, tokenizer: &Tokenizer, seed: u64) -> Result<()> {
    let config = write_checkpoint_files(dir, tokenizer)?;
    let varmap = init_weights(&config, seed, &Device::Cpu)?;
    let path = dir.join("model.safetensors");
    varmap
        .save(&path)
        .with_context(|| format!("{}: cannot write the weights", path.display()))
}

/// Replaces the fresh weights in `dir` (written by [`init_checkpoint`] for `tokenizer`) with a
/// trained demo model's, from the checkpoint directory `from`. Every weight must have the same
/// shape in both but the token embeddings and the output layer, whose rows are taken by token:
/// a token `from` knows keeps its trained row, a new one keeps its fresh row. Returns the number
/// of new tokens.
pub fn adopt_weights(from: &Path, dir: &Path, tokenizer: &Tokenizer) -> Result<usize> {
    let device = Device::Cpu;
    let trained_path = from.join("model.safetensors");
    let trained = candle_core::safetensors::load(&trained_path, &device)
        .with_context(|| format!("{}: cannot read the weights", trained_path.display()))?;
    let old_tokenizer = Tokenizer::from_file(from.join("tokenizer.json")).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a tokenizer: {e}",
            from.join("tokenizer.json").display()
        )
    })?;
    let fresh_path = dir.join("model.safetensors");
    let fresh = candle_core::safetensors::load(&fresh_path, &device)?;
    // Row i of a vocabulary-sized weight: the old row of the same token, or `None` for a new one.
    let sources: Vec<Option<u32>> = (0..tokenizer.get_vocab_size(true) as u32)
        .map(|id| {
            tokenizer
                .id_to_token(id)
                .and_then(|token| old_tokenizer.token_to_id(&token))
        })
        .collect();
    let mut adopted = std::collections::HashMap::new();
    for (name, fresh_tensor) in &fresh {
        let old = trained.get(name).with_context(|| {
            format!(
                "{}: no weight {name}; --from takes a demo model directory",
                trained_path.display()
            )
        })?;
        let by_token = name.ends_with("embed_tokens.weight") || name.ends_with("lm_head.weight");
        let tensor = if old.dims() == fresh_tensor.dims() && !by_token {
            old.clone()
        } else if by_token && old.dims()[1..] == fresh_tensor.dims()[1..] {
            let rows = sources
                .iter()
                .enumerate()
                .map(|(id, source)| match source {
                    Some(old_id) => old.get(*old_id as usize),
                    None => fresh_tensor.get(id),
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            Tensor::stack(&rows, 0)?
        } else {
            anyhow::bail!(
                "{}: {name} is {:?}, this demo model's is {:?}; --from takes a demo model of the same size",
                trained_path.display(),
                old.dims(),
                fresh_tensor.dims()
            );
        };
        adopted.insert(name.clone(), tensor);
    }
    candle_core::safetensors::save(&adopted, &fresh_path)
        .with_context(|| format!("{}: cannot write the weights", fresh_path.display()))?;
    Ok(sources.iter().filter(|s| s.is_none()).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Checkpoint, DeviceKind, LinearLoader, Precision};
    use crate::synth::tokenizer::demo_tokenizer;

    #[test]
    fn a_fresh_demo_checkpoint_loads_like_any_other_and_is_small() {
        let dir = tempfile::tempdir().unwrap();
        let tokenizer = demo_tokenizer(0..500).unwrap();
        init_checkpoint(dir.path(), &tokenizer, 7).unwrap();
        let checkpoint = Checkpoint::load(dir.path(), Precision::F32, DeviceKind::Cpu).unwrap();
        assert_eq!(checkpoint.config.text_config.hidden_size, 128);
        assert_eq!(checkpoint.processor.mel_config().feature_size, 80);
        let bytes = std::fs::metadata(dir.path().join("model.safetensors"))
            .unwrap()
            .len();
        assert!(bytes < 20_000_000, "{bytes} bytes");
        // The same seed, the same weights.
        let again = tempfile::tempdir().unwrap();
        init_checkpoint(again.path(), &tokenizer, 7).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("model.safetensors")).unwrap(),
            std::fs::read(again.path().join("model.safetensors")).unwrap()
        );
    }

    /// The training path: the model built with differentiable kernels over the checkpoint's
    /// variables gives the inference model's logits, and a next-token loss on the assistant's
    /// tokens sends a gradient to every weight (the audio positions are fixed, as in Whisper).
    #[test]
    fn gradients_reach_every_weight_and_logits_match_inference() {
        use crate::model::kernels::Kernels;
        use crate::model::{CaptureRequest, Logits, Processor};
        use crate::synth::question::Item;
        use crate::synth::training::TrainingExample;

        let dir = tempfile::tempdir().unwrap();
        let tokenizer = demo_tokenizer(0..500).unwrap();
        init_checkpoint(dir.path(), &tokenizer, 11).unwrap();
        let config = ModelConfig::load(&dir.path().join("config.json")).unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let mut model = AudioLm::load_with(
            &config,
            vb,
            Kernels::Differentiable,
            &LinearLoader::dense(DType::F32),
            &LinearLoader::dense(DType::F32),
        )
        .unwrap();
        let mut varmap = varmap;
        varmap.load(dir.path().join("model.safetensors")).unwrap();
        let processor = Processor::load(
            dir.path(),
            config.audio_token_index,
            config.audio_token_rate(),
        )
        .unwrap();

        let item = Item::generate(5);
        let example =
            TrainingExample::new(&item, crate::synth::prompts::PromptStyle::Demo, &processor)
                .unwrap();
        let (features, ids) = (&example.features, &example.ids);
        let audio = model.encode_audio(features, example.valid_frames).unwrap();
        let embeds = model.embed_prompt(ids, &audio).unwrap();
        let (logits, _) = model
            .forward_embeds(&embeds, 0, &CaptureRequest::Off, Logits::All)
            .unwrap();

        // The same logits as inference (fused kernels, weights read from the file).
        let mut inference = crate::model::Checkpoint::load(
            dir.path(),
            crate::model::Precision::F32,
            crate::model::DeviceKind::Cpu,
        )
        .unwrap();
        let audio = inference
            .model
            .encode_audio(features, example.valid_frames)
            .unwrap();
        let embeds = inference.model.embed_prompt(ids, &audio).unwrap();
        let (reference, _) = inference
            .model
            .forward_embeds(&embeds, 0, &CaptureRequest::Off, Logits::All)
            .unwrap();
        let difference = (&logits - &reference)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(difference < 1e-5, "{difference}");

        // Next-token loss on the assistant's tokens only.
        let target_ids = &example.target_ids;
        let predicted = logits
            .narrow(0, example.prompt_len - 1, target_ids.len())
            .unwrap();
        let wanted = Tensor::new(target_ids.as_slice(), &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&predicted, &wanted).unwrap();
        let value = loss.to_scalar::<f32>().unwrap();
        let uniform = (tokenizer.get_vocab_size(true) as f32).ln();
        assert!(
            (value - uniform).abs() < 0.5,
            "untrained: about ln(vocab) {uniform}, got {value}"
        );
        let grads = loss.backward().unwrap();
        let data = varmap.data().lock().unwrap();
        let mut without = Vec::new();
        for (name, var) in data.iter() {
            let norm = grads.get(var.as_tensor()).map(|g| {
                g.sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
            });
            if !matches!(norm, Some(n) if n > 0.0) && !name.ends_with("embed_positions.weight") {
                without.push(name.clone());
            }
        }
        without.sort();
        assert!(without.is_empty(), "no gradient: {without:?}");
    }

    /// `--from`: a model trained on the demo's own prompts keeps every weight, and every known
    /// token's rows, when the vocabulary grows; only the new tokens' rows are fresh.
    #[test]
    fn adopted_weights_keep_known_tokens_and_start_new_ones_fresh() {
        use crate::synth::prompts::PromptStyle;
        use crate::synth::question::Item;
        use crate::synth::tokenizer::{build_tokenizer, chat_text, demo_tokenizer};
        let own: Vec<String> = (0..300)
            .map(|seed| chat_text(&Item::generate(seed), PromptStyle::Demo))
            .collect();
        let old_tokenizer = build_tokenizer(&[own]).unwrap();
        let new_tokenizer = demo_tokenizer(0..300).unwrap();
        let (old_size, new_size) = (
            old_tokenizer.get_vocab_size(true),
            new_tokenizer.get_vocab_size(true),
        );
        assert!(new_size > old_size);
        for id in 0..old_size as u32 {
            assert_eq!(old_tokenizer.id_to_token(id), new_tokenizer.id_to_token(id));
        }
        let old = tempfile::tempdir().unwrap();
        init_checkpoint(old.path(), &old_tokenizer, 3).unwrap();
        let new = tempfile::tempdir().unwrap();
        init_checkpoint(new.path(), &new_tokenizer, 4).unwrap();
        let fresh =
            candle_core::safetensors::load(new.path().join("model.safetensors"), &Device::Cpu)
                .unwrap();
        let added = adopt_weights(old.path(), new.path(), &new_tokenizer).unwrap();
        assert_eq!(added, new_size - old_size);
        let load = |dir: &Path| {
            candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap()
        };
        let (trained, adopted) = (load(old.path()), load(new.path()));
        let same = |a: &Tensor, b: &Tensor| {
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap()
                == b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        for (name, tensor) in &adopted {
            if name.ends_with("embed_tokens.weight") || name.ends_with("lm_head.weight") {
                assert_eq!(tensor.dims()[0], new_size);
                let old_rows = tensor.narrow(0, 0, old_size).unwrap();
                assert!(same(&old_rows, &trained[name]), "{name}");
                let new_rows = tensor.narrow(0, old_size, new_size - old_size).unwrap();
                let fresh_rows = fresh[name]
                    .narrow(0, old_size, new_size - old_size)
                    .unwrap();
                assert!(same(&new_rows, &fresh_rows), "{name}");
            } else {
                assert!(same(tensor, &trained[name]), "{name}");
            }
        }
    }

    #[test]
    fn whisper_positions() {
        let p = sinusoids(3, 4);
        // Position 0: sin 0 = 0, cos 0 = 1; position 1, first timescale: sin 1, cos 1.
        assert_eq!(&p[..4], &[0.0, 0.0, 1.0, 1.0]);
        assert!((p[4] - 1f32.sin()).abs() < 1e-6 && (p[6] - 1f32.cos()).abs() < 1e-6);
    }
}
