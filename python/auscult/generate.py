"""One example run as `auscult run` runs it, inside transformers: a trace and its sidecar arrays.

`run_example(model, processor, model_dir, audio, prompt, …)` renders the prompt with the
processor's own chat template (an optional system turn, then one user turn of the audio and the
text, as the fixture scripts and auscult's `render` build it), processes it with the clip, finds
the audio span from the processor's audio token, generates with `auscult.capture` switched on,
cuts the text into steps by auscult's rules and returns the trace (a dict in
`auscult.trace/1`'s field order) and the `gen.*` arrays. `auscult.trace.write_run` writes both
as `run` does; `python -m auscult run` is the command line.

What matches `auscult run` on the same checkpoint, clip and prompt (greedy): the rendered prompt,
the input ids and span, the generated ids, text, piece offsets and steps, the identities, and
the arrays within float32 rounding (tests/fixtures/python_made, checked by the Rust test
`python_made`). Sampling is recorded but draws other tokens than auscult's sampler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import GenerationConfig
from transformers.generation.streamers import BaseStreamer

from . import __version__
from .audio import Clip, file_sha256, load_clip
from .capture import CaptureError, Captured, capture_generate
from .families import audio_timing, processor_options, read_config
from .steps import piece_offsets, split_steps
from .text import pieces_of
from .trace import attention_record

__all__ = ["Greedy", "Sample", "RunResult", "run_example", "audio_span_of", "stop_ids_of"]

_DTYPES = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}


@dataclass(frozen=True)
class Greedy:
    """Always the most probable token (`{"mode": "greedy"}`)."""


@dataclass(frozen=True)
class Sample:
    """Sampling, recorded as auscult records it; the tokens drawn differ from auscult's."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int = 0


@dataclass
class RunResult:
    """A run's trace (a dict, fields in the trace's order) and its sidecar arrays."""

    trace: dict[str, Any]
    arrays: dict[str, np.ndarray]
    captured: Captured


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(value)] if isinstance(value, int) else [int(v) for v in value]


def stop_ids_of(model_dir: Path, config: dict[str, Any]) -> list[int]:
    """The run's stop ids as auscult reads them: `generation_config.json`'s `eos_token_id`, else
    the model settings' (a thinker's for the Omni layouts), else their text config's."""
    generation = model_dir / "generation_config.json"
    if generation.exists():
        ids = _ids(read_config(generation).get("eos_token_id"))
        if ids:
            return ids
    settings = config.get("thinker_config", config)
    return _ids(settings.get("eos_token_id")) or _ids(
        settings.get("text_config", {}).get("eos_token_id")
    )


def audio_span_of(input_ids: list[int], audio_token_id: int) -> tuple[int, int]:
    """The one contiguous run of the audio token in the prompt; anything else is refused."""
    positions = [i for i, token in enumerate(input_ids) if token == audio_token_id]
    if not positions:
        raise CaptureError(f"the prompt holds no audio token (id {audio_token_id})")
    start, end = positions[0], positions[-1] + 1
    if end - start != len(positions):
        raise CaptureError(
            f"the audio tokens (id {audio_token_id}) are not one contiguous run in the prompt "
            f"({len(positions)} of them between {start} and {end}); auscult traces one span"
        )
    return start, end


def _audio_token_id(processor: Any) -> int:
    tokenizer = getattr(processor, "tokenizer", None)
    token = getattr(processor, "audio_token", None) or getattr(tokenizer, "audio_token", None)
    if token is None or tokenizer is None:
        raise CaptureError("the processor names no audio token (processor.audio_token)")
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or token_id == getattr(tokenizer, "unk_token_id", None):
        raise CaptureError(f"the tokenizer has no id for the audio token {token!r}")
    return int(token_id)


def _messages(prompt: str, system: str | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "audio", "audio_url": "audio"}, {"type": "text", "text": prompt}],
        }
    )
    return messages


def _audio_encoder(model: Any) -> Any | None:
    """The audio tower, whose forward time is the trace's `audio_encoder_seconds`."""
    for name in ("audio_tower", "audio_encoder", "audio_model"):
        for module_name, module in model.named_modules():
            if module_name.split(".")[-1] == name:
                return module
    return None


class _Clock(BaseStreamer):
    """Token times from `generate`'s streamer and the audio encoder's forward time."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.perf_counter()
        self.token_times: list[float] = []
        self.encoder_seconds = 0.0
        self._encoder_started = 0.0
        self._prompt_seen = False

    # transformers' streamer protocol: `put` gets the prompt first, then each new token.
    def put(self, _value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.token_times.append(time.perf_counter())

    def end(self) -> None:
        pass

    def encoder_pre(self, *_args: Any) -> None:
        _synchronize()
        self._encoder_started = time.perf_counter()

    def encoder_post(self, *_args: Any) -> None:
        _synchronize()
        self.encoder_seconds += time.perf_counter() - self._encoder_started

    def timings(self, load_seconds: float) -> dict[str, float]:
        if not self.token_times:
            return {
                "load_seconds": load_seconds,
                "prefill_seconds": 0.0,
                "audio_encoder_seconds": self.encoder_seconds,
                "decode_seconds": 0.0,
                "decode_tokens_per_second": 0.0,
            }
        prefill = self.token_times[0] - self.started
        decode = self.token_times[-1] - self.token_times[0]
        return {
            "load_seconds": load_seconds,
            "prefill_seconds": prefill,
            "audio_encoder_seconds": self.encoder_seconds,
            "decode_seconds": decode,
            "decode_tokens_per_second": (len(self.token_times) - 1) / decode if decode > 0 else 0.0,
        }


def _synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _decoding_record(decoding: Greedy | Sample) -> dict[str, Any]:
    if isinstance(decoding, Greedy):
        return {"mode": "greedy"}
    return {
        "mode": "sample",
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
        "top_k": decoding.top_k,
        "seed": decoding.seed,
    }


def _generation_config(
    decoding: Greedy | Sample, max_new_tokens: int, min_new_tokens: int, stop_ids: list[int]
) -> Any:
    """A config holding only what the trace records (nothing from the checkpoint's own
    `generation_config.json` beyond the stop ids, as auscult reads it: a repetition penalty has
    no place in a trace); every other setting is transformers' default."""
    settings: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "min_new_tokens": min_new_tokens,
        "eos_token_id": stop_ids or None,
        "pad_token_id": stop_ids[0] if stop_ids else None,
    }
    if isinstance(decoding, Greedy):
        settings["do_sample"] = False
    else:
        settings.update(
            do_sample=True,
            temperature=decoding.temperature,
            top_p=decoding.top_p,
            top_k=decoding.top_k,
        )
    return GenerationConfig(**settings)


def _model_identity(model: Any, model_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    decoder_config = model.get_decoder().config
    parameter = next(model.parameters())
    dtype = str(parameter.dtype).removeprefix("torch.")
    if dtype not in _DTYPES:
        raise CaptureError(f"auscult traces record f32, bf16 or f16 weights, not {dtype}")
    identity: dict[str, Any] = {
        "path": str(model_dir),
        "family": config.get("model_type", ""),
        "config_sha256": file_sha256(model_dir / "config.json"),
        "dtype": _DTYPES[dtype],
        "device": parameter.device.type,
        "layers": int(decoder_config.num_hidden_layers),
        "heads": int(decoder_config.num_attention_heads),
        "kv_heads": int(
            getattr(decoder_config, "num_key_value_heads", None)
            or decoder_config.num_attention_heads
        ),
    }
    experts = int(getattr(decoder_config, "num_experts", 0) or 0)
    if experts > 0:
        identity["experts"] = {
            "count": experts,
            "top_k": int(decoder_config.num_experts_per_tok),
        }
    return identity


def run_example(
    model: Any,
    processor: Any,
    model_dir: str | Path,
    audio: str | Path,
    prompt: str,
    *,
    system: str | None = None,
    max_new_tokens: int = 256,
    min_new_tokens: int = 0,
    decoding: Greedy | Sample = Greedy(),
    per_head_maps: bool = False,
    attention: str = "sdpa",
    step_rules: dict[str, Any] | None = None,
    trace_id: str | None = None,
    load_seconds: float = 0.0,
    seconds_per_audio_token: float | None = None,
) -> RunResult:
    """Runs one example and returns its trace and sidecar arrays.

    `model` is the module that generates (for the Omni layouts, the `thinker`); `model_dir` the
    checkpoint folder it was loaded from (the trace records its `config.json` hash, and the text
    is decoded with its `tokenizer.json`, as auscult decodes it). `audio` is any file soundfile
    reads. The trace's id is the clip's file stem unless `trace_id` is given.
    """
    from tokenizers import Tokenizer

    model_dir = Path(model_dir)
    config = read_config(model_dir / "config.json")
    model_type = config.get("model_type", "")
    try:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    except Exception as error:  # tokenizers raises a bare Exception
        raise ValueError(
            f"{model_dir / 'tokenizer.json'}: cannot read the tokenizer ({error}); auscult "
            "decodes generated ids with the checkpoint's tokenizer.json"
        ) from None
    extractor = getattr(processor, "feature_extractor", None)
    if extractor is None:
        raise CaptureError("the processor has no feature_extractor: is it an audio model's?")
    clip: Clip = load_clip(audio, int(extractor.sampling_rate))

    rendered = processor.apply_chat_template(
        _messages(prompt, system), add_generation_prompt=True, tokenize=False
    )
    inputs = processor(
        text=rendered,
        audio=[clip.samples],
        sampling_rate=clip.sample_rate,
        return_tensors="pt",
        **processor_options(model_type),
    )
    inputs.pop("num_audio_tokens", None)
    device = next(model.parameters()).device
    inputs = {name: value.to(device) if hasattr(value, "to") else value for name, value in inputs.items()}
    input_ids = [int(i) for i in inputs["input_ids"][0].tolist()]
    span = audio_span_of(input_ids, _audio_token_id(processor))
    timing = audio_timing(
        model_type, config, processor, clip.duration_seconds, span[1] - span[0], seconds_per_audio_token
    )
    stop_ids = stop_ids_of(model_dir, config)

    if hasattr(getattr(model, "model", None), "rope_deltas"):
        model.model.rope_deltas = None  # M-RoPE state of an earlier run must not carry over
    if isinstance(decoding, Sample):
        torch.manual_seed(decoding.seed)
    clock = _Clock()
    encoder = _audio_encoder(model)
    hooks = []
    if encoder is not None:
        hooks = [
            encoder.register_forward_pre_hook(clock.encoder_pre),
            encoder.register_forward_hook(clock.encoder_post),
        ]
    # The run's settings replace the checkpoint's generation config for the call: transformers
    # fills every setting a passed config leaves unset from `model.generation_config`, so a
    # checkpoint's repetition penalty or beams would reach a run the trace calls greedy.
    checkpoint_settings = model.generation_config
    model.generation_config = _generation_config(decoding, max_new_tokens, min_new_tokens, stop_ids)
    try:
        captured = capture_generate(
            model,
            inputs,
            span,
            max_new_tokens,
            per_head_maps=per_head_maps,
            attention=attention,
            streamer=clock,
        )
    finally:
        model.generation_config = checkpoint_settings
        for hook in hooks:
            hook.remove()
    generated = [int(i) for i in captured.ids.tolist()]
    pieces = pieces_of(tokenizer, generated)
    text = tokenizer.decode(generated, skip_special_tokens=True)
    stopped_on_token = bool(generated) and generated[-1] in stop_ids
    arrays = captured.sidecar_arrays()
    identity = _model_identity(model, model_dir, config)
    trace: dict[str, Any] = {
        "schema": "auscult.trace/1",
        "id": trace_id if trace_id is not None else Path(audio).stem,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "auscult_version": __version__,
        "model": identity,
        "audio": {
            "path": str(audio),
            "sha256": clip.sha256,
            "duration_seconds": clip.duration_seconds,
            "sample_rate": clip.sample_rate,
            "window_seconds": timing.window_seconds,
            "truncated": timing.truncated,
            "seconds_per_audio_token": timing.seconds_per_audio_token,
        },
        "prompt": {
            "text": prompt,
            "question": None,
            "choices": [],
            "system": system,
            "rendered": rendered,
        },
        "input": {"ids": input_ids, "audio_span": [span[0], span[1]]},
        "generation": {
            "ids": generated,
            "text": text,
            "piece_offsets": piece_offsets(pieces),
            "stop_reason": "stop_token" if stopped_on_token else "max_new_tokens",
            "params": {
                "decoding": _decoding_record(decoding),
                "max_new_tokens": max_new_tokens,
                "min_new_tokens": min_new_tokens,
                "stop_ids": stop_ids,
                "capture": {"enabled": True, "per_head_maps": per_head_maps, "prompt": False},
            },
        },
        "steps": split_steps(pieces, step_rules),
        "timings": clock.timings(load_seconds),
        # The sidecar's name is the writer's to give (`trace.write_run`).
        "attention": attention_record("", arrays),
    }
    if not trace["generation"]["piece_offsets"]:
        del trace["generation"]["piece_offsets"]
    return RunResult(trace=trace, arrays=arrays, captured=captured)
