//! Errors of the audio layer.
//!
//! Every variant names the file it is about, so that the binary can print one line that tells a
//! user which file is wrong and how; callers branch on the variant (for example the inspector
//! keeps running without sound), so it is a typed error rather than `anyhow`.

use std::path::PathBuf;

/// What can go wrong while reading, decoding or preparing audio.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    // The I/O error is part of the message, not a `source`, so a report that prints the
    // error chain does not say it twice.
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: is a directory, not an audio file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: is empty (0 bytes)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: not a recognised audio file ({detail}); supported: WAV, FLAC, MP3, Ogg Vorbis, AAC/M4A")]
    Unrecognised { path: PathBuf, detail: String },
    #[error("{path}: unsupported audio codec ({detail})")]
    UnsupportedCodec { path: PathBuf, detail: String },
    #[error("{path}: corrupt audio data ({detail})")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: contains no audio samples")]
    NoSamples { path: PathBuf },
    #[error("{path}: sample {index} (at {seconds:.3} s) is {what}; audio must be finite and within ±1e6")]
    NonFinite {
        path: PathBuf,
        index: usize,
        seconds: f64,
        what: &'static str,
    },
    #[error("{path}: {detail}")]
    BadConfig { path: PathBuf, detail: String },
    #[error("resampling {from} Hz to {to} Hz failed: {detail}")]
    Resample { from: u32, to: u32, detail: String },
}
