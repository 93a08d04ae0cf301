//! Sound output through cpal: streams the clip, resampled once to the device's rate, and advances
//! the shared transport by the frames the device consumed, so the playhead follows what is heard.

use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SizedSample};

use super::{lock, PlaybackClip, Transport};
use crate::audio::resample::resample;

pub(super) struct DeviceOutput {
    /// Kept alive: dropping the stream stops the sound.
    _stream: cpal::Stream,
    name: String,
    rate: u32,
    /// Set by the stream's error callback when the device fails or disappears.
    failure: Arc<Mutex<Option<String>>>,
}

impl DeviceOutput {
    /// Opens the default output device; the error is the reason, in words, that sound is off.
    pub(super) fn open(
        clip: &PlaybackClip,
        transport: Arc<Mutex<Transport>>,
    ) -> Result<DeviceOutput, String> {
        let _quiet = QuietStderr::new();
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or("no audio output device (normal over SSH or on a server)")?;
        let name = device.name().unwrap_or_else(|_| "audio device".into());
        let supported = device.default_output_config().map_err(|e| {
            format!("cannot use the audio device \"{name}\" ({e}); normal over SSH or without a sound card")
        })?;
        let config = supported.config();
        let rate = config.sample_rate.0;
        let samples = Arc::new(
            resample(&clip.samples, clip.rate, rate)
                .map_err(|e| format!("cannot prepare the clip: {e}"))?,
        );
        let failure = Arc::new(Mutex::new(None));
        let stream_parts = StreamParts {
            samples,
            rate,
            channels: usize::from(config.channels.max(1)),
            transport,
            failure: Arc::clone(&failure),
        };
        let stream = match supported.sample_format() {
            cpal::SampleFormat::F32 => stream_parts.build::<f32>(&device, &config),
            cpal::SampleFormat::I16 => stream_parts.build::<i16>(&device, &config),
            cpal::SampleFormat::U16 => stream_parts.build::<u16>(&device, &config),
            cpal::SampleFormat::I32 => stream_parts.build::<i32>(&device, &config),
            cpal::SampleFormat::F64 => stream_parts.build::<f64>(&device, &config),
            other => {
                return Err(format!(
                    "the audio device {name} wants {other:?} samples, which auscult does not write"
                ))
            }
        }
        .map_err(|e| format!("cannot open the audio device {name} ({e})"))?;
        stream
            .play()
            .map_err(|e| format!("cannot start the audio device {name} ({e})"))?;
        Ok(DeviceOutput {
            _stream: stream,
            name,
            rate,
            failure,
        })
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn rate(&self) -> u32 {
        self.rate
    }

    /// Why the device stopped, once it has.
    pub(super) fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// What the stream's callbacks own.
struct StreamParts {
    /// The clip at the device's rate.
    samples: Arc<Vec<f32>>,
    rate: u32,
    channels: usize,
    transport: Arc<Mutex<Transport>>,
    failure: Arc<Mutex<Option<String>>>,
}

impl StreamParts {
    fn build<T>(
        self,
        device: &cpal::Device,
        config: &cpal::StreamConfig,
    ) -> Result<cpal::Stream, cpal::BuildStreamError>
    where
        T: SizedSample + FromSample<f32>,
    {
        let StreamParts {
            samples,
            rate,
            channels,
            transport,
            failure,
        } = self;
        let on_data = move |out: &mut [T], _: &cpal::OutputCallbackInfo| {
            let frames = out.len() / channels;
            let span = lock(&transport).advance(frames as f64 / f64::from(rate));
            let first = (span.from * f64::from(rate)).round() as usize;
            let played = ((span.to - span.from) * f64::from(rate)).round() as usize;
            for (i, frame) in out.chunks_mut(channels).enumerate() {
                let value = if i < played {
                    samples.get(first + i).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                frame.fill(T::from_sample(value));
            }
        };
        let on_error = move |error: cpal::StreamError| {
            *failure
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error.to_string());
        };
        device.build_output_stream(config, on_data, on_error, None)
    }
}

/// Keeps the process's stderr pointed at /dev/null while it lives, on Linux.
///
/// ALSA's library prints its own diagnostics ("ALSA lib pcm.c: Unknown PCM default") straight to
/// stderr when there is no sound card, which would scribble over the inspector's screen; cpal
/// offers no way to silence them, and ALSA's error-handler hook is a C variadic function that
/// stable Rust cannot define. We say why sound is off ourselves, in one line.
struct QuietStderr {
    #[cfg(target_os = "linux")]
    saved: Option<i32>,
}

impl QuietStderr {
    fn new() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: plain descriptor calls on fd 2 and a fresh fd; every result is checked, and
            // `drop` restores the saved descriptor.
            unsafe {
                let saved = libc::dup(2);
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                if saved < 0 || null < 0 {
                    if saved >= 0 {
                        libc::close(saved);
                    }
                    if null >= 0 {
                        libc::close(null);
                    }
                    return QuietStderr { saved: None };
                }
                libc::dup2(null, 2);
                libc::close(null);
                QuietStderr { saved: Some(saved) }
            }
        }
        #[cfg(not(target_os = "linux"))]
        QuietStderr {}
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(saved) = self.saved.take() {
            // SAFETY: `saved` is the descriptor `new` duplicated from fd 2.
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}
