"""`run_example` and `python -m auscult run` against the committed Python-made traces, which the
Rust test `python_made` holds equal to auscult's own `run` (so these tie the package to the
crate even where the two are run apart)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("soundfile")
pytest.importorskip("soxr")

from auscult.__main__ import load_model, main  # noqa: E402
from auscult.capture import CaptureError  # noqa: E402
from auscult.generate import audio_span_of, run_example  # noqa: E402
from auscult.trace import read_sidecar, read_trace, run_sidecar_path  # noqa: E402

pytestmark = pytest.mark.torch

REPO = Path(__file__).resolve().parents[2]
MADE = REPO / "tests/fixtures/python_made"
#: The fields two runs of one example share (not the times, not the creation stamp).
SHARED = ("model", "audio", "prompt", "input", "generation", "steps", "attention")


def committed(name: str) -> tuple[dict, dict[str, np.ndarray]]:
    path = MADE / f"{name}.json"
    return read_trace(path), read_sidecar(run_sidecar_path(path))


def same_run(a: dict, b: dict, ignore_paths: bool = True) -> None:
    for field in SHARED:
        left, right = a[field], b[field]
        if isinstance(left, dict):
            left, right = dict(left), dict(right)
            for record in (left, right):
                if ignore_paths:
                    record.pop("path", None)
                if field == "attention":
                    record.pop("sidecar")
        assert left == right, field


def close(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert np.abs(a[name].astype(np.float64) - b[name]).max(initial=0.0) <= 1e-6, name


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_run_example_makes_the_committed_trace_on_either_base(attention: str) -> None:
    trace, arrays = committed("tiny_a")
    model_dir = REPO / trace["model"]["path"]
    model, processor, _ = load_model(model_dir)
    result = run_example(
        model,
        processor,
        model_dir,
        REPO / trace["audio"]["path"],
        trace["prompt"]["text"],
        max_new_tokens=trace["generation"]["params"]["max_new_tokens"],
        per_head_maps=True,
        attention=attention,
    )
    same_run(result.trace, trace)
    close(result.arrays, arrays)
    timings = result.trace["timings"]
    assert timings["prefill_seconds"] >= timings["audio_encoder_seconds"] > 0
    assert timings["decode_tokens_per_second"] > 0


def test_the_command_line_writes_a_trace_and_sidecar_the_reader_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace, arrays = committed("qwen3_omni")
    monkeypatch.chdir(REPO)  # the committed trace's paths are the repository's
    out = tmp_path / "q3.json"
    status = main(
        [
            "run",
            "--model", trace["model"]["path"],
            "--audio", trace["audio"]["path"],
            "--prompt", trace["prompt"]["text"],
            "--system", trace["prompt"]["system"],
            "--max-new-tokens", "24",
            "--out", str(out),
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert "24 tokens" in capsys.readouterr().out
    written = read_trace(out)
    same_run(written, trace, ignore_paths=False)
    assert written["attention"]["sidecar"] == "q3.attn.safetensors"
    made = read_sidecar(run_sidecar_path(out), written)
    close(made, arrays)
    assert made["gen.experts"].dtype == np.uint16  # Qwen3-Omni's router, as auscult records it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".auscult-")]


def test_a_split_or_missing_audio_span_is_refused() -> None:
    assert audio_span_of([1, 5, 5, 5, 2], 5) == (1, 4)
    with pytest.raises(CaptureError, match="not one contiguous run"):
        audio_span_of([1, 5, 5, 2, 5], 5)
    with pytest.raises(CaptureError, match="no audio token"):
        audio_span_of([1, 2, 3], 5)


def test_load_model_names_a_config_without_a_known_class(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["NoSuchModel"]}))
    with pytest.raises(ValueError, match="NoSuchModel"):
        load_model(tmp_path)


def test_the_checkpoint_s_own_generation_settings_do_not_reach_the_run(tmp_path: Path) -> None:
    """A repetition penalty in generation_config.json is not auscult's to apply (`auscult run`
    reads only the stop ids there): the greedy run is the committed one."""
    import shutil

    trace, _ = committed("tiny_a")
    model_dir = tmp_path / "tiny_a"
    shutil.copytree(REPO / trace["model"]["path"], model_dir)
    settings = json.loads((model_dir / "generation_config.json").read_text())
    settings.update(repetition_penalty=5.0, no_repeat_ngram_size=1, num_beams=2)
    (model_dir / "generation_config.json").write_text(json.dumps(settings))
    model, processor, _ = load_model(model_dir)
    result = run_example(
        model, processor, model_dir, REPO / trace["audio"]["path"], trace["prompt"]["text"],
        max_new_tokens=24, per_head_maps=True,
    )
    assert result.trace["generation"]["ids"] == trace["generation"]["ids"]
    assert model.generation_config.repetition_penalty == 5.0  # the model's own, put back
