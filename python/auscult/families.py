"""What a trace needs to know about a model family that the model object does not say.

Two numbers place the audio tokens on the clip's time axis: the seconds one audio token stands
for, and the window the encoder hears. auscult's own families compute them as
`src/model/audio_tokens.rs` and `Checkpoint::window_seconds` do (the same float operations, so
the trace's numbers are equal bit for bit):

| `model_type` | seconds per audio token | window |
| --- | --- | --- |
| `qwen2_audio`, `qwen2_5_omni`, `qwen2_5_omni_thinker` | 4 mel frames × hop / rate = 0.04 | the feature extractor's `chunk_length` (a longer clip is cut) |
| `qwen3_omni_moe` | (chunk / 13) frames × hop / rate = 1/13 | the whole clip |
| `audioflamingo3`, `musicflamingo` | 4 mel frames × hop / rate = 0.04 | the clip, up to the processor's `max_audio_len` |

Any other family: the window is the clip up to the feature extractor's `chunk_length` when it
has one, and a token stands for the window over the audio tokens counted in the prompt (with a
warning: pass `seconds_per_audio_token=` when the family is known).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AudioTiming", "audio_timing", "generating_module", "processor_options", "read_config"]

#: Families whose front end pads (or cuts) every clip to one window, 4 mel frames a token.
_POOLED = {"qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker"}
#: Families that hear the clip whole, 4 mel frames a token, up to `max_audio_len`.
_FLAMINGO = {"audioflamingo3", "musicflamingo"}
#: Qwen3-Omni's AuT: 13 tokens a chunk of `n_window × 2` frames.
_CHUNKED = {"qwen3_omni_moe"}
#: Families whose generating model is the `thinker` of the class `architectures` names.
_THINKER = {"qwen2_5_omni", "qwen3_omni_moe"}


def read_config(path: Path) -> dict[str, Any]:
    """A checkpoint's JSON file (`config.json`, `generation_config.json`) as a dict; a file that
    cannot be read, or holds something other than an object, is named in a `ValueError`."""
    try:
        with open(path, encoding="utf-8") as file:
            value = json.load(file)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read it as JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: holds {type(value).__name__}, not a JSON object")
    return value


@dataclass(frozen=True)
class AudioTiming:
    """Where the audio tokens sit on the clip (the trace's `audio` record)."""

    seconds_per_audio_token: float
    window_seconds: float
    truncated: bool


def _feature_extractor(processor: Any) -> Any:
    return getattr(processor, "feature_extractor", processor)


def _hop_and_rate(processor: Any) -> tuple[int, int]:
    extractor = _feature_extractor(processor)
    return int(extractor.hop_length), int(extractor.sampling_rate)


def _chunk_frames(config: dict[str, Any]) -> int:
    """Mel frames of one AuT chunk: `n_window × 2` (auscult refuses other `n_window`s than 50)."""
    thinker = config.get("thinker_config", config)
    audio = thinker.get("audio_config", {})
    return int(audio.get("n_window", 50)) * 2


def audio_timing(
    model_type: str,
    config: dict[str, Any],
    processor: Any,
    duration_seconds: float,
    audio_tokens: int,
    seconds_per_audio_token: float | None = None,
) -> AudioTiming:
    """The trace's `seconds_per_audio_token`, `window_seconds` and `truncated` for a clip.

    `config` is the checkpoint's `config.json` as a dict, `audio_tokens` the audio tokens the
    processor put in the prompt.
    """
    extractor = _feature_extractor(processor)
    if model_type in _POOLED:
        hop, rate = _hop_and_rate(processor)
        window = float(extractor.chunk_length)
        # auscult: samples > chunk_length × rate (the resampled clip; equal to the duration test
        # up to one sample).
        return AudioTiming(4.0 * hop / rate, window, duration_seconds > window)
    if model_type in _CHUNKED:
        hop, rate = _hop_and_rate(processor)
        chunk_frames = _chunk_frames(config)
        tokens_per_chunk = _aut_chunk_tokens(chunk_frames)
        frames_per_token = chunk_frames / max(tokens_per_chunk, 1)
        return AudioTiming(frames_per_token * hop / rate, duration_seconds, False)
    if model_type in _FLAMINGO:
        hop, rate = _hop_and_rate(processor)
        limit = float(getattr(processor, "max_audio_len", duration_seconds))
        return AudioTiming(
            4.0 * hop / rate, min(duration_seconds, limit), duration_seconds > limit
        )
    chunk = getattr(extractor, "chunk_length", None)
    window = min(duration_seconds, float(chunk)) if chunk else duration_seconds
    if seconds_per_audio_token is None:
        warnings.warn(
            f"auscult does not know how {model_type!r} places audio tokens in time; it assumes "
            f"{audio_tokens} tokens spread evenly over {window:.2f} s (pass "
            "seconds_per_audio_token= to say otherwise)",
            stacklevel=2,
        )
        seconds_per_audio_token = window / max(audio_tokens, 1)
    return AudioTiming(float(seconds_per_audio_token), window, duration_seconds > window)


def _aut_chunk_tokens(frames: int) -> int:
    """Tokens AuT makes from `frames` mel frames: three stride-2 convolutions (`audio_tokens.rs`)."""
    for _ in range(3):
        frames = (frames - 1) // 2 + 1
    return frames


def generating_module(model_type: str, model: Any) -> Any:
    """The module that generates text: the model itself, or the Omni models' `thinker`."""
    if model_type in _THINKER and hasattr(model, "thinker"):
        return model.thinker
    return model


def processor_options(model_type: str) -> dict[str, Any]:
    """What the processor is called with beyond text, audio and rate.

    Qwen's families as their model cards (and auscult's fixtures) call them, `padding=True`: for
    one clip Qwen3-Omni's features are then the clip's own frames, not padded to 300 s. Others
    keep their processor's defaults (AudioFlamingo3's encoder needs every window padded whole).
    """
    if model_type in _POOLED or model_type in _CHUNKED:
        return {"padding": True}
    return {}
