"""Traces into pandas: the steps of the bundled example traces, their audio ratio by step kind,
the decay curve `auscult report` draws, and one trace's step maps.

    pip install './python[read]'
    python python/examples/read_traces.py [TRACES.jsonl ...]

(run from the repository root; the default is the bundled `assets/examples/traces.jsonl`).
"""

from __future__ import annotations

import sys

from auscult import read

paths = sys.argv[1:] or ["assets/examples/traces.jsonl"]

# One row per step, its metrics computed as `auscult report` computes them (here layers 2-3, the
# head mean; `head=0` picks one head, `head="max"` the largest).
steps = read.read_steps(paths, layers=[2, 3])
print(steps[["trace", "step", "kind", "ratio", "focus", "correct", "label"]].head(10).to_string())
print()
print("mean audio ratio by step kind:")
print(steps.groupby("kind")["ratio"].agg(["mean", "count"]).round(3).to_string())
print()

# The report's own table, as text byte for byte equal to `auscult report`'s step_decay.csv, and
# as a DataFrame.
decay = read.table_frame(read.step_decay(paths, layers=[2, 3]))
print(decay[decay["split"] == "all"].head(8).to_string(index=False))
print()

# One trace's step × audio-token map (rows: steps, columns: audio tokens) and its time axis.
first = read.load(paths).summaries[0]
maps, seconds = read.read_maps(first.trace, first.arrays, layers=[2, 3])
peaks = seconds[maps.argmax(axis=1)]
print(f"{first.trace['id']}: step maps {maps.shape}; each step's most attended time (s): {peaks.round(2)}")
