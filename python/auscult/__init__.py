"""auscult for Python: auscult traces from transformers' own generation, and traces into pandas.

Making traces (the `capture` extra: torch, transformers >= 5.25, soundfile, soxr):

- `auscult.generate.run_example(model, processor, model_dir, audio, prompt, …)` runs one example
  as `auscult run` does and returns the trace and its sidecar arrays; `auscult.trace.write_run`
  writes them whole or not at all. `python -m auscult run --model DIR --audio CLIP --prompt …
  --out T.json` does both from the command line.
- `auscult.capture` is the capture underneath: for every generated token and decoder layer, the
  per-head audio ratio, sink mass, head-mean map over the audio span (optionally per-head maps),
  and a mixture-of-experts router's choices, reduced as each layer computes its attention.

Reading traces (numpy; pandas for DataFrames, the `read` extra):

- `auscult.read`: `read_steps`, `read_tokens`, `read_maps`, and the report's tables
  (`step_decay`, `token_decay`, `heads`, `accuracy`, `cafe`) computed as `auscult report` does.
- `auscult.trace`: traces and sidecars read, checked and written as the crate does.
- `auscult.steps` and `auscult.text`: the crate's step rules and text pieces.

Importing this package needs neither torch nor pandas.
"""

import json
from importlib import resources
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "default_step_rules"]


def default_step_rules() -> dict[str, Any]:
    """The rules auscult cuts a chain of thought into steps by, as the crate's
    `StepRules::default()` serialises them (a Rust test keeps the shipped file equal to it)."""
    text = resources.files(__package__).joinpath("step_rules.default.json").read_text("utf-8")
    return json.loads(text)
