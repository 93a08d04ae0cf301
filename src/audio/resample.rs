//! Resampling as the reference pipeline does it: libsoxr at its "HQ" quality (20-bit precision,
//! linear phase), the resampler behind `librosa.load(path, sr=16000)` and `soxr.resample(…,
//! "HQ")`, which every Qwen2-Audio and Qwen2.5-Omni example uses. libsoxr is C; the
//! `soxr-simd-sys` crate (crates/soxr-simd-sys) compiles it from source at build time with `cc`
//! (nothing to install) and links it statically. On x86_64 it builds libsoxr's SIMD engine
//! (`cr32s`: SSE and pffft), which libsoxr picks for HQ at run time as python-soxr's build does:
//! the same engine as the reference, and as fast. Other targets get the plain C engine (`cr32`).
//!
//! The output has librosa's length, `ceil(n × to / from)` samples: soxr's own `round(n × to /
//! from)`, then zero-padded as librosa's `fix_length` does. libsoxr is LGPL-2.1-or-later; the
//! README says what that means for a binary of auscult.

use std::ffi::CStr;

use soxr_simd_sys as soxr;

use super::error::AudioError;

/// python-soxr's "HQ": SOXR_HQ (20-bit precision) with linear phase.
fn hq() -> soxr::soxr_quality_spec_t {
    // SAFETY: a constructor that fills a struct from its two integer arguments.
    unsafe { soxr::soxr_quality_spec(soxr::SOXR_HQ, soxr::SOXR_LINEAR_PHASE) }
}

/// Turns a libsoxr error (null for none) into a message.
fn check(error: soxr::soxr_error_t) -> Result<(), String> {
    if error.is_null() {
        return Ok(());
    }
    // SAFETY: libsoxr's errors are static, NUL-terminated messages.
    Err(unsafe { CStr::from_ptr(error) }
        .to_string_lossy()
        .into_owned())
}

/// A mono float HQ stream resampler, deleted on drop.
struct Stream(soxr::soxr_t);

impl Stream {
    fn new(from: u32, to: u32) -> Result<Self, String> {
        let mut error: soxr::soxr_error_t = std::ptr::null();
        // SAFETY: the specs and `error` outlive the call; a null runtime spec is libsoxr's
        // default (one thread), as python-soxr passes.
        let stream = unsafe {
            let io = soxr::soxr_io_spec(soxr::SOXR_FLOAT32_I, soxr::SOXR_FLOAT32_I);
            let quality = hq();
            soxr::soxr_create(
                f64::from(from),
                f64::from(to),
                1,
                &mut error,
                &io,
                &quality,
                std::ptr::null(),
            )
        };
        check(error)?;
        if stream.is_null() {
            return Err("soxr_create failed".into());
        }
        Ok(Self(stream))
    }

    /// Feeds `input` (all of it; `None` flushes the end of the signal) and writes what comes out
    /// into `output`, returning how many samples that is.
    fn process(&mut self, input: Option<&[f32]>, output: &mut [f32]) -> Result<usize, String> {
        let (pointer, len) = input.map_or((std::ptr::null(), 0), |x| (x.as_ptr().cast(), x.len()));
        let mut written = 0usize;
        // SAFETY: the input and output pointers are valid for the lengths passed (a null input
        // with length 0 is libsoxr's flush); with a null `idone` libsoxr takes all the input,
        // writes at most `output.len()` samples and says how many in `written`.
        check(unsafe {
            soxr::soxr_process(
                self.0,
                pointer,
                len,
                std::ptr::null_mut(),
                output.as_mut_ptr().cast(),
                output.len(),
                &mut written,
            )
        })?;
        Ok(written)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: created by soxr_create, deleted once.
        unsafe { soxr::soxr_delete(self.0) }
    }
}

/// Resamples mono `input` from `from` Hz to `to` Hz with soxr HQ. Equal rates return a copy (as
/// librosa does).
///
/// As `soxr.resample` does (python-soxr's `csoxr_divide_proc`): one stream resampler fed the
/// input in pieces of 48 000 output samples' worth, then flushed. The samples are those of
/// `soxr_oneshot`, which takes the whole input at once and runs about 15 % slower on a 30 s clip
/// (its buffers outgrow the cache).
pub fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let failed = |detail: String| AudioError::Resample { from, to, detail };
    if from == 0 || to == 0 {
        return Err(failed("a sample rate of 0 Hz".into()));
    }
    let (n, from_hz, to_hz) = (input.len() as f64, f64::from(from), f64::from(to));
    // What soxr writes at most, and the piece length: python-soxr's, computed as it does.
    let capacity = (n * to_hz / from_hz) as usize + 1;
    let piece = ((48_000.0 * from_hz / to_hz) as usize).max(1);
    let mut output = vec![0f32; capacity];
    let mut written = 0usize;
    let mut stream = Stream::new(from, to).map_err(failed)?;
    for chunk in input.chunks(piece) {
        written += stream
            .process(Some(chunk), &mut output[written..])
            .map_err(failed)?;
    }
    written += stream
        .process(None, &mut output[written..])
        .map_err(failed)?;
    output.truncate(written);
    // librosa.util.fix_length(y, size=ceil(n * to / from)): pad with zeros (or trim).
    let wanted = (n * (to_hz / from_hz)).ceil() as usize;
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

    /// The engine libsoxr picks for the resampler `resample` makes from `from` Hz to 16 kHz.
    fn engine(from: u32) -> String {
        let stream = Stream::new(from, 16_000).unwrap();
        // SAFETY: a live resampler; libsoxr returns a static NUL-terminated name.
        unsafe { CStr::from_ptr(soxr::soxr_engine(stream.0)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn hq_runs_the_simd_engine_on_x86_64() {
        // python-soxr's wheels run libsoxr's SIMD engine for HQ; so must auscult, for speed and
        // for the same samples. libsoxr lets SOXR_USE_SIMD(32)=0 force the plain engine.
        let forced = ["SOXR_USE_SIMD", "SOXR_USE_SIMD32"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        for from in [8_000, 22_050, 44_100, 48_000] {
            let engine = engine(from);
            println!("libsoxr engine, HQ {from} Hz to 16 kHz: {engine}");
            if !cfg!(target_arch = "x86_64") {
                assert_eq!(engine, "cr32");
            } else if !forced {
                assert_eq!(engine, "cr32s", "from {from} Hz");
            }
        }
    }

    #[test]
    fn specs_read_back_as_libsoxr_fills_them() {
        // The bindings in soxr-simd-sys are written by hand: a field out of order or of the
        // wrong size would misread what libsoxr's constructors return.
        // SAFETY: constructors that return structs by value.
        let (quality, io, runtime) = unsafe {
            (
                hq(),
                soxr::soxr_io_spec(soxr::SOXR_FLOAT32_I, soxr::SOXR_INT16_I),
                soxr::soxr_runtime_spec(1),
            )
        };
        assert_eq!((quality.precision, quality.phase_response), (20.0, 50.0));
        assert!(quality.passband_end > 0.9 && quality.passband_end < 1.0);
        assert_eq!(quality.stopband_begin, 1.0);
        assert!(quality.e.is_null());
        assert_eq!((io.itype, io.otype, io.scale), (0, 3, 1.0));
        assert!(io.e.is_null() && io.flags == 0);
        assert_eq!(
            (
                runtime.log2_min_dft_size,
                runtime.log2_large_dft_size,
                runtime.coef_size_kbytes,
                runtime.num_threads
            ),
            (10, 17, 400, 1)
        );
    }

    #[test]
    fn pieces_give_the_oneshot_samples() {
        // Feeding the stream in pieces must not change a sample: the reference (soxr.resample)
        // does the same, and soxr_oneshot, one piece, is what auscult did before.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for from in [22_050, 44_100, 48_000] {
            let input: Vec<f32> = (0..from as usize * 7)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
                })
                .collect();
            let pieces = resample(&input, from, 16_000).unwrap();
            let capacity = (input.len() as f64 * 16_000.0 / f64::from(from)) as usize + 1;
            let mut oneshot = vec![0f32; capacity];
            let mut written = 0usize;
            // SAFETY: pointers valid for the lengths passed; the specs outlive the call.
            let error = unsafe {
                let io = soxr::soxr_io_spec(soxr::SOXR_FLOAT32_I, soxr::SOXR_FLOAT32_I);
                let quality = hq();
                soxr::soxr_oneshot(
                    f64::from(from),
                    16_000.0,
                    1,
                    input.as_ptr().cast(),
                    input.len(),
                    std::ptr::null_mut(),
                    oneshot.as_mut_ptr().cast(),
                    capacity,
                    &mut written,
                    &io,
                    &quality,
                    std::ptr::null(),
                )
            };
            check(error).unwrap();
            oneshot.truncate(written);
            oneshot.resize(pieces.len(), 0.0);
            assert!(pieces == oneshot, "from {from} Hz");
        }
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
