//! The Python package in `python/` and the crate cannot drift apart where CI has no PyTorch: its
//! version is the crate's, and the step rules it ships (`auscult/step_rules.default.json`) are
//! `StepRules::default()`, as data rather than re-typed code.

use crate::common;

use auscult::trace::StepRules;
use common::update_mode;

const PYPROJECT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/pyproject.toml");
const RULES_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/python/auscult/step_rules.default.json"
);

/// The `version = "…"` of `pyproject.toml`'s `[project]` table.
fn project_version(pyproject: &str) -> Option<&str> {
    let project = pyproject.split("[project]").nth(1)?;
    let table = project.split("\n[").next()?;
    table
        .lines()
        .find_map(|line| line.trim().strip_prefix("version"))
        .map(|rest| rest.trim_start_matches([' ', '=']).trim().trim_matches('"'))
}

#[test]
fn the_python_package_has_the_crate_s_version() {
    let pyproject = std::fs::read_to_string(PYPROJECT).expect("python/pyproject.toml exists");
    assert_eq!(
        project_version(&pyproject),
        Some(env!("CARGO_PKG_VERSION")),
        "python/pyproject.toml's version is not Cargo.toml's"
    );
    let init = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/python/auscult/__init__.py"
    ))
    .unwrap();
    assert!(
        init.contains(&format!("__version__ = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "python/auscult/__init__.py's __version__ is not Cargo.toml's"
    );
}

/// Regenerate with `UPDATE_PYTHON_RULES=1 cargo test --test all python_package::`, then run it
/// again without the variable.
#[test]
fn the_python_package_ships_the_default_step_rules() {
    let generated = serde_json::to_string_pretty(&StepRules::default()).unwrap() + "\n";
    if update_mode::requested("UPDATE_PYTHON_RULES") {
        std::fs::write(RULES_FILE, &generated).unwrap();
        update_mode::rewrote(
            "UPDATE_PYTHON_RULES",
            "python/auscult/step_rules.default.json",
        );
    }
    let committed =
        std::fs::read_to_string(RULES_FILE).expect("python/auscult/step_rules.default.json exists");
    assert_eq!(
        committed, generated,
        "the Python package's step rules are not StepRules::default(): run \
         UPDATE_PYTHON_RULES=1 cargo test --test all python_package::, then again without it"
    );
    // And they are rules this build reads back as the defaults.
    let read: StepRules = serde_json::from_str(&committed).unwrap();
    assert_eq!(read, StepRules::default());
}
