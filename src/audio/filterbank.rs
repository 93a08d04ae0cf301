//! The mel filterbank: triangular filters on the Slaney mel scale with Slaney (area)
//! normalisation, as `transformers.audio_utils.mel_filter_bank(..., norm="slaney",
//! mel_scale="slaney")` builds it for Whisper. Computed here from the formula rather than copied
//! as a table, so any bin count or FFT size a checkpoint asks for works.

/// Below this frequency the Slaney mel scale is linear, at 200/3 Hz per mel.
const SLANEY_BREAK_HZ: f64 = 1000.0;
/// Mel value at the break: 1000 Hz / (200/3 Hz per mel) = 15 mel.
const SLANEY_BREAK_MEL: f64 = 15.0;

/// Above 1 kHz, 27 mel span a frequency ratio of 6.4: mel per natural-log unit of frequency.
fn slaney_mels_per_log_hz() -> f64 {
    27.0 / 6.4f64.ln()
}

/// Hertz to Slaney mel.
///
/// ```
/// use auscult::audio::{hz_to_mel, mel_to_hz};
/// assert_eq!(hz_to_mel(500.0), 7.5); // linear below 1 kHz: 200/3 Hz per mel
/// assert!((mel_to_hz(hz_to_mel(4000.0)) - 4000.0).abs() < 1e-9);
/// ```
pub fn hz_to_mel(hz: f64) -> f64 {
    // Written in transformers' order of operations (`hertz_to_mel`), so values agree bit for bit.
    if hz < SLANEY_BREAK_HZ {
        3.0 * hz / 200.0
    } else {
        SLANEY_BREAK_MEL + (hz / SLANEY_BREAK_HZ).ln() * slaney_mels_per_log_hz()
    }
}

/// Slaney mel to Hertz.
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel < SLANEY_BREAK_MEL {
        200.0 * mel / 3.0
    } else {
        SLANEY_BREAK_HZ * ((mel - SLANEY_BREAK_MEL) / slaney_mels_per_log_hz()).exp()
    }
}

/// Filter weights, row-major `[n_mels, n_freqs]` (`n_freqs = n_fft / 2 + 1`), covering
/// `min_hz..max_hz` for a signal sampled at `sample_rate`.
pub fn mel_filterbank(
    n_mels: usize,
    n_fft: usize,
    sample_rate: u32,
    min_hz: f64,
    max_hz: f64,
) -> Vec<f64> {
    let n_freqs = n_fft / 2 + 1;
    let nyquist = f64::from(sample_rate) / 2.0;
    // Centre frequencies of the FFT bins: linspace(0, nyquist, n_freqs).
    let fft_hz: Vec<f64> = (0..n_freqs)
        .map(|k| nyquist * k as f64 / (n_freqs - 1) as f64)
        .collect();
    // n_mels + 2 edges equally spaced in mel: filter m rises from edge m to m+1, falls to m+2.
    let (mel_lo, mel_hi) = (hz_to_mel(min_hz), hz_to_mel(max_hz));
    let edges_hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
        .collect();

    let mut weights = vec![0.0; n_mels * n_freqs];
    for m in 0..n_mels {
        let (left, centre, right) = (edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]);
        // Slaney normalisation: each triangle has unit area in Hz.
        let area_norm = 2.0 / (right - left);
        for (k, &hz) in fft_hz.iter().enumerate() {
            let rising = (hz - left) / (centre - left);
            let falling = (right - hz) / (right - centre);
            weights[m * n_freqs + k] = rising.min(falling).max(0.0) * area_norm;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
    }

    #[test]
    fn whisper_bank_has_nonzero_filters_with_unit_area() {
        let (n_mels, n_fft) = (80, 400);
        let bank = mel_filterbank(n_mels, n_fft, 16_000, 0.0, 8000.0);
        let bin_hz = 8000.0 / 200.0;
        for m in 0..n_mels {
            let row = &bank[m * 201..(m + 1) * 201];
            assert!(row.iter().any(|&w| w > 0.0), "filter {m} is empty");
            assert!(row.iter().all(|&w| w >= 0.0));
            // Sampled area approximates the unit area for the wider, higher filters.
            if m > 40 {
                let area: f64 = row.iter().sum::<f64>() * bin_hz;
                assert!((area - 1.0).abs() < 0.05, "filter {m} area {area}");
            }
        }
    }
}
