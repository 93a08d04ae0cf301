//! Where the tests' inputs are: files of the repository (the bundled assets, the shipped demo
//! model, the judge's prompt) and the fixtures under `tests/fixtures`, as absolute paths, so a
//! test reads the same files whatever directory it runs in.

use std::path::{Path, PathBuf};

/// `<repository>/<relative>`.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `tests/fixtures/<relative>`.
pub fn fixture(relative: &str) -> PathBuf {
    repo_path("tests/fixtures").join(relative)
}
