#!/usr/bin/env python3
"""Time the Python reference front end, to compare with `cargo bench --bench audio_front_end`.

What it measures (wall-clock, `time.perf_counter`, one warm-up call then N timed calls,
reporting the median and the best):

  extractor    transformers' WhisperFeatureExtractor(feature_size=128) on 30 s of 16 kHz mono
               float32 samples, called as Qwen2-Audio's processor calls it:
               fe(samples, sampling_rate=16000, return_attention_mask=True,
                  padding="max_length", return_tensors="np")
               -> input_features [1, 128, 3000]. Without torch installed the extractor takes
               its numpy path (numpy STFT + mel matmul); the script says which path it used.
  read_mono    soundfile.read of a 30 s 44.1 kHz stereo 16-bit WAV as float32 + mean to mono.
  resample     soxr.resample(mono, 44100, 16000, quality="HQ") of those 30 s.
  pipeline     read_mono + resample + extractor, end to end (the equivalent of the Rust
               `decode_resample_mel/44k1_stereo_30s` group).

The test audio is generated here, deterministically, into a temporary directory (tones, a log
chirp and seeded noise, quantised to 16 bits), like the Rust bench's.

Run from the repository root:

    python scripts/bench_whisper_extractor.py [--runs 10]

OpenBLAS settings in the environment (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) can change numpy's
speed; the script prints the values it sees. To time without them:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python scripts/bench_whisper_extractor.py
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from transformers import WhisperFeatureExtractor

SECONDS = 30.0
SOURCE_RATE = 44_100
MODEL_RATE = 16_000
# Environment variables that change numpy's BLAS speed, printed with the results.
THREAD_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def test_signal(rate: int, channel: int) -> np.ndarray:
    """One channel at `rate` Hz: two tones, a 100 Hz -> 7 kHz log chirp and uniform noise."""
    n = int(SECONDS * rate)
    t = np.arange(n, dtype=np.float64) / rate
    shift = 0.7 * channel
    lo, hi = 100.0, 7_000.0
    growth = np.log(hi / lo) / SECONDS
    tones = 0.20 * np.sin(2 * np.pi * 440.0 * t + shift) + 0.10 * np.sin(
        2 * np.pi * 2_750.0 * t + 2 * shift
    )
    chirp = 0.25 * np.sin(2 * np.pi * lo * (np.exp(growth * t) - 1.0) / growth)
    noise = np.random.default_rng(0x5EED + channel).uniform(-1.0, 1.0, n)
    return tones + chirp + 0.05 * noise


def quantise_16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, best) seconds of `runs` calls of `fn`, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed calls per measurement")
    args = parser.parse_args()

    fe = WhisperFeatureExtractor(feature_size=128)

    def extract(samples: np.ndarray) -> np.ndarray:
        out = fe(
            samples,
            sampling_rate=MODEL_RATE,
            return_attention_mask=True,
            padding="max_length",
            return_tensors="np",
        )
        return out["input_features"]

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "stereo_44k1_30s.wav"
        stereo = np.stack([quantise_16(test_signal(SOURCE_RATE, ch)) for ch in (0, 1)], axis=1)
        sf.write(wav, stereo, SOURCE_RATE, subtype="PCM_16")
        # The extractor's own input: 30 s of 16 kHz mono, read back as int16 / 32768.
        samples_16k = quantise_16(test_signal(MODEL_RATE, 0)).astype(np.float32) / 32768.0

        def read_mono() -> np.ndarray:
            data, rate = sf.read(wav, dtype="float32", always_2d=True)
            assert rate == SOURCE_RATE
            return data.mean(axis=1)

        mono_44k1 = read_mono()

        def resample(mono: np.ndarray) -> np.ndarray:
            return soxr.resample(mono, SOURCE_RATE, MODEL_RATE, quality="HQ")

        def pipeline() -> np.ndarray:
            return extract(resample(read_mono()))

        features = pipeline()
        assert features.shape == (1, 128, 3000), features.shape
        assert extract(samples_16k).shape == (1, 128, 3000)

        cases = [
            ("extractor (30 s @ 16 kHz -> 128x3000)", lambda: extract(samples_16k)),
            ("read_mono (soundfile, 44.1k stereo s16)", read_mono),
            ("resample (soxr HQ 44.1k -> 16k, 30 s)", lambda: resample(mono_44k1)),
            ("pipeline (read + mono + soxr + extractor)", pipeline),
        ]
        results = [(name, timed(fn, args.runs)) for name, fn in cases]

    try:
        import torch  # noqa: F401

        path = "torch installed: the extractor may use its torch path (device=cpu)"
    except ImportError:
        path = "torch not installed: the extractor uses its numpy path"

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    for package in ("transformers", "numpy", "soxr", "soundfile"):
        print(f"{package:<13}{version(package)}")
    for var in THREAD_VARS:
        print(f"{var}={os.environ.get(var, '<unset>')}")
    print(path)
    print(f"{args.runs} timed runs after 1 warm-up; median / best in ms")
    for name, (median, best) in results:
        print(f"  {name:<44}{median * 1e3:9.1f} / {best * 1e3:9.1f}")


if __name__ == "__main__":
    main()
