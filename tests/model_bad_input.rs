//! Broken checkpoints and inputs for the model commands: each gets one line on stderr naming the
//! file and the problem, a non-zero exit, and no panic; nothing is written to --out.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::folder_copy::{copy_files, not_a_reference};
use common::{expect_one_line_error, fixture, CommandLine};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;

/// A copy of the tiny_a checkpoint (without the reference cases) to break.
fn checkpoint_copy(dir: &Path) -> PathBuf {
    let target = dir.join("ckpt");
    std::fs::create_dir(&target).unwrap();
    copy_files(&fixture("qwen2_audio/tiny_a"), &target, not_a_reference);
    target
}

/// Runs `auscult forward` on `model` and checks the error contract; returns the message.
fn forward_error(model: &Path, audio: &Path, expected_fragments: &[&str]) -> String {
    let out = model.parent().unwrap().join("out.safetensors");
    let output = CommandLine::new("forward")
        .model(model)
        .audio(audio)
        .prompt("What is it?")
        .out(&out)
        .run();
    let message = expect_one_line_error(&output, expected_fragments);
    assert!(!out.exists(), "no output written");
    message
}

fn clip() -> PathBuf {
    fixture("audio/mel/short.wav")
}

/// Rewrites `model.safetensors` with `edit` applied to the name → (dtype, shape, bytes) map.
fn edit_weights(
    ckpt: &Path,
    edit: impl FnOnce(&mut HashMap<String, (safetensors::Dtype, Vec<usize>, Vec<u8>)>),
) {
    let path = ckpt.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut map: HashMap<String, (safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                (view.dtype(), view.shape().to_vec(), view.data().to_vec()),
            )
        })
        .collect();
    edit(&mut map);
    let views: Vec<(String, TensorView)> = map
        .iter()
        .map(|(name, (dtype, shape, data))| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn missing_checkpoint_directory() {
    let dir = tempfile::tempdir().unwrap();
    forward_error(
        &dir.path().join("nowhere"),
        &clip(),
        &[
            "nowhere",
            "no such folder",
            "--model takes a checkpoint folder",
        ],
    );
}

#[test]
fn a_folder_that_is_not_a_checkpoint_or_a_file_in_one() {
    let dir = tempfile::tempdir().unwrap();
    forward_error(
        dir.path(),
        &clip(),
        &["not a checkpoint (it has no config.json)", "config.json"],
    );
    let ckpt = checkpoint_copy(dir.path());
    forward_error(
        &ckpt.join("config.json"),
        &clip(),
        &[
            "config.json: is a file",
            "--model takes a checkpoint folder",
        ],
    );
}

#[test]
fn missing_audio_file() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    forward_error(&ckpt, &dir.path().join("absent.wav"), &["absent.wav"]);
}

#[test]
fn missing_and_malformed_config() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    std::fs::remove_file(ckpt.join("config.json")).unwrap();
    forward_error(&ckpt, &clip(), &["no config.json"]);
    std::fs::write(ckpt.join("config.json"), "{ not json").unwrap();
    forward_error(&ckpt, &clip(), &["config.json"]);
}

#[test]
fn unsupported_model_type_lists_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    let config = std::fs::read_to_string(ckpt.join("config.json")).unwrap();
    let config = config.replacen(
        "\"model_type\": \"qwen2_audio\"",
        "\"model_type\": \"llama\"",
        1,
    );
    std::fs::write(ckpt.join("config.json"), config).unwrap();
    forward_error(
        &ckpt,
        &clip(),
        &["config.json", "\"llama\"", "supported: qwen2_audio"],
    );
}

#[test]
fn missing_tensor_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    edit_weights(&ckpt, |map| {
        map.remove("language_model.model.layers.1.mlp.up_proj.weight");
    });
    forward_error(
        &ckpt,
        &clip(),
        &[
            "language_model.model.layers.1.mlp.up_proj.weight",
            "cannot find tensor",
        ],
    );
}

#[test]
fn wrong_shape_names_the_tensor_and_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    edit_weights(&ckpt, |map| {
        let entry = map.get_mut("audio_tower.conv1.weight").unwrap();
        // [64, 128, 3] stored as [64, 384, 1]: same bytes, wrong shape.
        entry.1 = vec![64, 384, 1];
    });
    forward_error(
        &ckpt,
        &clip(),
        &["audio_tower.conv1.weight", "[64, 128, 3]", "[64, 384, 1]"],
    );
}

#[test]
fn truncated_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    let path = ckpt.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    forward_error(
        &ckpt,
        &clip(),
        &["model.safetensors", "not a valid safetensors file"],
    );
}

#[test]
fn missing_weights_and_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    std::fs::remove_file(ckpt.join("model.safetensors")).unwrap();
    forward_error(&ckpt, &clip(), &["no model.safetensors"]);
    std::fs::write(
        ckpt.join("model.safetensors.index.json"),
        r#"{"weight_map": {"audio_tower.conv1.weight": "model-00001-of-00002.safetensors"}}"#,
    )
    .unwrap();
    forward_error(&ckpt, &clip(), &["model-00001-of-00002.safetensors"]);
}

#[test]
fn tokenizer_without_the_audio_token() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    let path = ckpt.join("tokenizer.json");
    let mut tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let added = tokenizer["added_tokens"].as_array_mut().unwrap();
    added.retain(|t| t["content"] != "<|AUDIO|>");
    std::fs::write(&path, serde_json::to_string(&tokenizer).unwrap()).unwrap();
    forward_error(&ckpt, &clip(), &["tokenizer.json", "no <|AUDIO|> token"]);
}

#[test]
fn corrupt_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    std::fs::write(ckpt.join("tokenizer.json"), "{\"version\": 1").unwrap();
    forward_error(
        &ckpt,
        &clip(),
        &["tokenizer.json", "cannot read the tokenizer"],
    );
}

#[test]
fn template_that_fails_to_render() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    std::fs::write(
        ckpt.join("chat_template.jinja"),
        "{% for m in messages %}{{ m.role ",
    )
    .unwrap();
    forward_error(&ckpt, &clip(), &["chat_template.jinja", "chat template"]);
    std::fs::write(
        ckpt.join("chat_template.jinja"),
        "{{ raise_exception('no audio allowed') }}",
    )
    .unwrap();
    forward_error(&ckpt, &clip(), &["chat_template.jinja", "no audio allowed"]);
    std::fs::write(
        ckpt.join("chat_template.jinja"),
        "{{ messages[0]['role'] }}: no audio here",
    )
    .unwrap();
    forward_error(
        &ckpt,
        &clip(),
        &["chat_template.jinja", "0 <|AUDIO|> tokens"],
    );
}

#[test]
fn front_end_that_does_not_fit_the_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_copy(dir.path());
    let path = ckpt.join("preprocessor_config.json");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"feature_size\": 128", "\"feature_size\": 80");
    std::fs::write(&path, config).unwrap();
    forward_error(
        &ckpt,
        &clip(),
        &["preprocessor_config.json", "80 mel bins", "128"],
    );
}

#[test]
#[cfg_attr(
    feature = "cuda",
    ignore = "checks a build without the cuda feature; with it, --device cuda is accepted and \
              runs or fails by whether this machine has a GPU"
)]
fn cuda_without_the_feature_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let output = CommandLine::new("run")
        .model(fixture("qwen2_audio/tiny_a"))
        .audio(clip())
        .prompt("x")
        .option("--device", "cuda")
        .out(&out)
        .run();
    expect_one_line_error(&output, &["`cuda` feature"]);
    assert!(!out.exists());
}
