//! Resampling as the reference pipeline does it: libsoxr at its "HQ" quality (20-bit precision,
//! linear phase), the resampler behind `librosa.load(path, sr=16000)` and `soxr.resample(…,
//! "HQ")`, which every Qwen2-Audio and Qwen2.5-Omni example uses. libsoxr is C; the `soxr-sys`
//! crate compiles it from source at build time (nothing to install) and links it statically.
//!
//! The output has librosa's length, `ceil(n × to / from)` samples: soxr's own `round(n × to /
//! from)`, then zero-padded as librosa's `fix_length` does. libsoxr is LGPL-2.1-or-later; the
//! README says what that means for a binary of auscult.

use std::ffi::CStr;
use std::os::raw::c_ulong;

use soxr_sys as soxr;

use super::error::AudioError;

/// Resamples mono `input` from `from` Hz to `to` Hz with soxr HQ. Equal rates return a copy (as
/// librosa does).
pub fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let failed = |detail: String| AudioError::Resample { from, to, detail };
    if from == 0 || to == 0 {
        return Err(failed("a sample rate of 0 Hz".into()));
    }
    // What soxr writes at most (python-soxr allocates the same).
    let capacity = (input.len() as f64 * f64::from(to) / f64::from(from)) as usize + 1;
    let mut output = vec![0f32; capacity];
    let mut written = 0usize;
    // SAFETY: the input and output pointers are valid for the lengths passed, soxr writes at most
    // `capacity` samples and reports how many in `written`; the specs live through the call.
    let error = unsafe {
        let io = soxr::soxr_io_spec(
            soxr::soxr_datatype_t_SOXR_FLOAT32_I,
            soxr::soxr_datatype_t_SOXR_FLOAT32_I,
        );
        // SOXR_HQ is SOXR_20_BITQ, and no flags is linear phase: python-soxr's "HQ".
        let quality = soxr::soxr_quality_spec(c_ulong::from(soxr::SOXR_20_BITQ), 0);
        soxr::soxr_oneshot(
            f64::from(from),
            f64::from(to),
            1,
            input.as_ptr().cast(),
            input.len(),
            std::ptr::null_mut(),
            output.as_mut_ptr().cast(),
            capacity,
            &mut written,
            &io,
            &quality,
            std::ptr::null(), // the default runtime spec, as python-soxr's
        )
    };
    if !error.is_null() {
        // SAFETY: soxr returns a static, NUL-terminated message.
        let detail = unsafe { CStr::from_ptr(error) }
            .to_string_lossy()
            .into_owned();
        return Err(failed(detail));
    }
    output.truncate(written);
    // librosa.util.fix_length(y, size=ceil(n * to / from)): pad with zeros (or trim).
    let wanted = (input.len() as f64 * (f64::from(to) / f64::from(from))).ceil() as usize;
    output.resize(wanted, 0.0);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// Largest difference between a 440 Hz sine made at `from` Hz and resampled to 16 kHz, and
    /// the same sine made at 16 kHz (edges left out).
    fn worst_sine_error(from: u32) -> f32 {
        let out = resample(&sine(440.0, from, 1.0), from, 16_000).unwrap();
        let expected = sine(440.0, 16_000, 1.0);
        out[200..15_800]
            .iter()
            .zip(&expected[200..15_800])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn length_is_ceil_of_ratio() {
        let out = resample(&vec![0.0; 44_101], 44_100, 16_000).unwrap();
        assert_eq!(out.len(), 16_001);
    }

    #[test]
    fn sine_keeps_its_phase_and_amplitude() {
        // A 440 Hz sine at 44.1 kHz resampled to 16 kHz must match a 440 Hz sine made at 16 kHz,
        // which checks both the delay compensation and the pass band.
        let worst = worst_sine_error(44_100);
        assert!(worst < 1e-3, "worst difference {worst}");
    }

    #[test]
    fn an_impulse_stays_in_place() {
        for from in [8_000, 22_050, 44_100, 48_000] {
            let mut input = vec![0.0; from as usize * 2];
            input[from as usize] = 1.0; // at t = 1 s
            let out = resample(&input, from, 16_000).unwrap();
            let peak = (0..out.len())
                .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
                .unwrap();
            assert_eq!(peak, 16_000, "from {from} Hz");
        }
    }

    #[test]
    fn uneven_rates_stay_aligned() {
        let worst = worst_sine_error(44_057);
        assert!(worst < 1e-3, "worst difference {worst}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        let out = resample(&sine(12_000.0, 48_000, 1.0), 48_000, 16_000).unwrap();
        let rms = (out[400..15_600].iter().map(|x| x * x).sum::<f32>() / 15_200.0).sqrt();
        assert!(rms < 1e-3, "rms {rms}");
    }
}
