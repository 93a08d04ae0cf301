//! A parity fixture's cases (`cases.json`, written by the `scripts/make_*_fixtures.py` scripts
//! beside each checkpoint or set of references): the clip, the prompt and the reference dump of
//! each, and the token ids a reference holds.

use std::path::{Path, PathBuf};

use auscult::tensor_dump::Dump;

use super::paths::repo_path;

/// One case of a parity fixture's `cases.json`: the clip, the prompt and the reference dump.
pub struct ParityCase {
    /// The reference dump, relative to the fixture folder (`case_0.safetensors`).
    pub file: String,
    /// The clip, relative to the repository.
    pub clip: String,
    pub prompt: String,
    /// The system turn (`None`: the template's default).
    pub system: Option<String>,
    pub rendered: String,
}

impl ParityCase {
    /// The clip's absolute path.
    pub fn clip_path(&self) -> PathBuf {
        repo_path(&self.clip)
    }
}

/// The cases listed in `dir/cases.json`.
pub fn parity_cases(dir: &Path) -> Vec<ParityCase> {
    let text = std::fs::read_to_string(dir.join("cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ParityCase {
            file: c["file"].as_str().unwrap().to_owned(),
            clip: c["clip"].as_str().unwrap().to_owned(),
            prompt: c["prompt"].as_str().unwrap().to_owned(),
            system: c["system_prompt"].as_str().map(str::to_owned),
            rendered: c["rendered_prompt"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// Case `index` of `dir/cases.json`.
pub fn parity_case(dir: &Path, index: usize) -> ParityCase {
    parity_cases(dir)
        .into_iter()
        .nth(index)
        .unwrap_or_else(|| panic!("{}: no case {index}", dir.display()))
}

/// A reference dump's token ids (`input_ids`, `generated_ids`), stored as I64, as ids.
pub fn token_ids(dump: &Dump, name: &str) -> Vec<u32> {
    dump.i64(name)
        .unwrap_or_else(|e| panic!("{name} in the reference: {e}"))
        .iter()
        .map(|&i| u32::try_from(i).expect("a token id"))
        .collect()
}
