#!/usr/bin/env python3
"""Shrunk "shape-real" checkpoints of Qwen2-Audio-7B-Instruct and Qwen2.5-Omni-7B, with
transformers reference outputs, for `tests/shape_real_parity.rs`.

    python scripts/make_shape_real_fixtures.py HUB_FILES_ROOT

HUB_FILES_ROOT holds the real hub files, without weights, of the two checkpoints:
`HUB_FILES_ROOT/Qwen2-Audio-7B-Instruct/` and `HUB_FILES_ROOT/Qwen2.5-Omni-7B/` (config.json,
tokenizer files, chat template, preprocessor_config.json, model.safetensors.index.json and
tensor_shapes.reconstructed.json). Nothing else is read, and nothing comes from a model hub.

Everything is kept real except the widths and depths of the networks:
- the tokenizer files (tokenizer.json, tokenizer_config.json, vocab.json, merges.txt,
  added_tokens.json, special_tokens_map.json), the chat template, preprocessor_config.json and
  (Omni) generation_config.json are copied byte for byte;
- config.json is the real one with only the size fields changed (hidden width, layers, heads,
  KV heads, intermediate size, encoder width/layers/heads/FFN, and the sizes that follow from them);
- the vocabulary (156,032 / 152,064 rows), the special token ids, the mel bins, the front-end
  window (30 s / 300 s), max_source_positions 1500 and Omni's n_window 100 are the real ones;
- the weights are random, stored in bfloat16 (token2wav in float32, as the hub stores it) under
  the hub's real tensor names, split into shards the way the hub splits the real ones, with a
  model.safetensors.index.json.

    python scripts/make_shape_real_fixtures.py --wide OUT_ROOT HUB_FILES_ROOT

--wide writes the same two checkpoints with decoders wide enough for every quantized format
(hidden 256, FFN 1024, 4 heads of 64: q4_k needs rows of 256) into OUT_ROOT, without references,
for measuring what quantization changes (`examples/quantization_quality.rs`); never committed.

Writes tests/fixtures/shape_real/ (see the README.md it writes there). Deterministic: a re-run
gives byte-identical files (fixed seeds, one torch thread, sorted safetensors headers).
Must run with the transformers version named in the README (5.24) for the references to hold.
"""

import json
import math
import os
import re
import shutil
import sys
import tempfile
import zlib

import numpy as np
import tokenizers
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import (
    Qwen2_5OmniConfig,
    Qwen2_5OmniForConditionalGeneration,
    Qwen2_5OmniProcessor,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2AudioConfig,
    Qwen2AudioForConditionalGeneration,
    Qwen2AudioProcessor,
)

# scripts/ is on sys.path when this runs as `python scripts/make_shape_real_fixtures.py`.
from fixture_support import (
    CLIPS,
    NORM_WEIGHT,
    OMNI_SYSTEM,
    add_omni_named_tokens,
    audio_conversation,
    audio_span,
    fresh_dir,
    greedy_generation_config,
    greedy_reference,
    print_folder_summary,
    process_prompt,
    read_clip_16k,
    reference_metadata,
    save_reference,
    save_safetensors,
    tensor_table,
    write_json,
    write_speaker_dict,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join("tests", "fixtures", "shape_real")
N_NEW = 24
# Smallest top-1/top-2 logit gap accepted at any greedy step (seeds are picked to pass it).
MIN_MARGIN = 0.05
# Above this many prompt tokens, a case stores the attention of a sample of query rows only.
FULL_ATTENTION_MAX_SEQ = 300
LOGIT_COLUMNS = 128

TOKENIZER_FILES = [
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "special_tokens_map.json",
]

CAREFUL = "You are a careful listener."

SPECS = {
    "qwen2_audio": dict(
        hub="Qwen2-Audio-7B-Instruct",
        out="qwen2_audio_hub",
        v5_out="qwen2_audio_v5",
        seed=None,  # set below
        # copied verbatim besides the tokenizer files
        files=["preprocessor_config.json", "chat_template.json"],
        text=dict(hidden_size=16, intermediate_size=44, num_hidden_layers=4, num_attention_heads=2,
                  num_key_value_heads=2),
        audio=dict(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64),
        cases=[
            ("short.wav", "What sound is this?", None),
            ("mid.wav", "Is the pitch rising or falling? Answer A or B.", CAREFUL),
            ("long.wav", "Describe the audio.", None),
        ],
    ),
    "qwen2_5_omni": dict(
        hub="Qwen2.5-Omni-7B",
        out="qwen2_5_omni_hub",
        seed=None,  # set below
        files=["preprocessor_config.json", "chat_template.json", "generation_config.json"],
        text=dict(hidden_size=16, intermediate_size=84, num_hidden_layers=4, num_attention_heads=2,
                  num_key_value_heads=1),
        mrope_section=[1, 1, 2],  # head_dim 8 (the 7B: 128 and [16, 24, 24])
        audio=dict(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64),
        vision=dict(depth=2, hidden_size=16, intermediate_size=16, num_heads=2, fullatt_block_indexes=[1]),
        talker=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                    num_key_value_heads=1, head_dim=8),
        dit=dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, head_dim=8, emb_dim=8,
                 enc_emb_dim=8, enc_dim=8, enc_channels=[8, 8, 8, 8, 24], enc_attention_channels=4,
                 enc_se_channels=4, look_ahead_layers=[1], look_backward_layers=[0]),
        bigvgan=dict(upsample_initial_channel=64),
        cases=[
            ("short.wav", "What sound is this?", OMNI_SYSTEM),
            ("mid.wav", "Is the pitch rising or falling? Answer A or B.", None),
            ("long.wav", "Describe the audio.", CAREFUL),
        ],
    ),
}
# Seeds picked (scripts/make_shape_real_fixtures.py --search-seeds N HUB_FILES_ROOT) so that every
# greedy step of every case has a top-1/top-2 logit gap of at least MIN_MARGIN, no eos id wins a
# step, and no case's 24 tokens are one token repeated (16 or more distinct ids in each).
SPECS["qwen2_audio"]["seed"] = 7
SPECS["qwen2_5_omni"]["seed"] = 4

# The --wide decoders: every linear layer's input width a multiple of 256 (q4_k's block).
WIDE_TEXT = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=4)


def wide_spec(family, spec):
    kv_heads = 1 if family == "qwen2_5_omni" else 4
    wide = dict(spec, text=dict(WIDE_TEXT, num_key_value_heads=kv_heads))
    if family == "qwen2_5_omni":
        wide["mrope_section"] = [8, 12, 12]  # head_dim 64, in the 7B's proportions
    return wide

# Random values: weights N(0, gain²/fan_in), q/k projections sharper, a wide-logit head, norm
# weights 1 + N(0, 0.2²), biases N(0, 0.1²), so attention and logits are far from uniform and a
# loader that drops a bias or a norm weight fails.
GAIN = 1.0
QK_GAIN = 1.5
HEAD_GAIN = 8.0


# ----------------------------------------------------------------------------------------------
# configs


def shrink_qwen2_audio_config(real, spec):
    cfg = json.loads(json.dumps(real))  # deep copy, key order kept
    cfg["text_config"].update(spec["text"])
    cfg["audio_config"].update(spec["audio"])
    return cfg


def shrink_omni_config(real, spec):
    cfg = json.loads(json.dumps(real))
    cfg.pop("_reconstructed_note", None)  # a note of the reconstruction, not a config key
    thinker = cfg["thinker_config"]
    text = thinker["text_config"]
    text.update(spec["text"])
    text["layer_types"] = text["layer_types"][: spec["text"]["num_hidden_layers"]]
    for key in ("rope_parameters", "rope_scaling"):
        text[key]["mrope_section"] = list(spec["mrope_section"])
    hidden = spec["text"]["hidden_size"]
    assert 2 * sum(spec["mrope_section"]) == hidden // spec["text"]["num_attention_heads"]
    thinker["audio_config"].update(spec["audio"], output_dim=hidden)
    thinker["vision_config"].update(spec["vision"], out_hidden_size=hidden)
    talker = cfg["talker_config"]
    talker.update(spec["talker"], embedding_size=hidden)
    talker["layer_types"] = talker["layer_types"][: spec["talker"]["num_hidden_layers"]]
    for key in ("rope_parameters", "rope_scaling"):
        talker[key]["mrope_section"] = list(spec["mrope_section"])
    cfg["token2wav_config"]["dit_config"].update(spec["dit"])
    cfg["token2wav_config"]["bigvgan_config"].update(spec["bigvgan"])
    return cfg


def size_changes(real, shrunk, path=""):
    """[(key path, real value, shrunk value)] for every value that differs (or is new)."""
    out = []
    if isinstance(shrunk, dict):
        for k, v in shrunk.items():
            sub = f"{path}.{k}" if path else k
            if isinstance(real, dict) and k in real:
                out += size_changes(real[k], v, sub)
            else:
                out.append((sub, None, v))
        for k in (real or {}):
            if k not in shrunk:
                out.append((f"{path}.{k}" if path else k, real[k], "(removed)"))
    elif real != shrunk:
        out.append((path, real, shrunk))
    return out


# ----------------------------------------------------------------------------------------------
# weights


def fan_in(shape):
    return math.prod(shape[1:]) if len(shape) > 1 else 1


def random_tensor(name, shape, seed):
    g = torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % (2**63))
    x = torch.randn(shape, generator=g, dtype=torch.float32)
    leaf = name.rsplit(".", 2)
    if NORM_WEIGHT.search(name):
        return 1.0 + 0.2 * x
    if name.endswith(".bias"):
        return 0.1 * x
    if "embed_tokens" in name or "embed_positions" in name:
        return x * (1.0 if "embed_tokens" in name else 0.5)
    if name.endswith("lm_head.weight"):
        return x * (HEAD_GAIN / math.sqrt(fan_in(shape)))
    if len(leaf) >= 2 and leaf[-2] in ("q_proj", "k_proj", "q", "k"):
        return x * (QK_GAIN / math.sqrt(fan_in(shape)))
    return x * (GAIN / math.sqrt(fan_in(shape)))


def saved_names(model):
    """{name: (shape, torch dtype)} as transformers' save_pretrained writes this model."""
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, safe_serialization=True)
        files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
        names = {}
        for fn in files:
            with safe_open(os.path.join(d, fn), "pt") as f:
                for k in f.keys():
                    s = f.get_slice(k)
                    names[k] = (tuple(s.get_shape()), s.get_dtype())
        return names


def normalise(name):
    return re.sub(r"\.\d+(?=\.|$)", ".N", name)


def check_against_hub(names, hub_shapes, label):
    """The shrunk checkpoint's tensors are the hub's, with fewer layers and narrower shapes:
    every name is a hub name (layer indices aside), every hub name is there (for the layers
    kept), and every shape has the hub shape's rank."""
    hub_norm = {}
    for k, (shape, _dtype) in hub_shapes.items():
        hub_norm.setdefault(normalise(k), len(shape))
    ours_norm = {}
    for k, (shape, _dtype) in names.items():
        n = normalise(k)
        if n not in hub_norm:
            sys.exit(f"{label}: {k} has no counterpart in the hub's tensor names")
        if hub_norm[n] != len(shape):
            sys.exit(f"{label}: {k} has rank {len(shape)}, the hub's {hub_norm[n]}")
        ours_norm.setdefault(n, k)
    missing = sorted(set(hub_norm) - set(ours_norm))
    if missing:
        sys.exit(f"{label}: hub tensors without a counterpart here: {missing[:10]}")
    # The width-independent dims are the hub's: vocabulary rows, positions, mel bins, kernels.
    fixed = {156032, 152064, 8448, 8194, 1500}
    for k, (shape, _) in names.items():
        if k not in hub_shapes:
            continue
        real = hub_shapes[k][0]
        for axis, (ours, theirs) in enumerate(zip(shape, real)):
            kernel = len(real) == 3 and axis == 2
            mel_in = k.endswith("audio_tower.conv1.weight") and axis == 1
            if (theirs in fixed or kernel or mel_in) and ours != theirs:
                sys.exit(f"{label}: {k} axis {axis} is {ours}, the hub's {theirs}")
    return len(names)


def layer_counts(names):
    """{container: number of layers} for the names with a layer index (`container.N.rest`)."""
    counts = {}
    for k in names:
        m = re.search(r"\.(\d+)\.", k)
        if m:
            container = k[: m.start()]
            counts[container] = max(counts.get(container, 0), int(m.group(1)) + 1)
    return counts


def assign_shards(names, hub_index):
    """Shard of each tensor: the hub shard of its counterpart, layer i of n mapped to the hub's
    layer (i + 1/2)·L/n, so the layers spread over the shards as the real ones do. Empty shards
    are dropped and the rest renumbered in the hub's order."""
    weight_map = hub_index["weight_map"]
    counts = layer_counts(weight_map)
    ours = layer_counts(names)
    by_norm = {}
    for k in sorted(weight_map):
        by_norm.setdefault(normalise(k), weight_map[k])
    chosen = {}
    for k in names:
        m = re.search(r"\.(\d+)\.", k)
        target = k
        if m:
            container = k[: m.start()]
            i, n, hub_n = int(m.group(1)), ours[container], counts[container]
            mapped = min(hub_n - 1, int((i + 0.5) * hub_n / n))
            target = f"{container}.{mapped}.{k[m.end():]}"
        chosen[k] = weight_map.get(target) or by_norm[normalise(k)]
    used = sorted(set(chosen.values()))
    rename = {old: f"model-{i + 1:05d}-of-{len(used):05d}.safetensors" for i, old in enumerate(used)}
    return {k: rename[v] for k, v in chosen.items()}


def write_weights(out_dir, tensors, shard_of):
    """Shards (safetensors order: by alignment, then name; metadata format=pt) and the index."""
    by_shard = {}
    for name in tensors:
        by_shard.setdefault(shard_of[name], []).append(name)
    total = 0
    for shard, names in sorted(by_shard.items()):
        names.sort(key=lambda n: (-tensors[n].element_size(), n))
        total += save_safetensors(tensors, os.path.join(out_dir, shard), {"format": "pt"}, order=names)
    index = {"metadata": {"total_size": total}, "weight_map": {k: shard_of[k] for k in sorted(tensors)}}
    write_json(os.path.join(out_dir, "model.safetensors.index.json"), index, ensure_ascii=True)
    return {s: len(n) for s, n in sorted(by_shard.items())}, total


QWEN2_AUDIO_RENAMES = (
    ("language_model.model.", "model.language_model."),
    ("language_model.lm_head.", "lm_head."),
    ("audio_tower.", "model.audio_tower."),
    ("multi_modal_projector.", "model.multi_modal_projector."),
)


def qwen2_audio_internal_name(hub_name):
    """transformers 5's in-memory name for a Qwen2-Audio hub name (its conversion_mapping)."""
    for hub, internal in QWEN2_AUDIO_RENAMES:
        if hub_name.startswith(hub):
            return internal + hub_name[len(hub):]
    raise ValueError(hub_name)


def qwen2_audio_hub_name(name):
    """The hub name of a Qwen2-Audio tensor named either way."""
    for hub, internal in QWEN2_AUDIO_RENAMES:
        if name.startswith(internal):
            return hub + name[len(internal):]
    return name


def assert_loads_exactly(model_cls, directory, tensors, label, loading_info=True, to_hub=lambda n: n):
    """Loads `directory` with transformers, in float32: no missing or unexpected tensors, and
    every parameter equals the bf16 value written, widened (checked through save_pretrained,
    which gives back the names it read, mapped by `to_hub` to the hub's: a tensor missing from
    the files would come back as an extra one, randomly initialised)."""
    kw = dict(attn_implementation="eager", dtype=torch.float32)
    if loading_info:
        model, info = model_cls.from_pretrained(directory, output_loading_info=True, **kw)
        problems = {k: v for k, v in info.items() if v}
        if problems:
            sys.exit(f"{label}: transformers loaded with {problems}")
    else:
        # Qwen2_5OmniForConditionalGeneration.from_pretrained cannot return loading info.
        model = model_cls.from_pretrained(directory, **kw)
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, safe_serialization=True)
        back = {}
        for fn in os.listdir(d):
            if fn.endswith(".safetensors"):
                back.update({to_hub(k): v for k, v in load_file(os.path.join(d, fn)).items()})
    for name, value in tensors.items():
        key = name
        if key not in back:
            sys.exit(f"{label}: {name} not in the loaded model")
        if not torch.equal(back[key].float(), value.float()):
            sys.exit(f"{label}: {name} differs after loading")
    extra = set(back) - set(tensors)
    if extra:
        sys.exit(f"{label}: the loaded model has tensors not in the files: {sorted(extra)[:5]}")
    return model.eval()


# ----------------------------------------------------------------------------------------------
# reference cases


def attention_rows(seq, span):
    if seq <= FULL_ATTENTION_MAX_SEQ:
        return list(range(seq))
    rows = set(range(0, seq, 32)) | set(range(seq - 16, seq))
    rows |= {span[0] - 1, span[0], span[0] + 1, span[1] - 1, span[1], span[1] + 1}
    return sorted(r for r in rows if 0 <= r < seq)


def logit_columns(vocab, input_ids, generated, specials, audio_id, rng):
    cols = set(specials) | set(generated) | {vocab - 1, 0}
    cols |= {int(t) for t in input_ids if int(t) != audio_id}
    while len(cols) < LOGIT_COLUMNS:
        cols.add(int(rng.integers(0, vocab)))
    return sorted(cols)


def run_cases(family, spec, model, processor, out_dir, eos_ids, write):
    """Teacher-forced forward + greedy generation for each case; writes case_k.safetensors when
    `write`. Returns the cases.json entries (or margins only)."""
    is_omni = family == "qwen2_5_omni"
    thinker = model
    cfg = thinker.config
    audio_id = cfg.audio_token_id if is_omni else cfg.audio_token_index
    text_cfg = cfg.text_config
    vocab = text_cfg.vocab_size
    specials = sorted({audio_id, *eos_ids, *[i for i in range(151643, 151649)]})
    rng = np.random.default_rng(spec["seed"] + 7)
    results = []
    for k, (clip, prompt, system) in enumerate(spec["cases"]):
        clip_path = os.path.join(CLIPS, clip)
        samples = read_clip_16k(clip_path)
        text, inputs, _ = process_prompt(processor, audio_conversation(clip, prompt, system), samples)
        input_ids = inputs["input_ids"][0]
        span, n_audio = audio_span(input_ids, audio_id)
        valid = int(inputs["feature_attention_mask"][0].sum())
        assert n_audio == ((valid - 1) // 2 + 1 - 2) // 2 + 1, (n_audio, valid)

        captured = {}
        if is_omni:
            tower = thinker.model.audio_tower

            def hook(_m, _a, o):
                captured["audio"] = o.last_hidden_state.detach().clone()

            def lm_hook(_m, _args, kwargs):
                captured["position_ids"] = kwargs["position_ids"].detach().clone()

            hs = [tower.register_forward_hook(hook),
                  thinker.model.language_model.register_forward_pre_hook(lm_hook, with_kwargs=True)]
            thinker.model.rope_deltas = None
        else:
            def hook(_m, _a, o):
                captured["audio"] = o[0, :n_audio].detach().clone()

            hs = [thinker.model.multi_modal_projector.register_forward_hook(hook)]
        with torch.no_grad():
            out = thinker(**inputs, output_attentions=True, use_cache=False)
        for h in hs:
            h.remove()
        logits = out.logits[0].float()
        seq = int(input_ids.numel())
        assert captured["audio"].shape == (n_audio, text_cfg.hidden_size), captured["audio"].shape
        if is_omni:
            p = captured["position_ids"][:, 0, :]
            assert torch.equal(p[0], torch.arange(seq)) and torch.equal(p[0], p[1]) and torch.equal(p[0], p[2])

        if is_omni:
            thinker.model.rope_deltas = None
        gen_cfg = greedy_generation_config(*eos_ids)  # eos_ids: (<|im_end|>, <|endoftext|>)
        new, margins, first_eos, raw_argmax = greedy_reference(thinker, inputs, N_NEW, eos_ids, generation_config=gen_cfg)
        assert raw_argmax[0] == int(logits[-1].argmax())
        results.append(dict(margin=min(margins), first_eos=first_eos, seq=seq, distinct=len(set(new.tolist()))))
        if not write:
            continue

        rows = attention_rows(seq, span)
        cols = logit_columns(vocab, input_ids.tolist(), new.tolist(), specials, audio_id, rng)
        rows_t = torch.tensor(rows, dtype=torch.int64)
        cols_t = torch.tensor(cols, dtype=torch.int64)
        tensors = {
            "input_ids": input_ids.to(torch.int64).contiguous(),
            "audio_span": torch.tensor(span, dtype=torch.int64),
            "generated_ids": new.to(torch.int64).contiguous(),
            "audio_embeds": captured["audio"].float().contiguous(),
            "logits_rows": torch.tensor([seq - 1], dtype=torch.int64),
            "logits": logits[-1:].contiguous(),
            "logits_columns": cols_t,
            "logits_at_columns": logits[:, cols_t].contiguous(),
            "attn_rows": rows_t,
        }
        assert len(out.attentions) == text_cfg.num_hidden_layers
        for li, a in enumerate(out.attentions):
            tensors[f"attn.{li}"] = a[0][:, rows_t, :].float().contiguous()
        meta = reference_metadata(
            prompt, clip_path, text, n_audio, margins, first_eos, system_prompt="" if system is None else system
        )
        fname = f"case_{k}.safetensors"
        save_reference(tensors, os.path.join(out_dir, fname), meta)
        results[-1] = {
            "file": fname,
            "clip": clip_path,
            "clip_seconds": round(len(samples) / 16000, 4),
            "prompt": prompt,
            "system_prompt": system,
            "rendered_prompt": text,
            "seq_len": seq,
            "audio_tokens": n_audio,
            "audio_span": span,
            "mel_frames": int(inputs["input_features"].shape[-1]),
            "valid_mel_frames": valid,
            "truncated": valid < len(samples) // 160,
            "attention_rows": "all" if len(rows) == seq else len(rows),
            "generated_ids": new.tolist(),
            "generated_text": processor.tokenizer.decode(new.tolist()),
            "min_greedy_margin": min(margins),
            "first_eos_index_in_generated": first_eos,
            "tensors": tensor_table(tensors),
        }
        print(f"  {family} case_{k}: {clip}, seq {seq}, audio tokens {n_audio}, valid mel {valid}, "
              f"attention rows {len(rows)}, min margin {min(margins):.4f}, eos at {first_eos}")
    return results


# ----------------------------------------------------------------------------------------------
# one family


def build(family, spec, hub_dir, out_dir, write=True, references=True):
    is_omni = family == "qwen2_5_omni"
    real_cfg = json.load(open(os.path.join(hub_dir, "config.json")))
    hub_shapes = json.load(open(os.path.join(hub_dir, "tensor_shapes.reconstructed.json")))
    hub_index = json.load(open(os.path.join(hub_dir, "model.safetensors.index.json")))
    cfg = shrink_omni_config(real_cfg, spec) if is_omni else shrink_qwen2_audio_config(real_cfg, spec)

    fresh_dir(out_dir)
    write_json(os.path.join(out_dir, "config.json"), cfg)
    for fn in TOKENIZER_FILES + spec["files"]:
        shutil.copyfile(os.path.join(hub_dir, fn), os.path.join(out_dir, fn))
    if is_omni:
        add_omni_named_tokens(os.path.join(out_dir, "tokenizer_config.json"))

    config_cls = Qwen2_5OmniConfig if is_omni else Qwen2AudioConfig
    model_cls = Qwen2_5OmniForConditionalGeneration if is_omni else Qwen2AudioForConditionalGeneration
    config = config_cls.from_pretrained(out_dir)
    torch.manual_seed(spec["seed"])
    names = saved_names(model_cls(config))
    float32_prefixes = ["token2wav."] if is_omni else []
    n = check_against_hub(names, hub_shapes, family)
    tensors = {}
    for name in sorted(names):
        shape, _ = names[name]
        value = random_tensor(name, shape, spec["seed"])
        dtype = torch.float32 if any(name.startswith(p) for p in float32_prefixes) else torch.bfloat16
        tensors[name] = value.to(dtype)
    shard_of = assign_shards(tensors, hub_index)
    shards, total = write_weights(out_dir, tensors, shard_of)

    if not references:  # --wide: the checkpoint alone, read back exactly
        if is_omni:
            assert_loads_exactly_thinker(out_dir, tensors)
        else:
            assert_loads_exactly(Qwen2AudioForConditionalGeneration, out_dir, tensors, family)
        return None
    if is_omni:
        thinker = assert_loads_exactly_thinker(out_dir, tensors)
        processor = Qwen2_5OmniProcessor.from_pretrained(out_dir)
        assert processor.audio_token_id == thinker.config.audio_token_id == 151646
        eos_ids = (151645, 151643)
    else:
        thinker = assert_loads_exactly(Qwen2AudioForConditionalGeneration, out_dir, tensors, family)
        processor = Qwen2AudioProcessor.from_pretrained(out_dir)
        assert processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>") == thinker.config.audio_token_index == 151646
        eos_ids = (151645, 151643)
    assert thinker.config.text_config.vocab_size == (152064 if is_omni else 156032)

    cases = run_cases(family, spec, thinker, processor, out_dir, eos_ids, write)
    info = dict(
        checkpoint=os.path.basename(out_dir), family=family, hub=spec["hub"],
        transformers=transformers.__version__, torch=torch.__version__, tokenizers=tokenizers.__version__,
        seed=spec["seed"], tensors=n, shards=shards, total_size=total,
        vocab_size=thinker.config.text_config.vocab_size,
        audio_token_index=151646, eos_token_ids=list(eos_ids),
        config_changes=[[p, a, b] for p, a, b in size_changes(real_cfg, cfg)],
        cases=cases,
    )
    if write:
        write_json(os.path.join(out_dir, "cases.json"), {k: v for k, v in info.items() if k != "config_changes"})
    if write and not is_omni:
        write_v5(spec, out_dir, tensors, shard_of, thinker, processor)
    return info


def assert_loads_exactly_thinker(out_dir, tensors):
    """The full Omni layout read two ways: the full model class (talker, token2wav, vision tower
    and all; in a temp copy with a spk_dict.pt, which its loader insists on), and the thinker class
    that reads the thinker.* part, which the references use. Both get exactly the written values."""
    with tempfile.TemporaryDirectory() as d:
        for fn in os.listdir(out_dir):
            os.symlink(os.path.abspath(os.path.join(out_dir, fn)), os.path.join(d, fn))
        # Only for this check, never in the fixture; bos_token 8293: the 7B talker's codec start id.
        write_speaker_dict(os.path.join(d, "spk_dict.pt"), seed=0, bos_token=8293)
        full = assert_loads_exactly(Qwen2_5OmniForConditionalGeneration, d, tensors, "qwen2_5_omni (full class)",
                                    loading_info=False)
    thinker, info = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
        out_dir, attn_implementation="eager", dtype=torch.float32, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["mismatched_keys"], info
    a, b = full.thinker.state_dict(), thinker.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    return thinker.eval()


def write_v5(spec, hub_out, tensors, shard_of, model, processor):
    """The same weights under transformers 5's internal names, same shards; only the weights and
    the index are stored (the test copies the other files from the hub-layout folder)."""
    out_dir = os.path.join(OUT, spec["v5_out"])
    fresh_dir(out_dir)
    renamed = {qwen2_audio_internal_name(k): v for k, v in tensors.items()}
    write_weights(out_dir, renamed, {qwen2_audio_internal_name(k): s for k, s in shard_of.items()})
    # transformers reads this layout too, to the same model and the same logits.
    with tempfile.TemporaryDirectory() as d:
        for fn in os.listdir(hub_out):
            if not fn.startswith(("model", "case_", "cases")):
                shutil.copyfile(os.path.join(hub_out, fn), os.path.join(d, fn))
        for fn in os.listdir(out_dir):
            shutil.copyfile(os.path.join(out_dir, fn), os.path.join(d, fn))
        v5 = assert_loads_exactly(Qwen2AudioForConditionalGeneration, d, tensors, "qwen2_audio_v5",
                                  to_hub=qwen2_audio_hub_name)
    a, b = model.state_dict(), v5.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------------------------


def main():
    args = sys.argv[1:]
    if args[:1] == ["--wide"] and len(args) == 3:
        out_root, hub_root = (os.path.abspath(a) for a in args[1:])
        os.chdir(REPO)
        torch.set_num_threads(1)
        for family, spec in SPECS.items():
            out_dir = os.path.join(out_root, spec["out"].replace("_hub", "_wide"))
            print(f"{family}: {out_dir}", flush=True)
            build(family, wide_spec(family, spec), os.path.join(hub_root, spec["hub"]), out_dir, write=False,
                  references=False)
        return
    search = None
    if args[:1] == ["--search-seeds"]:
        search = int(args[1])
        args = args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    hub_root = os.path.abspath(args[0])
    os.chdir(REPO)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    if search is not None:
        for family, spec in SPECS.items():
            for seed in range(search):
                spec = dict(spec, seed=seed)
                with tempfile.TemporaryDirectory() as d:
                    info = build(family, spec, os.path.join(hub_root, spec["hub"]), d, write=False)
                r = info["cases"]
                ok = all(c["margin"] >= MIN_MARGIN and c["first_eos"] is None for c in r)
                print(f"{family} seed {seed}: margins {[round(c['margin'], 4) for c in r]}, "
                      f"eos {[c['first_eos'] for c in r]}, distinct generated {[c['distinct'] for c in r]} "
                      f"{'OK' if ok else ''}", flush=True)
        return

    os.makedirs(OUT, exist_ok=True)
    infos = {}
    for family, spec in SPECS.items():
        print(f"{family}: from {spec['hub']}")
        info = build(family, spec, os.path.join(hub_root, spec["hub"]), os.path.join(OUT, spec["out"]))
        for c in info["cases"]:
            assert c["min_greedy_margin"] >= MIN_MARGIN, (family, c["file"], c["min_greedy_margin"])
            assert c["first_eos_index_in_generated"] is None, (family, c["file"])
        infos[family] = info
    write_readme(infos)
    print_folder_summary(OUT)


def shard_counts(info):
    return " / ".join(str(n) for n in info["shards"].values())


def write_readme(infos):
    qa, om = infos["qwen2_audio"], infos["qwen2_5_omni"]
    lines = [
        "# Shape-real fixtures",
        "",
        "Shrunk random checkpoints of **Qwen2-Audio-7B-Instruct** and **Qwen2.5-Omni-7B** that keep",
        "everything of the real checkpoints except the widths and depths of the networks, with",
        "transformers reference outputs, for `tests/shape_real_parity.rs`.",
        "",
        "Made by `scripts/make_shape_real_fixtures.py` from the real hub files of the two checkpoints",
        "(config, tokenizer, chat template, preprocessor config, shard index and tensor shapes; no",
        "weights): run from the repository root with",
        "`python scripts/make_shape_real_fixtures.py HUB_FILES_ROOT`,",
        "where `HUB_FILES_ROOT` holds `Qwen2-Audio-7B-Instruct/` and `Qwen2.5-Omni-7B/`. Deterministic:",
        "a re-run rewrites this folder byte for byte the same.",
        "",
        f"Versions: transformers {transformers.__version__}, torch {torch.__version__}, "
        f"tokenizers {tokenizers.__version__}.",
        "",
        "## What is real",
        "",
        "- the tokenizer files, copied byte for byte: `tokenizer.json`, `tokenizer_config.json`,",
        "  `vocab.json`, `merges.txt`, `added_tokens.json`, `special_tokens_map.json` (the Qwen2",
        "  byte-level BPE, 151,643 tokens, with the real special tokens: `<|endoftext|>` 151643,",
        "  `<|im_start|>` 151644, `<|im_end|>` 151645, `<|AUDIO|>` 151646, `<|audio_bos|>` 151647,",
        "  `<|audio_eos|>` 151648, and for Omni the vision and tool tokens up to 151664). One",
        "  exception: Omni's `tokenizer_config.json` gets one key more, `extra_special_tokens`",
        "  (`image_token` `<|IMAGE|>`, `video_token`, `audio_token` `<|AUDIO|>`, `vision_bos_token`,",
        "  `vision_eos_token`, `audio_bos_token`, `audio_eos_token`), appended before the closing",
        "  brace. The hub's file has had it since April 2025 (QwenLM/Qwen2.5-Omni issues 192, 194,",
        "  203); the copy of the hub files this was made from lacks it, and without it",
        "  `Qwen2_5OmniProcessor.from_pretrained` fails (\"Qwen2Tokenizer has no attribute",
        "  image_token\");",
        "- the chat template as a user of the checkpoint gets it, copied: Qwen2-Audio-7B-Instruct's",
        "  `chat_template.json` (system turn by default, `Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\\n`)",
        "  and Qwen2.5-Omni-7B's `chat_template.json` (no `Audio N:` prefix, no newline after the audio);",
        "- `preprocessor_config.json`, copied: 128 mel bins, 16 kHz, a 30 s window for Qwen2-Audio and",
        "  a 300 s window (30,000 frames) for Omni, with Omni's image-processor keys;",
        "- Omni's `generation_config.json` (`{\"_from_model_config\": true, ...}`: no stop ids of its own),",
        "  copied; Qwen2-Audio has none (the hub's was not recovered), so eos comes from config.json;",
        "- `config.json`: the real file with only the size fields changed (below). Qwen2-Audio's keeps",
        "  its quirks: no top-level `torch_dtype`, `text_config.torch_dtype` bfloat16,",
        "  `transformers_version` 4.38.1, `rope_theta` 10000, `rms_norm_eps` 1e-5, `sliding_window`",
        "  32768 with no `use_sliding_window`, `use_mrope` false, `bos_token_id` 151643, `eos_token_id`",
        "  151645, no `tie_word_embeddings` (untied). Omni's is the 7B's config in transformers 5.24's",
        "  layout (`thinker_config` / `talker_config` / `token2wav_config`, `torch_dtype` bfloat16),",
        "  as the hub files had it (a reconstruction from the documented 7B values: the hub's own",
        "  file has other keys); its `_reconstructed_note` key is dropped;",
        "- the vocabulary: embedding and head have the real 156,032 (Qwen2-Audio) and 152,064 (Omni)",
        "  rows; the audio token index 151646; the encoders' 128 mel bins, `max_source_positions` 1500",
        "  (Qwen2-Audio's window is fixed at 3,000 frames) and Omni's `n_window` 100 (encoder chunks of",
        "  200 frames, as the 7B);",
        "- the tensor names: the hub's own (the script checks that every tensor here is a hub tensor,",
        "  layer indices aside, with the hub shape's rank, and that every kind of hub tensor is here),",
        "  in several shards with a `model.safetensors.index.json`, each layer in the shard its",
        "  counterpart has on the hub (layer i of n taken as the hub's layer (i + 1/2)·L/n), bfloat16,",
        "  with Omni's `token2wav.*` in float32 as the hub stores it.",
        "",
        "## What is shrunk",
        "",
        "The size fields of config.json (real → here):",
        "",
        "| checkpoint | key | real | here |",
        "|---|---|---|---|",
    ]
    for name, info in (("Qwen2-Audio", qa), ("Qwen2.5-Omni", om)):
        for p, a, b in info["config_changes"]:
            if p == "_reconstructed_note":
                continue
            if p.endswith("layer_types"):
                a, b = f"{len(a)} × full_attention", f"{len(b)} × full_attention"
            else:
                a = "(absent)" if a is None else json.dumps(a, ensure_ascii=False)
                b = json.dumps(b, ensure_ascii=False)
            lines.append(f"| {name} | `{p}` | {a} | {b} |")
    lines += [
        "",
        "Qwen2-Audio's real text_config has no `hidden_size`, `num_hidden_layers`,",
        "`num_attention_heads` or `num_key_value_heads` (transformers' defaults 4096, 32, 32, 32 are",
        "the 7B's): here they are written out, since defaults would not shrink.",
        "",
        "Weights: random, seeded (`seed` in cases.json), drawn per tensor from its name: weights",
        f"N(0, g²/fan_in) with g = {GAIN} ({QK_GAIN} for query and key projections, {HEAD_GAIN} for the",
        "head, so logits and attention are far from uniform), embeddings N(0, 1) (audio positions",
        "N(0, 0.25)), every norm weight 1 + N(0, 0.04) and every bias N(0, 0.01), so a loader that",
        "drops one fails; then rounded to bfloat16. transformers loads the files without a missing or",
        "unexpected tensor and gets exactly these values (checked by the script).",
        "",
        "## Checkpoints",
        "",
        "- `qwen2_audio_hub/`: Qwen2-Audio-7B-Instruct with the hub's original tensor names",
        "  (`audio_tower.*`, `multi_modal_projector.*`, `language_model.model.*`,",
        "  `language_model.lm_head.weight`), what transformers 5.24's `save_pretrained` also writes;",
        f"  {qa['tensors']} tensors in {len(qa['shards'])} shards ({shard_counts(qa)} tensors), total_size",
        f"  {qa['total_size']:,} bytes.",
        "- `qwen2_audio_v5/`: the same weights in the same shards under transformers 5's internal",
        "  names (`model.audio_tower.*`, `model.multi_modal_projector.*`, `model.language_model.*`,",
        "  `lm_head.weight`), as a `model.state_dict()` saved directly writes them; only the shards and",
        "  the index are stored: the test copies the other files from `qwen2_audio_hub/` into a",
        "  temporary folder, and the references are `qwen2_audio_hub/`'s (transformers reads both",
        "  layouts to the same model; checked by the script).",
        "- `qwen2_5_omni_hub/`: Qwen2.5-Omni-7B's full layout (`model_type` `qwen2_5_omni`):",
        "  `thinker.audio_tower.*`, `thinker.model.*`, `thinker.lm_head.weight`, and a tiny",
        "  `thinker.visual.*`, `talker.*` and `token2wav.*` (DiT and BigVGAN with the real module",
        "  structure) that an audio-in, text-out loader must skip;",
        f"  {om['tensors']} tensors in {len(om['shards'])} shards ({shard_counts(om)} tensors), total_size",
        f"  {om['total_size']:,} bytes. No `spk_dict.pt` (the full model class of transformers refuses a folder without one;",
        "  the script loads it once from a temporary copy with a made-up one, to check the talker and",
        "  token2wav tensors, and takes the references from `Qwen2_5OmniThinkerForConditionalGeneration`).",
        "",
        "## Reference cases",
        "",
        "As in `tests/fixtures/qwen2_audio/` and `tests/fixtures/qwen2_5_omni/`: the conversation",
        "(an optional system turn, then a user turn of `{type: audio, audio_url: CLIP}` and",
        "`{type: text, text: PROMPT}`) is rendered by the real processor loaded from the folder",
        "(`Qwen2AudioProcessor` / `Qwen2_5OmniProcessor`), `apply_chat_template(...,",
        "add_generation_prompt=True, tokenize=False)`, then `processor(text=..., audio=[samples],",
        "sampling_rate=16000, return_tensors=\"pt\", padding=True)`; clips from",
        "`tests/fixtures/audio/mel/` read with soundfile. The model runs in float32 (the bfloat16",
        "weights widened exactly), eager attention, one torch thread.",
        "",
        "`case_{k}.safetensors`:",
        "",
        "- `input_ids` I64 [seq], `audio_span` I64 [2] (first `<|AUDIO|>`, one past the last)",
        "- `audio_embeds` F32 [audio tokens, hidden]: the rows that replace the `<|AUDIO|>`",
        "  embeddings (Qwen2-Audio: the projector's output; Omni: the audio tower's, after `proj`)",
        "- `logits` F32 [1, vocab] with `logits_rows` I64 [1]: the full logits of the prompt's last",
        f"  row; `logits_at_columns` F32 [seq, {LOGIT_COLUMNS}] with `logits_columns` I64",
        f"  [{LOGIT_COLUMNS}]: every row's logits at the prompt's text ids, the generated ids, the",
        "  special ids, the last vocabulary id and random others (full logits over 150k ids for every",
        "  row would be tens of MB)",
        "- `attn.{layer}` F32 [heads, rows, seq] with `attn_rows` I64 [rows]: decoder attention",
        f"  probabilities for every query row when seq ≤ {FULL_ATTENTION_MAX_SEQ}, else for every",
        "  32nd row, the rows around the audio span's ends and the last 16",
        f"- `generated_ids` I64 [{N_NEW}]: `generate(do_sample=False, max_new_tokens={N_NEW},",
        f"  min_new_tokens={N_NEW})`; no eos id is the raw argmax at any step, and every step's",
        f"  top-1/top-2 logit gap is at least {MIN_MARGIN} (`min_greedy_margin`)",
        "- metadata: prompt, system prompt, clip, rendered prompt, versions.",
        "",
        "| checkpoint | case | clip | system | prompt | seq | valid mel frames | audio tokens | attention rows | min greedy margin |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for info in (qa, om):
        for c in info["cases"]:
            system = "default" if c["system_prompt"] is None else f"\"{c['system_prompt'][:24]}…\""
            clip = os.path.basename(c["clip"]) + (" (truncated to 30 s)" if c["truncated"] else "")
            lines.append(
                f"| {info['checkpoint']} | {c['file']} | {clip} | {system} | {c['prompt']} | {c['seq_len']} | "
                f"{c['valid_mel_frames']} | {c['audio_tokens']} | {c['attention_rows']} | {c['min_greedy_margin']:.4g} |"
            )
    lines.append("")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
