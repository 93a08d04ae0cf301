#!/usr/bin/env python3
"""Make the mid-size random Qwen2-Audio checkpoint the model benchmarks run on.

    python scripts/make_bench_checkpoint.py [OUT_DIR]

OUT_DIR (default ~/auscult-bench) gets, outside the repository since they are large:

    mid_f32/            float32, one model.safetensors (about 0.7 GB)
    mid_bf16_sharded/   the same weights in bfloat16, sharded (model.safetensors.index.json)

Sizes: text decoder hidden 1024, 8 layers, 16 heads / 8 KV heads, intermediate 2816, vocab
32000; audio encoder d_model 512, 6 layers, 8 heads, FFN 2048, 128 mel bins, 30 s window. The
tokenizer, chat template and front-end files are the tiny_a fixture's (its 486 tokens; ids the
tokenizer lacks decode to nothing, which does not matter for timing). Deterministic (seed 0).
"""

import json
import os
import shutil
import sys

import torch
from transformers import (
    GenerationConfig,
    Qwen2AudioConfig,
    Qwen2AudioEncoderConfig,
    Qwen2AudioForConditionalGeneration,
    Qwen2Config,
)

FIXTURE = os.path.join("tests", "fixtures", "qwen2_audio", "tiny_a")
PROCESSOR_FILES = [
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "preprocessor_config.json",
    "processor_config.json",
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/auscult-bench")
    torch.manual_seed(0)
    audio = Qwen2AudioEncoderConfig(
        num_mel_bins=128,
        encoder_layers=6,
        encoder_attention_heads=8,
        encoder_ffn_dim=2048,
        d_model=512,
        max_source_positions=1500,
    )
    text = Qwen2Config(
        vocab_size=32000,
        hidden_size=1024,
        intermediate_size=2816,
        num_hidden_layers=8,
        num_attention_heads=16,
        num_key_value_heads=8,
        max_position_embeddings=4096,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        eos_token_id=482,
        pad_token_id=480,
    )
    config = Qwen2AudioConfig(audio_config=audio, text_config=text, audio_token_index=483)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    generation = GenerationConfig(do_sample=False, eos_token_id=[482, 480], pad_token_id=480)
    model.generation_config = generation

    for name, dtype, shard in [("mid_f32", torch.float32, "10GB"), ("mid_bf16_sharded", torch.bfloat16, "150MB")]:
        target = os.path.join(out, name)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        model.to(dtype).save_pretrained(target, max_shard_size=shard)
        for f in PROCESSOR_FILES:
            shutil.copy(os.path.join(FIXTURE, f), target)
        files = sorted(os.listdir(target))
        size = sum(os.path.getsize(os.path.join(target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size / 1e9:.2f} GB")

    params = sum(p.numel() for p in model.parameters())
    decoder = sum(
        p.numel() for n, p in model.named_parameters() if "language_model" in n and "embed_tokens" not in n
    )
    print(json.dumps({"parameters": params, "decoder_parameters_read_per_token": decoder}))


if __name__ == "__main__":
    main()
