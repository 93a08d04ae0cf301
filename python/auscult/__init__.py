"""auscult for Python: attention capture inside transformers' own generation.

`auscult.capture` records, for every generated token and every decoder layer, what auscult's
own runner records (per-head audio ratio, sink mass, the head-mean map over the audio span,
optionally per-head maps, and the experts a mixture-of-experts router chose), as numpy arrays
shaped like the sidecar's `gen.*` arrays. It needs the `torch` extra (`torch`,
`transformers>=5.25`); importing this package does not.

`auscult.steps` cuts a generation's text pieces into reasoning steps by the crate's rules
(`split_steps`, `load_rules`), and `auscult.text` turns generated ids into those pieces as the
crate's runner does (`pieces_of`); neither needs torch.
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
