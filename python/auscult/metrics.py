"""Attention metrics over a sidecar's rows, computed as `src/trace/metrics.rs` computes them.

The values are float32 and every sum is the Rust one: sequential, left to right, in float32
(`Iterator::sum::<f32>` and `+=` loops), which numpy's pairwise `sum`/`mean` are not; a sequential
float32 sum along an axis is `np.add.accumulate(x, axis=k, dtype=np.float32)` taken at its last
index. So the report's tables (`auscult.read`) come out byte for byte as `auscult report` writes
them.

- per token: each selected layer's heads combined (the mean: float32 sum over heads / H; the
  max; or one head), then the float32 mean over the selected layers (`AttentionView::token_value`);
- `ratio` is the stored audio ratio `r`; `sink_corrected` is `r / (1 - sink)`, 0 where
  `1 - sink <= 1e-12`; `focus` is `(r / A) / ((1 - r) / (P + t - A))`, 0 where `1 - r <= 1e-12`
  or `P + t - A <= 0` (`P` the prompt length, `t` the row, `A` the audio tokens);
- per step: the float32 mean of its rows' values (`span_value`; `None` for an empty range), and
  the step's map over the audio tokens (`span_map`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence, Union

import numpy as np

__all__ = [
    "Selection",
    "Metric",
    "METRICS",
    "MetricError",
    "AttentionView",
    "sequential_sum",
]

Metric = Literal["ratio", "sink_corrected", "focus"]
METRICS: tuple[Metric, ...] = ("ratio", "sink_corrected", "focus")

#: How heads are combined: "mean", "max", or one head's index.
Heads = Union[Literal["mean", "max"], int]

#: Below this, `1 - x` counts as zero (the division is undefined; the value is 0).
_EPSILON = np.float32(1e-12)


class MetricError(ValueError):
    """A selection the rows cannot give (`MetricError` of the Rust side, same messages)."""


@dataclass(frozen=True)
class Selection:
    """Layers and heads to look at. Empty `layers` means all of them; `heads` is "mean", "max"
    or a head's index."""

    layers: Sequence[int] = field(default_factory=tuple)
    heads: Heads = "mean"

    @staticmethod
    def of(layers: Sequence[int] | None = None, head: Heads | None = None) -> "Selection":
        """The selection of the report's options: `--layers` (None: all) and `--head` (None: the
        mean over heads)."""
        return Selection(tuple(layers or ()), "mean" if head is None else head)


def sequential_sum(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Float32 sum along `axis`, left to right, as Rust's `Iterator::sum::<f32>` adds."""
    values = np.asarray(values, dtype=np.float32)
    if values.shape[axis] == 0:  # Rust's float sum starts from -0.0
        shape = values.shape[:axis % values.ndim] + values.shape[axis % values.ndim + 1 :]
        return np.full(shape, -0.0, dtype=np.float32)
    return np.take(np.add.accumulate(values, axis=axis, dtype=np.float32), -1, axis=axis)


def _sum_from_zero(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Float32 sum along `axis` from `0.0` (a `let mut total = 0.0; total += …` loop)."""
    values = np.asarray(values, dtype=np.float32)
    shape = list(values.shape)
    shape[axis] = 1
    padded = np.concatenate([np.zeros(shape, dtype=np.float32), values], axis=axis)
    return np.take(np.add.accumulate(padded, axis=axis, dtype=np.float32), -1, axis=axis)


class AttentionView:
    """The generated rows of one sidecar (`gen.*` arrays) with the prompt length, as Rust's
    `AttentionView::new(rows, len(input.ids))`."""

    def __init__(
        self, arrays: Mapping[str, np.ndarray], context_at_row0: int, prefix: str = "gen"
    ) -> None:
        self.audio_ratio = np.asarray(arrays[f"{prefix}.audio_ratio"], dtype=np.float32)
        self.sink_mass = np.asarray(arrays[f"{prefix}.sink_mass"], dtype=np.float32)
        self.audio_map = np.asarray(arrays[f"{prefix}.audio_map"], dtype=np.float32)
        head_maps = arrays.get(f"{prefix}.head_maps")
        self.head_maps = None if head_maps is None else np.asarray(head_maps, dtype=np.float32)
        self.rows, self.layers, self.heads = self.audio_ratio.shape
        self.audio_tokens = self.audio_map.shape[2]
        self.context_at_row0 = int(context_at_row0)

    @staticmethod
    def of_trace(trace: Mapping, arrays: Mapping[str, np.ndarray]) -> "AttentionView":
        """The view the report takes of a trace: its generated rows, its prompt's length."""
        return AttentionView(arrays, len(trace["input"]["ids"]))

    def _layers(self, selection: Selection) -> list[int]:
        if not selection.layers:
            return list(range(self.layers))
        for layer in selection.layers:
            if layer >= self.layers or layer < 0:
                raise MetricError(f"layer {layer} does not exist (the model has {self.layers})")
        return [int(layer) for layer in selection.layers]

    def _check_heads(self, heads: Heads) -> None:
        if heads in ("mean", "max"):
            return
        if not isinstance(heads, (int, np.integer)) or isinstance(heads, bool):
            raise MetricError(f"heads {heads!r} is not mean, max or a head's index")
        if heads >= self.heads or heads < 0:
            raise MetricError(f"head {heads} does not exist (the model has {self.heads})")

    def values(self, metric: Metric) -> np.ndarray:
        """The metric of every (row, layer, head), float32 `[rows, layers, heads]`."""
        r = self.audio_ratio
        if metric == "ratio":
            return r
        one = np.float32(1.0)
        if metric == "sink_corrected":
            rest = one - self.sink_mass
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(rest > _EPSILON, r / rest, np.float32(0.0)).astype(np.float32)
        if metric == "focus":
            audio = np.float32(self.audio_tokens)
            positions = np.arange(self.rows, dtype=np.int64) + self.context_at_row0
            others = positions.astype(np.float32) - audio
            others = others[:, None, None]
            rest = one - r
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                value = (r / audio) / (rest / others)
            keep = (rest > _EPSILON) & (others > np.float32(0.0))
            return np.where(keep, value, np.float32(0.0)).astype(np.float32)
        raise MetricError(f"unknown metric {metric!r} (ratio, sink_corrected or focus)")

    def token_values(self, metric: Metric, selection: Selection = Selection()) -> np.ndarray:
        """The metric of every row: heads combined as selected, then the mean over the selected
        layers (`token_values`), float32 `[rows]`."""
        self._check_heads(selection.heads)
        layers = self._layers(selection)
        values = self.values(metric)[:, layers, :]
        if selection.heads == "mean":
            per_layer = sequential_sum(values, axis=2) / np.float32(self.heads)
        elif selection.heads == "max":
            per_layer = np.fmax.reduce(values, axis=2, initial=np.finfo(np.float32).min)
        else:
            per_layer = values[:, :, int(selection.heads)]
        per_layer = np.asarray(per_layer, dtype=np.float32)
        return (sequential_sum(per_layer, axis=1) / np.float32(len(layers))).astype(np.float32)

    def token_value(self, metric: Metric, t: int, selection: Selection = Selection()) -> np.float32:
        """The metric of row `t`."""
        if t >= self.rows:
            raise MetricError(f"token {t} is outside the {self.rows} captured rows")
        return self.token_values(metric, selection)[t]

    def span_value(
        self,
        metric: Metric,
        tokens: Sequence[int],
        selection: Selection = Selection(),
        token_values: np.ndarray | None = None,
    ) -> np.float32 | None:
        """The float32 mean of the metric over rows `[start, end)` (a step's value); `None` for
        an empty range. `token_values` may pass `token_values(metric, selection)` computed
        once."""
        start, end = int(tokens[0]), int(tokens[1])
        if end <= start:
            return None
        if end > self.rows:  # the first row `token_value` would refuse
            raise MetricError(
                f"token {max(start, self.rows)} is outside the {self.rows} captured rows"
            )
        values = self.token_values(metric, selection) if token_values is None else token_values
        total = _sum_from_zero(values[start:end])
        return np.float32(total / np.float32(end - start))

    def token_maps(self, selection: Selection = Selection()) -> np.ndarray:
        """Where each row looks in the clip: `[rows, audio tokens]`, heads combined as selected
        (per-head maps needed for anything but the mean), mean over the selected layers
        (`token_map`)."""
        self._check_heads(selection.heads)
        layers = self._layers(selection)
        if selection.heads == "mean":
            per_layer = self.audio_map[:, layers, :]
        else:
            if self.head_maps is None:
                raise MetricError(
                    "per-head audio maps were not captured (run with --per-head-maps)"
                )
            maps = self.head_maps[:, layers, :, :]
            if selection.heads == "max":
                per_layer = np.fmax.reduce(maps, axis=2, initial=np.finfo(np.float32).min)
            else:
                per_layer = maps[:, :, int(selection.heads), :]
        total = _sum_from_zero(np.asarray(per_layer, dtype=np.float32), axis=1)
        return (total / np.float32(len(layers))).astype(np.float32)

    def token_map(self, t: int, selection: Selection = Selection()) -> np.ndarray:
        """Row `t`'s map over the audio tokens."""
        if t >= self.rows:
            raise MetricError(f"token {t} is outside the {self.rows} captured rows")
        return self.token_maps(selection)[t]

    def span_map(
        self,
        tokens: Sequence[int],
        selection: Selection = Selection(),
        token_maps: np.ndarray | None = None,
    ) -> np.ndarray:
        """The mean map over rows `[start, end)` (a step's map, `span_map`); zeros for an empty
        range."""
        start, end = int(tokens[0]), int(tokens[1])
        if end > self.rows and end > start:
            raise MetricError(
                f"token {max(start, self.rows)} is outside the {self.rows} captured rows"
            )
        maps = self.token_maps(selection) if token_maps is None else token_maps
        if end <= start:
            self._check_heads(selection.heads)
            return np.zeros(self.audio_tokens, dtype=np.float32)
        total = _sum_from_zero(maps[start:end], axis=0)
        return (total / np.float32(max(end - start, 1))).astype(np.float32)

    def span_head_maps(self, tokens: Sequence[int]) -> np.ndarray:
        """Every head's map over rows `[start, end)`, each the mean over those rows, as
        `[layers, heads, audio tokens]` (`span_head_maps`)."""
        if self.head_maps is None:
            raise MetricError("per-head audio maps were not captured (run with --per-head-maps)")
        start, end = int(tokens[0]), int(tokens[1])
        if end > self.rows:
            raise MetricError(f"token {end - 1} is outside the {self.rows} captured rows")
        if end <= start:
            return np.zeros(self.head_maps.shape[1:], dtype=np.float32)
        total = _sum_from_zero(self.head_maps[start:end], axis=0)
        return (total / np.float32(max(end - start, 1))).astype(np.float32)
