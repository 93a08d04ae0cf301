#!/usr/bin/env python3
"""Generate tiny random Qwen2.5-Omni checkpoints and thinker reference outputs for `auscult`.

Run from the repository root (no network needed; nothing comes from a model hub):

    python scripts/make_qwen2_5_omni_fixtures.py

Needs torch, transformers (5.x), tokenizers, soundfile, and pillow + torchvision (the
Qwen2.5-Omni processor always carries a Qwen2-VL image and video processor, which need them;
only the audio path is used here). Deterministic (fixed seeds) and re-runnable: everything under
tests/fixtures/qwen2_5_omni/ that this script makes is overwritten, byte for byte the same.

What it makes (see tests/fixtures/qwen2_5_omni/README.md, also written by this script):

tests/fixtures/qwen2_5_omni/full/       the full hub layout: `Qwen2_5OmniForConditionalGeneration`,
                                        model_type qwen2_5_omni, weights thinker.* + talker.* +
                                        token2wav.* (a real tiny talker and token2wav), spk_dict.pt
tests/fixtures/qwen2_5_omni/thinker/    the thinker-only layout: `Qwen2_5OmniThinkerForConditionalGeneration`,
                                        model_type qwen2_5_omni_thinker, other sizes, other weights
each with
    config.json, generation_config.json, model.safetensors      (model.save_pretrained)
    tokenizer.json, tokenizer_config.json, chat_template.jinja,
    processor_config.json (feature extractor, image and video
    processor settings)                                         (processor.save_pretrained)
    case_{k}.safetensors                                         thinker reference tensors per case
    cases.json                                                   list of the cases

The tokenizer is a small byte-level BPE (Qwen2 pre-tokenizer regex, NFC, ByteLevel) trained
with the `tokenizers` library on a built-in English text, wrapped as transformers'
Qwen2Tokenizer, with Qwen2.5-Omni's 22 added tokens appended after the BPE vocabulary in the
real checkpoint's order (<|endoftext|>, <|im_start|>, <|im_end|>, <|AUDIO|>, <|audio_bos|>, ...).
The chat template is the stock Qwen2.5-Omni one (transformers ships none for this processor).

Weights: the model's own random init with initializer_range 0.1 (instead of 0.02, so the
attention maps and logits are far from uniform), then every bias and norm weight of the thinker
is re-drawn at random too, so a loader that drops a bias or a norm weight fails the test.
"""

import json
import os

import numpy as np
import PIL
import tokenizers
import torch
import torchvision
import transformers
from safetensors import safe_open
from transformers import (
    Qwen2_5OmniAudioEncoderConfig,
    Qwen2_5OmniConfig,
    Qwen2_5OmniForConditionalGeneration,
    Qwen2_5OmniProcessor,
    Qwen2_5OmniTalkerConfig,
    Qwen2_5OmniTextConfig,
    Qwen2_5OmniThinkerConfig,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2_5OmniToken2WavConfig,
    Qwen2_5OmniVisionEncoderConfig,
    Qwen2Tokenizer,
    Qwen2VLImageProcessor,
    Qwen2VLVideoProcessor,
)
from transformers.models.qwen2_5_omni.configuration_qwen2_5_omni import (
    Qwen2_5OmniBigVGANConfig,
    Qwen2_5OmniDiTConfig,
)

# scripts/ is on sys.path when this runs as `python scripts/make_qwen2_5_omni_fixtures.py`.
from fixture_support import (
    CLIPS,
    CORPUS_BASE,
    OMNI_SYSTEM,
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
    write_speaker_dict,
)

OUT = os.path.join("tests", "fixtures", "qwen2_5_omni")

# Qwen2.5-Omni's added tokens, in the real checkpoint's order (151643 + i there; N + i here, N =
# size of the BPE vocab). 151646..151648 are the audio tokens, where Qwen2.5 has object_ref/box.
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|AUDIO|>",
    "<|audio_bos|>",
    "<|audio_eos|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_bos|>",
    "<|vision_eos|>",
    "<|vision_pad|>",
    "<|IMAGE|>",
    "<|VIDEO|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
]
# The named multimodal tokens the processor reads from the tokenizer (tokenizer.audio_token, ...).
NAMED_TOKENS = {
    "image_token": "<|IMAGE|>",
    "audio_token": "<|AUDIO|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
}

# The stock Qwen2.5-Omni chat template (Qwen/Qwen2.5-Omni-7B chat_template.json), verbatim.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% set image_count = namespace(value=0) %}"
    "{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
DEFAULT_SYSTEM = "You are a helpful assistant."

CORPUS = CORPUS_BASE + """\
You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving
auditory and visual inputs, as well as generating text and speech. You are a careful listener.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
"""


def build_tokenizer(vocab_target=480):
    """Byte-level BPE trained on CORPUS, wrapped as Qwen2Tokenizer + Qwen2.5-Omni's added tokens."""
    vocab, merges = train_byte_level_bpe(CORPUS, vocab_target)
    # Qwen2 has its specials *after* the BPE vocab (151643..); same here, same order.
    qtok = Qwen2Tokenizer(
        vocab=vocab, merges=merges, errors="replace",
        unk_token=None, bos_token=None, eos_token=None, pad_token=None,
    )
    qtok.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS}, replace_extra_special_tokens=True)
    base = len(vocab)
    for i, t in enumerate(SPECIAL_TOKENS):
        assert qtok.convert_tokens_to_ids(t) == base + i, (t, qtok.convert_tokens_to_ids(t), base + i)
    # As the real tokenizer: eos <|im_end|>, pad <|endoftext|>, no bos, no unk.
    qtok.eos_token = "<|im_end|>"
    qtok.pad_token = "<|endoftext|>"
    qtok._set_model_specific_special_tokens(NAMED_TOKENS)
    qtok.model_max_length = 32768
    qtok.padding_side = "left"
    assert len(qtok) == base + len(SPECIAL_TOKENS), (len(qtok), base)
    return qtok


def token_ids(tok):
    return {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}


def make_thinker_config(spec, ids):
    audio_cfg = Qwen2_5OmniAudioEncoderConfig(
        **tiny_audio_encoder_args(spec), n_window=spec["n_window"], output_dim=spec["hidden"]
    )
    vision_cfg = Qwen2_5OmniVisionEncoderConfig(
        depth=1,
        hidden_size=16,
        intermediate_size=16,
        num_heads=1,
        out_hidden_size=spec["hidden"],
        fullatt_block_indexes=[0],
        initializer_range=0.1,
    )
    text_cfg = Qwen2_5OmniTextConfig(**tiny_text_args(spec, ids, mrope_section=spec["mrope_section"]))
    head_dim = spec["hidden"] // spec["heads"]
    assert sum(spec["mrope_section"]) * 2 == head_dim, (spec["mrope_section"], head_dim)
    return Qwen2_5OmniThinkerConfig(
        audio_config=audio_cfg,
        vision_config=vision_cfg,
        text_config=text_cfg,
        audio_token_index=ids["<|AUDIO|>"],
        image_token_index=ids["<|IMAGE|>"],
        video_token_index=ids["<|VIDEO|>"],
        audio_start_token_id=ids["<|audio_bos|>"],
        audio_end_token_id=ids["<|audio_eos|>"],
        # not declared fields of the thinker config, but real checkpoints carry them and
        # get_rope_index reads vision_start_token_id
        vision_start_token_id=ids["<|vision_bos|>"],
        vision_end_token_id=ids["<|vision_eos|>"],
        vision_token_id=ids["<|vision_pad|>"],
        bos_token_id=ids["<|im_start|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        user_token_id=spec["user_token_id"],
        position_id_per_seconds=25,
        seconds_per_chunk=2,
        tie_word_embeddings=False,
        initializer_range=0.1,
    )


def make_full_config(thinker_cfg, spec, ids):
    """Thinker + a real (tiny) talker and token2wav, as Qwen2_5OmniConfig."""
    hidden = spec["hidden"]
    talker_cfg = Qwen2_5OmniTalkerConfig(
        vocab_size=64,
        embedding_size=hidden,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        tts_codec_start_token_id=60,
        tts_codec_end_token_id=61,
        tts_codec_pad_token_id=59,
        tts_codec_mask_token_id=63,
        tts_text_start_token_id=ids["<|fim_prefix|>"],
        tts_text_end_token_id=ids["<|fim_middle|>"],
        tts_text_pad_token_id=ids["<|fim_suffix|>"],
        audio_token_index=ids["<|AUDIO|>"],
        image_token_index=ids["<|IMAGE|>"],
        video_token_index=ids["<|VIDEO|>"],
        vision_start_token_id=ids["<|vision_bos|>"],
        vision_end_token_id=ids["<|vision_eos|>"],
        audio_start_token_id=ids["<|audio_bos|>"],
        audio_end_token_id=ids["<|audio_eos|>"],
        initializer_range=0.1,
    )
    dit_cfg = Qwen2_5OmniDiTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        ff_mult=1,
        emb_dim=16,
        head_dim=16,
        num_embeds=64,
        mel_dim=80,
        enc_emb_dim=16,
        enc_dim=16,
        enc_channels=[16, 16, 16, 16, 48],
        enc_attention_channels=8,
        enc_se_channels=8,
        look_ahead_layers=[0],
        look_backward_layers=[0],
    )
    bigvgan_cfg = Qwen2_5OmniBigVGANConfig(
        mel_dim=80,
        upsample_initial_channel=16,
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3, 5]],
        upsample_rates=[5, 2],
        upsample_kernel_sizes=[11, 4],
    )
    token2wav_cfg = Qwen2_5OmniToken2WavConfig(dit_config=dit_cfg, bigvgan_config=bigvgan_cfg)
    return Qwen2_5OmniConfig(
        thinker_config=thinker_cfg,
        talker_config=talker_cfg,
        token2wav_config=token2wav_cfg,
        enable_audio_output=True,
    )


SPECS = {
    # The full hub layout (Qwen2_5OmniForConditionalGeneration).
    "full": dict(
        layout="full",
        seed=25,  # seeds picked so that every greedy step has a top-1/top-2 logit gap >= 0.01
        vocab_size=528,
        num_mel_bins=128,
        chunk_length=5,  # feature extractor window, seconds (the 7B ships 300)
        d_model=48,
        enc_layers=2,
        enc_heads=4,
        enc_ffn=96,
        max_source_positions=1500,
        n_window=27,  # chunks of 54 mel frames (0.54 s); odd, so pooled pairs straddle chunks
        hidden=64,
        layers=2,
        heads=4,
        kv_heads=2,
        intermediate=128,
        rope_theta=20000.0,
        mrope_section=[2, 3, 3],
        rms_norm_eps=1e-6,
        user_token_id=0,
        cases=[
            ("short.wav", "What sound is this?", OMNI_SYSTEM),
            ("mid.wav", "Is the pitch rising or falling? Answer A or B.", None),
            ("long.wav", "Describe the audio.", "You are a careful listener."),
        ],
    ),
    # The thinker-only layout (Qwen2_5OmniThinkerForConditionalGeneration).
    "thinker": dict(
        layout="thinker",
        seed=22,  # and no eos would stop the 24 steps early (see cases.json)
        vocab_size=544,
        num_mel_bins=80,
        chunk_length=5,
        d_model=64,
        enc_layers=2,
        enc_heads=2,
        enc_ffn=128,
        max_source_positions=100,
        n_window=16,  # chunks of 32 mel frames (0.32 s)
        hidden=96,
        layers=3,
        heads=3,
        kv_heads=1,
        intermediate=160,
        rope_theta=500000.0,
        mrope_section=[4, 6, 6],
        rms_norm_eps=1e-5,
        user_token_id=0,
        cases=[
            ("short.wav", "Is the pitch rising or falling? Answer A or B.", OMNI_SYSTEM),
            ("mid.wav", "What sound is this? Describe the audio.", None),
            ("long.wav", "How many times does the bell ring?", None),
        ],
    ),
}

N_NEW = 24


def chunk_lengths(valid_frames, n_window):
    """Mel frames per encoder chunk, as transformers' chunk_and_pad_features makes them."""
    size = 2 * n_window
    full, rest = divmod(valid_frames, size)
    return [size] * full + ([rest] if rest else [])


def expected_audio_tokens(valid_frames):
    after_conv = (valid_frames - 1) // 2 + 1
    return (after_conv - 2) // 2 + 1


def make_processor(spec, tok):
    fe = whisper_feature_extractor(spec["num_mel_bins"], spec["chunk_length"], dither=0.0)
    return Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(),
        feature_extractor=fe,
        tokenizer=tok,
        chat_template=CHAT_TEMPLATE,
    )


def build_and_save(name, spec, tok, out_dir):
    ids = token_ids(tok)
    thinker_cfg = make_thinker_config(spec, ids)
    torch.manual_seed(spec["seed"])
    np.random.seed(spec["seed"])
    gen_cfg = greedy_generation_config(ids["<|im_end|>"], ids["<|endoftext|>"])
    if spec["layout"] == "full":
        cfg = make_full_config(thinker_cfg, spec, ids)
        model = Qwen2_5OmniForConditionalGeneration(cfg)
        randomise_biases_and_norms(model.thinker)
        # bos_token 60: tts_codec_start_token_id of the tiny talker below.
        write_speaker_dict(os.path.join(out_dir, "spk_dict.pt"), spec["seed"], bos_token=60)
    else:
        model = Qwen2_5OmniThinkerForConditionalGeneration(thinker_cfg)
        randomise_biases_and_norms(model)
    model.generation_config = gen_cfg
    model.save_pretrained(out_dir, safe_serialization=True)
    processor = make_processor(spec, tok)
    processor.save_pretrained(out_dir)  # processor_config.json (transformers 5 layout)
    write_hub_preprocessor_config(processor, os.path.join(out_dir, "preprocessor_config.json"))
    return ids, gen_cfg


def write_hub_preprocessor_config(processor, path):
    """The hub checkpoints' `preprocessor_config.json`: the image processor's and the feature
    extractor's settings merged into one flat object (what transformers 4.x wrote, and what a
    downloaded Qwen2.5-Omni has; transformers 5 writes the nested processor_config.json instead)."""
    merged = {"processor_class": type(processor).__name__}
    merged.update(processor.image_processor.to_dict())
    merged.update(processor.feature_extractor.to_dict())
    for key in ("mel_filters", "window"):
        merged.pop(key, None)
    write_json(path, dict(sorted(merged.items())), ensure_ascii=True)


def load_thinker(name, spec, out_dir):
    """Loads the checkpoint back the way a user would; returns (thinker, whole model)."""
    if spec["layout"] == "full":
        whole = Qwen2_5OmniForConditionalGeneration.from_pretrained(
            out_dir, attn_implementation="eager", dtype=torch.float32
        ).eval()
        thinker = whole.thinker
        # The thinker class reads the full layout too (it strips the `thinker.` prefix and
        # ignores talker.* / token2wav.*): same weights.
        alone = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            out_dir, attn_implementation="eager", dtype=torch.float32
        ).eval()
        a, b = thinker.state_dict(), alone.state_dict()
        assert a.keys() == b.keys(), sorted(set(a) ^ set(b))[:10]
        assert all(torch.equal(a[k], b[k]) for k in a), "thinker weights differ between the two loaders"
        return thinker, whole, alone
    thinker = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
        out_dir, attn_implementation="eager", dtype=torch.float32
    ).eval()
    return thinker, thinker, None


def run_checkpoint(name, spec, tok):
    out_dir = os.path.join(OUT, name)
    fresh_dir(out_dir)

    ids, gen_cfg = build_and_save(name, spec, tok, out_dir)
    thinker, whole, alone = load_thinker(name, spec, out_dir)
    processor = Qwen2_5OmniProcessor.from_pretrained(out_dir)
    tcfg = thinker.config
    assert processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>") == tcfg.audio_token_id
    assert processor.audio_token_id == tcfg.audio_token_id
    assert processor.tokenizer.convert_tokens_to_ids("<|audio_bos|>") == tcfg.audio_start_token_id
    emb = thinker.model.language_model.embed_tokens.weight
    assert not torch.equal(emb, thinker.lm_head.weight), "lm_head is tied"

    cases = []
    for k, (clip, prompt, system) in enumerate(spec["cases"]):
        clip_path = os.path.join(CLIPS, clip)
        samples = read_clip_16k(clip_path)
        text, inputs, n_audio_tokens_processor = process_prompt(
            processor, audio_conversation(clip, prompt, system), samples
        )
        if n_audio_tokens_processor is not None:
            n_audio_tokens_processor = int(n_audio_tokens_processor[0])
        assert set(inputs.keys()) == {"input_ids", "attention_mask", "input_features", "feature_attention_mask"}, inputs.keys()
        input_ids = inputs["input_ids"][0]
        span, n_audio = audio_span(input_ids, tcfg.audio_token_id)
        span = torch.tensor(span, dtype=torch.int64)
        assert input_ids[span[0] - 1] == tcfg.audio_start_token_id and input_ids[span[1]] == tcfg.audio_end_token_id
        valid = int(inputs["feature_attention_mask"][0].sum())
        assert n_audio == expected_audio_tokens(valid), (n_audio, valid)
        assert n_audio_tokens_processor in (None, n_audio)
        assert bool(inputs["attention_mask"].all())

        captured = {}

        def audio_hook(_m, _args, out):
            captured["audio"] = out.last_hidden_state.detach().clone()

        def lm_hook(_m, args, kwargs):
            captured["position_ids"] = kwargs["position_ids"].detach().clone()

        h1 = thinker.model.audio_tower.register_forward_hook(audio_hook)
        h2 = thinker.model.language_model.register_forward_pre_hook(lm_hook, with_kwargs=True)
        thinker.model.rope_deltas = None
        with torch.no_grad():
            out = thinker(**inputs, output_attentions=True, use_cache=False)
        h1.remove()
        h2.remove()
        logits = out.logits[0].float().contiguous()
        assert out.attentions is not None and len(out.attentions) == tcfg.text_config.num_hidden_layers
        pos = captured["position_ids"]
        assert pos.shape == (3, 1, input_ids.numel()), pos.shape
        pos = pos[:, 0, :].to(torch.int64).contiguous()
        streams_equal = bool(torch.equal(pos[0], pos[1]) and torch.equal(pos[0], pos[2]))
        is_arange = bool(torch.equal(pos[0], torch.arange(input_ids.numel())))
        assert captured["audio"].shape == (n_audio, tcfg.text_config.hidden_size), captured["audio"].shape

        if alone is not None:
            # Same logits from the thinker class loaded from the full layout.
            alone.model.rope_deltas = None
            with torch.no_grad():
                out2 = alone(**inputs, use_cache=False)
            assert torch.equal(out2.logits, out.logits), (out2.logits - out.logits).abs().max()

        thinker.model.rope_deltas = None
        # Top-1/top-2 logit gaps, and the step where an eos id would have stopped decoding.
        new, margins, first_eos, raw_argmax = greedy_reference(
            thinker, inputs, N_NEW, set(gen_cfg.eos_token_id), generation_config=gen_cfg
        )
        # The first step's raw argmax is the teacher-forced argmax of the prompt's last row.
        assert raw_argmax[0] == int(logits[-1].argmax())

        tensors = {
            "input_ids": input_ids.to(torch.int64).contiguous(),
            "attention_mask": inputs["attention_mask"][0].to(torch.int64).contiguous(),
            "input_features": inputs["input_features"][0].float().contiguous(),
            "feature_attention_mask": inputs["feature_attention_mask"][0].to(torch.int64).contiguous(),
            "position_ids": pos,
            "logits": logits,
            "audio_span": span,
            "generated_ids": new.to(torch.int64).contiguous(),
            # audio encoder output (after ln_post + proj): the rows that replace the <|AUDIO|> embeddings
            "audio_embeds": captured["audio"].float().contiguous(),
        }
        for li, a in enumerate(out.attentions):
            tensors[f"attn.{li}"] = a[0].float().contiguous()
        chunks = chunk_lengths(valid, tcfg.audio_config.n_window)
        meta = reference_metadata(
            prompt, clip_path, text, n_audio, margins, first_eos, system_prompt="" if system is None else system
        )
        fname = f"case_{k}.safetensors"
        save_reference(tensors, os.path.join(out_dir, fname), meta)
        cases.append(
            {
                "file": fname,
                "clip": clip_path,
                "clip_seconds": round(len(samples) / 16000, 4),
                "prompt": prompt,
                "system_prompt": system,
                "rendered_prompt": text,
                "seq_len": int(input_ids.numel()),
                "audio_tokens": n_audio,
                "audio_span": span.tolist(),
                "mel_frames": int(inputs["input_features"].shape[-1]),
                "valid_mel_frames": valid,
                "truncated": len(samples) > spec["chunk_length"] * 16000,
                "encoder_chunks": len(chunks),
                "encoder_chunk_frames": chunks,
                "position_ids_streams_equal": streams_equal,
                "position_ids_are_arange": is_arange,
                "generated_ids": new.tolist(),
                "generated_text": processor.tokenizer.decode(new.tolist()),
                "min_greedy_margin": min(margins),
                "first_eos_index_in_generated": first_eos,
                "tensors": tensor_table(tensors),
            }
        )
        print(
            f"{name} case_{k}: seq {input_ids.numel()}, valid mel {valid}, chunks {chunks}, audio tokens {n_audio}, "
            f"span {span.tolist()}, pos equal {streams_equal} arange {is_arange}, "
            f"min margin {min(margins):.4f}, eos at {first_eos}"
        )

    with safe_open(os.path.join(out_dir, "model.safetensors"), "pt") as f:
        weight_keys = {key: list(f.get_slice(key).get_shape()) for key in f.keys()}
    info = {
        "checkpoint": name,
        "layout": spec["layout"],
        "architecture": type(whole).__name__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "special_token_ids": ids,
        "audio_token_index": tcfg.audio_token_id,
        "audio_start_token_id": tcfg.audio_start_token_id,
        "audio_end_token_id": tcfg.audio_end_token_id,
        "tokenizer_len": len(processor.tokenizer),
        "vocab_size": tcfg.text_config.vocab_size,
        "n_window": tcfg.audio_config.n_window,
        "default_system_prompt": DEFAULT_SYSTEM,
        "cases": cases,
    }
    write_json(os.path.join(out_dir, "cases.json"), info)
    info["weight_keys"] = weight_keys
    return info


def main():
    start_run(OUT)
    tok = build_tokenizer()
    infos = {name: run_checkpoint(name, spec, tok) for name, spec in SPECS.items()}
    write_readme(infos)
    print_folder_summary(OUT)


def key_table(keys, prefixes):
    rows = []
    for key, shape in sorted(keys.items()):
        if any(key.startswith(p) for p in prefixes):
            rows.append(f"| `{key}` | {shape} |")
    return rows


def write_readme(infos):
    full, thin = SPECS["full"], SPECS["thinker"]
    lines = [
        "# Qwen2.5-Omni reference fixtures",
        "",
        "Made by `scripts/make_qwen2_5_omni_fixtures.py` (run from the repository root with",
        "`python scripts/make_qwen2_5_omni_fixtures.py`; deterministic,",
        "overwrites this folder). Nothing comes from a model hub: the checkpoints are tiny random",
        "models built from configs.",
        "",
        f"Versions: transformers {transformers.__version__}, torch {torch.__version__}, "
        f"tokenizers {tokenizers.__version__}, pillow {PIL.__version__}, torchvision {torchvision.__version__}",
        "(pillow and torchvision only because the Qwen2.5-Omni processor always builds its image",
        "and video processors).",
        "",
        "## Checkpoints",
        "",
        "- `full/`: the full hub layout, `Qwen2_5OmniForConditionalGeneration`, `model_type`",
        "  `qwen2_5_omni`, `config.json` with `thinker_config` / `talker_config` / `token2wav_config`,",
        "  `enable_audio_output: true`. `model.safetensors` holds `thinker.audio_tower.*`,",
        "  `thinker.visual.*`, `thinker.model.*` (the decoder), `thinker.lm_head.weight`, and a real",
        "  (tiny, random) `talker.*` and `token2wav.*` (DiT + BigVGAN), as `save_pretrained` writes",
        "  them. `spk_dict.pt` (a tiny torch pickle: speaker -> cond, ref_mel, bos_token) is there",
        "  only because `Qwen2_5OmniForConditionalGeneration.from_pretrained` refuses a folder",
        "  without one; an audio-in, text-out loader needs neither it nor talker/token2wav.",
        "- `thinker/`: the thinker-only layout, `Qwen2_5OmniThinkerForConditionalGeneration`,",
        "  `model_type` `qwen2_5_omni_thinker` (the thinker config at the top level). Weight names",
        "  without the `thinker.` prefix: `audio_tower.*`, `visual.*`, `model.*`, `lm_head.weight`.",
        "  Other sizes and other random weights than `full/` (not the same thinker).",
        "",
        "Both hold `config.json`, `generation_config.json`, `model.safetensors` and the processor",
        "files written by `processor.save_pretrained` (`tokenizer.json`, `tokenizer_config.json`,",
        "`chat_template.jinja`, `processor_config.json` with the feature extractor, image processor",
        "and video processor settings nested in it), plus a hub-style `preprocessor_config.json`",
        "(written by the script, not by `save_pretrained`: the image processor's and the feature",
        "extractor's settings merged flat, as in a downloaded Qwen2.5-Omni; the mel settings are",
        "`feature_size`, `sampling_rate`, `hop_length`, `n_fft`, `chunk_length`).",
        "",
        "| | full | thinker |",
        "|---|---|---|",
    ]
    for key, label in [
        ("num_mel_bins", "num_mel_bins"),
        ("chunk_length", "feature extractor chunk_length (s)"),
        ("n_window", "audio n_window (chunk = 2 × n_window mel frames)"),
        ("max_source_positions", "audio max_source_positions"),
        ("d_model", "audio d_model"),
        ("enc_layers", "audio layers"),
        ("enc_heads", "audio heads"),
        ("enc_ffn", "audio ffn"),
        ("hidden", "text hidden (= audio output_dim)"),
        ("layers", "text layers"),
        ("heads", "text heads"),
        ("kv_heads", "text KV heads"),
        ("intermediate", "text intermediate"),
        ("rope_theta", "rope_theta"),
        ("mrope_section", "mrope_section"),
        ("rms_norm_eps", "rms_norm_eps"),
        ("vocab_size", "text vocab_size"),
    ]:
        lines.append(f"| {label} | {full[key]} | {thin[key]} |")
    lines.append(f"| text head_dim | {full['hidden'] // full['heads']} | {thin['hidden'] // thin['heads']} |")
    fi = infos["full"]
    lines += [
        "",
        "Weights: default random init with `initializer_range` 0.1, then every thinker bias drawn",
        "from N(0, 0.1) and every thinker norm weight from 1 + N(0, 0.2), so no bias or norm weight",
        "is trivial. `lm_head` is untied (`tie_word_embeddings` false in the thinker and text configs).",
        "The audio encoder's sinusoidal position table is a non-persistent buffer: not in the file.",
        "`audio_tower.audio_bos_eos_token.weight` [2, output_dim] is in the file but unused by the",
        "forward pass.",
        "",
        "Tokenizer (same for both): byte-level BPE (Qwen2 pre-tokenizer regex, NFC, ByteLevel)",
        "trained with `tokenizers` on a small built-in English text, wrapped as `Qwen2Tokenizer`,",
        "with Qwen2.5-Omni's 22 added tokens after the BPE vocab in the real order (real id =",
        f"151643 + (id − {fi['special_token_ids']['<|endoftext|>']})): {json.dumps(fi['special_token_ids'])}.",
        f"`len(tokenizer)` = {fi['tokenizer_len']}. eos `<|im_end|>`, pad `<|endoftext|>`, no bos, no unk.",
        f"Config: `audio_token_index` {fi['audio_token_index']}, `audio_start_token_id` {fi['audio_start_token_id']},",
        f"`audio_end_token_id` {fi['audio_end_token_id']}.",
        "Chat template: the stock Qwen2.5-Omni template (in `chat_template.jinja`): a system turn",
        f"\"{DEFAULT_SYSTEM}\" is inserted when the first message is not a system message; an audio",
        "item renders as `<|audio_bos|><|AUDIO|><|audio_eos|>` (no `Audio N:` prefix unless",
        "`add_audio_id`; no newline after it); the generation prompt ends `<|im_start|>assistant\\n`.",
        "The processor replaces the one `<|AUDIO|>` by `((L-1)//2+1-2)//2+1` copies (L = valid mel",
        "frames = `feature_attention_mask.sum()`) before tokenizing. The feature extractor pads or",
        "truncates to `chunk_length` seconds (`padding=\"max_length\"`); long.wav (31.5 s) is truncated.",
        "(The real Qwen2.5-Omni-7B ships `chunk_length` 300: a 30,000-frame window. 5 s here keeps",
        "`input_features` small.)",
        "`generation_config.json`: greedy, eos = [`<|im_end|>`, `<|endoftext|>`], pad = `<|endoftext|>`.",
        "",
        "## Audio encoder (what the cases exercise)",
        "",
        "The valid mel frames (`feature_attention_mask`) are cut into chunks of `2 × n_window`",
        "frames, the last one shorter (a remainder of 0 makes no extra chunk). Each chunk goes",
        "through conv1 + GELU and conv2 (stride 2) + GELU alone, zero-padded at its edges, then gets",
        "the sinusoidal positions 0.. again; attention is block-diagonal per chunk; the chunks' rows",
        "are concatenated (padding dropped), pooled pairwise over the *whole* concatenation",
        "(`AvgPool1d(2,2)`, a last odd row dropped), then `ln_post`, then `proj`. `full` has an odd",
        "`n_window` (27), so some pooled pairs straddle two chunks (with an even `n_window`, as the",
        "real 100, pooling per chunk would give the same rows). GELU is the exact (erf) one. The",
        "positions are `cat(sin(t·f), cos(t·f))` with `f_i = exp(−i·ln(10000)/(d/2 − 1))`,",
        "i = 0..d/2−1, t = row index inside the chunk (d = `d_model`); `k_proj` has no bias.",
        "Audio tokens = `((L−1)//2 + 1 − 2)//2 + 1` for L valid frames, which is also the sum over",
        "chunks of the rows after conv2 (ceil(L/2)), halved and rounded down.",
        "",
        "## Reference cases",
        "",
        "For each case the conversation `[{role: system, content: [{type: text, text: SYSTEM}]}]`",
        "(only when the case has a system prompt) +",
        "`[{role: user, content: [{type: audio, audio_url: CLIP}, {type: text, text: PROMPT}]}]` is",
        "rendered with `processor.apply_chat_template(..., add_generation_prompt=True, tokenize=False)`",
        "and processed with `processor(text=..., audio=[samples], sampling_rate=16000,",
        "return_tensors=\"pt\", padding=True)`; clips are `tests/fixtures/audio/mel/*.wav` read with",
        "soundfile as float32. The thinker runs with `attn_implementation=\"eager\"`, float32, eval",
        "mode: for `full/`, `Qwen2_5OmniForConditionalGeneration.from_pretrained(full).thinker`",
        "(and `Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(full)` was checked to load",
        "the same weights and give the same logits); for `thinker/`, the thinker class.",
        "",
        "`{ckpt}/case_{k}.safetensors` (the names shared with the Qwen2-Audio fixtures mean the same):",
        "",
        "- `input_ids` I64 [seq]: the expanded prompt (one `<|AUDIO|>` per audio token)",
        "- `attention_mask` I64 [seq]: all ones (one sequence, no padding)",
        "- `input_features` F32 [n_mels, frames]: log-mel, the full padded window (`chunk_length` s)",
        "- `feature_attention_mask` I64 [frames]: 1 for the valid frames",
        "- `position_ids` I64 [3, seq]: the M-RoPE position ids (temporal, height, width) the",
        "  decoder got (`get_rope_index`); for audio-only input all three are 0..seq-1",
        "- `audio_embeds` F32 [audio_tokens, text_hidden]: audio encoder output (after `ln_post` and",
        "  `proj`), the rows that replace the `<|AUDIO|>` embeddings",
        "- `logits` F32 [seq, vocab_size]: teacher-forced forward over the prompt",
        "- `attn.{layer}` F32 [heads, seq, seq]: decoder attention probabilities, every layer",
        "- `audio_span` I64 [2]: first `<|AUDIO|>` position, one past the last",
        f"- `generated_ids` I64 [{N_NEW}]: thinker `generate(do_sample=False, max_new_tokens={N_NEW},",
        f"  min_new_tokens={N_NEW})`, new tokens only. min_new_tokens sets the eos scores to -inf;",
        "  `first_eos_index_in_generated` (metadata / cases.json) is the first step whose *raw*",
        "  argmax was an eos id (None: eos never won, so plain greedy gives the same ids)",
        "- metadata: prompt, system prompt (empty: the template's default), clip, rendered prompt,",
        "  versions, audio token count, smallest top-1/top-2 logit gap during greedy decoding, index",
        "  where eos would have stopped decoding (or None).",
        "",
        "`{ckpt}/cases.json` lists the cases (clip, prompt, `system_prompt` (null: the default),",
        "rendered prompt, seq length, audio token count, span, mel frames, encoder chunk lengths,",
        "generated ids, tensor shapes).",
        "",
        "| checkpoint | case | clip | system | prompt | seq | valid mel frames | encoder chunks | audio tokens | min greedy margin |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, info in infos.items():
        for c in info["cases"]:
            system = "default" if c["system_prompt"] is None else f"\"{c['system_prompt'][:24]}…\""
            lines.append(
                f"| {name} | {c['file']} | {os.path.basename(c['clip'])}{' (truncated)' if c['truncated'] else ''} | "
                f"{system} | {c['prompt']} | {c['seq_len']} | {c['valid_mel_frames']} | "
                f"{c['encoder_chunks']} × ≤{2 * info['n_window']} | {c['audio_tokens']} | {c['min_greedy_margin']:.4g} |"
            )
    lines += [
        "",
        "## Weight names",
        "",
        "`full/model.safetensors`, thinker audio tower and one decoder layer (all layers alike):",
        "",
        "| key | shape |",
        "|---|---|",
    ]
    fk = {k: v for k, v in infos["full"]["weight_keys"].items() if ".layers." not in k or ".layers.0." in k}
    lines += key_table(fk, ["thinker.audio_tower.", "thinker.model.", "thinker.lm_head"])
    counts = {}
    for k in infos["full"]["weight_keys"]:
        p = ".".join(k.split(".")[:2])
        counts[p] = counts.get(p, 0) + 1
    lines += [
        "",
        "Tensors per prefix in `full/model.safetensors`: "
        + ", ".join(f"`{p}.*` {n}" for p, n in sorted(counts.items())) + ".",
        "",
        "`thinker/model.safetensors` uses the same names without `thinker.`: "
        + ", ".join(
            f"`{p}`"
            for p in sorted({".".join(k.split(".")[:1]) + ".*" for k in infos["thinker"]["weight_keys"]})
        )
        + ".",
        "",
    ]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
