//! The learning-rate schedule of demo training: a linear warm-up, then a cosine decay to a tenth
//! of the peak at the last step.

/// Learning rate at `step` (0-based) of `total` steps.
pub fn learning_rate(step: usize, total: usize, peak: f64, warmup: usize) -> f64 {
    let floor = peak / 10.0;
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_a_tenth() {
        assert!((learning_rate(0, 1000, 1e-3, 100) - 1e-5).abs() < 1e-12);
        assert!((learning_rate(99, 1000, 1e-3, 100) - 1e-3).abs() < 1e-12);
        assert!((learning_rate(100, 1000, 1e-3, 100) - 1e-3).abs() < 1e-12);
        assert!((learning_rate(550, 1000, 1e-3, 100) - 5.5e-4).abs() < 1e-9);
        assert!((learning_rate(1000, 1000, 1e-3, 100) - 1e-4).abs() < 1e-12);
        let rates: Vec<f64> = (100..1000)
            .map(|s| learning_rate(s, 1000, 1e-3, 100))
            .collect();
        assert!(rates.windows(2).all(|w| w[1] <= w[0]));
    }
}
