"""The package itself, without torch: its version is the crate's, and it ships the crate's
default step rules (the Rust test `python_package` checks the same files from the other side)."""

import re
from pathlib import Path

import auscult

REPO = Path(__file__).resolve().parents[2]


def test_the_version_is_the_crate_s() -> None:
    cargo = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    crate = re.search(r'^version = "([^"]+)"', cargo, re.MULTILINE)
    assert crate is not None
    assert auscult.__version__ == crate.group(1)


def test_the_default_step_rules_load_as_data() -> None:
    rules = auscult.default_step_rules()
    assert rules["line_breaks"] is True
    assert ["think", "reasoning"] in rules["tag_kinds"]
    assert isinstance(rules["long_paragraph_chars"], int)
