//! Decoding audio files (WAV, FLAC, MP3, Ogg Vorbis, AAC/M4A) with symphonia.
//!
//! The result keeps the clip at its own sample rate, down-mixed to mono by the channel mean (what
//! the player plays), and the same clip resampled to the model's rate (what the model hears).
//! MP3 and Vorbis are decoded gaplessly: symphonia trims the encoder delay and padding that the
//! LAME/Xing header or the Ogg granule positions declare; AAC in MP4 is cut to the container's
//! edit list (see `edit_list`).

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::edit_list::mp4_audio_edit_span;
use super::error::AudioError;
use super::resample::resample;

/// A decoded clip: mono at its source rate, and mono at the model's rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    pub path: PathBuf,
    /// Sample rate of the file, in Hz.
    pub source_rate: u32,
    /// Channel count of the file, before the down-mix.
    pub source_channels: usize,
    /// Mono samples at `source_rate` (channel mean), for playback.
    pub source: Vec<f32>,
    /// Mono samples at `rate`, for the model.
    pub samples: Vec<f32>,
    /// Rate of `samples`, in Hz.
    pub rate: u32,
}

impl DecodedAudio {
    /// Length of the clip in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.source.len() as f64 / f64::from(self.source_rate)
    }
}

/// Decodes `path` and resamples it to `target_rate` Hz.
pub fn decode_file(path: &Path, target_rate: u32) -> Result<DecodedAudio, AudioError> {
    // symphonia's decoders can panic on a damaged frame (an arithmetic overflow in FLAC's, found
    // by the property tests): that is corrupt data, said as such.
    let (source, source_rate, source_channels) = crate::contained::without_panics(|| {
        decode_mono(path)
    })
    .map_err(|panic| AudioError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("the decoder gave up on it: {panic}"),
    })??;
    let samples = resample(&source, source_rate, target_rate)?;
    Ok(DecodedAudio {
        path: path.to_path_buf(),
        source_rate,
        source_channels,
        source,
        samples,
        rate: target_rate,
    })
}

/// A decoder error on more than this share of packets means the file is not the audio it claims
/// to be (symphonia's probe can find an MP3 sync word inside random bytes).
const MAX_BAD_PACKET_SHARE: f64 = 0.25;

/// Decodes every packet of the file's first audio track to mono f32 at the file's own rate.
/// Returns the samples, the sample rate and the channel count.
fn decode_mono(path: &Path) -> Result<(Vec<f32>, u32, usize), AudioError> {
    let meta = std::fs::metadata(path).map_err(|error| AudioError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    if meta.is_dir() {
        return Err(AudioError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let file = File::open(path).map_err(|error| AudioError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());

    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let format_options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let unrecognised = |detail: String| AudioError::Unrecognised {
        path: path.to_path_buf(),
        detail,
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map_err(|e| unrecognised(describe_probe_failure(&e)))?;
    let mut format = probed.format;

    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| unrecognised("no audio track".into()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| AudioError::UnsupportedCodec {
            path: path.to_path_buf(),
            detail: describe(&e),
        })?;

    let corrupt = |detail: String| AudioError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let mut mono: Vec<f32> = Vec::new();
    let mut sample_rate = params.sample_rate;
    let mut channels = params.channels.map(|c| c.count()).unwrap_or(0);
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let (mut good_packets, mut bad_packets) = (0usize, 0usize);
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(e) if is_end_of_stream(&e) => break,
            // A truncated or damaged container past the first packets: keep what decoded.
            Err(SymphoniaError::DecodeError(_)) if good_packets > 0 => break,
            Err(e) => return Err(corrupt(describe(&e))),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame: skip it, as players do, but count it.
            Err(SymphoniaError::DecodeError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(e) if is_end_of_stream(&e) => break,
            Err(e) => return Err(corrupt(describe(&e))),
        };
        good_packets += 1;
        let spec = *decoded.spec();
        sample_rate = Some(spec.rate);
        channels = spec.channels.count();
        let frames = decoded.frames();
        if frames == 0 || channels == 0 {
            continue;
        }
        let needed = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some(buf) if buf.capacity() >= needed as usize * channels => buf,
            _ => buffer.insert(SampleBuffer::new(needed, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        push_channel_mean(&mut mono, &buf.samples()[..frames * channels], channels);
    }

    let total_packets = good_packets + bad_packets;
    if total_packets > 0 && bad_packets as f64 > MAX_BAD_PACKET_SHARE * total_packets as f64 {
        return Err(corrupt(format!(
            "{bad_packets} of {total_packets} packets failed to decode"
        )));
    }
    let sample_rate = sample_rate
        .filter(|&rate| rate > 0)
        .ok_or_else(|| corrupt("no sample rate in the header".into()))?;
    if mono.is_empty() {
        return Err(AudioError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    if let Some(span) = mp4_audio_edit_span(path, sample_rate) {
        span.apply(&mut mono);
        if mono.is_empty() {
            return Err(AudioError::NoSamples {
                path: path.to_path_buf(),
            });
        }
    }
    check_finite(path, &mono, sample_rate)?;
    Ok((mono, sample_rate, channels))
}

/// Appends the mean over channels of each interleaved frame.
fn push_channel_mean(mono: &mut Vec<f32>, interleaved: &[f32], channels: usize) {
    let scale = 1.0 / channels as f32;
    mono.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Largest magnitude accepted from a float file: 120 dB above full scale. Beyond it the
/// resampler's and the log-mel's sums overflow f32 (a corrupt file, not a loud one).
const LARGEST_SAMPLE: f32 = 1e6;

/// Refuses NaN, infinite and absurdly large samples (possible in float WAV files), naming the
/// first one.
fn check_finite(path: &Path, samples: &[f32], rate: u32) -> Result<(), AudioError> {
    match samples
        .iter()
        .position(|s| !s.is_finite() || s.abs() > LARGEST_SAMPLE)
    {
        None => Ok(()),
        Some(index) => Err(AudioError::NonFinite {
            path: path.to_path_buf(),
            index,
            seconds: index as f64 / f64::from(rate),
            what: if samples[index].is_nan() {
                "NaN"
            } else if samples[index].is_infinite() {
                "infinite"
            } else {
                "over 1e6 (float audio lies within ±1)"
            },
        }),
    }
}

fn is_end_of_stream(error: &SymphoniaError) -> bool {
    matches!(error, SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof)
}

/// Why the probe found no format: it reads until a known header or the end of the file.
fn describe_probe_failure(error: &SymphoniaError) -> String {
    match error {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "found no audio stream before the file ended".into()
        }
        SymphoniaError::Unsupported(_) => "no known audio format".into(),
        other => describe(other),
    }
}

/// symphonia's messages, made to read as one clause.
fn describe(error: &SymphoniaError) -> String {
    match error {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "file ends too early".into()
        }
        SymphoniaError::IoError(e) => e.to_string(),
        SymphoniaError::DecodeError(msg) => msg.to_string(),
        SymphoniaError::SeekError(_) => "seek failed".into(),
        SymphoniaError::Unsupported(msg) => format!("unsupported: {msg}"),
        SymphoniaError::LimitError(msg) => format!("limit exceeded: {msg}"),
        SymphoniaError::ResetRequired => "stream changes format midway".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_mean_of_stereo_frames() {
        let mut mono = Vec::new();
        push_channel_mean(&mut mono, &[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2);
        assert_eq!(mono, vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn first_non_finite_sample_is_named() {
        let err = check_finite(Path::new("x.wav"), &[0.0, 0.1, f32::NAN, f32::INFINITY], 10)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.wav: sample 2 (at 0.200 s) is NaN; audio must be finite and within ±1e6"
        );
    }
}
