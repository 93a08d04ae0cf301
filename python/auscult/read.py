"""Traces as pandas tables, and `auscult report`'s tables computed as the report computes them.

`read_steps` gives one row per reasoning step (its text, token and byte range, its audio ratio,
sink-corrected ratio and focus, the trace's verdict and benchmark labels, its CAFE labels);
`read_tokens` one row per generated token; `read_maps` a trace's step maps over the clip.

`accuracy`, `step_decay`, `token_decay`, `cafe` and `heads` return the text of the report's
`accuracy.csv`, `step_decay.csv`, `token_decay.csv`, `cafe.csv` and `heads.csv`, byte for byte
(a Rust test writes the expected files from `auscult report`'s own code; pytest compares). They
take the traces files (or what `load` read from them) and the report's options: `layers`
(`--layers`), `head` (`--head`, or "max" as the library's `Heads::Max`), `bin_tokens`
(`--bin-tokens`), `labels` (`--labels`: a judge's output or an `auscult label export` file).

Differences from the report, on purpose: annotators' journals beside a traces file are replays
of an editing session (`cafe/journal.rs`), not ported; a journal found there is named in a
warning and left out (flatten it with `auscult label export` and pass the export as `labels=`).
The heads' peak-in-event measure needs each step's ground-truth event span, which the report
takes from a synthetic item's truth; here it is the `event_spans` argument (none by default, so
the peak columns are empty, as they are for every trace without per-head maps).
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from .metrics import METRICS as _METRICS
from .metrics import AttentionView, Heads, MetricError, Selection
from .trace import (
    _fill,
    _LABELS,
    _rust_lines,
    read_sidecar,
    read_trace,
    read_traces_file,
)

__all__ = [
    "load",
    "Loaded",
    "ExampleSummary",
    "read_steps",
    "read_tokens",
    "read_maps",
    "accuracy",
    "step_decay",
    "token_decay",
    "cafe",
    "heads",
    "report_tables",
    "table_frame",
    "claims",
    "counted_claims",
    "cafe_counts",
]

PathLike = Union[str, os.PathLike]
Paths = Union[PathLike, Sequence[PathLike]]
#: For each step of a trace, the (start, end) seconds of the event it claims, if any.
EventSpans = Callable[[Mapping[str, Any]], Sequence[Union[tuple[float, float], None]]]

WHOLE_STEP = "(whole step)"
_SOURCE_RANK = {"auto": 0, "judge": 1, "human": 2}


# ---------------------------------------------------------------------------------------------
# CAFE labels (`cafe/claims.rs`, `cafe/mod.rs`).


@dataclass
class Claim:
    """One claimed event of one step and every label given to it, in file order."""

    step: int
    event: str
    labels: list[dict[str, Any]]

    def winner(self) -> dict[str, Any]:
        """The label that counts: the highest-ranked source (human > judge > auto), the later
        of one rank."""
        best = self.labels[0]
        for label in self.labels[1:]:
            if _rank(label) >= _rank(best):
                best = label
        return best

    def by(self, source: str) -> dict[str, Any] | None:
        """The latest label of `source` (`auto`, `judge:<model>`, `human:<name>`)."""
        for label in reversed(self.labels):
            if _same_source(label["source"], source):
                return label
        return None


def _split_source(source: str) -> tuple[str, str]:
    kind, _, name = source.partition(":")
    return kind, name


def _same_source(a: str, b: str) -> bool:
    return _split_source(a) == _split_source(b)


def _rank(label: Mapping[str, Any]) -> int:
    return _SOURCE_RANK[_split_source(label["source"])[0]]


def _group(labels: Iterable[dict[str, Any]]) -> list[Claim]:
    found: list[Claim] = []
    index: dict[tuple[int, str], int] = {}
    for label in labels:
        key = (label["step"], label["event"])
        if key in index:
            found[index[key]].labels.append(label)
        else:
            index[key] = len(found)
            found.append(Claim(label["step"], label["event"], [label]))
    return found


def claims(labels: Mapping[str, Any]) -> list[Claim]:
    """Every claim of a trace's labels, in order of first appearance (`claims`)."""
    return _group(labels.get("steps", []))


def counted_claims(labels: Mapping[str, Any]) -> list[Claim]:
    """The claims the metrics count: a whole-step label outranks a step's claims of lower
    sources (`counted_claims`)."""
    everything = claims(labels)
    whole_rank: dict[int, int] = {}
    for claim in everything:
        if claim.event == WHOLE_STEP:
            rank = _rank(claim.winner())
            whole_rank[claim.step] = max(rank, whole_rank.get(claim.step, rank))
    return [
        claim
        for claim in everything
        if claim.event == WHOLE_STEP
        or claim.step not in whole_rank
        or _rank(claim.winner()) >= whole_rank[claim.step]
    ]


_COUNT_KEYS = ("matched", "hallucinated", "misused", "neutral", "missed", "targets")


def cafe_counts(labels: Mapping[str, Any]) -> dict[str, int]:
    """`CafeCounts::of`: counted claims by winning label, distinct missed events, targets."""
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    for claim in counted_claims(labels):
        counts[claim.winner()["label"]] += 1
    counts["missed"] = len({missed["event"] for missed in labels.get("missed", [])})
    counts["targets"] = labels.get("targets") or 0
    return counts


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


# ---------------------------------------------------------------------------------------------
# Label files (`cafe/label_files.rs`), journals aside.


def _kind_of_line(line: str) -> str | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    if "op" in value:
        return "journal"
    if "labels" in value or "error" in value:
        return "judge"
    if "label" in value:
        return "export"
    return None


def _journals_beside(traces: Path) -> list[Path]:
    prefix = traces.stem + "."
    folder = traces.parent
    try:
        names = sorted(folder.iterdir())
    except OSError:
        return []
    return [
        path
        for path in names
        if path.name.startswith(prefix)
        and path.name.endswith(".labels.jsonl")
        and len(path.name) > len(prefix) + len(".labels.jsonl")
    ]


def _journal_annotator(traces: Path, journal: Path) -> str:
    return journal.name[len(traces.stem) + 1 : -len(".labels.jsonl")]


def _export_labels(path: Path, text: str, warnings_out: list[str]) -> dict[str, dict[str, Any]]:
    cut_off = bool(text) and not text.endswith("\n")
    lines = _rust_lines(text)
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            for key in ("trace", "step_text", "event", "label", "source", "annotator", "counts"):
                if key not in row:
                    raise ValueError(f"missing field `{key}`")
        except ValueError as error:
            if cut_off and number == len(lines):
                warnings_out.append(f"{path}:{number}: cut off; the lines before it are kept")
            else:
                warnings_out.append(f"{path}:{number}: not a label line ({error}); skipped")
            continue
        rows.append(row)
    traces: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row["counts"]:
            continue
        if row["source"] not in _SOURCE_RANK:
            raise ValueError(
                f"{path}: a row of trace {json.dumps(row['trace'])} has source "
                f"{json.dumps(row['source'])} (expected auto, judge or human)"
            )
        source = row["source"] + (f":{row['annotator']}" if row["annotator"] else "")
        labels = traces.setdefault(row["trace"], {"steps": [], "missed": [], "targets": None})
        if labels["targets"] is None:
            labels["targets"] = row.get("targets")
        if row["label"] == "missed":
            labels["missed"].append({"event": row["event"], "source": source})
        elif row.get("step") is not None:
            if row["label"] not in ("matched", "hallucinated", "misused", "neutral"):
                raise ValueError(f"{path}: unknown label {json.dumps(row['label'])}")
            label = {"step": row["step"], "event": row["event"], "label": row["label"]}
            label["source"] = source
            if row.get("note") is not None:
                label["note"] = row["note"]
            labels["steps"].append(label)
        else:
            raise ValueError(f"{path}: a {json.dumps(row['label'])} label without a step")
    return traces


def _judge_labels(path: Path, text: str, warnings_out: list[str]) -> dict[str, dict[str, Any]]:
    ends_cleanly = not text or text.endswith("\n")
    lines = _rust_lines(text)
    traces: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            if not isinstance(value, dict) or "id" not in value or "judge" not in value:
                raise ValueError("missing field `id` or `judge`")
            has_labels = value.get("labels") is not None
            if has_labels == (value.get("error") is not None):
                raise ValueError('a judge line holds either "labels" or "error"')
            labels = _fill(value["labels"], _LABELS, "labels") if has_labels else None
        except ValueError as error:
            reason = str(error)
            if number == len(lines) and not ends_cleanly:
                reason = "truncated last line (a run stopped while writing it)"
            elif not reason.startswith("a judge line"):
                reason = f"not a judge line ({reason})"
            warnings_out.append(f"{path}:{number}: {reason}; skipped")
            continue
        if labels is None:
            traces.pop(value["id"], None)
        else:
            traces[value["id"]] = labels
    return traces


def _extend(labels: dict[str, Any], other: Mapping[str, Any]) -> None:
    labels["steps"].extend(other["steps"])
    labels["missed"].extend(other["missed"])
    if labels.get("targets") is None:
        labels["targets"] = other.get("targets")


def _gather_labels(
    traces: Path, named: Sequence[PathLike], warnings_out: list[str]
) -> dict[str, dict[str, Any]]:
    """The labels of label files for the traces of `traces` (`gather_labels`, journals aside)."""
    beside = _journals_beside(traces)
    journal_sources = [f"human:{_journal_annotator(traces, p)}" for p in beside]
    for journal in beside:
        warnings_out.append(
            f"{journal}: an annotators' journal, not read by the Python reader (flatten it with "
            "`auscult label export` and pass the export as labels=); its labels are left out"
        )
    gathered: dict[str, dict[str, Any]] = {}
    seen: list[Path] = []
    for name in named:
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"{path}: no such label file")
        if any(path.resolve() == p.resolve() for p in seen + beside):
            continue
        seen.append(path)
        text = path.read_text("utf-8")
        if not text.strip():
            continue
        kind = next((k for k in map(_kind_of_line, _rust_lines(text)) if k), None)
        if kind is None:
            raise ValueError(
                f"{path}: not a label file (no line is a journal entry, a judge result or an "
                "exported label)"
            )
        if kind == "journal":
            raise ValueError(
                f"{path}: an annotators' journal; the Python reader takes its export "
                "(`auscult label export`) instead"
            )
        file_warnings: list[str] = []
        read = (_judge_labels if kind == "judge" else _export_labels)(path, text, file_warnings)
        before = sum(len(labels["steps"]) for labels in read.values())
        def from_journal(label: Mapping[str, Any]) -> bool:
            return any(_same_source(label["source"], source) for source in journal_sources)

        for labels in read.values():
            labels["steps"] = [s for s in labels["steps"] if not from_journal(s)]
            labels["missed"] = [m for m in labels["missed"] if not from_journal(m)]
        after = sum(len(labels["steps"]) for labels in read.values())
        if after < before:
            file_warnings.append(
                f"{path}: {before - after} labels of annotators whose journals are beside the "
                "traces left out (the journals are newer)"
            )
        warnings_out.extend(file_warnings)
        for trace_id, labels in read.items():
            into = gathered.setdefault(trace_id, {"steps": [], "missed": [], "targets": None})
            _extend(into, labels)
    return gathered


# ---------------------------------------------------------------------------------------------
# Reading and reducing traces (`report/summary.rs`, `report/mod.rs` `load`).


@dataclass
class ExampleSummary:
    """One trace as the report reduces it (`ExampleSummary`)."""

    trace: dict[str, Any]
    file: Path
    task: str
    category: str
    difficulty: str
    correct: bool | None
    generated_tokens: int
    #: (step index in the trace, kind, ratio, focus) of each step with rows, float32.
    steps: list[tuple[int, str, np.float32, np.float32]] = field(default_factory=list)
    token_ratio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    token_focus: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    cafe: dict[str, int] | None = None
    #: `Some(!correct)` of the answer regenerated without the audio.
    needs_audio: bool | None = None
    #: The sidecar's arrays when they belong to the trace (`None` otherwise).
    arrays: Mapping[str, np.ndarray] | None = None


@dataclass
class _HeadTally:
    shape: tuple[int, int] | None = None
    ratio_sum: np.ndarray | None = None
    peak_inside: np.ndarray | None = None
    measured_claims: int = 0
    examples: int = 0
    examples_with_head_maps: int = 0
    tokens: int = 0
    claims: int = 0

    def add(
        self, arrays: Mapping[str, np.ndarray], trace: Mapping[str, Any], spans: Sequence[Any]
    ) -> str | None:
        ratio = np.asarray(arrays["gen.audio_ratio"], dtype=np.float32)
        rows, layers, heads = ratio.shape
        if self.shape is not None and self.shape != (layers, heads):
            return (
                f"its attention has {layers} layers × {heads} heads, the first example's "
                f"{self.shape[0]} × {self.shape[1]}"
            )
        view = AttentionView(arrays, 0)
        has_maps = view.head_maps is not None
        claims_here, measured = 0, 0
        inside = np.zeros(layers * heads, dtype=np.int64)
        seconds = float(trace["audio"]["seconds_per_audio_token"])
        for step, span in zip(trace["steps"], spans):
            if span is None:
                continue
            tokens = (step["tokens"][0], min(step["tokens"][1], rows))
            if tokens[1] <= tokens[0]:
                continue
            claims_here += 1
            if not has_maps:
                continue
            maps = view.span_head_maps(tokens).reshape(layers * heads, -1)
            measured += 1
            for i, head_map in enumerate(maps):
                peak = _peak_frame(head_map)
                if peak is not None and _frame_overlaps(peak, seconds, span):
                    inside[i] += 1
        if self.ratio_sum is None or self.peak_inside is None:
            self.shape = (layers, heads)
            self.ratio_sum = np.zeros(layers * heads, dtype=np.float64)
            self.peak_inside = np.zeros(layers * heads, dtype=np.int64)
        # Float64 sums over every row, in row order.
        flat = ratio.reshape(rows, layers * heads).astype(np.float64)
        stacked = np.concatenate([self.ratio_sum[None, :], flat], axis=0)
        self.ratio_sum = np.add.accumulate(stacked, axis=0)[-1]
        self.peak_inside = self.peak_inside + inside
        self.examples += 1
        self.examples_with_head_maps += int(has_maps)
        self.tokens += rows
        self.claims += claims_here
        self.measured_claims += measured
        return None

    def rows(self) -> list[tuple[int, int, float, tuple[int, int] | None]]:
        """(layer, head, mean audio ratio, (inside, n) or None), best first."""
        if self.shape is None or self.ratio_sum is None or self.peak_inside is None:
            return []
        layers, heads = self.shape
        ranked = []
        for i in range(layers * heads):
            mean = float(self.ratio_sum[i]) / max(self.tokens, 1)
            peak = None
            if self.measured_claims:
                peak = (int(self.peak_inside[i]), self.measured_claims)
            ranked.append((i // heads, i % heads, mean, peak))

        def order(row: tuple[int, int, float, Any]) -> tuple[float, float, int, int]:
            share = row[3][0] / max(row[3][1], 1) if row[3] else -1.0
            return (-share, -row[2], row[0], row[1])

        ranked.sort(key=order)
        return ranked


def _peak_frame(values: np.ndarray) -> int | None:
    best, top = None, 0.0
    for j, value in enumerate(values):
        if value > top:
            best, top = j, value
    return best


def _frame_overlaps(frame: int, seconds_per_token: float, span: Sequence[float]) -> bool:
    start = frame * seconds_per_token
    return start < span[1] and start + seconds_per_token > span[0]


@dataclass
class Loaded:
    """What `load` read: every trace reduced, the heads' tallies, failed items, warnings."""

    summaries: list[ExampleSummary]
    head_tally: _HeadTally
    failed: int
    warnings: list[str]
    selection: Selection


def _paths(paths: Paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _summarize(
    trace: dict[str, Any], file: Path, selection: Selection, warnings_out: list[str]
) -> ExampleSummary:
    benchmark = trace.get("benchmark") or {}
    answer = trace.get("answer")
    counterfactual = (trace.get("evidence") or {}).get("counterfactual_answer")
    needs_audio = None
    if counterfactual is not None and counterfactual.get("answer") is not None:
        needs_audio = not counterfactual["answer"]["correct"]
    summary = ExampleSummary(
        trace=trace,
        file=file,
        task=benchmark.get("task") or "-",
        category=benchmark.get("category") or "-",
        difficulty=benchmark.get("difficulty") or "-",
        correct=None if answer is None else bool(answer["correct"]),
        generated_tokens=len(trace["generation"]["ids"]),
        cafe=None if trace.get("labels") is None else cafe_counts(trace["labels"]),
        needs_audio=needs_audio,
    )
    record = trace.get("attention")
    if record is None:
        return summary
    path = file.parent / record["sidecar"]
    try:
        arrays = read_sidecar(path)
    except ValueError as error:
        warnings_out.append(f"{trace['id']}: {error}; its attention is left out")
        return summary
    rows, layers = arrays["gen.audio_ratio"].shape[:2]
    audio_tokens = arrays["gen.audio_map"].shape[2]
    span = trace["input"]["audio_span"][1] - trace["input"]["audio_span"][0]
    tokens = len(trace["generation"]["ids"])
    if (rows, layers, audio_tokens) != (tokens, trace["model"]["layers"], span):
        warnings_out.append(
            f"{trace['id']}: {record['sidecar']} does not match its trace ({rows} rows, "
            f"{layers} layers, {audio_tokens} audio tokens; the trace has "
            f"{len(trace['generation']['ids'])} tokens, {trace['model']['layers']} layers, "
            f"{span} audio tokens); its attention is left out"
        )
        return summary
    summary.arrays = arrays
    view = AttentionView.of_trace(trace, arrays)
    try:
        ratio = view.token_values("ratio", selection)
        focus = view.token_values("focus", selection)
    except MetricError as error:
        warnings_out.append(f"{trace['id']}: {error}")
        return summary
    for position, step in enumerate(trace["steps"]):
        step_rows = (step["tokens"][0], min(step["tokens"][1], view.rows))
        r = view.span_value("ratio", step_rows, selection, ratio)
        f = view.span_value("focus", step_rows, selection, focus)
        if r is not None and f is not None:
            summary.steps.append((position, step["kind"], r, f))
    summary.token_ratio, summary.token_focus = ratio, focus
    return summary


def load(
    paths: Paths,
    layers: Sequence[int] | None = None,
    head: Heads | None = None,
    labels: Sequence[PathLike] = (),
    event_spans: EventSpans | None = None,
    warn: bool = True,
) -> Loaded:
    """Reads every traces file (`.jsonl`, or one `.json` trace) and reduces each trace as the
    report does, with the selection of `layers` and `head` ("max" for the maximum over heads).
    Skipped lines, unreadable or mismatched sidecars and bad selections become warnings
    (`warnings.warn`, unless `warn` is false; also kept in `Loaded.warnings`)."""
    files = _paths(paths)
    if labels and len(files) > 1:
        raise ValueError(
            "labels= matches labels to traces by id, so it takes one traces file "
            f"(given {len(files)})"
        )
    selection = Selection.of(layers, head)
    summaries: list[ExampleSummary] = []
    tally = _HeadTally()
    failed = 0
    found_warnings: list[str] = []
    for path in files:
        gathered = _gather_labels(path, labels, found_warnings)
        if path.suffix == ".json":
            lines = [read_trace(path)]
        else:
            read = read_traces_file(path)
            found_warnings.extend(read.skipped)
            lines = read.lines
        for trace in lines:
            if "error" in trace:
                failed += 1
                continue
            if trace["id"] in gathered:
                given = trace.get("labels") or {"steps": [], "missed": [], "targets": None}
                own = {
                    "steps": list(given["steps"]),
                    "missed": list(given["missed"]),
                    "targets": given.get("targets"),
                }
                _extend(own, gathered[trace["id"]])
                trace = {**trace, "labels": own}
            summary = _summarize(trace, path, selection, found_warnings)
            summaries.append(summary)
            if summary.arrays is not None:
                # As the report: every trace whose sidecar reads and fits it, even when its
                # curves failed (a layer or head it does not have).
                spans = event_spans(trace) if event_spans is not None else []
                try:
                    why = tally.add(summary.arrays, trace, spans)
                except MetricError as error:
                    why = str(error)
                if why is not None:
                    found_warnings.append(
                        f"{trace['id']}: {why}; it is left out of the heads' ranking"
                    )
    if warn:
        for line in found_warnings:
            warnings.warn(line, stacklevel=2)
    return Loaded(summaries, tally, failed, found_warnings, selection)


def _loaded(source: Paths | Loaded, **options: Any) -> Loaded:
    if isinstance(source, Loaded):
        return source
    return load(source, **options)


# ---------------------------------------------------------------------------------------------
# The report's tables (`report/stats.rs`, `report/mod.rs`, `report/heads_files.rs`).


def _csv_field(value: str) -> str:
    """A field as the `csv` crate writes it: quoted (quotes doubled) when it holds a comma, a
    quote, `\\r` or `\\n`."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv(rows: Iterable[Sequence[str]]) -> str:
    return "".join(",".join(_csv_field(str(v)) for v in row) + "\n" for row in rows)


def _fixed(value: float, digits: int) -> str:
    """Rust's `{:.N}` of an f64 (correctly rounded, `-0` kept, `NaN`, `inf`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"


def _f64_sum(values: Sequence[float]) -> float:
    """Rust's `Iterator::sum::<f64>`: left to right from -0.0 (Python's `sum` compensates)."""
    total = -0.0
    for value in values:
        total += value
    return total


def _splits(summaries: list[ExampleSummary]) -> list[tuple[str, list[ExampleSummary]]]:
    out = [
        ("all", list(summaries)),
        ("correct", [s for s in summaries if s.correct is True]),
        ("incorrect", [s for s in summaries if s.correct is False]),
    ]
    for split, needs in (("needs_audio", True), ("answerable_without_audio", False)):
        members = [s for s in summaries if s.needs_audio is needs]
        if members:
            out.append((split, members))
    tasks: dict[str, list[ExampleSummary]] = {}
    for summary in summaries:
        tasks.setdefault(summary.task, []).append(summary)
    if len(tasks) > 1:
        for task in sorted(tasks, key=lambda t: t.encode("utf-8")):
            out.append((f"task:{task}", tasks[task]))
    return out


def _mean_point(split: str, x: int, values: list[tuple[np.float32, np.float32]]) -> list[str]:
    n = float(max(len(values), 1))
    mean_ratio = _f64_sum([float(v[0]) for v in values]) / n
    mean_focus = _f64_sum([float(v[1]) for v in values]) / n
    return [split, str(x), _fixed(mean_ratio, 6), _fixed(mean_focus, 6), str(len(values))]


def step_decay(source: Paths | Loaded, **options: Any) -> str:
    """`step_decay.csv`: per split and step index (the index among a trace's steps with rows),
    the mean step ratio and focus over the traces that reach it."""
    loaded = _loaded(source, **options)
    rows = [["split", "step_index", "mean_ratio", "mean_focus", "examples"]]
    for split, members in _splits(loaded.summaries):
        longest = max((len(s.steps) for s in members), default=0)
        for index in range(longest):
            values = [
                (s.steps[index][2], s.steps[index][3]) for s in members if index < len(s.steps)
            ]
            rows.append(_mean_point(split, index, values))
    return _csv(rows)


def token_decay(source: Paths | Loaded, bin_tokens: int = 16, **options: Any) -> str:
    """`token_decay.csv`: per split and bin of `bin_tokens` generated tokens, the mean over the
    traces that reach the bin of each trace's float32 mean within the bin."""
    loaded = _loaded(source, **options)
    width = max(int(bin_tokens), 1)
    rows = [["split", "token_bin_start", "mean_ratio", "mean_focus", "examples"]]
    for split, members in _splits(loaded.summaries):
        longest = max((len(s.token_ratio) for s in members), default=0)
        for start in range(0, longest, width):
            values = []
            for s in members:
                if len(s.token_ratio) <= start:
                    continue
                end = min(start + width, len(s.token_ratio))
                n = np.float32(end - start)
                ratio = _sequential(s.token_ratio[start:end]) / n
                focus = _sequential(s.token_focus[start:end]) / n
                values.append((np.float32(ratio), np.float32(focus)))
            rows.append(_mean_point(split, start, values))
    return _csv(rows)


def _sequential(values: np.ndarray) -> np.float32:
    return np.add.accumulate(np.asarray(values, dtype=np.float32), dtype=np.float32)[-1]


def accuracy(source: Paths | Loaded, **options: Any) -> str:
    """`accuracy.csv`: scored items overall, then by task, category and difficulty."""
    loaded = _loaded(source, **options)
    scored = [s for s in loaded.summaries if s.correct is not None]

    def row(by: str, group: str, items: int, correct: int) -> list[str]:
        share = correct / items if items else 0.0
        return [by, group, str(items), str(correct), _fixed(share, 4)]

    rows = [["by", "group", "items", "correct", "accuracy"]]
    rows.append(row("overall", "all", len(scored), sum(1 for s in scored if s.correct)))
    for by in ("task", "category", "difficulty"):
        groups: dict[str, list[int]] = {}
        for s in scored:
            entry = groups.setdefault(getattr(s, by), [0, 0])
            entry[0] += 1
            entry[1] += int(bool(s.correct))
        for group in sorted(groups, key=lambda g: g.encode("utf-8")):
            rows.append(row(by, group, *groups[group]))
    return _csv(rows)


def cafe(source: Paths | Loaded, **options: Any) -> str:
    """`cafe.csv`: CAFE counts pooled over the labelled traces, and their shares."""
    loaded = _loaded(source, **options)
    labelled = [s.cafe for s in loaded.summaries if s.cafe is not None]
    total = {key: sum(c[key] for c in labelled) for key in _COUNT_KEYS}
    predicted = total["matched"] + total["hallucinated"] + total["misused"]

    def ratio(value: float | None) -> str:
        return "" if value is None else _fixed(value, 4)

    header = [
        "labelled_traces",
        *_COUNT_KEYS,
        "acc_per",
        "err_per",
        "err_use",
        "err_omit",
    ]
    row = [
        str(len(labelled)),
        *(str(total[key]) for key in _COUNT_KEYS),
        ratio(_share(total["matched"], predicted)),
        ratio(_share(total["hallucinated"], predicted)),
        ratio(_share(total["misused"], predicted)),
        ratio(_share(total["missed"], total["targets"])),
    ]
    return _csv([header, row])


def heads(source: Paths | Loaded, **options: Any) -> str:
    """`heads.csv`: every (layer, head), best listener first: its mean audio ratio over every
    generated token, and the share of claims whose head map peaks inside the named event (empty
    where not measured)."""
    loaded = _loaded(source, **options)
    rows = [["layer", "head", "mean_audio_ratio", "peak_in_event_share", "peak_in_event_n"]]
    for layer, head, mean, peak in loaded.head_tally.rows():
        share, n = "", ""
        if peak is not None:
            share, n = _fixed(peak[0] / max(peak[1], 1), 4), str(peak[1])
        rows.append([str(layer), str(head), _fixed(mean, 6), share, n])
    return _csv(rows)


def report_tables(
    paths: Paths,
    layers: Sequence[int] | None = None,
    head: Heads | None = None,
    labels: Sequence[PathLike] = (),
    bin_tokens: int = 16,
    event_spans: EventSpans | None = None,
) -> dict[str, str]:
    """Every table of `auscult report` by file name (`accuracy.csv` …), from one reading."""
    loaded = load(paths, layers=layers, head=head, labels=labels, event_spans=event_spans)
    return {
        "accuracy.csv": accuracy(loaded),
        "step_decay.csv": step_decay(loaded),
        "token_decay.csv": token_decay(loaded, bin_tokens=bin_tokens),
        "cafe.csv": cafe(loaded),
        "heads.csv": heads(loaded),
    }


def table_frame(text: str) -> Any:
    """A report table's text as a DataFrame (empty fields as NaN)."""
    import pandas as pd

    return pd.read_csv(io.StringIO(text))


# ---------------------------------------------------------------------------------------------
# DataFrames.


def _label_columns(
    trace: Mapping[str, Any], step: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A step's labels as records, and per column (`label:<source>`, `label`) its labels, one
    per claim in claim order, joined with "; "."""
    labels = trace.get("labels")
    if labels is None:
        return [], {}
    records = [
        {"event": s["event"], "label": s["label"], "source": s["source"], "note": s.get("note")}
        for s in labels["steps"]
        if s["step"] == step
    ]
    step_claims = [c for c in claims(labels) if c.step == step]
    columns: dict[str, str] = {}
    sources = sorted({record["source"] for record in records})
    for source in sources:
        given = [c.by(source) for c in step_claims]
        columns[f"label:{source}"] = "; ".join(g["label"] for g in given if g is not None)
    counted = [c.winner()["label"] for c in counted_claims(labels) if c.step == step]
    if counted:
        columns["label"] = "; ".join(counted)
    return records, columns


def read_steps(
    paths: Paths,
    layers: Sequence[int] | None = None,
    head: Heads | None = None,
    labels: Sequence[PathLike] = (),
    loaded: Loaded | None = None,
) -> Any:
    """One row per step of every trace: `trace`, `file`, `step`, `kind`, `text`, `token_start`,
    `token_end`, `byte_start`, `byte_end`, `ratio`, `sink_corrected`, `focus` (float32 as the
    report computes them; NaN without attention or for a step without rows), `correct`, `task`,
    `category`, `difficulty`, `generated_tokens`, `labels` (the step's labels as
    `{event, label, source, note}` records), one `label:<source>` column per source (that
    source's label of each claim, joined with "; ") and `label` (the label that counts of each
    counted claim). Needs pandas (the `read` extra)."""
    import pandas as pd

    loaded = loaded or load(paths, layers=layers, head=head, labels=labels)
    rows = []
    for summary in loaded.summaries:
        trace = summary.trace
        view = None if summary.arrays is None else AttentionView.of_trace(trace, summary.arrays)
        values: dict[str, np.ndarray] = {}
        if view is not None:
            try:
                values = {m: view.token_values(m, loaded.selection) for m in _METRICS}
            except MetricError:
                values = {}
        for position, step in enumerate(trace["steps"]):
            row: dict[str, Any] = {
                "trace": trace["id"],
                "file": str(summary.file),
                "step": step["index"],
                "kind": step["kind"],
                "text": step["text"],
                "token_start": step["tokens"][0],
                "token_end": step["tokens"][1],
                "byte_start": step["chars"][0],
                "byte_end": step["chars"][1],
            }
            for metric in ("ratio", "sink_corrected", "focus"):
                value = None
                if metric in values and view is not None:
                    tokens = (step["tokens"][0], min(step["tokens"][1], view.rows))
                    value = view.span_value(metric, tokens, loaded.selection, values[metric])
                row[metric] = np.float32(np.nan) if value is None else np.float32(value)
            row.update(
                correct=summary.correct,
                task=summary.task,
                category=summary.category,
                difficulty=summary.difficulty,
                generated_tokens=summary.generated_tokens,
            )
            records, columns = _label_columns(trace, position)
            row["labels"] = records
            row.update(columns)
            rows.append(row)
    frame = pd.DataFrame(rows)
    for metric in ("ratio", "sink_corrected", "focus"):
        if metric in frame:
            frame[metric] = frame[metric].astype(np.float32)
    label_columns = sorted(c for c in frame.columns if c.startswith("label:"))
    if "label" not in frame and len(frame):
        frame["label"] = None
    base = [c for c in frame.columns if not c.startswith("label:") and c != "label"]
    return frame[base + label_columns + (["label"] if "label" in frame else [])]


def read_tokens(
    paths: Paths,
    layers: Sequence[int] | None = None,
    head: Heads | None = None,
    loaded: Loaded | None = None,
) -> Any:
    """One row per generated token of every trace with attention: `trace`, `file`, `token`,
    `step` (the step holding it, else NaN), `piece` (its bytes of the generated text at
    `generation.piece_offsets`, decoded with replacement; None without offsets), `ratio`,
    `sink_corrected`, `focus` (float32, as the report's token curves). Needs pandas."""
    import pandas as pd

    loaded = loaded or load(paths, layers=layers, head=head)
    rows = []
    for summary in loaded.summaries:
        if summary.arrays is None:
            continue
        trace = summary.trace
        view = AttentionView.of_trace(trace, summary.arrays)
        try:
            values = {m: view.token_values(m, loaded.selection) for m in _METRICS}
        except MetricError:
            continue
        text = trace["generation"]["text"].encode("utf-8")
        offsets = trace["generation"].get("piece_offsets") or []
        step_of = np.full(view.rows, -1, dtype=np.int64)
        for step in trace["steps"]:
            step_of[step["tokens"][0] : min(step["tokens"][1], view.rows)] = step["index"]
        for t in range(view.rows):
            piece = None
            if t < len(offsets):
                end = offsets[t + 1] if t + 1 < len(offsets) else len(text)
                piece = text[offsets[t] : end].decode("utf-8", errors="replace")
            rows.append(
                {
                    "trace": trace["id"],
                    "file": str(summary.file),
                    "token": t,
                    "step": None if step_of[t] < 0 else int(step_of[t]),
                    "piece": piece,
                    "ratio": values["ratio"][t],
                    "sink_corrected": values["sink_corrected"][t],
                    "focus": values["focus"][t],
                }
            )
    frame = pd.DataFrame(rows)
    for metric in ("ratio", "sink_corrected", "focus"):
        if metric in frame:
            frame[metric] = frame[metric].astype(np.float32)
    return frame


def read_maps(
    trace: Mapping[str, Any],
    sidecar: Mapping[str, np.ndarray] | PathLike,
    layers: Sequence[int] | None = None,
    head: Heads | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A trace's step maps, `[steps, audio tokens]` float32 (each step's mean map over its rows,
    `span_map`, zeros for a step without rows), and the time axis in seconds
    (`j × seconds_per_audio_token`). `sidecar` is the arrays or the sidecar's path."""
    arrays = sidecar if isinstance(sidecar, Mapping) else read_sidecar(Path(sidecar), trace)
    view = AttentionView.of_trace(trace, arrays)
    selection = Selection.of(layers, head)
    maps = view.token_maps(selection)
    steps = np.stack(
        [
            view.span_map((s["tokens"][0], min(s["tokens"][1], view.rows)), selection, maps)
            for s in trace["steps"]
        ]
    ) if trace["steps"] else np.zeros((0, view.audio_tokens), dtype=np.float32)
    seconds = np.arange(view.audio_tokens) * float(trace["audio"]["seconds_per_audio_token"])
    return steps.astype(np.float32), seconds

