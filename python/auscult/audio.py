"""A clip as `auscult run` hears it: decoded, mixed to mono, resampled to the model's rate.

auscult (`src/audio/decode.rs`, `resample.rs`) mixes channels by their mean and resamples with
libsoxr at its HQ setting to librosa's length (`ceil(n · to / from)`, zero-padded or trimmed), so
a clip at any rate gives the samples `librosa.load(path, sr=…)` gives. This module does the same
with `soundfile` and `soxr` (the `capture` extra). The duration is the source's: source samples
over the source rate, before resampling, as the trace records it.

`soundfile` reads WAV, FLAC, Ogg Vorbis and MP3 (libsndfile ≥ 1.1); AAC/M4A, which auscult reads,
is refused with a message saying so.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Clip", "check_clip", "load_clip", "file_sha256"]


@dataclass
class Clip:
    """A decoded clip: what the model hears and what the trace records about it."""

    path: str
    #: Mono float32 samples at `sample_rate`.
    samples: np.ndarray
    sample_rate: int
    #: Source samples over the source rate (before resampling).
    duration_seconds: float
    sha256: str


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file's bytes, as hex (the trace's `config_sha256` and `audio.sha256`)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """libsoxr HQ to librosa's length, as auscult's `audio::resample`."""
    if source_rate == target_rate:
        return samples.astype(np.float32, copy=False)
    try:
        import soxr
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError("resampling needs soxr: pip install 'auscult[capture]'") from error
    out = soxr.resample(samples.astype(np.float32, copy=False), source_rate, target_rate, "HQ")
    wanted = math.ceil(len(samples) * (target_rate / source_rate))
    if len(out) < wanted:
        out = np.pad(out, (0, wanted - len(out)))
    return np.ascontiguousarray(out[:wanted], dtype=np.float32)


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError("reading audio needs soundfile: pip install 'auscult[capture]'") from error
    return soundfile


def _unreadable(path: Path, error: Exception) -> ValueError:
    return ValueError(
        f"{path}: cannot read this audio file ({error}); soundfile reads WAV, FLAC, Ogg and MP3 "
        "(convert AAC/M4A with ffmpeg, or run it with the auscult binary)"
    )


def check_clip(path: str | Path) -> None:
    """Refuses a file soundfile cannot read or that holds no samples, from its header alone
    (before a model loads)."""
    soundfile = _soundfile()
    path = Path(path)
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise _unreadable(path, error) from None
    if info.frames == 0:
        raise ValueError(f"{path}: the file holds no audio samples")


def load_clip(path: str | Path, sample_rate: int) -> Clip:
    """Decodes `path`, mixes it to mono by the channel mean and resamples it to `sample_rate`.

    Raises `ValueError` naming the file when it cannot be read or holds no samples.
    """
    soundfile = _soundfile()
    path = Path(path)
    try:
        data, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise _unreadable(path, error) from None
    if data.shape[0] == 0:
        raise ValueError(f"{path}: the file holds no audio samples")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return Clip(
        path=str(path),
        samples=resample(mono, int(source_rate), int(sample_rate)),
        sample_rate=int(sample_rate),
        duration_seconds=data.shape[0] / source_rate,
        sha256=file_sha256(path),
    )
