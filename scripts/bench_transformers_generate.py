#!/usr/bin/env python3
"""The Python baseline for auscult's model benchmark: transformers' generate with eager attention
and output_attentions=True, the usual way to get attention out of an audio-language model.

    /usr/bin/time -v python scripts/bench_transformers_generate.py \
        --model ~/auscult-bench/mid_f32 --audio CLIP --tokens 128 [--no-attentions] [--dtype bf16] \
        [--ids-out IDS.json]

Prints one JSON line: seconds for import, load, processing and generate, the prefill (from the
start of generate to the first new token, audio encoder included) and the decode rate over the
other tokens (both timed by a streamer that generate calls with each new token), tokens
generated, and the peak resident memory of the process (ru_maxrss). Exactly `--tokens` tokens
are generated (min_new_tokens = max_new_tokens), greedy, on the CPU, in float32 unless `--dtype`
says otherwise, like `auscult run --max-new-tokens N --min-new-tokens N`. `--ids-out` writes the
generated ids as a JSON list (to compare runs).

`scripts/bench_python_capture.py` imports the loading, input and report helpers from here, so
that the auscult package's runs differ from this baseline only in how generate is called.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

started = time.perf_counter()
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration  # noqa: E402

imported = time.perf_counter()

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}


class TokenClock:
    """A streamer for `generate`: the first `put` is the prompt, each later one a new token."""

    def __init__(self) -> None:
        self.prompt_seen = False
        self.token_times: list[float] = []

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.token_times.append(time.perf_counter())

    def end(self) -> None:
        pass


def common_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments this baseline and the package's benchmark share."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompt", default="Describe the audio in detail.")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    parser.add_argument("--ids-out", help="write the generated ids here as a JSON list")
    return parser


def load(model_dir: str, dtype: str) -> tuple[Any, Any]:
    """The model (eager attention, eval mode) and its processor."""
    model = Qwen2AudioForConditionalGeneration.from_pretrained(
        model_dir, attn_implementation="eager", dtype=DTYPES[dtype]
    ).eval()
    processor = AutoProcessor.from_pretrained(model_dir)
    return model, processor


def prepare_inputs(processor: Any, audio: str, prompt: str) -> dict[str, torch.Tensor]:
    """The processor's tensors for one user turn: the clip, then the prompt, and the generation prompt."""
    samples, rate = sf.read(audio, dtype="float32")
    conversation = [
        {"role": "user", "content": [{"type": "audio", "audio_url": audio}, {"type": "text", "text": prompt}]}
    ]
    text = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    return processor(text=text, audio=[samples], sampling_rate=rate, return_tensors="pt", padding=True)


def report(
    *,
    loaded: float,
    processed: float,
    generated: float,
    token_times: list[float],
    prompt_tokens: int,
    new_ids: list[int],
    dtype: str,
    ids_out: str | None,
    extra: dict[str, Any],
) -> None:
    """Prints the JSON line (timings from the module's import on, ru_maxrss) and writes `ids_out`."""
    decode_s = token_times[-1] - token_times[0] if len(token_times) > 1 else float("nan")
    fields = {
        "import_s": round(imported - started, 3),
        "load_s": round(loaded - imported, 3),
        "process_s": round(processed - loaded, 3),
        "generate_s": round(generated - processed, 3),
        "prefill_s": round(token_times[0] - processed, 3) if token_times else None,
        "decode_tokens_per_s": round((len(token_times) - 1) / decode_s, 3) if len(token_times) > 1 else None,
        "dtype": dtype,
        "total_s_after_import": round(generated - imported, 3),
        "prompt_tokens": prompt_tokens,
        "new_tokens": len(new_ids),
        **extra,
        "threads": torch.get_num_threads(),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3),
    }
    print(json.dumps(fields))
    if ids_out:
        with open(ids_out, "w") as f:
            json.dump(new_ids, f)


def main() -> None:
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--no-attentions", action="store_true")
    args = parser.parse_args()

    model, processor = load(args.model, args.dtype)
    loaded = time.perf_counter()
    inputs = prepare_inputs(processor, args.audio, args.prompt)
    processed = time.perf_counter()

    streamer = TokenClock()
    with torch.no_grad():
        out = model.generate(
            streamer=streamer,
            **inputs,
            do_sample=False,
            max_new_tokens=args.tokens,
            min_new_tokens=args.tokens,
            output_attentions=not args.no_attentions,
            return_dict_in_generate=True,
        )
    generated = time.perf_counter()
    prompt_tokens = int(inputs["input_ids"].shape[1])
    report(
        loaded=loaded,
        processed=processed,
        generated=generated,
        token_times=streamer.token_times,
        prompt_tokens=prompt_tokens,
        new_ids=out.sequences[0, prompt_tokens:].tolist(),
        dtype=args.dtype,
        ids_out=args.ids_out,
        extra={"attentions": not args.no_attentions},
    )


if __name__ == "__main__":
    main()
