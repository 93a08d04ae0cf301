//! The progress bar of the long commands (`batch`, `reliance`) and the warnings printed beside
//! it.

use std::fmt::Display;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` units drawn with `template` (indicatif's keys) on stderr, hidden when stderr
/// is not a terminal.
pub fn progress_bar(len: usize, template: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    // The templates are constants of indicatif's own keys: they cannot fail to parse.
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
}

/// Prints `warning: {message}` on stderr above the bar. (`ProgressBar::println` prints nothing
/// while the bar is hidden, so warnings would be lost whenever stderr is a file or a pipe.)
pub fn warn(bar: &ProgressBar, message: impl Display) {
    bar.suspend(|| eprintln!("warning: {message}"));
}
