"""ffmpeg, ffprobe and signal helpers shared by the scripts that make auscult's audio fixtures.

make_audio_fixtures.py (tests/fixtures/audio/) and make_resampled_parity_fixtures.py
(tests/fixtures/resampled/) each carried a copy of these; they import them from here now. Each
function gives exactly what the copies gave: the committed fixtures must not change when this
file does (rerun the scripts and check `git status tests/fixtures`).

The scripts run as `python scripts/NAME.py` from the repository root, which puts scripts/ on
sys.path, so `from audio_support import ...` finds this file. Needs numpy, soxr (python-soxr)
and the ffmpeg/ffprobe CLI; not torch (make_audio_fixtures.py must run without it). The model
and safetensors helpers are in fixture_support.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import soxr

TARGET_SR = 16000


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def ffmpeg_version() -> str:
    line = run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    # "ffmpeg version 5.1.9-0+deb12u1 Copyright ..."
    return line.split()[2]


def ffprobe_stream(path: Path) -> tuple[int, int]:
    """(sample rate, channels) of the file's first audio stream."""
    out = run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=sample_rate,channels", "-of", "json", str(path)],
        capture_output=True, text=True,
    ).stdout
    s = json.loads(out)["streams"][0]
    return int(s["sample_rate"]), int(s["channels"])


def ffmpeg_decode(path: Path) -> tuple[np.ndarray, int, int]:
    """ffmpeg's decode to float32 at the file's own rate and channels: ([frames, channels], rate,
    channels)."""
    sr, ch = ffprobe_stream(path)
    raw = run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, ch), sr, ch


def ffmpeg_encode_bitexact(src: Path, dst: Path, rate: int, channels: int, codec: list[str]) -> None:
    """Encodes `src` to `dst` at `rate` and `channels` with the ffmpeg arguments `codec`, with
    -fflags +bitexact / -flags:a +bitexact and -map_metadata -1, so that re-runs give the same
    bytes (no encoder tags, a fixed Ogg stream serial)."""
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-fflags", "+bitexact", "-i", str(src),
         "-map_metadata", "-1", "-flags:a", "+bitexact", "-ar", str(rate), "-ac", str(channels)]
        + codec + ["-fflags", "+bitexact", str(dst)])


def to_mono_16k(x: np.ndarray, sr: int) -> np.ndarray:
    """[frames, channels] at `sr` -> channel mean (float64) -> soxr HQ to 16 kHz -> float32."""
    mono = np.asarray(x, dtype=np.float64).mean(axis=1)
    y = soxr.resample(mono, sr, TARGET_SR, quality="HQ")
    return np.ascontiguousarray(y, dtype=np.float32)


def log_chirp_phase(t: np.ndarray, f0: float, f1: float, t1: float) -> np.ndarray:
    """Phase of a logarithmic sweep from f0 (at t = 0) to f1 (at t = t1)."""
    k = f1 / f0
    return 2 * np.pi * f0 * t1 / np.log(k) * (np.power(k, t / t1) - 1.0)
