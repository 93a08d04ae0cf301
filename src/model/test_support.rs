//! What the model layer's unit tests share: a fixture checkpoint with one clip and prompt
//! prepared and embedded.

use std::path::Path;

use candle_core::Tensor;

use super::{Checkpoint, DeviceKind, Precision, PreparedInput};

/// `tests/fixtures/<fixture>` loaded in f32 on the CPU, with `tests/fixtures/audio/mel/<clip>`
/// and the prompt "What sound is this?" prepared and embedded.
pub fn fixture_with_clip(fixture: &str, clip: &str) -> (Checkpoint, PreparedInput, Tensor) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checkpoint = Checkpoint::load(
        &root.join("tests/fixtures").join(fixture),
        Precision::F32,
        DeviceKind::Cpu,
    )
    .unwrap();
    let rate = checkpoint.processor.mel_config().sampling_rate;
    let clip = root.join("tests/fixtures/audio/mel").join(clip);
    let audio = crate::audio::decode_file(&clip, rate).unwrap();
    let input = checkpoint
        .processor
        .prepare(&audio.samples, "What sound is this?", None)
        .unwrap();
    let embeds = checkpoint.embed_input(&input).unwrap();
    (checkpoint, input, embeds)
}
