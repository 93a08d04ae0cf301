//! Round tick values for an axis (1, 2, 2.5 or 5 times a power of ten) and their labels with as
//! many decimals as the step needs.

/// About `count` round ticks from `low` to `high` (both included when they fall on a tick).
pub fn ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low];
    }
    let step = tick_step(high - low, count);
    let first = (low / step - 1e-9).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// The round step that cuts `span` into about `count` pieces.
pub fn tick_step(span: f64, count: usize) -> f64 {
    let raw = span / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * 0.999)
        .unwrap_or(10.0 * power);
    if step > 0.0 {
        step
    } else {
        1.0
    }
}

/// `value` written with the decimals a tick `step` needs.
pub fn label(value: f64, step: f64) -> String {
    let decimals = (0..=6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6) as usize;
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_labelled_to_their_step() {
        assert_eq!(ticks(0.0, 4.4, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(0.0, 1.0, 4), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let small = ticks(0.0, 0.031, 4);
        assert_eq!(small.len(), 4, "{small:?}");
        assert_eq!(label(0.25, 0.25), "0.25");
        assert_eq!(label(0.5, 0.5), "0.5");
        assert_eq!(label(3.0, 1.0), "3");
        assert_eq!(label(0.01, 0.01), "0.01");
        assert_eq!(label(-0.0, 0.1), "0.0");
    }
}
