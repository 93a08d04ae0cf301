#!/usr/bin/env python3
"""transformers' greedy output of the bundled demo model on the bundled example clips.

Run from the repository root (no network; the model is read from assets/demo-model):

    python scripts/make_demo_parity.py

For every example in assets/examples/traces.jsonl (written by `auscult demo eval --out
assets/examples`), it loads the clip, renders the example's prompt with the checkpoint's chat
template, and runs `Qwen2AudioForConditionalGeneration.generate(do_sample=False,
max_new_tokens=256)` (the checkpoint's generation_config: eos `<|im_end|>`, `<|endoftext|>`).
It writes tests/fixtures/demo_parity.json: per example its id, clip, prompt, `input_ids`, the
generated ids (stop token included, as auscult records them), the decoded text (special
tokens skipped, as auscult decodes), and the
smallest gap between the top two logits over the greedy steps (how robust the reference is to
float rounding). tests/demo_model.rs checks auscult's ids against it.
"""

import json
import os
import sys

import torch
import transformers
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

# scripts/ is on sys.path when this runs as `python scripts/make_demo_parity.py`.
from fixture_support import audio_conversation, greedy_margins, process_prompt, read_clip_16k

MODEL = os.path.join("assets", "demo-model")
EXAMPLES = os.path.join("assets", "examples")
OUT = os.path.join("tests", "fixtures", "demo_parity.json")
MAX_NEW_TOKENS = 256


def main():
    torch.manual_seed(0)
    processor = AutoProcessor.from_pretrained(MODEL)
    model = Qwen2AudioForConditionalGeneration.from_pretrained(MODEL, dtype=torch.float32).eval()
    cases = []
    with open(os.path.join(EXAMPLES, "traces.jsonl")) as traces:
        for line in traces:
            trace = json.loads(line)
            seed = trace["id"].removeprefix("synth-")
            clip = os.path.join(EXAMPLES, "clips", f"synth-{seed}.wav")
            samples = read_clip_16k(clip)
            prompt = trace["prompt"]["text"]
            _, inputs, _ = process_prompt(processor, audio_conversation(clip, prompt), samples)
            input_ids = inputs["input_ids"][0]
            with torch.no_grad():
                generated = model.generate(
                    **inputs,
                    do_sample=False,
                    max_new_tokens=MAX_NEW_TOKENS,
                    output_scores=True,
                    return_dict_in_generate=True,
                )
            new = generated.sequences[0, input_ids.numel():].tolist()
            margins = greedy_margins(generated.scores)
            cases.append(
                {
                    "id": trace["id"],
                    "clip": clip,
                    "prompt": prompt,
                    "input_ids": input_ids.tolist(),
                    "generated_ids": new,
                    "text": processor.tokenizer.decode(new, skip_special_tokens=True),
                    "min_top2_margin": min(margins),
                }
            )
            print(f"{trace['id']}: {len(new)} tokens, min margin {min(margins):.4f}", file=sys.stderr)
    with open(OUT, "w") as f:
        json.dump(
            {
                "transformers": transformers.__version__,
                "torch": torch.__version__,
                "model": MODEL,
                "max_new_tokens": MAX_NEW_TOKENS,
                "cases": cases,
            },
            f,
            indent=1,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
