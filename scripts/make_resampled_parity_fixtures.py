#!/usr/bin/env python3
"""Reference fixtures for model parity on clips that are NOT at 16 kHz, for `auscult`.

Run from the repository root (no network needed; nothing comes from a model hub):

    python scripts/make_resampled_parity_fixtures.py

It reads the existing tiny checkpoints tests/fixtures/qwen2_audio/tiny_a and
tests/fixtures/qwen2_5_omni/thinker (made by make_qwen2_audio_fixtures.py and
make_qwen2_5_omni_fixtures.py; it never writes there) and writes, overwriting, everything
under tests/fixtures/resampled/ (see the README.md there, also written by this script):

tests/fixtures/resampled/
    clips/                      five short synthetic clips, one per format, at 8, 22.05, 32,
                                44.1 and 48 kHz (ffmpeg -bitexact encodes of seeded signals)
    qwen2_audio_tiny_a/         cases.json + case_{k}.safetensors, one case per clip
    qwen2_5_omni_thinker/       the same for the Qwen2.5-Omni thinker checkpoint
    README.md

Each clip is loaded the way users' notebooks do: `librosa.load(path, sr=16000)` (soundfile
decode, channel mean, soxr "HQ") where soundfile can read the file, otherwise (AAC in MP4)
ffmpeg decodes it to float32, the channel mean is taken in float64 and
`soxr.resample(x, sr, 16000, quality="HQ")` resamples it, as tests/fixtures/audio/decode/
does. The processor and a teacher-forced forward (eager attention, float32,
output_attentions=True) make the reference; only the rows that depend on the clip are kept
(see README.md).

Needs torch, transformers 5.x, tokenizers, librosa, soxr, soundfile, safetensors, numpy,
pillow + torchvision (the Qwen2.5-Omni processor always builds its image and video
processors) and the ffmpeg/ffprobe CLI with libmp3lame, libvorbis, the native aac and flac
encoders. Deterministic: fixed seeds, ffmpeg `-fflags +bitexact -flags:a +bitexact
-map_metadata -1`, torch on one thread, safetensors headers sorted; re-running with the same
versions gives byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    Qwen2_5OmniProcessor,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2AudioForConditionalGeneration,
    Qwen2AudioProcessor,
)

# scripts/ is on sys.path when this runs as `python scripts/make_resampled_parity_fixtures.py`.
from audio_support import (  # noqa: E402
    TARGET_SR,
    ffmpeg_decode,
    ffmpeg_encode_bitexact,
    ffmpeg_version,
    log_chirp_phase,
    to_mono_16k,
)
from fixture_support import (  # noqa: E402
    audio_conversation,
    audio_span,
    fresh_dir,
    human,
    print_folder_summary,
    process_prompt,
    save_reference,
    tensor_table,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "resampled"
CLIPS = OUT / "clips"
PEAK = 0.6
# Logits are kept for every 4th audio row (and every row after the clip): all audio rows would
# triple the fixtures' size.
LOGITS_AUDIO_STRIDE = 4

# One clip per format; the five source rates appear once each. The AAC clip is a whole number
# of 1024-frame AAC frames long (160 frames): ffmpeg 5.1 keeps the encoder's padding up to the
# end of the last frame (it does not apply the end of the MP4 edit list), so any other length
# would make the ffmpeg reference up to 1023 frames longer than the edit list says, and the
# difference would be in the clip's length (valid mel frames, audio token count), not in the
# resampling this fixture checks. 159 frames is also a multiple of 3 source frames, so soxr's
# length (round) and librosa's (ceil) agree at 16 kHz. See the README's notes.
CLIP_SPECS = [
    dict(
        name="mp3_44k.mp3", format="MP3", container="MPEG-1 Layer III, Xing/LAME header",
        rate=44100, channels=2, frames=149_940, seed=4401,
        codec=["-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "1", "-f", "mp3"],
        encoder="libmp3lame 128 kb/s",
        prompt="What sound is this?",
    ),
    dict(
        name="vorbis_22k.ogg", format="Ogg Vorbis", container="Ogg",
        rate=22050, channels=2, frames=66_150, seed=2205,
        codec=["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"],
        encoder="libvorbis q4",
        prompt="Describe the audio.",
    ),
    dict(
        name="flac_32k.flac", format="FLAC", container="native FLAC",
        rate=32000, channels=2, frames=102_400, seed=3200,
        codec=["-c:a", "flac", "-sample_fmt", "s16", "-f", "flac"],
        encoder="ffmpeg flac, 16-bit",
        prompt="Is the pitch rising or falling?",
    ),
    dict(
        name="aac_48k.m4a", format="AAC (LC)", container="MP4 (m4a), edit list",
        rate=48000, channels=2, frames=159 * 1024, seed=4800,
        codec=["-c:a", "aac", "-b:a", "128k", "-f", "mp4"],
        encoder="ffmpeg native aac 128 kb/s",
        prompt="How many times does the bell ring?",
    ),
    dict(
        name="wav_s24_8k.wav", format="WAV PCM 24-bit", container="RIFF WAVE",
        rate=8000, channels=1, frames=29_600, seed=800,
        codec=["-c:a", "pcm_s24le", "-f", "wav"],
        encoder="ffmpeg pcm_s24le",
        prompt="Transcribe the speech in English.",
    ),
]

CHECKPOINTS = [
    dict(
        out="qwen2_audio_tiny_a",
        checkpoint="tests/fixtures/qwen2_audio/tiny_a",
        kind="qwen2_audio",
    ),
    dict(
        out="qwen2_5_omni_thinker",
        checkpoint="tests/fixtures/qwen2_5_omni/thinker",
        kind="qwen2_5_omni_thinker",
    ),
]


# --------------------------------------------------------------------------- utils


def ffmpeg_soxr_16k(path: Path) -> tuple[np.ndarray, int, int, int]:
    """ffmpeg float32 decode, channel mean in float64, soxr HQ to 16 kHz, float32
    (tests/fixtures/audio/decode/'s reference). Returns samples, rate, channels, native frames."""
    x, sr, ch = ffmpeg_decode(path)
    return to_mono_16k(x, sr), sr, ch, x.shape[0]


def soundfile_reads(path: Path) -> bool:
    try:
        sf.info(str(path))
        return True
    except Exception:  # soundfile.LibsndfileError: "Format not recognised"
        return False


# --------------------------------------------------------------------------- clips


def synth(rate: int, channels: int, n: int, seed: int) -> np.ndarray:
    """A seeded, speech-like test signal at `rate`, band-limited below 0.42 × rate (and 7 kHz):
    a gliding harmonic 'voice' shaped by two formants under a syllable envelope, a noise burst,
    a log chirp, decaying clicks and an exactly silent gap. [n, channels] float64."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) / rate
    dur = n / rate
    cap = min(0.42 * rate, 7000.0)
    # voice: f0 glides 110 -> 200 Hz with a 5 Hz vibrato
    f0 = 110.0 + 90.0 * t / dur + 6.0 * np.sin(2 * np.pi * 5.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    f1, f2 = rng.uniform(500, 800), rng.uniform(1100, 1900)
    voice = np.zeros(n)
    for k in range(1, 80):
        if k * 206.0 >= cap:
            break
        fk = k * 155.0
        amp = np.exp(-(((fk - f1) / 300.0) ** 2)) + 0.6 * np.exp(-(((fk - f2) / 400.0) ** 2)) + 0.05 / k
        voice += amp * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    syllables = np.clip(np.sin(2 * np.pi * 3.3 * t + rng.uniform(0, 2 * np.pi)), 0.0, None) ** 0.7
    voice *= syllables
    # a noise burst (a fricative) in the second fifth
    gate = ((t > 0.2 * dur) & (t < 0.33 * dur)).astype(np.float64)
    burst = 0.5 * rng.standard_normal(n) * gate
    # a log chirp 200 Hz -> cap
    chirp = 0.6 * np.sin(log_chirp_phase(t, 200.0, cap, dur))
    # decaying clicks at min(2 kHz, cap / 2)
    clicks = np.zeros(n)
    fc = min(2000.0, cap / 2)
    for onset in sorted(rng.uniform(0.05, 0.9, size=3) * dur):
        i0 = int(onset * rate)
        m = min(int(0.03 * rate), n - i0)
        tt = np.arange(m) / rate
        clicks[i0 : i0 + m] += 2.0 * np.exp(-tt / 0.006) * np.sin(2 * np.pi * fc * tt)
    left = voice + burst + clicks + 0.01 * rng.standard_normal(n)
    right = 0.7 * voice + chirp + 0.01 * rng.standard_normal(n)
    x = np.stack([left, right], axis=1) if channels == 2 else (0.5 * (left + right))[:, None]
    # an exactly silent gap of 0.15 s at 55 % of the clip
    a = int(0.55 * n)
    x[a : a + int(0.15 * rate)] = 0.0
    # 10 ms raised-cosine fades
    f = int(0.01 * rate)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(f) / f)
    x[:f] *= ramp[:, None]
    x[-f:] *= ramp[::-1, None]
    return x * (PEAK / np.max(np.abs(x)))


def make_clips() -> None:
    fresh_dir(CLIPS)
    with tempfile.TemporaryDirectory() as td:
        for spec in CLIP_SPECS:
            x = synth(spec["rate"], spec["channels"], spec["frames"], spec["seed"])
            src = Path(td) / f"{spec['name']}.src.wav"
            sf.write(str(src), x.astype(np.float32), spec["rate"], format="WAV", subtype="FLOAT")
            ffmpeg_encode_bitexact(src, CLIPS / spec["name"], spec["rate"], spec["channels"], spec["codec"])


# --------------------------------------------------------------------------- reference loading


def load_clip(spec: dict) -> dict:
    """The clip as the reference pipeline loads it, plus how far the two loaders are apart."""
    path = CLIPS / spec["name"]
    ff, sr, ch, native = ffmpeg_soxr_16k(path)
    assert (sr, ch) == (spec["rate"], spec["channels"]), (spec["name"], sr, ch)
    info = {"ffmpeg_native_frames": native}
    if soundfile_reads(path):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y, lsr = librosa.load(str(path), sr=TARGET_SR)
        # soundfile read it: librosa did not fall back to audioread
        assert not any("audioread" in str(w.message) for w in caught), [str(w.message) for w in caught]
        assert lsr == TARGET_SR and y.dtype == np.float32 and y.ndim == 1
        info["loader"] = "librosa.load(sr=16000) [soundfile, soxr_hq]"
        info["loader_short"] = "librosa"
        n = min(len(y), len(ff))
        info["other_loader"] = "ffmpeg + soxr HQ"
        info["other_loader_max_abs_diff"] = float(np.max(np.abs(y[:n] - ff[:n])))
        info["other_loader_length"] = len(ff)
    else:
        y = ff
        info["loader"] = "ffmpeg f32 decode, channel mean (f64), soxr.resample(HQ)"
        info["loader_short"] = "ffmpeg+soxr"
        info["other_loader"] = None
        info["other_loader_max_abs_diff"] = None
        info["other_loader_length"] = None
    info["samples"] = np.ascontiguousarray(y, dtype=np.float32)
    return info


# --------------------------------------------------------------------------- reference runs


def load_model(ckpt: dict):
    path = str(ROOT / ckpt["checkpoint"])
    if ckpt["kind"] == "qwen2_audio":
        model = Qwen2AudioForConditionalGeneration.from_pretrained(
            path, attn_implementation="eager", dtype=torch.float32
        ).eval()
        processor = Qwen2AudioProcessor.from_pretrained(path)
        audio_token = model.config.audio_token_index
        n_layers = model.config.text_config.num_hidden_layers
    else:
        model = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            path, attn_implementation="eager", dtype=torch.float32
        ).eval()
        processor = Qwen2_5OmniProcessor.from_pretrained(path)
        audio_token = model.config.audio_token_id
        n_layers = model.config.text_config.num_hidden_layers
    assert processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>") == audio_token
    return model, processor, audio_token, n_layers


def run_case(ckpt, model, processor, audio_token, n_layers, spec, clip):
    samples = clip["samples"]
    text, inputs, _ = process_prompt(processor, audio_conversation(spec["name"], spec["prompt"]), samples)
    input_ids = inputs["input_ids"][0]
    span, n_audio = audio_span(input_ids, audio_token)
    span = torch.tensor(span, dtype=torch.int64)
    valid = int(inputs["feature_attention_mask"][0].sum())
    window = int(inputs["feature_attention_mask"].shape[-1])
    assert valid < window, f"{spec['name']}: the clip fills the {window}-frame window (truncated?)"

    captured = {}
    if ckpt["kind"] == "qwen2_audio":
        inner = getattr(model, "model", model)
        hook = inner.multi_modal_projector.register_forward_hook(
            lambda _m, _i, o: captured.__setitem__("audio", o[0, :n_audio].detach().clone())
        )
    else:
        hook = model.model.audio_tower.register_forward_hook(
            lambda _m, _i, o: captured.__setitem__("audio", o.last_hidden_state.detach().clone())
        )
        model.model.rope_deltas = None
    with torch.no_grad():
        out = model(**inputs, output_attentions=True, use_cache=False)
    hook.remove()
    assert out.attentions is not None and len(out.attentions) == n_layers
    seq = int(input_ids.numel())
    start, end = int(span[0]), int(span[1])
    logits = out.logits[0].float()
    # every LOGITS_AUDIO_STRIDE-th audio row and every row after the clip (the rows before the
    # clip do not depend on it)
    rows = torch.tensor(list(range(start, end, LOGITS_AUDIO_STRIDE)) + list(range(end, seq)), dtype=torch.int64)
    tensors = {
        "input_ids": input_ids.to(torch.int64).contiguous(),
        "audio_span": span,
        "logits_rows": rows,
        "logits": logits[rows].contiguous(),
        # the rows that replace the <|AUDIO|> embeddings
        "audio_embeds": captured["audio"].float().contiguous(),
    }
    assert tensors["audio_embeds"].shape[0] == n_audio, tensors["audio_embeds"].shape
    for li, a in enumerate(out.attentions):
        # query rows after the clip (the text that reads it), every key
        tensors[f"attn.{li}"] = a[0, :, end:, :].float().contiguous()
    meta = {
        "checkpoint": ckpt["checkpoint"],
        "clip": f"tests/fixtures/resampled/clips/{spec['name']}",
        "format": spec["format"],
        "source_rate": str(spec["rate"]),
        "source_channels": str(spec["channels"]),
        "loader": clip["loader"],
        "samples_16k": str(len(samples)),
        "prompt": spec["prompt"],
        "rendered_prompt": text,
        "logits_rows": f"audio_span[0]..audio_span[1] step {LOGITS_AUDIO_STRIDE}, then audio_span[1]..seq",
        "attention_rows_from": str(end),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "librosa": librosa.__version__,
        "soxr": soxr.__version__,
    }
    return tensors, meta, {
        "seq_len": seq,
        "audio_tokens": n_audio,
        "audio_span": span.tolist(),
        "mel_frames": window,
        "valid_mel_frames": valid,
        "rendered_prompt": text,
        "logits_rows": len(rows),
        "attention_rows_from": end,
        "top1_last_row": int(logits[-1].argmax()),
    }


def run_checkpoint(ckpt: dict, clips: dict) -> dict:
    out_dir = OUT / ckpt["out"]
    fresh_dir(out_dir)
    model, processor, audio_token, n_layers = load_model(ckpt)
    cases = []
    for k, spec in enumerate(CLIP_SPECS):
        clip = clips[spec["name"]]
        tensors, meta, info = run_case(ckpt, model, processor, audio_token, n_layers, spec, clip)
        fname = f"case_{k}.safetensors"
        save_reference(tensors, str(out_dir / fname), meta)
        case = {
            "file": fname,
            "clip": meta["clip"],
            "format": spec["format"],
            "container": spec["container"],
            "source_rate": spec["rate"],
            "source_channels": spec["channels"],
            "source_frames": spec["frames"],
            "loader": clip["loader"],
            "loader_short": clip["loader_short"],
            "samples_16k": len(clip["samples"]),
            "other_loader": clip["other_loader"],
            "other_loader_max_abs_diff": clip["other_loader_max_abs_diff"],
            "prompt": spec["prompt"],
            "system_prompt": None,
        }
        case.update(info)
        case["tensors"] = tensor_table(tensors)
        cases.append(case)
        print(
            f"{ckpt['out']} {fname}: {spec['name']} ({spec['rate']} Hz, {clip['loader_short']}), seq {info['seq_len']}, "
            f"audio tokens {info['audio_tokens']}, valid mel {info['valid_mel_frames']}, span {info['audio_span']}"
        )
    info = {
        "checkpoint": ckpt["checkpoint"],
        "architecture": type(model).__name__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "cases": cases,
    }
    write_json(out_dir / "cases.json", info)
    return info


# --------------------------------------------------------------------------- readme


def write_readme(versions: dict, clips: dict, infos: dict, notes: list[str]) -> None:
    lines = [
        "# Resampled-clip parity fixtures",
        "",
        "Made by `scripts/make_resampled_parity_fixtures.py` (run from the repository root with",
        "`python scripts/make_resampled_parity_fixtures.py`; deterministic, overwrites this folder).",
        "They check auscult's end-to-end logits and attention against transformers on clips that",
        "are not at 16 kHz, loaded the way users' notebooks load them. The checkpoints are the",
        "existing tiny random ones, read and never written: `tests/fixtures/qwen2_audio/tiny_a`",
        "(Qwen2-Audio, 128 mels, 30 s window) and `tests/fixtures/qwen2_5_omni/thinker`",
        "(Qwen2.5-Omni thinker, 80 mels, 5 s window, chunked audio encoder).",
        "Test: `tests/resampled_parity.rs` (`cargo test --test all resampled_parity -- --nocapture`",
        "prints one line per case).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "## `clips/`",
        "",
        "Seeded synthetic signals (a gliding harmonic voice under two formants and a syllable",
        "envelope, a noise burst, a log chirp, decaying clicks, an exactly silent 0.15 s gap, 10 ms",
        "fades, peak 0.6; everything below 0.42 × the clip's rate), rendered at the clip's own rate,",
        "written as float32 WAV and encoded by ffmpeg with `-fflags +bitexact -flags:a +bitexact",
        "-map_metadata -1`. One clip per format; every rate appears once.",
        "",
        "| clip | format | container | rate (Hz) | channels | seconds | encoder | bytes | reference loader | other loader max abs diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in CLIP_SPECS:
        c = clips[spec["name"]]
        other = (
            f"{c['other_loader_max_abs_diff']:.2e} (ffmpeg + soxr HQ)"
            if c["other_loader_max_abs_diff"] is not None
            else "n/a"
        )
        lines.append(
            f"| `{spec['name']}` | {spec['format']} | {spec['container']} | {spec['rate']} | {spec['channels']} | "
            f"{spec['frames'] / spec['rate']:.4g} | {spec['encoder']} | {(CLIPS / spec['name']).stat().st_size} | "
            f"{c['loader']} | {other} |"
        )
    lines += [
        "",
        "Reference loader: `librosa.load(path, sr=16000)` wherever soundfile (libsndfile) reads",
        "the file: libsndfile decodes (mpg123 for MP3, libvorbis, libFLAC, its own WAV reader) to",
        "float32, librosa takes the channel mean in float32 and resamples with",
        "`soxr.resample(..., quality=\"soxr_hq\")` in float32, then pads to `ceil(n × 16000 / sr)`.",
        "libsndfile cannot read AAC in MP4, so for `aac_48k.m4a` (where librosa would fall back to",
        "audioread) ffmpeg decodes it to float32 (priming removed through the edit list), the",
        "channel mean is taken in float64 and `soxr.resample(x, sr, 16000, quality=\"HQ\")` (float64)",
        "resamples it, cast to float32 — what `tests/fixtures/audio/decode/*.ref.safetensors` are.",
        "\"Other loader\" is how far ffmpeg + soxr HQ lies from librosa on the same file (the spread",
        "between the two reference loaders).",
        "",
        "## `qwen2_audio_tiny_a/` and `qwen2_5_omni_thinker/`",
        "",
        "`cases.json`: `checkpoint` (the folder the model and processor come from) and one case per",
        "clip, in the format of the model fixtures' `cases.json` (`file`, `clip`, `prompt`,",
        "`system_prompt` (null: the template's default), `rendered_prompt`) plus the clip's format,",
        "container, rate, channels, reference loader, `samples_16k` (the loaded clip's length at",
        "16 kHz), `seq_len`, `audio_tokens`, `audio_span`, `valid_mel_frames`, the number of stored",
        "logits rows, the first stored attention row, and the tensors' shapes.",
        "",
        "For each case the conversation",
        "`[{role: user, content: [{type: audio, audio_url: CLIP}, {type: text, text: PROMPT}]}]` is",
        "rendered with `processor.apply_chat_template(..., add_generation_prompt=True, tokenize=False)`",
        "and processed with `processor(text=..., audio=[samples], sampling_rate=16000,",
        "return_tensors=\"pt\", padding=True)`; the model is loaded with `from_pretrained(dir,",
        "attn_implementation=\"eager\", dtype=float32)` (`Qwen2AudioForConditionalGeneration`,",
        "`Qwen2_5OmniThinkerForConditionalGeneration`), eval mode, and run once, teacher-forced,",
        "`output_attentions=True, use_cache=False`.",
        "",
        "`case_{k}.safetensors` (k = the clip's index in the table above):",
        "",
        "- `input_ids` I64 [seq]: the expanded prompt (one `<|AUDIO|>` per audio token)",
        "- `audio_span` I64 [2]: first `<|AUDIO|>` position, one past the last",
        "- `logits_rows` I64 [rows]: the prompt rows whose logits are kept: every",
        f"  {LOGITS_AUDIO_STRIDE}th audio row (`audio_span[0]`, `audio_span[0] + {LOGITS_AUDIO_STRIDE}`, …) and every row from",
        "  `audio_span[1]` to the end (the rows before the clip do not depend on it, and",
        "  `tests/model_parity.rs` already checks them; every audio row would triple the size)",
        "- `logits` F32 [rows, vocab]: the teacher-forced logits of those rows",
        "- `attn.{layer}` F32 [heads, seq − audio_span[1], seq]: decoder attention probabilities,",
        "  every layer and head, query rows `audio_span[1]..seq` only (the text after the clip, which",
        "  is what the inspector shows), every key",
        "- `audio_embeds` F32 [audio tokens, text hidden]: the rows that replace the `<|AUDIO|>`",
        "  embeddings (Qwen2-Audio: projector output; Omni: audio tower output), for diagnosis",
        "- metadata: checkpoint, clip, format, source rate and channels, loader, `samples_16k`,",
        "  prompt, rendered prompt, which rows are stored, versions.",
        "",
    ]
    for name, info in infos.items():
        lines += [
            f"### `{name}/` ({info['checkpoint']}, {info['architecture']})",
            "",
            "| case | clip | prompt | samples at 16 kHz | valid mel frames | audio tokens | seq | span | bytes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in info["cases"]:
            size = (OUT / name / c["file"]).stat().st_size
            lines.append(
                f"| {c['file']} | `{os.path.basename(c['clip'])}` | {c['prompt']} | {c['samples_16k']} | "
                f"{c['valid_mel_frames']} | {c['audio_tokens']} | {c['seq_len']} | {c['audio_span']} | {size} |"
            )
        lines.append("")
    lines += ["## Notes", ""]
    lines += [f"- {n}" for n in notes]
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file() and p.name != "README.md")
    lines += ["", f"Total size (without this README): {total} bytes ({human(total)}).", ""]
    (OUT / "README.md").write_text("\n".join(lines))


NOTES = [
    "AAC length: ffmpeg 5.1 removes the AAC priming (the edit list's start) but decodes to the",
    "end of the last 1024-frame AAC frame, while auscult cuts the decode to the edit list's",
    "duration. For a clip that is not a whole number of AAC frames the two differ at the end by",
    "up to 1023 source frames (the 5 s `audio/decode/aac.m4a`: 221,184 frames from ffmpeg,",
    "220,500 in the edit list and from auscult; a 170,000-frame 48 kHz encode made while",
    "writing this script: 169,984 from ffmpeg, 169,968 in the edit list and from auscult),",
    "which can change the valid mel frames and the audio token count. `aac_48k.m4a` is",
    "159 × 1024 frames long so that both decoders agree on the length and this fixture measures",
    "the decode and resampling, not that container difference (159 × 1024 is also a multiple of",
    "3, so soxr's rounded length and librosa's ceil agree).",
]


def main() -> int:
    if not (ROOT / "tests" / "fixtures" / "qwen2_audio" / "tiny_a").is_dir():
        sys.exit("the tiny checkpoints are missing (tests/fixtures/qwen2_audio/tiny_a)")
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    versions = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "librosa": librosa.__version__,
        "soxr (python-soxr)": soxr.__version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "ffmpeg": ffmpeg_version(),
        "python": sys.version.split()[0],
    }
    for k, v in versions.items():
        print(f"{k}: {v}")
    OUT.mkdir(parents=True, exist_ok=True)
    make_clips()
    clips = {spec["name"]: load_clip(spec) for spec in CLIP_SPECS}
    for spec in CLIP_SPECS:
        c = clips[spec["name"]]
        expected = -(-spec["frames"] * TARGET_SR // spec["rate"])  # ceil
        print(
            f"clip {spec['name']}: {(CLIPS / spec['name']).stat().st_size} bytes, loader {c['loader_short']}, "
            f"{len(c['samples'])} samples at 16 kHz (source {spec['frames']} frames -> {expected}), "
            f"ffmpeg native frames {c['ffmpeg_native_frames']}, other loader max |diff| {c['other_loader_max_abs_diff']}"
        )
    infos = {ckpt["out"]: run_checkpoint(ckpt, clips) for ckpt in CHECKPOINTS}
    write_readme(versions, clips, infos, [" ".join(NOTES)])
    print_folder_summary(OUT, relative_to=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
