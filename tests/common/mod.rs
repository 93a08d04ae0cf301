//! Helpers shared by the integration tests: fixture paths and running the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/fixtures/<relative>`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// Runs the `auscult` binary with `args`.
pub fn auscult(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auscult"))
        .args(args)
        .output()
        .expect("the auscult binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
