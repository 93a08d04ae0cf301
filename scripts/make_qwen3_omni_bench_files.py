#!/usr/bin/env python3
"""Write the "hub files" of a Qwen3-Omni-30B-A3B-Instruct thinker at a chosen decoder depth, for
make_full_size_checkpoint.py to turn into a full-size-shaped RANDOM checkpoint (benchmarks only).

    python scripts/make_qwen3_omni_bench_files.py HUB_OUT --qwen25-tokenizer QWEN25_DIR/tokenizer.json \
        [--layers 12] [--template chat_template.jinja] [--shard-gb 4] [--skip-cross-check]
    python scripts/make_full_size_checkpoint.py HUB_OUT OUT_DIR
    python scripts/make_full_size_checkpoint.py --verify OUT_DIR

No Qwen3-Omni file is downloaded: everything is rebuilt from what docs/families/qwen3-omni.md
records of the real checkpoint (its config and weight list, §0 and §4) and from transformers 5.25.
HUB_OUT gets:

  config.json                  a `Qwen3OmniMoeConfig` as `save_pretrained` writes it:
                               model_type qwen3_omni_moe, enable_audio_output false, the real
                               Instruct thinker numbers (text: hidden 2048, 32/4 heads, head_dim
                               128, 128 experts top-8 of width 768, no shared expert, interleaved
                               M-RoPE [24,20,20], vocab 152064; audio: 32 layers of d_model 1280,
                               20 heads, FFN 5120, 480-channel conv front end, output 2048), the
                               real token ids, and `num_hidden_layers` = --layers (48 on the hub).
                               The vision config is the real one's sizes (no tensors are written
                               for it); the talker and code2wav configs are real-ish and unused.
  generation_config.json       greedy, stop at <|im_end|> 151645 or <|endoftext|> 151643
  preprocessor_config.json     WhisperFeatureExtractor: 128 mel bins, 16 kHz, hop 160, n_fft 400,
                               300 s window (n_samples 4,800,000, nb_max_frames 30000)
  tokenizer.json               Qwen2.5's byte-level BPE (151,643 regular tokens; Qwen3 uses the
                               same vocabulary and merges) taken from --qwen25-tokenizer, with its
                               added tokens replaced by Qwen3-Omni's 33 (ids 151643..151675)
  tokenizer_config.json        Qwen3-style, with the named multimodal tokens transformers'
                               Qwen3OmniMoeProcessor reads (audio_token <|audio_pad|>, ...)
  chat_template.jinja          --template, else tests/fixtures/qwen3_omni/instruct/chat_template.jinja
                               when it exists, else a minimal Qwen3-style template
  model.safetensors.index.json the thinker tensors an audio+text loader reads, bfloat16, split
  tensor_shapes.reconstructed.json   into shards of at most --shard-gb GB in layer order

Only the thinker's audio tower, text decoder (layers 0..--layers-1), final norm and lm_head are
listed: no thinker.visual.*, talker.* or code2wav.* (the real file has them; an audio-in,
text-out loader never reads them). Names and shapes are the hub's, and unless
--skip-cross-check they are checked against transformers' own modules: a full-size model built
from this config.json on the meta device (shapes of every tensor, with the fused expert banks
split per expert as `save_pretrained` does), and a tiny random model's `save_pretrained` (the
on-disk naming).

Prints the parameter counts (encoder, embedding, lm_head, per decoder layer, totals at --layers
and at the real 48) and the active parameters per decoded token.
"""

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile

from fixture_support import greedy_generation_config, whisper_feature_extractor, write_json

INDEX = "model.safetensors.index.json"
SHAPES = "tensor_shapes.reconstructed.json"
REAL_LAYERS = 48
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_TEMPLATE = os.path.join(REPO, "tests", "fixtures", "qwen3_omni", "instruct", "chat_template.jinja")

# The real Instruct thinker (docs/families/qwen3-omni.md §0).
AUDIO = dict(
    num_mel_bins=128,
    d_model=1280,
    encoder_layers=32,
    encoder_attention_heads=20,
    encoder_ffn_dim=5120,
    downsample_hidden_size=480,
    n_window=50,
    n_window_infer=800,
    conv_chunksize=500,
    max_source_positions=1500,
    output_dim=2048,
    activation_function="gelu",
    scale_embedding=False,
)
TEXT = dict(
    vocab_size=152064,
    hidden_size=2048,
    intermediate_size=768,
    num_attention_heads=32,
    num_key_value_heads=4,
    head_dim=128,  # not a declared field of Qwen3OmniMoeTextConfig: passed through, and checked below
    hidden_act="silu",
    max_position_embeddings=65536,
    rms_norm_eps=1e-6,
    rope_parameters=dict(
        rope_type="default", rope_theta=1000000, mrope_section=[24, 20, 20], interleaved=True, mrope_interleaved=True
    ),
    attention_bias=False,
    decoder_sparse_step=1,
    moe_intermediate_size=768,
    num_experts_per_tok=8,
    num_experts=128,
    norm_topk_prob=True,
    mlp_only_layers=[],
    shared_expert_intermediate_size=0,
    use_qk_norm=True,
    use_sliding_window=False,
    sliding_window=None,
    router_aux_loss_coef=0.001,
    tie_word_embeddings=False,
)
VISION = dict(
    depth=27,
    hidden_size=1152,
    hidden_act="gelu_pytorch_tanh",
    intermediate_size=4304,
    num_heads=16,
    in_channels=3,
    patch_size=16,
    spatial_merge_size=2,
    temporal_patch_size=2,
    out_hidden_size=2048,
    num_position_embeddings=2304,
    deepstack_visual_indexes=[8, 16, 24],
)
THINKER_IDS = dict(
    audio_token_id=151675,
    audio_start_token_id=151669,
    audio_end_token_id=151670,
    image_token_id=151655,
    video_token_id=151656,
    vision_start_token_id=151652,
    vision_end_token_id=151653,
    position_id_per_seconds=13,
    seconds_per_chunk=2,
    user_token_id=872,
    tie_word_embeddings=False,
)
# The talker's settings as in the real config (unused: enable_audio_output is false and no talker
# tensor is written); given so the file does not carry the class defaults' Qwen2.5-Omni ids.
TALKER = dict(
    audio_token_id=151675,
    audio_start_token_id=151669,
    audio_end_token_id=151670,
    image_token_id=151655,
    video_token_id=151656,
    vision_start_token_id=151652,
    position_id_per_seconds=13,
    seconds_per_chunk=2,
    accept_hidden_layer=24,
    thinker_hidden_size=2048,
    spatial_merge_size=2,
    speaker_id={"chelsie": 2301, "ethan": 2302, "aiden": 2303},
)

# Qwen3-Omni's added tokens, ids 151643 + i. <tool_call> .. </think> (151657..151668: the tool,
# fim, repo/file, tool_response and think tags) are not special, as in Qwen2.5's and Qwen3's
# tokenizer_config.json (decode(skip_special_tokens=True) keeps <think>); the rest are.
ADDED_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
    "<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>", "<tts_text_eod>",
    "<tts_text_bos_single>", "<|audio_pad|>",
]  # fmt: skip
FIRST_ADDED_ID = 151643
NOT_SPECIAL = set(ADDED_TOKENS[ADDED_TOKENS.index("<tool_call>") : ADDED_TOKENS.index("</think>") + 1])
# What transformers' Qwen3OmniMoeProcessor reads off the tokenizer (tokenizer.audio_token, ...).
NAMED_TOKENS = {
    "image_token": "<|image_pad|>",
    "audio_token": "<|audio_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
    "audio_bos_token": "<|audio_start|>",
    "audio_eos_token": "<|audio_end|>",
}

# A minimal Qwen3-style template, for when no fixture template is at hand: no default system
# turn, each audio part rendered as <|audio_start|><|audio_pad|><|audio_end|> (the processor
# repeats the pad to the clip's token count).
MINIMAL_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "<|audio_start|><|audio_pad|><|audio_end|>"
    "{% elif content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# ----------------------------------------------------------------------------------------------
# config files


def make_config(layers):
    from transformers import Qwen3OmniMoeConfig

    return Qwen3OmniMoeConfig(
        enable_audio_output=False,
        architectures=["Qwen3OmniMoeForConditionalGeneration"],
        dtype="bfloat16",
        thinker_config=dict(
            audio_config=dict(AUDIO),
            vision_config=dict(VISION),
            text_config=dict(TEXT, num_hidden_layers=layers),
            **THINKER_IDS,
        ),
        talker_config=dict(TALKER),
    )


def check_config(path, layers):
    """config.json holds every value of §0 (head_dim included), as written."""
    cfg = json.load(open(path))
    th = cfg["thinker_config"]
    want = [
        ((), dict(model_type="qwen3_omni_moe", enable_audio_output=False)),
        (("thinker_config",), THINKER_IDS),
        (("thinker_config", "audio_config"), AUDIO),
        (("thinker_config", "text_config"), dict(TEXT, num_hidden_layers=layers)),
    ]
    for where, values in want:
        d = cfg
        for k in where:
            d = d[k]
        for k, v in values.items():
            if k not in d or d[k] != v:
                sys.exit(f"config.json: {'.'.join(where + (k,))} is {d.get(k, '<missing>')!r}, want {v!r}")
    if th["text_config"]["head_dim"] * th["text_config"]["num_attention_heads"] == th["text_config"]["hidden_size"]:
        sys.exit("config.json: head_dim equals hidden/heads; the real model's does not")


def write_preprocessor_config(path):
    fe = whisper_feature_extractor(128, 300, dither=0.0)
    d = {"processor_class": "Qwen3OmniMoeProcessor"}
    d.update(fe.to_dict())
    for key in ("mel_filters", "window"):
        d.pop(key, None)
    want = dict(
        feature_extractor_type="WhisperFeatureExtractor", feature_size=128, sampling_rate=16000, hop_length=160,
        n_fft=400, chunk_length=300, n_samples=4800000, nb_max_frames=30000, padding_value=0.0, dither=0.0,
        return_attention_mask=True,
    )  # fmt: skip
    for k, v in want.items():
        if d.get(k) != v:
            sys.exit(f"preprocessor_config.json: {k} is {d.get(k)!r}, want {v!r}")
    write_json(path, dict(sorted(d.items())), ensure_ascii=True)


# ----------------------------------------------------------------------------------------------
# tokenizer


def write_tokenizer(qwen25_tokenizer_json, out):
    """tokenizer.json: Qwen2.5's BPE, normaliser, pre-tokeniser, post-processor and decoder, with
    Qwen3-Omni's added tokens; tokenizer_config.json in the Qwen3 hub layout."""
    tok = json.load(open(qwen25_tokenizer_json, encoding="utf-8"))
    vocab = tok["model"]["vocab"]
    if tok["model"]["type"] != "BPE" or len(vocab) != FIRST_ADDED_ID or max(vocab.values()) != FIRST_ADDED_ID - 1:
        sys.exit(f"{qwen25_tokenizer_json}: not a byte-level BPE with {FIRST_ADDED_ID} regular tokens")
    clash = [t for t in ADDED_TOKENS if t in vocab]
    if clash:
        sys.exit(f"added tokens already in the BPE vocabulary: {clash}")
    added = [
        dict(id=FIRST_ADDED_ID + i, content=t, single_word=False, lstrip=False, rstrip=False, normalized=False,
             special=t not in NOT_SPECIAL)
        for i, t in enumerate(ADDED_TOKENS)
    ]  # fmt: skip
    tok["added_tokens"] = added
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, indent=2, ensure_ascii=False)
        f.write("\n")

    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(a["id"]): {k: a[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
            for a in added
        },
        "additional_special_tokens": [t for t in ADDED_TOKENS[1:] if t not in NOT_SPECIAL],
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "extra_special_tokens": NAMED_TOKENS,
        "model_max_length": TEXT["max_position_embeddings"],
        "pad_token": "<|endoftext|>",
        "processor_class": "Qwen3OmniMoeProcessor",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    write_json(os.path.join(out, "tokenizer_config.json"), config)


def check_tokenizer(out):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    if tok.get_vocab_size(with_added_tokens=True) != FIRST_ADDED_ID + len(ADDED_TOKENS):
        sys.exit(f"tokenizer.json: {tok.get_vocab_size(with_added_tokens=True)} tokens")
    ids = tok.encode("<|audio_start|><|audio_pad|><|audio_end|>", add_special_tokens=False).ids
    if ids != [151669, 151675, 151670]:
        sys.exit(f"the audio placeholder encodes to {ids}")
    for i, t in enumerate(ADDED_TOKENS):
        if tok.token_to_id(t) != FIRST_ADDED_ID + i:
            sys.exit(f"{t} has id {tok.token_to_id(t)}")
    text = "The quick brown fox jumps over the lazy dog, twice: 1234 times! Isn't it?\nÇa va."
    enc = tok.encode(text, add_special_tokens=False)
    if tok.decode(enc.ids, skip_special_tokens=False) != text or max(enc.ids) >= FIRST_ADDED_ID:
        sys.exit(f"{text!r} does not round-trip: {enc.ids}")
    prompt = (
        "<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|>What is this?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    pids = tok.encode(prompt, add_special_tokens=False).ids
    print(f"  tokenizer: {tok.get_vocab_size(with_added_tokens=True)} tokens; audio placeholder -> "
          f"[151669, 151675, 151670]; {text!r} -> {len(enc.ids)} tokens, round-trips; prompt -> {pids}")

    # transformers reads it too, with the named tokens its Qwen3-Omni processor needs.
    from transformers import AutoTokenizer

    ht = AutoTokenizer.from_pretrained(out)
    got = {k: (getattr(ht, k), getattr(ht, k + "_id")) for k in ("audio_token", "audio_bos_token", "audio_eos_token")}
    want = {"audio_token": ("<|audio_pad|>", 151675), "audio_bos_token": ("<|audio_start|>", 151669),
            "audio_eos_token": ("<|audio_end|>", 151670)}  # fmt: skip
    if got != want or ht.eos_token_id != 151645 or ht.pad_token_id != 151643:
        sys.exit(f"transformers reads the tokenizer as {got}, eos {ht.eos_token_id}, pad {ht.pad_token_id}")
    if ht(prompt, add_special_tokens=False).input_ids != pids:
        sys.exit("transformers and tokenizers encode the prompt differently")
    print(f"  transformers: {type(ht).__name__}, named audio tokens {got}")


def write_template(out, template):
    path = os.path.join(out, "chat_template.jinja")
    if template:
        shutil.copyfile(template, path)
        shown = os.path.relpath(template, REPO) if os.path.abspath(template).startswith(REPO) else template
        print(f"  chat_template.jinja: copied from {shown}")
    else:
        with open(path, "w") as f:
            f.write(MINIMAL_TEMPLATE)
        print("  chat_template.jinja: the minimal Qwen3-style template")
    import jinja2

    content = [{"type": "audio", "audio": "x.wav"}, {"type": "text", "text": "What is this?"}]
    rendered = jinja2.Environment().from_string(open(path).read()).render(
        messages=[{"role": "user", "content": content}], add_generation_prompt=True
    )
    if "<|audio_start|><|audio_pad|><|audio_end|>" not in rendered or not rendered.endswith("<|im_start|>assistant\n"):
        sys.exit(f"chat_template.jinja renders {rendered!r}")
    print(f"    renders {rendered!r}")


# ----------------------------------------------------------------------------------------------
# tensors


def thinker_tensors(layers):
    """[(hub name, shape)] of the thinker's audio+text tensors, in layer order (§4)."""
    a, t = AUDIO, TEXT
    d, ffn, ds = a["d_model"], a["encoder_ffn_dim"], a["downsample_hidden_size"]
    h, hd, e, moe = t["hidden_size"], t["head_dim"], t["num_experts"], t["moe_intermediate_size"]
    q, kv = t["num_attention_heads"] * hd, t["num_key_value_heads"] * hd
    # Three stride-2 3x3 convs over the 128 mel bins: 128 -> 64 -> 32 -> 16, times 480 channels.
    freq = a["num_mel_bins"]
    for _ in range(3):
        freq = (freq + 2 * 1 - 3) // 2 + 1
    out = []
    at = "thinker.audio_tower."
    out += [(at + "conv2d1.weight", [ds, 1, 3, 3]), (at + "conv2d1.bias", [ds])]
    for c in ("conv2d2", "conv2d3"):
        out += [(at + c + ".weight", [ds, ds, 3, 3]), (at + c + ".bias", [ds])]
    out.append((at + "conv_out.weight", [d, ds * freq]))
    for n in range(a["encoder_layers"]):
        p = f"{at}layers.{n}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(f"{p}self_attn.{proj}.weight", [d, d]), (f"{p}self_attn.{proj}.bias", [d])]
        out += [(f"{p}self_attn_layer_norm.weight", [d]), (f"{p}self_attn_layer_norm.bias", [d])]
        out += [(f"{p}fc1.weight", [ffn, d]), (f"{p}fc1.bias", [ffn])]
        out += [(f"{p}fc2.weight", [d, ffn]), (f"{p}fc2.bias", [d])]
        out += [(f"{p}final_layer_norm.weight", [d]), (f"{p}final_layer_norm.bias", [d])]
    out += [(at + "ln_post.weight", [d]), (at + "ln_post.bias", [d])]
    out += [(at + "proj1.weight", [d, d]), (at + "proj1.bias", [d])]
    out += [(at + "proj2.weight", [a["output_dim"], d]), (at + "proj2.bias", [a["output_dim"]])]
    out.append(("thinker.model.embed_tokens.weight", [t["vocab_size"], h]))
    for n in range(layers):
        p = f"thinker.model.layers.{n}."
        out += [(p + "input_layernorm.weight", [h])]
        out += [(p + "self_attn.q_proj.weight", [q, h]), (p + "self_attn.k_proj.weight", [kv, h])]
        out += [(p + "self_attn.v_proj.weight", [kv, h]), (p + "self_attn.o_proj.weight", [h, q])]
        out += [(p + "self_attn.q_norm.weight", [hd]), (p + "self_attn.k_norm.weight", [hd])]
        out += [(p + "post_attention_layernorm.weight", [h]), (p + "mlp.gate.weight", [e, h])]
        for x in range(e):
            px = f"{p}mlp.experts.{x}."
            out += [(px + "gate_proj.weight", [moe, h]), (px + "up_proj.weight", [moe, h])]
            out += [(px + "down_proj.weight", [h, moe])]
    out += [("thinker.model.norm.weight", [h]), ("thinker.lm_head.weight", [t["vocab_size"], h])]
    return out


def shard(tensors, shard_bytes):
    """Greedy shards in order, each at most shard_bytes (or one tensor): {name: shard file}."""
    groups, size = [[]], 0
    for name, shape in tensors:
        n = 2 * math.prod(shape)
        if groups[-1] and size + n > shard_bytes:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += n
    k = len(groups)
    return {name: f"model-{i + 1:05d}-of-{k:05d}.safetensors" for i, g in enumerate(groups) for name in g}


def cross_check(config_dir, tensors):
    """Shapes against a full-size meta-device model built from config.json; names against a tiny
    model's save_pretrained."""
    import torch
    from safetensors import safe_open
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration

    mine = dict(tensors)
    cfg = Qwen3OmniMoeConfig.from_pretrained(config_dir)
    with torch.device("meta"):
        model = Qwen3OmniMoeForConditionalGeneration(cfg)
    if hasattr(model, "talker"):
        sys.exit("the model built a talker: enable_audio_output is not false")
    theirs = {}
    for k, v in model.state_dict().items():
        if k.startswith("thinker.model.visual."):
            continue
        k = k.replace("thinker.model.audio_tower.", "thinker.audio_tower.")
        k = k.replace("thinker.model.language_model.", "thinker.model.")
        shape = list(v.shape)
        m = re.fullmatch(r"(.*\.mlp\.experts)\.(gate_up_proj|down_proj)", k)
        if m:  # fused banks [E, 2I, H] (gate first) and [E, H, I], split per expert on save
            for x in range(shape[0]):
                if m.group(2) == "gate_up_proj":
                    half = [shape[1] // 2, shape[2]]
                    theirs[f"{m.group(1)}.{x}.gate_proj.weight"] = half
                    theirs[f"{m.group(1)}.{x}.up_proj.weight"] = half
                else:
                    theirs[f"{m.group(1)}.{x}.down_proj.weight"] = shape[1:]
        else:
            theirs[k] = shape
    if set(theirs) != set(mine):
        sys.exit(f"names differ from transformers' model: only here {sorted(set(mine) - set(theirs))[:5]}, "
                 f"only there {sorted(set(theirs) - set(mine))[:5]}")  # fmt: skip
    bad = [(k, mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]]
    if bad:
        sys.exit(f"shapes differ from transformers' model: {bad[:5]}")
    print(f"  cross-check 1: the {len(mine)} names and shapes are those of a full-size "
          "Qwen3OmniMoeForConditionalGeneration built from config.json on the meta device (visual left out)")
    del model

    # save_pretrained's on-disk names, at tiny sizes but the same structure.
    tiny = Qwen3OmniMoeConfig(
        enable_audio_output=False,
        thinker_config=dict(
            audio_config=dict(AUDIO, d_model=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=32,
                              downsample_hidden_size=4, output_dim=32, max_source_positions=64),
            vision_config=dict(depth=1, hidden_size=16, intermediate_size=16, num_heads=2, out_hidden_size=32,
                               deepstack_visual_indexes=[0]),
            text_config=dict(TEXT, vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, head_dim=16, moe_intermediate_size=8, intermediate_size=8,
                             num_experts=4, num_experts_per_tok=2,
                             rope_parameters=dict(TEXT["rope_parameters"], mrope_section=[4, 2, 2])),
            **THINKER_IDS,
        ),
    )  # fmt: skip
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        Qwen3OmniMoeForConditionalGeneration(tiny).save_pretrained(tmp)
        saved = set()
        for fn in os.listdir(tmp):
            if fn.endswith(".safetensors"):
                with safe_open(os.path.join(tmp, fn), "pt") as f:
                    saved |= set(f.keys())

    def pattern(name):
        return re.sub(r"\.experts\.\d+\.", ".experts.E.", re.sub(r"\.layers\.\d+\.", ".layers.N.", name))

    saved = {pattern(k) for k in saved if not k.startswith("thinker.visual.")}
    here = {pattern(k) for k in mine}
    if saved != here:
        sys.exit(f"name patterns differ from a tiny model's save_pretrained: only here {sorted(here - saved)}, "
                 f"only there {sorted(saved - here)}")  # fmt: skip
    print(f"  cross-check 2: the {len(here)} name patterns are those a tiny model's save_pretrained writes "
          "(thinker.visual.* left out)")


# ----------------------------------------------------------------------------------------------
# parameter counts


def report(tensors, layers):
    n = {k: math.prod(s) for k, s in tensors}
    t = TEXT

    def total(pred):
        return sum(v for k, v in n.items() if pred(k))

    audio = total(lambda k: k.startswith("thinker.audio_tower."))
    embed = n["thinker.model.embed_tokens.weight"]
    head = n["thinker.lm_head.weight"]
    final_norm = n["thinker.model.norm.weight"]
    p0 = "thinker.model.layers.0."
    attn = total(lambda k: k.startswith(p0 + "self_attn."))
    norms = n[p0 + "input_layernorm.weight"] + n[p0 + "post_attention_layernorm.weight"]
    router = n[p0 + "mlp.gate.weight"]
    experts = total(lambda k: k.startswith(p0 + "mlp.experts."))
    one_expert = experts // t["num_experts"]
    layer = attn + norms + router + experts
    assert sum(n.values()) == audio + embed + head + final_norm + layers * layer

    def whole(nl):
        return audio + embed + head + final_norm + nl * layer

    def active(nl):  # one decoded token: one embedding row, top-k experts per layer
        per_layer = attn + norms + router + t["num_experts_per_tok"] * one_expert
        return t["hidden_size"] + nl * per_layer + final_norm + head

    b = lambda x: f"{x:,} ({x / 1e9:.3f} B)"  # noqa: E731
    print("parameters (bfloat16, 2 bytes each):")
    print(f"  audio encoder (32 layers, conv front end, proj1/proj2)  {b(audio)}")
    print(f"  embed_tokens                                            {b(embed)}")
    print(f"  lm_head                                                 {b(head)}")
    print(f"  final norm                                              {final_norm:,}")
    print(f"  per decoder layer: attention (q,k,v,o, q_norm, k_norm)  {attn:,}")
    print(f"                     2 RMSNorms                           {norms:,}")
    print(f"                     router (mlp.gate)                    {router:,}")
    print(f"                     128 experts                          {experts:,} (one expert {one_expert:,})")
    print(f"                     whole layer                          {layer:,}")
    print(f"  this checkpoint ({layers} layers): {len(tensors):,} tensors, {b(whole(layers))}, "
          f"{2 * whole(layers) / 1e9:.2f} GB")
    print(f"  the real thinker's audio+text part ({REAL_LAYERS} layers): {b(whole(REAL_LAYERS))}, "
          f"{2 * whole(REAL_LAYERS) / 1e9:.2f} GB")
    print("active parameters per decoded token (one embedding row, attention + norms + router + "
          f"{t['num_experts_per_tok']} of {t['num_experts']} experts per layer, final norm, lm_head):")
    print(f"  {REAL_LAYERS} layers: {b(active(REAL_LAYERS))}, {2 * active(REAL_LAYERS) / 1e9:.2f} GB read per token")
    print(f"  {layers} layers: {b(active(layers))}, {2 * active(layers) / 1e9:.2f} GB read per token")


# ----------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("hub_out")
    p.add_argument("--layers", type=int, default=12, help=f"text decoder layers (the real model has {REAL_LAYERS})")
    p.add_argument("--qwen25-tokenizer", required=True, help="a Qwen2.5(-Omni) tokenizer.json")
    p.add_argument("--template", help="chat_template.jinja to copy")
    p.add_argument("--shard-gb", type=float, default=4.0, help="largest shard, in GB (10^9 bytes)")
    p.add_argument("--skip-cross-check", action="store_true", help="do not build transformers models to check")
    args = p.parse_args()
    if not 1 <= args.layers <= REAL_LAYERS:
        p.error(f"--layers must be 1..{REAL_LAYERS}")
    template = args.template or (FIXTURE_TEMPLATE if os.path.exists(FIXTURE_TEMPLATE) else None)
    out = args.hub_out
    os.makedirs(out, exist_ok=True)
    print(f"{out}: Qwen3-Omni-30B-A3B-Instruct thinker hub files, {args.layers} of {REAL_LAYERS} text layers")

    make_config(args.layers).save_pretrained(out)
    check_config(os.path.join(out, "config.json"), args.layers)
    print("  config.json: qwen3_omni_moe, enable_audio_output false, real thinker values (checked)")
    greedy_generation_config(151645, 151643).save_pretrained(out)
    write_preprocessor_config(os.path.join(out, "preprocessor_config.json"))
    write_tokenizer(args.qwen25_tokenizer, out)
    check_tokenizer(out)
    write_template(out, template)

    tensors = thinker_tensors(args.layers)
    weight_map = shard(tensors, int(args.shard_gb * 1e9))
    total_size = sum(2 * math.prod(s) for _, s in tensors)
    write_json(os.path.join(out, INDEX),
               {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))})  # fmt: skip
    with open(os.path.join(out, SHAPES), "w") as f:
        json.dump({k: [s, "torch.bfloat16"] for k, s in tensors}, f, indent=1)
        f.write("\n")
    shards = sorted(set(weight_map.values()))
    print(f"  {INDEX}: {len(tensors):,} tensors in {len(shards)} shards, total_size {total_size:,} bytes")
    if not args.skip_cross_check:
        cross_check(out, tensors)
    report(tensors, args.layers)


if __name__ == "__main__":
    main()
