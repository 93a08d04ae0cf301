//! The audio layer: decoding files, resampling, Whisper log-mel features and playback.
//!
//! Everything auscult shows starts here: the model sees the log-mel features, the user hears the
//! clip, and every heatmap is drawn on the clip's time axis.

mod decode;
mod edit_list;
mod error;
mod filterbank;
mod mel;
pub mod playback;
mod resample;

pub use decode::{decode_file, DecodedAudio};
pub use error::AudioError;
pub use filterbank::{hz_to_mel, mel_filterbank, mel_to_hz};
pub use mel::{LogMel, MelConfig, MelExtractor};
pub use resample::resample;
