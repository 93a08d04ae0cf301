"""Writes tests/fixtures/python_made/: traces the Python package makes inside transformers' own
`generate`, which the Rust test `python_made` compares with auscult's own `run` of the same
examples (so the two cannot drift apart where CI has no PyTorch).

Run from the repository root with a Python that has torch, transformers >= 5.25, soundfile,
soxr, tokenizers and regex (`pip install './python[capture]'`):

    python scripts/make_python_traces.py [--check]

With `--check` nothing is written: each case is made again in a temporary folder and compared
with the committed one (ids, text, steps exactly; arrays to 1e-6), and the script exits 1 on a
difference. Paths in the traces are relative to the repository root, as the Rust test reads them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from auscult.__main__ import load_model  # noqa: E402
from auscult.generate import run_example  # noqa: E402
from auscult.trace import read_sidecar, run_sidecar_path, write_run  # noqa: E402

OUT_DIR = Path("tests/fixtures/python_made")

#: name → (checkpoint, clip, prompt, system, max new tokens, per-head maps, attention base)
CASES = {
    "tiny_a": (
        "tests/fixtures/qwen2_audio/tiny_a",
        "tests/fixtures/audio/mel/mid.wav",
        "Is the pitch rising or falling? Answer A or B.",
        None,
        24,
        True,
        "eager",
    ),
    "omni_thinker": (
        "tests/fixtures/qwen2_5_omni/thinker",
        "tests/fixtures/audio/mel/mid.wav",
        "What sound is this? Describe the audio.",
        None,
        24,
        True,
        "sdpa",
    ),
    "qwen3_omni": (
        "tests/fixtures/qwen3_omni/instruct",
        "tests/fixtures/audio/mel/short.wav",
        "What sound is this?",
        "You are a helpful assistant.",
        24,
        False,
        "sdpa",
    ),
    "demo": (
        "assets/demo-model",
        "assets/examples/clips/synth-30064771072.wav",
        "How many sounds are there? Choose one: 1; 3; 4; 6.",
        None,
        256,
        False,
        "sdpa",
    ),
}


def make(name: str, out_dir: Path) -> Path:
    model_dir, clip, prompt, system, max_new_tokens, per_head_maps, attention = CASES[name]
    model, processor, load_seconds = load_model(Path(model_dir))
    result = run_example(
        model,
        processor,
        model_dir,
        clip,
        prompt,
        system=system,
        max_new_tokens=max_new_tokens,
        per_head_maps=per_head_maps,
        attention=attention,
        load_seconds=load_seconds,
    )
    out = out_dir / f"{name}.json"
    write_run(out, result.trace, result.arrays)
    trace = result.trace
    print(
        f"{name}: {len(trace['input']['ids'])} prompt ids, span {trace['input']['audio_span']}, "
        f"{len(trace['generation']['ids'])} generated ({trace['generation']['stop_reason']}), "
        f"{len(trace['steps'])} steps"
    )
    return out


def same(committed: Path, made: Path) -> list[str]:
    """What differs between two runs of a case, beyond timings and the creation time."""
    a, b = (json.loads(path.read_text(encoding="utf-8")) for path in (committed, made))
    problems = [
        field
        for field in ("model", "audio", "prompt", "input", "generation", "steps", "attention")
        if a[field] != b[field]
    ]
    arrays_a = read_sidecar(run_sidecar_path(committed))
    arrays_b = read_sidecar(run_sidecar_path(made))
    if sorted(arrays_a) != sorted(arrays_b):
        problems.append(f"sidecar arrays {sorted(arrays_a)} vs {sorted(arrays_b)}")
    for key in set(arrays_a) & set(arrays_b):
        x, y = arrays_a[key], arrays_b[key]
        if x.shape != y.shape or np.abs(x.astype(np.float64) - y).max(initial=0.0) > 1e-6:
            problems.append(key)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    if args.check:
        failed = 0
        with tempfile.TemporaryDirectory() as scratch:
            for name in args.cases:
                problems = same(OUT_DIR / f"{name}.json", make(name, Path(scratch)))
                print(f"{name}: {'equal' if not problems else 'DIFFERS in ' + ', '.join(problems)}")
                failed += bool(problems)
        return 1 if failed else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in args.cases:
        make(name, OUT_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
