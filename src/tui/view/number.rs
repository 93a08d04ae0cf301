//! Numbers cut to the columns the inspector gives them: a ratio shows two decimals, a focus of
//! 2724.7 shows as `2725` and one of 27,247 as `27k`, never spilling into the next column.

/// `value` in at most `width` characters, with as many of `max_decimals` decimals as fit, then
/// thousands, millions and billions as `k`, `M`, `G`; `-` when it is not a finite number.
pub fn fit(value: f32, width: usize, max_decimals: usize) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    for decimals in (0..=max_decimals).rev() {
        let text = format!("{value:.decimals$}");
        if text.chars().count() <= width {
            return text;
        }
    }
    for (scale, suffix) in [(1e3, 'k'), (1e6, 'M'), (1e9, 'G')] {
        let scaled = value / scale;
        for decimals in (0..=1).rev() {
            let text = format!("{scaled:.decimals$}{suffix}");
            if text.chars().count() <= width {
                return text;
            }
        }
    }
    "∞".into()
}

/// A slope with its sign (`+0.0109`, `-12.35`), in at most `width` characters.
pub fn fit_signed(value: f32, width: usize, max_decimals: usize) -> String {
    if value.is_finite() && value >= 0.0 {
        format!("+{}", fit(value, width.saturating_sub(1), max_decimals))
    } else {
        fit(value, width, max_decimals)
    }
}

#[cfg(test)]
mod tests {
    use super::{fit, fit_signed};

    #[test]
    fn values_fit_their_column() {
        assert_eq!(fit(0.2734, 5, 2), "0.27");
        assert_eq!(fit(27.247, 5, 2), "27.25");
        assert_eq!(fit(272.47, 5, 2), "272.5");
        assert_eq!(fit(2724.73, 5, 2), "2725");
        assert_eq!(fit(27_247.3, 5, 2), "27247");
        assert_eq!(fit(272_473.0, 5, 2), "272k");
        assert_eq!(fit(2_724_730.0, 5, 2), "2725k");
        assert_eq!(fit(27_247_300.0, 5, 2), "27.2M");
        assert_eq!(fit(f32::NAN, 5, 2), "-");
        assert_eq!(fit(-0.5, 5, 2), "-0.50");
        for value in [
            0.0, 0.001, 1.0, 9.999, 99.99, 999.9, 1e4, 1e5, 1e6, 1e9, 3e38,
        ] {
            assert!(fit(value, 5, 2).chars().count() <= 5, "{value}");
            assert!(fit(value, 4, 2).chars().count() <= 4, "{value}");
        }
    }

    #[test]
    fn slopes_keep_their_sign() {
        assert_eq!(fit_signed(0.0109, 7, 4), "+0.0109");
        assert_eq!(fit_signed(-0.0109, 7, 4), "-0.0109");
        assert_eq!(fit_signed(-123.4567, 7, 4), "-123.46");
        assert_eq!(fit_signed(1234.5, 7, 4), "+1234.5");
    }
}
