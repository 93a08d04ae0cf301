#!/usr/bin/env python3
"""The auscult Python package's capture inside transformers' generate, timed and measured like
the transformers baseline (`scripts/bench_transformers_generate.py`), for docs/python-package.md §7.

    python scripts/bench_python_capture.py --model ~/auscult-bench/mid_f32 --audio CLIP \
        --tokens 512 --attention eager|sdpa [--per-head-maps] [--ids-out IDS.json]

`scripts/bench_python_capture.sh` runs it next to the baseline, each configuration in its own
process. The model is loaded exactly as the baseline loads it (eager attention, so the audio
encoder is the same); `auscult.capture.capture_generate` then switches only the decoder to the
package's attention function, with `attention=` as its base. Greedy, exactly `--tokens` tokens
(min_new_tokens = max_new_tokens). The audio span is the run of the audio placeholder token in
the prompt. Prints the baseline's JSON line plus the capture's settings and the bytes of the
captured arrays; `--ids-out` writes the generated ids as a JSON list. The package is imported from
this checkout's `python/` unless `auscult` is installed.
"""

from __future__ import annotations

import os
import sys
import time

import torch

from bench_transformers_generate import TokenClock, common_arguments, load, prepare_inputs, report

try:
    from auscult.capture import capture_generate
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    from auscult.capture import capture_generate


def audio_span(input_ids: torch.Tensor, audio_token: int) -> tuple[int, int]:
    """The half-open range of the audio placeholder tokens in `input_ids (1, P)`; they must be one run."""
    positions = (input_ids[0] == audio_token).nonzero().flatten().tolist()
    if not positions:
        raise SystemExit(f"no audio token ({audio_token}) in the prompt")
    start, end = positions[0], positions[-1] + 1
    if len(positions) != end - start:
        raise SystemExit(f"the audio tokens are not one run: {len(positions)} in {start}..{end}")
    return start, end


def main() -> None:
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--attention", choices=["eager", "sdpa"], required=True)
    parser.add_argument("--per-head-maps", action="store_true")
    args = parser.parse_args()

    model, processor = load(args.model, args.dtype)
    loaded = time.perf_counter()
    inputs = prepare_inputs(processor, args.audio, args.prompt)
    span = audio_span(inputs["input_ids"], model.config.audio_token_index)
    processed = time.perf_counter()

    streamer = TokenClock()
    captured = capture_generate(
        model,
        inputs,
        span,
        args.tokens,
        per_head_maps=args.per_head_maps,
        attention=args.attention,
        streamer=streamer,
        do_sample=False,
        min_new_tokens=args.tokens,
        return_dict_in_generate=True,
    )
    generated = time.perf_counter()
    captured_bytes = sum(array.nbytes for array in captured.sidecar_arrays().values())
    report(
        loaded=loaded,
        processed=processed,
        generated=generated,
        token_times=streamer.token_times,
        prompt_tokens=int(inputs["input_ids"].shape[1]),
        new_ids=captured.ids.tolist(),
        dtype=args.dtype,
        ids_out=args.ids_out,
        extra={
            "capture": args.attention,
            "per_head_maps": args.per_head_maps,
            "audio_span": list(span),
            "captured_mb": round(captured_bytes / 1e6, 3),
        },
    )


if __name__ == "__main__":
    main()
