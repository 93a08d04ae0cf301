"""`python -m auscult run` on bad input: one line naming what is wrong, exit status 1, before
any model is loaded (so these run without torch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auscult.__main__ import main

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "tests/fixtures/audio/mel/short.wav"
MODEL = REPO / "tests/fixtures/qwen2_audio/tiny_a"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["run", *args])
    return status, capsys.readouterr().err


def test_a_missing_clip_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run(capsys, "--model", str(MODEL), "--audio", str(tmp_path / "gone.wav"),
                      "--prompt", "x", "--out", str(tmp_path / "t.json"))
    assert status == 1
    assert err.count("\n") == 1 and "gone.wav: no such file (the clip)" in err


def test_a_folder_without_a_config_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run(capsys, "--model", str(tmp_path), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"))
    assert status == 1 and "config.json: no such file" in err and err.count("\n") == 1


def test_the_out_file_must_be_json_and_not_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    common = ["--model", str(MODEL), "--audio", str(CLIP), "--prompt", "x"]
    status, err = run(capsys, *common, "--out", str(tmp_path / "t.txt"))
    assert status == 1 and "written as JSON" in err
    status, err = run(capsys, *common, "--out", str(tmp_path))
    assert status == 1 and "is a directory" in err


def test_bad_step_rules_are_refused_before_the_model_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('{"no_such_rule": true}')
    status, err = run(capsys, "--model", str(MODEL), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"), "--step-rules", str(rules))
    assert status == 1 and "no_such_rule" in err and err.count("\n") == 1
    assert not (tmp_path / "t.json").exists()


def test_a_non_positive_temperature_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run(capsys, "--model", str(MODEL), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"), "--temperature", "0")
    assert status == 1 and "--temperature must be a positive number" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--top-p", "1.5"], "--top-p must be in (0, 1], got 1.5"),
        (["--top-k", "-3"], "--top-k must be 0 (every token) or more"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
        (["--step-rules", "/nonexistent/rules.json"], "rules.json: no such file (--step-rules)"),
    ],
)
def test_settings_auscult_run_refuses_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str
) -> None:
    status, err = run(capsys, "--model", str(MODEL), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"), *extra)
    assert status == 1 and message in err and err.count("\n") == 1


def test_a_checkpoint_without_a_tokenizer_or_with_a_bad_config_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "config.json").write_text("[]")
    status, err = run(capsys, "--model", str(tmp_path), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"))
    assert status == 1 and "tokenizer.json: no such file" in err
    (tmp_path / "tokenizer.json").write_text("{}")
    status, err = run(capsys, "--model", str(tmp_path), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "t.json"))
    assert status == 1 and "config.json: holds list, not a JSON object" in err


def test_an_out_folder_that_does_not_exist_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run(capsys, "--model", str(MODEL), "--audio", str(CLIP), "--prompt", "x",
                      "--out", str(tmp_path / "no" / "t.json"))
    assert status == 1 and "no such folder for --out" in err
