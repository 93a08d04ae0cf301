"""Where audio tokens sit in time, per family: the numbers auscult's Rust side computes."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest

from auscult.families import audio_timing, generating_module, processor_options


def extractor(chunk_length: int = 30, hop_length: int = 160, sampling_rate: int = 16000) -> SimpleNamespace:
    return SimpleNamespace(chunk_length=chunk_length, hop_length=hop_length, sampling_rate=sampling_rate)


def processor(**extra: object) -> SimpleNamespace:
    return SimpleNamespace(feature_extractor=extractor(), **extra)


@pytest.mark.parametrize("family", ["qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker"])
def test_qwen_pooled_families_hear_one_padded_window(family: str) -> None:
    timing = audio_timing(family, {}, processor(), 12.5, 313)
    assert (timing.seconds_per_audio_token, timing.window_seconds, timing.truncated) == (0.04, 30.0, False)
    assert audio_timing(family, {}, processor(), 30.5, 750).truncated


def test_qwen3_omni_counts_13_tokens_a_chunk_of_n_window_times_two_frames() -> None:
    config = {"thinker_config": {"audio_config": {"n_window": 50}}}
    timing = audio_timing("qwen3_omni_moe", config, processor(), 31.5, 410)
    # Rust: (100 / 13) frames × 160 / 16000, in that order of float operations.
    assert timing.seconds_per_audio_token == (100 / 13) * 160 / 16000
    assert timing.seconds_per_audio_token != 1 / 13  # one ulp apart: the order matters
    assert (timing.window_seconds, timing.truncated) == (31.5, False)


def test_audioflamingo3_hears_the_clip_up_to_max_audio_len() -> None:
    short = audio_timing("audioflamingo3", {}, processor(max_audio_len=600), 4.0, 100)
    assert (short.seconds_per_audio_token, short.window_seconds, short.truncated) == (0.04, 4.0, False)
    long = audio_timing("audioflamingo3", {}, processor(max_audio_len=600), 700.0, 15000)
    assert (long.window_seconds, long.truncated) == (600.0, True)


def test_an_unknown_family_spreads_its_tokens_over_the_window_and_says_so() -> None:
    with pytest.warns(UserWarning, match="seconds_per_audio_token"):
        timing = audio_timing("someone_elses_lm", {}, processor(), 10.0, 200)
    assert (timing.seconds_per_audio_token, timing.window_seconds) == (0.05, 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = audio_timing("someone_elses_lm", {}, processor(), 40.0, 200, seconds_per_audio_token=0.02)
    assert (given.seconds_per_audio_token, given.window_seconds, given.truncated) == (0.02, 30.0, True)


def test_processor_options_and_the_generating_module() -> None:
    assert processor_options("qwen3_omni_moe") == {"padding": True}
    assert processor_options("audioflamingo3") == {}
    omni = SimpleNamespace(thinker="the thinker")
    assert generating_module("qwen2_5_omni", omni) == "the thinker"
    assert generating_module("qwen2_audio", omni) is omni
