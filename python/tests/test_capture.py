"""Capture inside transformers' generate, checked on the committed fixtures (CPU, 24 tokens).

For each fixture case: greedy ids equal the fixture's; every captured row equals the reduction
of `output_attentions=True` from the same generate arguments (1e-6); row 0 equals the reduction
of the fixture's teacher-forced `attn.{layer}` last prompt row (1e-5); Qwen3-Omni's expert ids of
row 0 equal the fixture's `router_topk.{layer}` last prompt row; batches, beams and a static
cache are refused and leave the model as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from safetensors.numpy import load_file  # noqa: E402

from auscult.capture import CaptureError, capture_generate, reduce_rows  # noqa: E402

pytestmark = pytest.mark.torch

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
TOKENS = 24


def _load(name: str) -> Any:
    folder = FIXTURES / name
    kwargs = dict(attn_implementation="eager", dtype=torch.float32)
    if name == "qwen2_audio/tiny_a":
        model = transformers.Qwen2AudioForConditionalGeneration.from_pretrained(folder, **kwargs)
    elif name == "qwen2_5_omni/thinker":
        model = transformers.Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(folder, **kwargs)
    elif name == "qwen3_omni/instruct":
        model = transformers.Qwen3OmniMoeForConditionalGeneration.from_pretrained(folder, **kwargs).thinker
    else:
        raise ValueError(name)
    return model.eval()


_models: dict[str, Any] = {}


def model_for(name: str) -> Any:
    if name not in _models:
        _models[name] = _load(name)
    return _models[name]


def cases() -> list[tuple[str, str]]:
    found = []
    for name in ("qwen2_audio/tiny_a", "qwen2_5_omni/thinker", "qwen3_omni/instruct"):
        listing = json.loads((FIXTURES / name / "cases.json").read_text())
        found += [(name, case["file"]) for case in listing["cases"]]
    return found


def inputs_of(case: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    ids = torch.from_numpy(case["input_ids"])[None]
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "input_features": torch.from_numpy(case["input_features"])[None],
        "feature_attention_mask": torch.from_numpy(case["feature_attention_mask"])[None],
    }


def greedy() -> dict[str, Any]:
    return dict(do_sample=False, min_new_tokens=TOKENS)


def reference_rows(model: Any, inputs: dict[str, torch.Tensor], span: tuple[int, int]):
    """Reductions of `output_attentions=True` (the model's own eager attention), per token."""
    with torch.no_grad():
        full = model.generate(
            **inputs, max_new_tokens=TOKENS, output_attentions=True, return_dict_in_generate=True, **greedy()
        )
    rows = []
    for step in full.attentions:  # one tuple of per-layer (1, heads, q, kv) per token
        per_layer = [reduce_rows(layer[0, :, -1:, :], span, per_head_maps=True) for layer in step]
        rows.append([tuple(x[0].numpy() for x in reduced) for reduced in per_layer])
    prompt_len = inputs["input_ids"].shape[1]
    return full.sequences[0, prompt_len:].numpy(), rows


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("name,file", cases())
def test_capture_matches_fixture_and_output_attentions(name: str, file: str, attention: str) -> None:
    model = model_for(name)
    case = load_file(FIXTURES / name / file)
    inputs = inputs_of(case)
    span = tuple(int(x) for x in case["audio_span"])
    captured = capture_generate(
        model, inputs, span, TOKENS, per_head_maps=True, attention=attention, **greedy()
    )
    layers = model.get_decoder().config.num_hidden_layers
    heads = model.get_decoder().config.num_attention_heads
    audio = span[1] - span[0]

    # (1) the fixture's greedy ids, and the model left as it was
    np.testing.assert_array_equal(captured.ids, case["generated_ids"])
    assert model.get_decoder().config._attn_implementation == "eager"
    assert not any(hasattr(layer.self_attn, "_auscult") for layer in model.get_decoder().layers)

    assert captured.audio_ratio.shape == (TOKENS, layers, heads)
    assert captured.sink_mass.shape == (TOKENS, layers, heads)
    assert captured.audio_map.shape == (TOKENS, layers, audio)
    assert captured.head_maps is not None and captured.head_maps.shape == (TOKENS, layers, heads, audio)
    assert all(a.dtype == np.float32 for a in (captured.audio_ratio, captured.sink_mass, captured.audio_map))

    # (2) every row equals output_attentions' reduction
    ids, rows = reference_rows(model, inputs, span)
    np.testing.assert_array_equal(ids, case["generated_ids"])
    assert len(rows) == TOKENS
    for t in range(TOKENS):
        for layer in range(layers):
            ratio, sink, amap, hmaps = rows[t][layer]
            np.testing.assert_allclose(captured.audio_ratio[t, layer], ratio, rtol=0, atol=1e-6)
            np.testing.assert_allclose(captured.sink_mass[t, layer], sink, rtol=0, atol=1e-6)
            np.testing.assert_allclose(captured.audio_map[t, layer], amap, rtol=0, atol=1e-6)
            np.testing.assert_allclose(captured.head_maps[t, layer], hmaps, rtol=0, atol=1e-6)

    # ... and row 0 the fixture's teacher-forced last prompt row
    for layer in range(layers):
        probs = torch.from_numpy(case[f"attn.{layer}"][:, -1:, :])
        ratio, sink, amap, hmaps = (x[0].numpy() for x in reduce_rows(probs, span, per_head_maps=True))
        np.testing.assert_allclose(captured.audio_ratio[0, layer], ratio, rtol=0, atol=1e-5)
        np.testing.assert_allclose(captured.sink_mass[0, layer], sink, rtol=0, atol=1e-5)
        np.testing.assert_allclose(captured.audio_map[0, layer], amap, rtol=0, atol=1e-5)
        np.testing.assert_allclose(captured.head_maps[0, layer], hmaps, rtol=0, atol=1e-5)

    # (3) a mixture-of-experts decoder's routing
    if name == "qwen3_omni/instruct":
        top_k = model.get_decoder().config.num_experts_per_tok
        assert captured.experts is not None and captured.experts.dtype == np.uint16
        assert captured.experts.shape == (TOKENS, layers, top_k)
        for layer in range(layers):
            np.testing.assert_array_equal(captured.experts[0, layer], case[f"router_topk.{layer}"][-1])
        assert (captured.experts < 65535).all()
    else:
        assert captured.experts is None

    arrays = captured.sidecar_arrays()
    assert set(arrays) >= {"gen.audio_ratio", "gen.sink_mass", "gen.audio_map", "gen.head_maps"}


def test_maps_are_optional() -> None:
    model = model_for("qwen2_audio/tiny_a")
    case = load_file(FIXTURES / "qwen2_audio/tiny_a/case_0.safetensors")
    span = tuple(int(x) for x in case["audio_span"])
    captured = capture_generate(model, inputs_of(case), span, 4, **dict(do_sample=False))
    assert captured.head_maps is None
    assert captured.audio_ratio.shape[0] == len(captured.ids) == 4
    assert "gen.head_maps" not in captured.sidecar_arrays()


def _assert_untouched(model: Any) -> None:
    assert model.get_decoder().config._attn_implementation == "eager"
    assert not any(hasattr(layer.self_attn, "_auscult") for layer in model.get_decoder().layers)


@pytest.mark.parametrize(
    "change,message",
    [
        ("batch", "batch of 2"),
        ("beams", "beam search"),
        ("static", "dynamic cache"),
        ("no_cache", "use_cache"),
    ],
)
def test_refusals(change: str, message: str) -> None:
    model = model_for("qwen2_audio/tiny_a")
    case = load_file(FIXTURES / "qwen2_audio/tiny_a/case_0.safetensors")
    inputs = inputs_of(case)
    span = tuple(int(x) for x in case["audio_span"])
    kwargs: dict[str, Any] = dict(do_sample=False)
    if change == "batch":
        inputs = {k: torch.cat([v, v]) for k, v in inputs.items()}
    elif change == "beams":
        kwargs["num_beams"] = 2
    elif change == "static":
        kwargs["cache_implementation"] = "static"
    else:
        kwargs["use_cache"] = False
    with pytest.raises(CaptureError, match=message):
        capture_generate(model, inputs, span, 4, **kwargs)
    _assert_untouched(model)


def test_position_check_refuses_a_batch_inside_generate() -> None:
    """The per-call check itself (not the up-front one): a batch reaching the function is refused."""
    from auscult.capture import capture

    model = model_for("qwen2_audio/tiny_a")
    case = load_file(FIXTURES / "qwen2_audio/tiny_a/case_0.safetensors")
    inputs = {k: torch.cat([v, v]) for k, v in inputs_of(case).items()}
    span = tuple(int(x) for x in case["audio_span"])
    with pytest.raises(CaptureError, match="batch of 2"):
        with capture(model, span, 4, attention="eager"), torch.no_grad():
            model.generate(**inputs, max_new_tokens=4, do_sample=False)
    _assert_untouched(model)


def test_position_check_refuses_a_rerun_prompt() -> None:
    """use_cache=False slipped past the up-front check: the second call starts at 0, not at P."""
    from auscult.capture import capture

    model = model_for("qwen2_audio/tiny_a")
    case = load_file(FIXTURES / "qwen2_audio/tiny_a/case_0.safetensors")
    span = tuple(int(x) for x in case["audio_span"])
    with pytest.raises(CaptureError, match="expected"):
        with capture(model, span, 4, attention="sdpa"), torch.no_grad():
            model.generate(**inputs_of(case), max_new_tokens=4, do_sample=False, use_cache=False)
    _assert_untouched(model)


def test_position_check_refuses_a_static_cache() -> None:
    """A static cache slipped past the up-front check: kv is the cache size, not the position."""
    from auscult.capture import capture

    model = model_for("qwen2_audio/tiny_a")
    case = load_file(FIXTURES / "qwen2_audio/tiny_a/case_0.safetensors")
    span = tuple(int(x) for x in case["audio_span"])
    with pytest.raises(CaptureError, match="expected"):
        with capture(model, span, 4, attention="eager"), torch.no_grad():
            model.generate(**inputs_of(case), max_new_tokens=4, do_sample=False, cache_implementation="static")
    _assert_untouched(model)
