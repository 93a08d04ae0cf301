"""Helpers shared by the scripts that make auscult's model fixtures and random checkpoints.

make_qwen2_audio_fixtures.py, make_qwen2_5_omni_fixtures.py, make_shape_real_fixtures.py,
make_resampled_parity_fixtures.py, make_demo_parity.py and make_full_size_checkpoint.py each
carried their own copy of most of what is here (the byte-stable safetensors writer, the tiny BPE
tokenizer, the random biases and norms, the speaker dict, the Qwen2.5-Omni tokenizer-config
patch, the reference-case steps); they import it from here now, so a fix reaches every fixture
at once. Each function writes exactly the bytes the copies wrote: the committed fixtures must
not change when this file does (rerun the scripts and check `git status tests/fixtures`).

The scripts run as `python scripts/NAME.py` from the repository root, which puts scripts/ on
sys.path, so `from fixture_support import ...` finds this file.

Only the standard library is imported at the top: torch, transformers, tokenizers, safetensors
and soundfile are imported inside the functions that need them, so that
make_full_size_checkpoint.py (numpy only) can use the header writer and the tokenizer-config
patch without torch. The ffmpeg and signal helpers of the audio fixtures are in audio_support.py.
"""

import hashlib
import json
import os
import re
import shutil
import sys

# The 16 kHz clips of tests/fixtures/audio/mel/ (made by make_audio_fixtures.py) that the model
# fixtures' reference cases run on; relative to the repository root.
CLIPS = os.path.join("tests", "fixtures", "audio", "mel")

# Qwen2's pre-tokenizer regex (transformers/models/qwen2/tokenization_qwen2.py).
PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# The first lines of the English text the tiny tokenizers are trained on; each script appends
# lines of its own (the text decides the vocabulary, so each script's whole text stays as it was).
CORPUS_BASE = """\
You are a helpful assistant. What sound is this? Is the pitch rising or falling? Answer A or B.
Describe the audio. The audio contains a tone, a chirp and some noise. The sound is a dog barking.
A bird is singing in the morning. The speaker says hello and then goes silent for a moment.
What is the speaker's emotion? The speaker sounds happy. The speaker sounds sad and tired.
Listen to the clip and answer the question. The first sound is louder than the second one.
How many times does the bell ring? It rings three times. The music is slow and quiet.
The pitch is rising. The pitch is falling. The answer is A. The answer is B. Option A, option B.
Transcribe the speech in English. Translate the speech into French. Is there any music?
There is a low hum in the background, a high whistle, and a short click near the end.
Which instrument is playing: a piano, a violin, a guitar or a drum? I think it is a piano.
Count the beeps: one, two, three, four, five, six, seven, eight, nine, ten. 0 1 2 3 4 5 6 7 8 9.
The weather is cold today, and the wind is strong. Birds, cars, rain, thunder, water, voices.
Please answer with a single letter. Sure! Here is my answer: A. I am not sure; maybe B?
"""

# The system prompt Qwen's model card asks Qwen2.5-Omni users for (needed there for speech output).
OMNI_SYSTEM = (
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving "
    "auditory and visual inputs, as well as generating text and speech."
)

# The named multimodal tokens of Qwen2.5-Omni-7B's tokenizer_config.json on the hub (added there in
# April 2025; QwenLM/Qwen2.5-Omni issues 192, 194 and 203). transformers' Qwen2_5OmniProcessor needs
# them: without them it fails with "Qwen2Tokenizer has no attribute image_token".
OMNI_NAMED_TOKENS = {
    "image_token": "<|IMAGE|>",
    "video_token": "<|VIDEO|>",
    "audio_token": "<|AUDIO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
}

# Norm weights by name (`*norm*.weight`, `ln_*.weight`), in the hub checkpoints' naming.
NORM_WEIGHT = re.compile(r"(^|\.)([^.]*norm[^.]*|ln_[^.]*)\.weight$")

# safetensors dtype names, by str(torch dtype).
SAFETENSORS_DTYPES = {"torch.bfloat16": "BF16", "torch.float32": "F32", "torch.int64": "I64"}


# ----------------------------------------------------------------------------------------------
# files


def start_run(out):
    """The start of a tiny-checkpoint script: checks that it runs from the repository root (where
    CLIPS is), makes `out` and seeds torch and numpy with 0."""
    import numpy as np
    import torch

    if not os.path.isdir(CLIPS):
        sys.exit("run from the repository root (tests/fixtures/audio/mel not found)")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    np.random.seed(0)


def fresh_dir(path):
    """An empty folder at `path` (removed first if it was there)."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def write_json(path, obj, ensure_ascii=False):
    """`obj` as JSON with an indent of 2 and a final newline."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=ensure_ascii)
        f.write("\n")


def human(n):
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def print_folder_summary(folder, relative_to=None):
    """Prints every file under `folder` (sorted) with its size, the total, and one sha256 over the
    names and contents, to compare two runs at a glance. Names are relative to `relative_to` when
    given, else as os.walk gives them."""
    total = 0
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for fn in sorted(files):
            p = os.path.join(root, fn)
            name = os.path.relpath(p, relative_to) if relative_to is not None else p
            total += os.path.getsize(p)
            with open(p, "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
            print(f"{os.path.getsize(p):>10}  {name}")
    print(f"{total:>10}  total ({human(total)})")
    print(f"sha256 of the folder: {digest.hexdigest()}")
    return total


# ----------------------------------------------------------------------------------------------
# safetensors


def safetensors_header(entries, metadata):
    """The 8-byte length and the JSON header of a safetensors file whose tensors are `entries`
    [(name, dtype name, shape, byte count)], stored in that order; and the data size. The header
    is padded with spaces to a multiple of 8 bytes, as safetensors pads it. Non-ASCII text is
    written as UTF-8, not escaped (the weight-shard writers this replaced escaped it; for the
    ASCII tensor names of every checkpoint here that is the same bytes)."""
    header = {"__metadata__": metadata}
    offset = 0
    for name, dtype, shape, nbytes in entries:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return len(h).to_bytes(8, "little") + h, offset


def tensor_bytes(t):
    import torch

    t = t.detach().cpu().contiguous()
    return t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()


def save_safetensors(tensors, path, metadata, order=None):
    """safetensors writer with a sorted header, so re-runs give byte-identical files
    (safetensors.torch.save_file orders `__metadata__` arbitrarily). The tensors are stored by
    name, or in `order`; returns the data size."""
    names = sorted(tensors) if order is None else list(order)
    blobs = [tensor_bytes(tensors[n]) for n in names]
    entries = [
        (n, SAFETENSORS_DTYPES[str(tensors[n].dtype)], tensors[n].shape, len(b)) for n, b in zip(names, blobs)
    ]
    head, size = safetensors_header(entries, dict(sorted(metadata.items())))
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    return size


def save_reference(tensors, path, metadata):
    """save_safetensors, then read the file back with safetensors and check every tensor."""
    import torch
    from safetensors.torch import load_file

    save_safetensors(tensors, path, metadata)
    back = load_file(path)
    assert all(torch.equal(back[n], tensors[n]) for n in tensors)


def tensor_table(tensors):
    """{name: [dtype, shape]}, as the fixtures' cases.json list their tensors."""
    return {n: [str(v.dtype).replace("torch.", ""), list(v.shape)] for n, v in tensors.items()}


# ----------------------------------------------------------------------------------------------
# tiny random checkpoints


def train_byte_level_bpe(corpus, vocab_size):
    """A byte-level BPE (Qwen2 pre-tokenizer regex, NFC, ByteLevel) trained with `tokenizers` on
    `corpus` (its lines, four times over); returns its (vocab, merges)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tok.train_from_iterator(corpus.splitlines() * 4, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return model["vocab"], merges


def randomise_biases_and_norms(module):
    """Every bias drawn from N(0, 0.1²) and every norm weight from 1 + N(0, 0.2²), so a loader
    that drops a bias or a norm weight fails the parity tests."""
    import torch

    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
            elif "norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))


def write_speaker_dict(path, seed, bos_token):
    """A tiny spk_dict.pt, the structure of the real one (speaker -> cond, ref_mel, bos_token):
    Qwen2_5OmniForConditionalGeneration.from_pretrained refuses a folder without one."""
    import torch

    g = torch.Generator().manual_seed(seed)
    speakers = {
        name: {
            "cond": torch.randn(16, generator=g),
            "ref_mel": torch.randn(1, 8, 80, generator=g),
            "bos_token": bos_token,
        }
        for name in ("Chelsie", "Ethan")
    }
    torch.save(speakers, path)


def add_omni_named_tokens(path):
    """Adds `extra_special_tokens` (OMNI_NAMED_TOKENS) to a tokenizer_config.json that lacks it,
    as one more key before the closing brace; the rest of the file stays byte for byte. Returns
    whether it changed the file."""
    text = open(path, encoding="utf-8").read()
    if "extra_special_tokens" in json.loads(text):
        return False
    body = ",\n".join(f'      "{k}": "{v}"' for k, v in OMNI_NAMED_TOKENS.items())
    end = text.rstrip().rindex("}")
    patched = text[:end].rstrip() + ',\n  "extra_special_tokens": {\n' + body + "\n  }\n}" + text[end + 1:]
    assert json.loads(patched)["extra_special_tokens"] == OMNI_NAMED_TOKENS
    with open(path, "w", encoding="utf-8") as f:
        f.write(patched)
    return True


def tiny_audio_encoder_args(spec):
    """Audio encoder config arguments from a tiny checkpoint's spec (the SPECS of
    make_qwen2_audio_fixtures.py and make_qwen2_5_omni_fixtures.py share these keys)."""
    return dict(
        num_mel_bins=spec["num_mel_bins"],
        encoder_layers=spec["enc_layers"],
        encoder_attention_heads=spec["enc_heads"],
        encoder_ffn_dim=spec["enc_ffn"],
        d_model=spec["d_model"],
        max_source_positions=spec["max_source_positions"],
        initializer_range=0.1,
    )


def tiny_text_args(spec, ids, **rope):
    """Text decoder config arguments from a tiny checkpoint's spec and its special token ids:
    untied head, no bos, eos `<|im_end|>`, pad `<|endoftext|>`; `rope`: more rope_parameters."""
    return dict(
        vocab_size=spec["vocab_size"],
        hidden_size=spec["hidden"],
        intermediate_size=spec["intermediate"],
        num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"],
        num_key_value_heads=spec["kv_heads"],
        max_position_embeddings=4096,
        rms_norm_eps=spec["rms_norm_eps"],
        rope_parameters={"rope_type": "default", "rope_theta": spec["rope_theta"], **rope},
        tie_word_embeddings=False,
        initializer_range=0.1,
        bos_token_id=None,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )


def whisper_feature_extractor(num_mel_bins, chunk_length, **extra):
    """The Whisper front end of Qwen2-Audio and Qwen2.5-Omni (16 kHz, hop 160, n_fft 400)."""
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(
        feature_size=num_mel_bins,
        sampling_rate=16000,
        hop_length=160,
        chunk_length=chunk_length,
        n_fft=400,
        padding_value=0.0,
        return_attention_mask=True,
        **extra,
    )


def greedy_generation_config(im_end, endoftext):
    """Greedy decoding that stops at `<|im_end|>` or `<|endoftext|>` and pads with the latter."""
    from transformers import GenerationConfig

    return GenerationConfig(
        bos_token_id=None,
        eos_token_id=[im_end, endoftext],
        pad_token_id=endoftext,
        do_sample=False,
    )


def write_hub_preprocessor_config(processor, path):
    """The hub checkpoints' `preprocessor_config.json`: the image processor's and the feature
    extractor's settings merged into one flat object (what transformers 4.x wrote, and what a
    downloaded Qwen2.5-Omni or Qwen3-Omni has; transformers 5 writes the nested
    processor_config.json instead). make_qwen2_5_omni_fixtures.py keeps its own copy of this
    function (same bytes); make_qwen3_omni_fixtures.py uses this one."""
    merged = {"processor_class": type(processor).__name__}
    merged.update(processor.image_processor.to_dict())
    merged.update(processor.feature_extractor.to_dict())
    for key in ("mel_filters", "window"):
        merged.pop(key, None)
    write_json(path, dict(sorted(merged.items())), ensure_ascii=True)


# ----------------------------------------------------------------------------------------------
# reference cases


def read_clip_16k(path):
    """A 16 kHz mono clip as float32 samples (soundfile; int16 / 32768 for 16-bit PCM)."""
    import soundfile as sf

    samples, rate = sf.read(path, dtype="float32")
    assert rate == 16000 and samples.ndim == 1, (path, rate, samples.shape)
    return samples


def audio_conversation(clip, prompt, system=None):
    """An optional system turn, then one user turn of the audio `clip` and the text `prompt`."""
    conversation = []
    if system is not None:
        conversation.append({"role": "system", "content": [{"type": "text", "text": system}]})
    conversation.append(
        {
            "role": "user",
            "content": [
                {"type": "audio", "audio_url": clip},
                {"type": "text", "text": prompt},
            ],
        }
    )
    return conversation


def process_prompt(processor, conversation, samples):
    """The conversation rendered with the processor's chat template and processed with the audio,
    as the model cards show. Returns (rendered text, inputs, the `num_audio_tokens` the processor
    returned or None); `num_audio_tokens` is taken out of the inputs (forward does not take it)."""
    text = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=text, audio=[samples], sampling_rate=16000, return_tensors="pt", padding=True)
    return text, inputs, inputs.pop("num_audio_tokens", None)


def audio_span(input_ids, audio_id):
    """([first audio token position, one past the last], audio token count); the audio tokens
    must be contiguous."""
    pos = (input_ids == audio_id).nonzero().flatten()
    n_audio = int(pos.numel())
    span = [int(pos[0]), int(pos[-1]) + 1]
    assert span[1] - span[0] == n_audio, "audio tokens not contiguous"
    return span, n_audio


def greedy_margins(scores):
    """The top-1/top-2 gap of each greedy step's scores (how robust the reference is to rounding)."""
    import torch

    margins = []
    for s in scores:
        top = torch.topk(s[0].float(), 2).values
        margins.append(float(top[0] - top[1]))
    return margins


def greedy_reference(model, inputs, n_new, eos_ids, generation_config=None):
    """Greedy decoding of exactly `n_new` tokens (`min_new_tokens` = `max_new_tokens`), with the
    scores and the raw logits of every step. Returns (the new ids, the top-1/top-2 margins,
    first_eos, the raw argmax of every step). min_new_tokens sets the eos scores to -inf, so
    whether an eos id in `eos_ids` would have stopped decoding early is read from the raw logits:
    first_eos is the first step whose raw argmax is one (None: never). Up to there the raw argmax
    must be the generated ids."""
    import torch

    with torch.no_grad():
        gen = model.generate(
            **inputs,
            generation_config=generation_config,
            do_sample=False,
            max_new_tokens=n_new,
            min_new_tokens=n_new,
            output_scores=True,
            output_logits=True,
            return_dict_in_generate=True,
        )
    new = gen.sequences[0, inputs["input_ids"].shape[1]:]
    assert new.numel() == n_new, new.shape
    margins = greedy_margins(gen.scores)
    raw_argmax = [int(l[0].argmax()) for l in gen.logits]
    first_eos = next((i for i, t in enumerate(raw_argmax) if t in eos_ids), None)
    upto = first_eos if first_eos is not None else n_new
    assert raw_argmax[:upto] == new.tolist()[:upto]
    return new, margins, first_eos, raw_argmax


def reference_metadata(prompt, clip, rendered, n_audio, margins, first_eos, **extra):
    """The string metadata of a case_{k}.safetensors (`extra`: more keys, e.g. system_prompt)."""
    import torch
    import transformers

    return {
        "prompt": prompt,
        **extra,
        "clip": clip,
        "rendered_prompt": rendered,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "n_audio_tokens": str(n_audio),
        "min_greedy_margin": f"{min(margins):.6g}",
        "first_eos_index_in_generated": str(first_eos),
    }
