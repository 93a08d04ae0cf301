"""Attention capture inside transformers' own `generate` (transformers >= 5.25).

What it records is what auscult's Rust capture records (`src/model/capture.rs`): for each
generated token `t` and each decoder layer `l`, from the attention probabilities `a[h, j]` of
the query row whose logits chose token `t` (the prefill's last row for token 0, each decode
step's row after that):

- `audio_ratio[t, l, h] = Σ_{j ∈ audio span} a[h, j]`
- `sink_mass[t, l, h] = a[h, 0]`
- `audio_map[t, l, j] = mean_h a[h, span.start + j]`
- `head_maps[t, l, h, j] = a[h, span.start + j]` (only with `per_head_maps`)
- `experts[t, l, k]`: the router's top-k expert ids, most probable first, in a
  mixture-of-experts decoder (`NO_EXPERT` in a dense layer)

How (docs/python-package.md §2): an attention function registered with
`AttentionInterface.register` and a mask function with `AttentionMaskInterface.register`, switched
on for the decoder's sub-config only. Decoder attentions are known by identity: for the run each
`model.get_decoder().layers[i].self_attn` carries `_auscult = (state, i)`; any other module that
reaches the function is handed to its own module file's eager function. The function returns the
attention output and `None` for the weights, so no `heads × seq × seq` matrix outlives the layer;
the reductions go into buffers preallocated for `max_new_tokens` rows and are copied to the host
once.

Two bases for the output (`attention=`):

- `"eager"`: the module file's own `eager_attention_forward`; the reductions come from the very
  probabilities the output used (exactly what `output_attentions=True` returns).
- `"sdpa"`: transformers' `sdpa_attention_forward` gives the output; the one row needed is
  computed beside it, `softmax(q[-1] · kᵀ · scaling)` in float32 (the newest row sees every key).

Each call's query rows are positions `kv − q … kv − 1`. Every layer keeps the next position it
expects and refuses any call that does not start there, so each generated token's row is
recorded exactly once per layer; that refuses a static cache, `use_cache=False`, a sliding
window and a batch or beams (also refused up front, with a clearer message).
"""

from __future__ import annotations

import contextlib
import copy
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import numpy as np

try:
    import torch
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import eager_mask, sdpa_mask
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "auscult.capture needs torch and transformers>=5.25: pip install 'auscult[capture]'"
    ) from error

__all__ = [
    "ATTENTION_EAGER",
    "ATTENTION_SDPA",
    "NO_EXPERT",
    "CaptureError",
    "Captured",
    "capture",
    "capture_generate",
    "reduce_rows",
    "register",
]

#: The registered attention (and mask) name whose output is transformers' eager attention.
ATTENTION_EAGER = "auscult"
#: The registered name whose output is transformers' SDPA attention (the mask is SDPA's).
ATTENTION_SDPA = "auscult_sdpa"
_NAMES = {"eager": ATTENTION_EAGER, "sdpa": ATTENTION_SDPA}

#: `experts`' entry for a layer whose MLP is dense (auscult's `NO_EXPERT`, `u16::MAX`).
NO_EXPERT = 65535


class CaptureError(RuntimeError):
    """A run capture cannot record faithfully (batch, beams, static cache, sliding window, …)."""


@dataclass
class Captured:
    """One capture run's result, arrays shaped like the sidecar's `gen.*` arrays.

    `ids` are the generated ids (the stop token included when generation stopped on one); every
    array has one row per generated id.
    """

    ids: np.ndarray  # (tokens,) int64
    audio_ratio: np.ndarray  # (tokens, layers, heads) float32
    sink_mass: np.ndarray  # (tokens, layers, heads) float32
    audio_map: np.ndarray  # (tokens, layers, audio tokens) float32
    head_maps: np.ndarray | None = None  # (tokens, layers, heads, audio tokens) float32
    experts: np.ndarray | None = None  # (tokens, layers, top_k) uint16
    audio_span: tuple[int, int] = (0, 0)

    def sidecar_arrays(self) -> dict[str, np.ndarray]:
        """The arrays under their sidecar names (`gen.audio_ratio`, …), the optional ones if present."""
        arrays = {
            "gen.audio_ratio": self.audio_ratio,
            "gen.sink_mass": self.sink_mass,
            "gen.audio_map": self.audio_map,
        }
        if self.head_maps is not None:
            arrays["gen.head_maps"] = self.head_maps
        if self.experts is not None:
            arrays["gen.experts"] = self.experts
        return arrays


def reduce_rows(
    probs: torch.Tensor, audio_span: tuple[int, int], per_head_maps: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Reduces attention rows as auscult does.

    `probs` is `(heads, rows, kv)` (already softmaxed). Returns float32 `audio_ratio (rows,
    heads)`, `sink_mass (rows, heads)`, `audio_map (rows, audio tokens)` and, with
    `per_head_maps`, `head_maps (rows, heads, audio tokens)`.
    """
    start, end = audio_span
    if not 0 <= start < end <= probs.shape[-1]:
        raise CaptureError(
            f"audio span {start}..{end} is not inside the {probs.shape[-1]} attended positions"
        )
    probs = probs.float()
    audio = probs[..., start:end]  # (heads, rows, A)
    audio_ratio = audio.sum(-1).transpose(0, 1)
    sink_mass = probs[..., 0].transpose(0, 1)
    audio_map = audio.mean(0)
    head_maps = audio.transpose(0, 1) if per_head_maps else None
    return audio_ratio, sink_mass, audio_map, head_maps


class _State:
    """Buffers and per-layer bookkeeping of one capture run."""

    def __init__(
        self,
        *,
        layers: int,
        heads: int,
        audio_span: tuple[int, int],
        max_new_tokens: int,
        per_head_maps: bool,
        attention: str,
        top_k: int,
        device: torch.device,
    ) -> None:
        audio = audio_span[1] - audio_span[0]
        self.audio_span = audio_span
        self.per_head_maps = per_head_maps
        self.attention = attention
        self.max_rows = max_new_tokens
        self.heads = heads
        f32 = dict(dtype=torch.float32, device=device)
        self.audio_ratio = torch.zeros(max_new_tokens, layers, heads, **f32)
        self.sink_mass = torch.zeros(max_new_tokens, layers, heads, **f32)
        self.audio_map = torch.zeros(max_new_tokens, layers, audio, **f32)
        self.head_maps = (
            torch.zeros(max_new_tokens, layers, heads, audio, **f32) if per_head_maps else None
        )
        self.experts = (
            torch.full((max_new_tokens, layers, top_k), NO_EXPERT, dtype=torch.int32, device=device)
            if top_k
            else None
        )
        self.rows = [0] * layers  # rows recorded per layer
        self.next_pos = [0] * layers  # the first query position the next call must have
        self.expert_rows = [0] * layers
        self.sparse_layers = [False] * layers  # layers whose router is hooked

    def record(self, layer: int, probs: torch.Tensor) -> None:
        """Stores the reductions of `probs (heads, 1, kv)`, the newest row, as the layer's next row."""
        t = self.rows[layer]
        if t >= self.max_rows:
            raise CaptureError(
                f"layer {layer} was called for a row past max_new_tokens ({self.max_rows})"
            )
        ratio, sink, amap, hmaps = reduce_rows(probs, self.audio_span, self.per_head_maps)
        self.audio_ratio[t, layer] = ratio[0]
        self.sink_mass[t, layer] = sink[0]
        self.audio_map[t, layer] = amap[0]
        if self.head_maps is not None and hmaps is not None:
            self.head_maps[t, layer] = hmaps[0]
        self.rows[layer] = t + 1

    def check_positions(self, module: Any, layer: int, query: torch.Tensor, key: torch.Tensor) -> None:
        """Refuses a call whose query rows are not the next positions of this layer."""
        if query.shape[0] != 1:
            raise CaptureError(
                f"capture records one sequence; layer {layer} got a batch of {query.shape[0]} "
                "(batches and beam search are refused)"
            )
        if getattr(module, "sliding_window", None) is not None:
            raise CaptureError(
                f"layer {layer} uses a sliding window: its keys do not start at position 0, so "
                "the audio span's indices would be wrong"
            )
        q, kv = query.shape[2], key.shape[2]
        first = kv - q
        if first != self.next_pos[layer]:
            raise CaptureError(
                f"layer {layer}: the call's query rows start at position {first} (q={q}, kv={kv}), "
                f"expected {self.next_pos[layer]}; a static cache, use_cache=False or a cache "
                "shared with another run would record rows twice or at the wrong place"
            )
        self.next_pos[layer] = kv

    def record_experts(self, layer: int, indices: torch.Tensor) -> None:
        """Stores the newest token's top-k expert ids `indices (tokens, top_k)`."""
        t = self.expert_rows[layer]
        if self.experts is None or t >= self.max_rows:
            return
        self.experts[t, layer] = indices[-1].to(torch.int32)
        self.expert_rows[layer] = t + 1

    def result(self, ids: np.ndarray) -> Captured:
        """The first `len(ids)` rows, copied to the host, after checking every layer recorded them."""
        n = len(ids)
        if any(rows != n for rows in self.rows):
            raise CaptureError(f"rows recorded per layer {self.rows} != {n} generated tokens")
        sparse = [i for i, on in enumerate(self.sparse_layers) if on]
        if any(self.expert_rows[i] != n for i in sparse):
            raise CaptureError(
                f"router rows recorded per layer {self.expert_rows} != {n} generated tokens"
            )
        host = lambda t: t[:n].cpu().numpy()  # noqa: E731
        return Captured(
            ids=ids.astype(np.int64),
            audio_ratio=host(self.audio_ratio),
            sink_mass=host(self.sink_mass),
            audio_map=host(self.audio_map),
            head_maps=None if self.head_maps is None else host(self.head_maps),
            experts=None if self.experts is None else host(self.experts).astype(np.uint16),
            audio_span=self.audio_span,
        )


def _own_eager(module: Any) -> Callable[..., tuple[torch.Tensor, torch.Tensor | None]]:
    """The eager attention function of the module's own modeling file."""
    return sys.modules[type(module).__module__].eager_attention_forward


def _attention(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """The registered attention function (both names): output as the base computes it, rows reduced."""
    marker = getattr(module, "_auscult", None)
    if marker is None:  # not a decoder attention of a capture run (an encoder's, a talker's)
        return _own_eager(module)(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    state, layer = marker
    state.check_positions(module, layer, query, key)
    if state.attention == "eager":
        if attention_mask is None and query.shape[2] > 1:
            raise CaptureError(
                "the decoder got no attention mask for a prompt pass: the mask function was not "
                "used (transformers' masking changed?); refusing to attend without a causal mask"
            )
        out, probs = _own_eager(module)(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
        if probs is None:
            raise CaptureError(f"{type(module).__module__}'s eager attention returned no probabilities")
        state.record(layer, probs[0, :, -1:, :])
        return out, None
    out, _ = sdpa_attention_forward(
        module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
    )
    state.record(layer, _last_row_probs(module, query, key, attention_mask, scaling))
    return out, None


def _last_row_probs(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None,
) -> torch.Tensor:
    """`softmax(q[-1] · kᵀ · scaling)` in float32 for the one sequence, `(heads, 1, kv)`."""
    heads = query.shape[1]
    k = key[0].float()
    if k.shape[0] != heads:
        k = k.repeat_interleave(heads // k.shape[0], dim=0)
    q = query[0, :, -1:, :].float()
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(q, k.transpose(1, 2)) * scale  # (heads, 1, kv)
    if attention_mask is not None:
        mask = attention_mask[0, :, -1:, : k.shape[1]]
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask.float()
    return torch.softmax(scores, dim=-1)


_registered = False


def register() -> None:
    """Registers the attention and mask functions under `auscult` and `auscult_sdpa` (idempotent).

    The names are process-wide (every model sees them); only modules marked for a capture run
    record anything.
    """
    global _registered
    if _registered:
        return
    AttentionInterface.register(ATTENTION_EAGER, _attention)
    AttentionInterface.register(ATTENTION_SDPA, _attention)
    # Without a mask function of the same name transformers silently builds no causal mask.
    AttentionMaskInterface.register(ATTENTION_EAGER, eager_mask)
    AttentionMaskInterface.register(ATTENTION_SDPA, sdpa_mask)
    _registered = True


def _config_path(model: Any, target: Any) -> str | None:
    """The sub-config key path (`"text_config"`, `"thinker_config.text_config"`, `""`) of `target`."""

    def walk(config: Any, path: str, seen: set[int]) -> str | None:
        if config is target:
            return path
        if id(config) in seen:
            return None
        seen.add(id(config))
        for name in getattr(config, "sub_configs", {}) or {}:
            sub = getattr(config, name, None)
            if sub is not None:
                found = walk(sub, f"{path}.{name}" if path else name, seen)
                if found is not None:
                    return found
        return None

    return walk(model.config, "", set())


def _nested(path: str, value: str) -> dict[str, Any]:
    """`"a.b"`, v → `{"a": {"b": v}}` as `set_attn_implementation` takes it."""
    parts = path.split(".")
    result: Any = value
    for part in reversed(parts):
        result = {part: result}
    return result


def _routers(decoder: Any) -> list[Any | None]:
    """Each decoder layer's top-k router (`layer.mlp.gate` with `top_k`), `None` in a dense layer."""
    routers = []
    for layer in decoder.layers:
        gate = getattr(getattr(layer, "mlp", None), "gate", None)
        routers.append(gate if isinstance(gate, torch.nn.Module) and hasattr(gate, "top_k") else None)
    return routers


@contextlib.contextmanager
def capture(
    model: Any,
    audio_span: tuple[int, int],
    max_new_tokens: int,
    *,
    per_head_maps: bool = False,
    attention: str = "sdpa",
) -> Iterator[_State]:
    """Switches `model`'s decoder to the capture function for the `with` block.

    Yields the run's state; after `generate`, `state.result(generated_ids)` gives the
    `Captured` arrays. The decoder's previous attention implementation, the markers and the
    router hooks are removed on exit, also on an error.
    """
    if attention not in _NAMES:
        raise ValueError(f"attention must be 'eager' or 'sdpa', not {attention!r}")
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be at least 1")
    register()
    decoder = model.get_decoder()
    config = decoder.config
    path = _config_path(model, config)
    if path is None:
        raise CaptureError("the decoder's config is not one of the model's (sub-)configs")
    layers = list(decoder.layers)
    attentions = [layer.self_attn for layer in layers]
    heads = attentions[0].config.num_attention_heads
    for i, attn in enumerate(attentions):
        if getattr(attn, "sliding_window", None) is not None:
            raise CaptureError(
                f"decoder layer {i} uses a sliding window; capture refuses sliding-window layers"
            )
        if getattr(attn, "_auscult", None) is not None:
            raise CaptureError("this model is already inside a capture run")
    routers = _routers(decoder)
    top_k = max((r.top_k for r in routers if r is not None), default=0)
    device = next(model.parameters()).device
    state = _State(
        layers=len(layers),
        heads=heads,
        audio_span=(int(audio_span[0]), int(audio_span[1])),
        max_new_tokens=max_new_tokens,
        per_head_maps=per_head_maps,
        attention=attention,
        top_k=top_k,
        device=device,
    )
    old = config._attn_implementation
    hooks = []
    try:
        for i, attn in enumerate(attentions):
            attn._auscult = (state, i)
        for i, router in enumerate(routers):
            if router is not None:
                state.sparse_layers[i] = True
                hooks.append(
                    router.register_forward_hook(
                        lambda _m, _inp, out, i=i: state.record_experts(i, out[2])
                    )
                )
        model.set_attn_implementation(_nested(path, _NAMES[attention]) if path else _NAMES[attention])
        yield state
    finally:
        for hook in hooks:
            hook.remove()
        for attn in attentions:
            if hasattr(attn, "_auscult"):
                del attn._auscult
        model.set_attn_implementation(_nested(path, old) if path else old)


def capture_generate(
    model: Any,
    inputs: Mapping[str, Any],
    audio_span: tuple[int, int],
    max_new_tokens: int,
    per_head_maps: bool = False,
    attention: str = "sdpa",
    **generate_kwargs: Any,
) -> Captured:
    """Runs `model.generate(**inputs, max_new_tokens=…, **generate_kwargs)` with capture on.

    `inputs` is what the processor returned for one sequence (`input_ids (1, P)`, the audio
    features, masks); `audio_span` the half-open range of the audio tokens in `input_ids`.
    Returns the generated ids and one row of reductions per generated token. Refuses a batch,
    beam search, a static cache and `use_cache=False`.
    """
    input_ids = inputs["input_ids"]
    if input_ids.shape[0] != 1:
        raise CaptureError(f"capture records one sequence; got a batch of {input_ids.shape[0]}")
    for name in ("num_beams", "num_beam_groups"):
        if (generate_kwargs.get(name) or 1) > 1:
            raise CaptureError(f"capture refuses beam search ({name}={generate_kwargs[name]})")
    generation_config = generate_kwargs.get("generation_config") or getattr(model, "generation_config", None)
    if generation_config is not None and (getattr(generation_config, "num_beams", 1) or 1) > 1 and "num_beams" not in generate_kwargs:
        raise CaptureError(f"capture refuses beam search (generation_config.num_beams={generation_config.num_beams})")
    if generate_kwargs.get("cache_implementation") not in (None, "dynamic"):
        raise CaptureError(
            f"capture needs a dynamic cache, not cache_implementation={generate_kwargs['cache_implementation']!r}"
        )
    if generate_kwargs.get("use_cache") is False:
        raise CaptureError("capture needs use_cache=True (each step would re-run the prompt)")
    if generate_kwargs.get("num_return_sequences", 1) != 1:
        raise CaptureError("capture records one sequence; num_return_sequences must be 1")
    prompt_len = input_ids.shape[1]
    with capture(model, audio_span, max_new_tokens, per_head_maps=per_head_maps, attention=attention) as state:
        with torch.no_grad():
            config = generate_kwargs.pop("generation_config", None)
            if config is not None:
                # One source of settings: transformers deprecates a config plus loose arguments.
                config = copy.deepcopy(config)
                config.max_new_tokens = max_new_tokens
                out = model.generate(**inputs, generation_config=config, **generate_kwargs)
            else:
                out = model.generate(**inputs, max_new_tokens=max_new_tokens, **generate_kwargs)
        sequences = out.sequences if hasattr(out, "sequences") else out
        ids = sequences[0, prompt_len:].cpu().numpy()
        return state.result(ids)
