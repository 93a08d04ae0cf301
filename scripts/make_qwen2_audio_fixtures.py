#!/usr/bin/env python3
"""Generate tiny random Qwen2-Audio checkpoints and reference outputs for `auscult`.

Run from the repository root (no network needed; nothing comes from a model hub):

    python scripts/make_qwen2_audio_fixtures.py

Deterministic (torch.manual_seed / numpy seeds fixed) and re-runnable: everything under
tests/fixtures/qwen2_audio/ that this script makes is overwritten.

What it makes (see tests/fixtures/qwen2_audio/README.md, also written by this script):

tests/fixtures/qwen2_audio/{tiny_a,tiny_b}/
    config.json, generation_config.json, model.safetensors      (model.save_pretrained)
    tokenizer.json, tokenizer_config.json, chat_template.*,
    preprocessor_config.json / processor_config.json            (processor.save_pretrained)
    case_{k}.safetensors                                         reference tensors per case
    cases.json                                                   list of the cases

The tokenizer is a small byte-level BPE (Qwen2 pre-tokenizer regex, NFC, ByteLevel) trained
with the `tokenizers` library on a built-in English text, wrapped as transformers'
Qwen2Tokenizer, with Qwen2-Audio's special tokens appended after the BPE vocabulary.
The chat template is Qwen2AudioProcessor.default_chat_template (transformers source).

Weights: the model's own random init with initializer_range 0.1 (instead of 0.02, so the
attention maps and logits are far from uniform), then every bias and norm weight is
re-drawn at random too, so a loader that drops a bias or a norm weight fails the test.
"""

import json
import os

import numpy as np
import torch
import tokenizers
import transformers
from transformers import (
    Qwen2AudioConfig,
    Qwen2AudioEncoderConfig,
    Qwen2AudioForConditionalGeneration,
    Qwen2AudioProcessor,
    Qwen2Config,
    Qwen2Tokenizer,
)

# scripts/ is on sys.path when this runs as `python scripts/make_qwen2_audio_fixtures.py`.
from fixture_support import (
    CLIPS,
    CORPUS_BASE,
    audio_conversation,
    audio_span,
    fresh_dir,
    greedy_generation_config,
    greedy_reference,
    print_folder_summary,
    process_prompt,
    randomise_biases_and_norms,
    read_clip_16k,
    reference_metadata,
    save_reference,
    start_run,
    tensor_table,
    tiny_audio_encoder_args,
    tiny_text_args,
    train_byte_level_bpe,
    whisper_feature_extractor,
    write_json,
)

OUT = os.path.join("tests", "fixtures", "qwen2_audio")

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|AUDIO|>",  # same order as the real checkpoint: 151643.. endoftext, im_start, im_end, AUDIO, audio_bos, audio_eos
    "<|audio_bos|>",
    "<|audio_eos|>",
]

CORPUS = CORPUS_BASE + """\
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Audio 1: a sine tone at 440 Hz. Audio 2: a sweep from 200 Hz to 4000 Hz, then white noise.
"""


def build_tokenizer(vocab_target=480):
    """Byte-level BPE trained on CORPUS, wrapped as Qwen2Tokenizer + Qwen2-Audio specials."""
    vocab, merges = train_byte_level_bpe(CORPUS, vocab_target)
    # Qwen2 has its specials *after* the BPE vocab (151643..); same here.
    qtok = Qwen2Tokenizer(vocab=vocab, merges=merges, errors="replace")
    qtok.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS[1:]})
    qtok.add_tokens([SPECIAL_TOKENS[0]], special_tokens=True)  # no-op if already there
    qtok.model_max_length = 32768
    qtok.padding_side = "left"
    return qtok


def make_config(spec, tok):
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    max_id = max(max(ids.values()), len(tok) - 1)
    vocab_size = spec["vocab_size"]
    assert vocab_size > max_id, (vocab_size, max_id)
    audio_cfg = Qwen2AudioEncoderConfig(**tiny_audio_encoder_args(spec))
    text_cfg = Qwen2Config(**tiny_text_args(spec, ids))
    cfg = Qwen2AudioConfig(
        audio_config=audio_cfg,
        text_config=text_cfg,
        audio_token_index=ids["<|AUDIO|>"],
    )
    return cfg, ids


SPECS = {
    "tiny_a": dict(
        seed=1234,
        vocab_size=512,
        num_mel_bins=128,
        chunk_length=30,
        d_model=64,
        enc_layers=2,
        enc_heads=4,
        enc_ffn=128,
        max_source_positions=1500,
        hidden=64,
        layers=2,
        heads=4,
        kv_heads=4,
        intermediate=128,
        rope_theta=10000.0,
        rms_norm_eps=1e-5,
        cases=[
            ("short.wav", "What sound is this?"),
            ("mid.wav", "Is the pitch rising or falling? Answer A or B."),
        ],
    ),
    "tiny_b": dict(
        seed=5678,
        vocab_size=520,
        num_mel_bins=80,
        chunk_length=10,
        d_model=48,
        enc_layers=3,
        enc_heads=3,
        enc_ffn=96,
        max_source_positions=500,
        hidden=96,
        layers=3,
        heads=6,
        kv_heads=2,
        intermediate=160,
        rope_theta=1e6,
        rms_norm_eps=1e-6,
        cases=[
            ("short.wav", "Is the pitch rising or falling? Answer A or B."),
            # (mid.wav left out here to keep the fixtures small; tiny_a covers it)
            ("long.wav", "What sound is this? Describe the audio."),
        ],
    ),
}

N_NEW = 24


def run_checkpoint(name, spec, tok):
    out_dir = os.path.join(OUT, name)
    fresh_dir(out_dir)

    cfg, ids = make_config(spec, tok)
    torch.manual_seed(spec["seed"])
    np.random.seed(spec["seed"])
    model = Qwen2AudioForConditionalGeneration(cfg)
    randomise_biases_and_norms(model)
    model.generation_config = greedy_generation_config(ids["<|im_end|>"], ids["<|endoftext|>"])
    model.save_pretrained(out_dir, safe_serialization=True)

    fe = whisper_feature_extractor(spec["num_mel_bins"], spec["chunk_length"])
    chat_template = Qwen2AudioProcessor.default_chat_template.fget(None)
    processor = Qwen2AudioProcessor(feature_extractor=fe, tokenizer=tok, chat_template=chat_template)
    processor.save_pretrained(out_dir)
    # Be explicit about the two files a Rust loader reads, whatever the processor layout is.
    if not os.path.exists(os.path.join(out_dir, "preprocessor_config.json")):
        fe.save_pretrained(out_dir)
    if not os.path.exists(os.path.join(out_dir, "chat_template.json")) and not os.path.exists(
        os.path.join(out_dir, "chat_template.jinja")
    ):
        with open(os.path.join(out_dir, "chat_template.jinja"), "w") as f:
            f.write(chat_template)

    # Load everything back the way a user would.
    model = Qwen2AudioForConditionalGeneration.from_pretrained(
        out_dir, attn_implementation="eager", dtype=torch.float32
    ).eval()
    processor = Qwen2AudioProcessor.from_pretrained(out_dir)
    assert processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>") == model.config.audio_token_index

    cases = []
    for k, (clip, prompt) in enumerate(spec["cases"]):
        clip_path = os.path.join(CLIPS, clip)
        samples = read_clip_16k(clip_path)
        text, inputs, _ = process_prompt(processor, audio_conversation(clip, prompt), samples)
        input_ids = inputs["input_ids"][0]
        span, n_audio = audio_span(input_ids, model.config.audio_token_index)
        span = torch.tensor(span, dtype=torch.int64)

        captured = {}

        def hook(_m, _i, o):
            captured["proj"] = o.detach().clone()

        inner = getattr(model, "model", model)  # transformers 5: model.model.multi_modal_projector
        h = inner.multi_modal_projector.register_forward_hook(hook)
        with torch.no_grad():
            out = model(**inputs, output_attentions=True, use_cache=False)
        h.remove()
        logits = out.logits[0].float().contiguous()
        assert out.attentions is not None and len(out.attentions) == cfg.text_config.num_hidden_layers

        # Top-1/top-2 logit gaps, and the step where an eos id would have stopped decoding.
        new, margins, first_eos, _ = greedy_reference(model, inputs, N_NEW, set(model.generation_config.eos_token_id))

        tensors = {
            "input_ids": input_ids.to(torch.int64).contiguous(),
            "input_features": inputs["input_features"][0].float().contiguous(),
            "feature_attention_mask": inputs["feature_attention_mask"][0].to(torch.int64).contiguous(),
            "logits": logits,
            "audio_span": span,
            "generated_ids": new.to(torch.int64).contiguous(),
            # extra: projector output rows that replace the <|AUDIO|> embeddings
            "audio_embeds": captured["proj"][0, :n_audio].float().contiguous(),
        }
        for li, a in enumerate(out.attentions):
            tensors[f"attn.{li}"] = a[0].float().contiguous()
        meta = reference_metadata(prompt, clip_path, text, n_audio, margins, first_eos)
        fname = f"case_{k}.safetensors"
        save_reference(tensors, os.path.join(out_dir, fname), meta)
        cases.append(
            {
                "file": fname,
                "clip": clip_path,
                "clip_seconds": round(len(samples) / 16000, 4),
                "prompt": prompt,
                "rendered_prompt": text,
                "seq_len": int(input_ids.numel()),
                "audio_tokens": n_audio,
                "audio_span": span.tolist(),
                "mel_frames": int(inputs["input_features"].shape[-1]),
                "valid_mel_frames": int(inputs["feature_attention_mask"][0].sum()),
                "generated_ids": new.tolist(),
                "generated_text": processor.tokenizer.decode(new.tolist()),
                "min_greedy_margin": min(margins),
                "first_eos_index_in_generated": first_eos,
                "tensors": tensor_table(tensors),
            }
        )
        print(f"{name} case_{k}: seq {input_ids.numel()}, audio tokens {n_audio}, span {span.tolist()}, "
              f"min margin {min(margins):.4f}, eos at {first_eos}")

    info = {
        "checkpoint": name,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "special_token_ids": ids,
        "audio_token_index": model.config.audio_token_index,
        "tokenizer_len": len(processor.tokenizer),
        "vocab_size": model.config.text_config.vocab_size,
        "cases": cases,
    }
    write_json(os.path.join(out_dir, "cases.json"), info)
    return info


def main():
    start_run(OUT)
    tok = build_tokenizer()
    infos = {name: run_checkpoint(name, spec, tok) for name, spec in SPECS.items()}
    write_readme(infos)
    print_folder_summary(OUT)


def write_readme(infos):
    lines = [
        "# Qwen2-Audio reference fixtures",
        "",
        "Made by `scripts/make_qwen2_audio_fixtures.py` (run from the repository root with",
        "`python scripts/make_qwen2_audio_fixtures.py`; deterministic,",
        "overwrites this folder's checkpoint directories). Nothing comes from a model hub: the",
        "checkpoints are tiny random `Qwen2AudioForConditionalGeneration` models built from configs.",
        "",
        f"Versions: transformers {transformers.__version__}, torch {torch.__version__}, "
        f"tokenizers {tokenizers.__version__}.",
        "",
        "## Checkpoints",
        "",
        "Each of `tiny_a/` and `tiny_b/` is a complete hub-layout checkpoint directory:",
        "`config.json`, `generation_config.json`, `model.safetensors` (`model.save_pretrained`,",
        "hub-format weight names), and the processor files written by `processor.save_pretrained`",
        "(tokenizer, chat template, feature-extractor config).",
        "",
        "| | tiny_a | tiny_b |",
        "|---|---|---|",
    ]
    a, b = SPECS["tiny_a"], SPECS["tiny_b"]
    for key, label in [
        ("num_mel_bins", "num_mel_bins"), ("chunk_length", "feature extractor chunk_length (s)"),
        ("max_source_positions", "max_source_positions"), ("d_model", "audio d_model"),
        ("enc_layers", "audio layers"), ("enc_heads", "audio heads"), ("enc_ffn", "audio ffn"),
        ("hidden", "text hidden"), ("layers", "text layers"), ("heads", "text heads"),
        ("kv_heads", "text KV heads"), ("intermediate", "text intermediate"),
        ("rope_theta", "rope_theta"), ("rms_norm_eps", "rms_norm_eps"), ("vocab_size", "text vocab_size"),
    ]:
        lines.append(f"| {label} | {a[key]} | {b[key]} |")
    ia = infos["tiny_a"]
    lines += [
        "",
        "Weights: default random init with `initializer_range` 0.1, then every bias drawn from",
        "N(0, 0.1) and every norm weight from 1 + N(0, 0.2), so no bias or norm weight is trivial.",
        "`lm_head` is untied.",
        "",
        "Tokenizer (same for both): byte-level BPE (Qwen2 pre-tokenizer regex, NFC, ByteLevel)",
        "trained with `tokenizers` on a small built-in English text, wrapped as `Qwen2Tokenizer`,",
        f"with the specials appended after the BPE vocab: {json.dumps(ia['special_token_ids'])}.",
        f"`len(tokenizer)` = {ia['tokenizer_len']}; `audio_token_index` = {ia['audio_token_index']}.",
        "Chat template: `Qwen2AudioProcessor.default_chat_template` from the transformers source",
        "(adds the default system turn; each audio renders as",
        "`Audio N: <|audio_bos|><|AUDIO|><|audio_eos|>\\n`).",
        "The processor replaces the one `<|AUDIO|>` by `((L-1)//2+1-2)//2+1` copies (L = valid mel",
        "frames = `feature_attention_mask.sum()`) before tokenizing. Clips longer than the window",
        "(long.wav, 31.5 s, in tiny_b's 10 s window) are truncated to the window.",
        "Quirks (transformers 5.24): the processor kwarg is `audio=` (`audios=` is silently ignored and",
        "then fails with 'no audio inputs were passed'); the processor returns `feature_attention_mask`",
        "as int32 (stored here as I64); the model needs `feature_attention_mask` (without it",
        "forward raises), it masks encoder keys and counts the audio rows with it.",
        "`generation_config.json`: greedy, eos = [`<|im_end|>`, `<|endoftext|>`], pad = `<|endoftext|>`.",
        "",
        "## Reference cases",
        "",
        "For each case the conversation",
        "`[{role: user, content: [{type: audio, audio_url: CLIP}, {type: text, text: PROMPT}]}]` is",
        "rendered with `processor.apply_chat_template(..., add_generation_prompt=True, tokenize=False)`",
        "and processed with `processor(text=..., audio=[samples], sampling_rate=16000,",
        "return_tensors=\"pt\", padding=True)`; clips are `tests/fixtures/audio/mel/*.wav` read with",
        "soundfile as float32. The model is loaded with `from_pretrained(dir,",
        "attn_implementation=\"eager\", dtype=float32)`, eval mode.",
        "",
        "`{ckpt}/case_{k}.safetensors`:",
        "",
        "- `input_ids` I64 [seq]: the expanded prompt (one `<|AUDIO|>` per audio token)",
        "- `input_features` F32 [n_mels, frames]: log-mel, the full padded window",
        "- `feature_attention_mask` I64 [frames]",
        "- `logits` F32 [seq, vocab_size]: teacher-forced forward over the prompt",
        "- `attn.{layer}` F32 [heads, seq, seq]: decoder attention probabilities, every layer",
        "- `audio_span` I64 [2]: first `<|AUDIO|>` position, one past the last",
        f"- `generated_ids` I64 [{N_NEW}]: `generate(do_sample=False, max_new_tokens={N_NEW},",
        f"  min_new_tokens={N_NEW})`, new tokens only. min_new_tokens sets the eos scores to -inf;",
        "  `first_eos_index_in_generated` (metadata / cases.json) is the first step whose *raw*",
        "  argmax was an eos id (None: eos never won, so plain greedy gives the same ids)",
        "- `audio_embeds` F32 [audio_tokens, text_hidden]: multi-modal projector output rows that",
        "  replace the `<|AUDIO|>` embeddings (extra, for debugging the audio path)",
        "- metadata: prompt, clip, rendered prompt, versions, audio token count, smallest top-1/top-2",
        "  logit gap during greedy decoding, index where eos would have stopped decoding (or None).",
        "",
        "`{ckpt}/cases.json` lists the cases (clip, prompt, rendered prompt, seq length, audio token",
        "count, span, generated ids, tensor shapes).",
        "",
        "| checkpoint | case | clip | prompt | seq | audio tokens | valid mel frames | min greedy margin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, info in infos.items():
        for c in info["cases"]:
            lines.append(
                f"| {name} | {c['file']} | {os.path.basename(c['clip'])} | {c['prompt']} | {c['seq_len']} | "
                f"{c['audio_tokens']} | {c['valid_mel_frames']} | {c['min_greedy_margin']:.4g} |"
            )
    lines.append("")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
