#!/usr/bin/env python3
"""The Python baseline for auscult's model benchmark: transformers' generate with eager attention
and output_attentions=True, the usual way to get attention out of an audio-language model.

    /usr/bin/time -v python scripts/bench_transformers_generate.py \
        --model ~/auscult-bench/mid_f32 --audio CLIP --tokens 128 [--no-attentions] [--dtype bf16]

Prints one JSON line: seconds for import, load, processing and generate, the prefill (from the
start of generate to the first new token, audio encoder included) and the decode rate over the
other tokens (both timed by a streamer that generate calls with each new token), tokens
generated, and the peak resident memory of the process (ru_maxrss). Exactly `--tokens` tokens
are generated (min_new_tokens = max_new_tokens), greedy, on the CPU, in float32 unless `--dtype`
says otherwise, like `auscult run --max-new-tokens N --min-new-tokens N`.
"""

import argparse
import json
import resource
import time

started = time.perf_counter()
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration  # noqa: E402

imported = time.perf_counter()


class TokenClock:
    """A streamer for `generate`: the first `put` is the prompt, each later one a new token."""

    def __init__(self):
        self.prompt_seen = False
        self.token_times = []

    def put(self, value):
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.token_times.append(time.perf_counter())

    def end(self):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompt", default="Describe the audio in detail.")
    parser.add_argument("--no-attentions", action="store_true")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    args = parser.parse_args()

    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    model = Qwen2AudioForConditionalGeneration.from_pretrained(
        args.model, attn_implementation="eager", dtype=dtype
    ).eval()
    processor = AutoProcessor.from_pretrained(args.model)
    loaded = time.perf_counter()

    samples, rate = sf.read(args.audio, dtype="float32")
    conversation = [
        {"role": "user", "content": [{"type": "audio", "audio_url": args.audio}, {"type": "text", "text": args.prompt}]}
    ]
    text = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=text, audio=[samples], sampling_rate=rate, return_tensors="pt", padding=True)
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
    new_tokens = out.sequences.shape[1] - inputs["input_ids"].shape[1]
    token_times = streamer.token_times
    decode_s = token_times[-1] - token_times[0] if len(token_times) > 1 else float("nan")
    print(
        json.dumps(
            {
                "import_s": round(imported - started, 3),
                "load_s": round(loaded - imported, 3),
                "process_s": round(processed - loaded, 3),
                "generate_s": round(generated - processed, 3),
                "prefill_s": round(token_times[0] - processed, 3) if token_times else None,
                "decode_tokens_per_s": round((len(token_times) - 1) / decode_s, 3) if len(token_times) > 1 else None,
                "dtype": args.dtype,
                "total_s_after_import": round(generated - imported, 3),
                "prompt_tokens": int(inputs["input_ids"].shape[1]),
                "new_tokens": int(new_tokens),
                "attentions": not args.no_attentions,
                "threads": torch.get_num_threads(),
                "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
