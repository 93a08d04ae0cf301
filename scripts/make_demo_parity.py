#!/usr/bin/env python3
"""transformers' greedy output of the bundled demo model on the bundled example clips.

Run from the repository root (no network; the model is read from assets/demo-model):

    python scripts/make_demo_parity.py

For every example in assets/examples/traces.jsonl (written by `auscult demo eval --out
assets/examples`), it loads the clip, renders the example's prompt with the checkpoint's chat
template, and runs `Qwen2AudioForConditionalGeneration.generate(do_sample=False,
max_new_tokens=256)` (the checkpoint's generation_config: eos `<|im_end|>`, `<|endoftext|>`).
Each example is asked three ways: with its own prompt (the demo's phrasing, as the trace
recorded it), and with R1-AQA's direct and reasoning prompts (what `auscult batch` sends:
the question, "Please choose the answer from the following options:", the choices as a Python
list, then where to put the answer), built here from the trace's question and choices.
It writes tests/fixtures/demo_parity.json: per example and prompt its id, the prompt's name
(`demo`, `r1-aqa`, `r1-aqa-think`), clip, prompt, `input_ids`, the
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
R1_AQA = "{question} Please choose the answer from the following options: {choices}. Output the final answer in <answer> </answer>."
R1_AQA_THINK = "{question} Please choose the answer from the following options: {choices}. Output the thinking process in <think> </think> and final answer in <answer> </answer>."


def prompts_of(trace):
    """The trace's own prompt, then the two R1-AQA prompts of its question and choices."""
    question = trace["prompt"]["question"]
    choices = repr(list(trace["prompt"]["choices"]))
    return [
        ("demo", trace["prompt"]["text"]),
        ("r1-aqa", R1_AQA.replace("{choices}", choices).replace("{question}", question)),
        ("r1-aqa-think", R1_AQA_THINK.replace("{choices}", choices).replace("{question}", question)),
    ]


def run_case(processor, model, id_, name, clip, samples, prompt):
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
    print(f"{id_} {name}: {len(new)} tokens, min margin {min(margins):.4f}", file=sys.stderr)
    return {
        "id": id_,
        "prompt_name": name,
        "clip": clip,
        "prompt": prompt,
        "input_ids": input_ids.tolist(),
        "generated_ids": new,
        "text": processor.tokenizer.decode(new, skip_special_tokens=True),
        "min_top2_margin": min(margins),
    }


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
            for name, prompt in prompts_of(trace):
                cases.append(run_case(processor, model, trace["id"], name, clip, samples, prompt))
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
