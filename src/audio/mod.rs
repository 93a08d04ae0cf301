//! The audio layer: decoding files, resampling, Whisper log-mel features and playback.
//!
//! Everything auscult shows starts here: the model sees the log-mel features, the user hears the
//! clip, and every heatmap is drawn on the clip's time axis.

mod decode;
mod edit_list;
mod error;
mod filterbank;
mod mel;
mod picture;
pub mod playback;
mod resample;

pub use decode::{decode_file, DecodedAudio};
pub use error::AudioError;
pub use filterbank::{hz_to_mel, mel_filterbank, mel_to_hz};
pub use mel::{LogMel, MelConfig, MelExtractor};
pub use picture::MelPicture;
pub use resample::resample;

/// Whether `bytes` start like an audio file (WAV, AIFF, FLAC, Ogg, MP3, MP4/M4A, WebM/Matroska),
/// to tell a user who passed a clip where a trace was expected.
pub fn looks_like_audio(bytes: &[u8]) -> bool {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    starts(b"RIFF")
        || starts(b"FORM")
        || starts(b"fLaC")
        || starts(b"OggS")
        || starts(b"ID3")
        || starts(&[0x1A, 0x45, 0xDF, 0xA3])
        || bytes.get(4..8) == Some(b"ftyp")
        || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
}
