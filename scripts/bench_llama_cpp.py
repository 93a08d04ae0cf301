#!/usr/bin/env python3
"""Benchmark llama.cpp (through llama-cpp-python) on CPU with the Qwen2-Audio-7B decoder.

FOR BENCHMARKS ONLY. This gives a reference point for auscult's own CPU speed on
the same decoder; it is not part of auscult and nothing in auscult uses it.

What it does, given a Qwen2-Audio checkpoint folder in Hugging Face hub layout
(sharded safetensors + model.safetensors.index.json + config.json with a
`text_config`, and the tokenizer files vocab.json / merges.txt /
tokenizer_config.json next to them):

  1. Writes a GGUF of the DECODER ONLY (llama.cpp architecture `qwen2`) in Q8_0,
     `<work-dir>/qwen2-audio-7b-decoder-Q8_0.gguf`, directly with the `gguf`
     Python package: metadata keys as llama.cpp's convert_hf_to_gguf.py writes
     them for Qwen2ForCausalLM (gpt2-type BPE tokenizer from vocab.json /
     merges.txt with the vocabulary padded to the checkpoint's embedding rows,
     pre-tokenizer `qwen2`), 2-D weights Q8_0 (quantized with gguf.quants,
     bit-exact with ggml's reference), norms and biases F32. The audio tower and
     the multimodal projector are left out. Tensors are streamed one at a time
     (bf16 rows read in chunks from the shards), so memory stays at a few hundred
     MB whatever the checkpoint size, and no HF-layout copy of the decoder is
     ever written.
  2. Requantizes it with llama.cpp's own quantizer
     (llama_cpp.llama_model_quantize, allow_requantize) to Q4_K_M
     (LLAMA_FTYPE_MOSTLY_Q4_K_M), `<work-dir>/qwen2-audio-7b-decoder-Q4_K_M.gguf`.
     Since the source is Q8_0 rather than bf16, this Q4_K_M is a requantization:
     fine for speed, marginally worse numerically than one made from bf16.
  3. For each GGUF, in its own subprocess (so peak RSS is per model): loads it
     with llama_cpp.Llama(n_ctx=4096, n_threads=T, n_threads_batch=T,
     n_batch=512, logits_all=False, verbose=False), times the load, evaluates a
     prompt of P random token ids (seeded) and times it (prefill), then decodes
     D tokens greedily, one llama_decode per token (argmax of the last logits,
     no stop at EOS), and reports tokens/s over all decode steps but the first.
     Prints one JSON line per model on stdout, e.g.
       {"model": "llama.cpp Q8_0", "load_s": ..., "prefill_tokens": 785,
        "prefill_s": ..., "decode_tokens_per_s": ..., "peak_rss_mb": ..., ...}
     peak_rss_mb is ru_maxrss of the child; with llama.cpp's default mmap it
     includes the resident pages of the mapped GGUF.

A step is skipped when its output file already exists (partial outputs are
written as *.partial and renamed at the end). Before and while writing, the
script keeps at least --min-free-gb (default 8) GB free on the work-dir
filesystem, and stops with a message (removing the partial file) otherwise.
Progress and the time of each step go to stderr.

How to run (needs numpy, gguf and llama-cpp-python, e.g. in a venv built with
`CMAKE_ARGS="-DGGML_NATIVE=ON" pip install llama-cpp-python gguf`):

  python scripts/bench_llama_cpp.py \
      --checkpoint BENCH_DIR/qwen2-audio-7b \
      --work-dir BENCH_DIR/llama
  python scripts/bench_llama_cpp.py --only q4_k --prompt-tokens 128 --decode-tokens 16
  python scripts/bench_llama_cpp.py --prepare-only      # only write the GGUFs

The default prompt length, 785, is the prompt length of a 30 s clip in auscult.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = os.environ.get("AUSCULT_BENCH_DIR", os.path.join(os.path.expanduser("~"), "auscult-bench"))
DEFAULT_CHECKPOINT = os.path.join(BENCH_DIR, "qwen2-audio-7b")
DEFAULT_WORK_DIR = os.path.join(BENCH_DIR, "llama")
Q8_NAME = "qwen2-audio-7b-decoder-Q8_0.gguf"
Q4_NAME = "qwen2-audio-7b-decoder-Q4_K_M.gguf"
LM_PREFIX = "language_model."
GB = 1e9

# Sha256 of the token ids of llama.cpp's chktxt for Qwen2-family tokenizers
# (convert_hf_to_gguf.py, get_vocab_base_pre -> "qwen2").
QWEN2_PRE_HASHES = {
    "e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea",
    "d4540891389ea895b53b399da6ac824becc30f2fba0e9ddbb98f92e55ca0e97c",
}
CHKTXT = (
    '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) '
    '✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ '
    '------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, '
    '\'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL'
)


def log(msg: str) -> None:
    print(f"[bench_llama_cpp {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class DiskFull(RuntimeError):
    pass


def check_free(path: Path, min_free: float, what: str) -> None:
    free = free_bytes(path)
    if free < min_free:
        raise DiskFull(
            f"only {free / GB:.1f} GB free on {path} ({what}); need at least "
            f"{min_free / GB:.1f} GB free at all times -- stopping. Free some disk or "
            f"lower --min-free-gb."
        )


# --------------------------------------------------------------------------------------
# safetensors reading (header parsed by hand; rows streamed with np.fromfile)
# --------------------------------------------------------------------------------------

class StTensor:
    def __init__(self, file: Path, dtype: str, shape: list[int], begin: int, end: int):
        self.file, self.dtype, self.shape, self.begin, self.end = file, dtype, shape, begin, end

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def read_safetensors_index(ckpt: Path) -> dict[str, StTensor]:
    index_path = ckpt / "model.safetensors.index.json"
    if index_path.is_file():
        files = sorted(set(json.loads(index_path.read_text())["weight_map"].values()))
    else:
        files = sorted(p.name for p in ckpt.glob("*.safetensors"))
    if not files:
        raise SystemExit(f"no safetensors files in {ckpt}")
    out: dict[str, StTensor] = {}
    for fname in files:
        path = ckpt / fname
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            out[name] = StTensor(path, info["dtype"], list(info["shape"]), base + b, base + e)
    return out


_ST_ITEMSIZE = {"BF16": 2, "F16": 2, "F32": 4}


def iter_rows_f32(t: StTensor, rows_per_chunk: int):
    """Yield float32 numpy chunks of whole rows (first axis) of a safetensors tensor."""
    import numpy as np

    if t.dtype not in _ST_ITEMSIZE:
        raise SystemExit(f"unsupported safetensors dtype {t.dtype} in {t.file}")
    item = _ST_ITEMSIZE[t.dtype]
    shape = t.shape if t.shape else [1]
    n_rows = shape[0]
    row_elems = t.numel // n_rows if n_rows else 0
    with open(t.file, "rb") as f:
        fd = f.fileno()
        for r0 in range(0, n_rows, rows_per_chunk):
            r1 = min(n_rows, r0 + rows_per_chunk)
            off = t.begin + r0 * row_elems * item
            count = (r1 - r0) * row_elems
            f.seek(off)
            if t.dtype == "BF16":
                raw = np.fromfile(f, dtype="<u2", count=count)
                arr = (raw.astype(np.uint32) << 16).view(np.float32)
            elif t.dtype == "F16":
                arr = np.fromfile(f, dtype="<f2", count=count).astype(np.float32)
            else:
                arr = np.fromfile(f, dtype="<f4", count=count)
            if arr.size != count:
                raise SystemExit(f"short read in {t.file}")
            # The checkpoint is read once; don't push other people's data out of the page cache.
            try:
                os.posix_fadvise(fd, off, count * item, os.POSIX_FADV_DONTNEED)
            except (AttributeError, OSError):
                pass
            yield arr.reshape((r1 - r0, *shape[1:]))


# --------------------------------------------------------------------------------------
# Step 1: decoder -> GGUF Q8_0
# --------------------------------------------------------------------------------------

def load_text_hparams(ckpt: Path, tensors: dict[str, StTensor]) -> dict:
    cfg = json.loads((ckpt / "config.json").read_text())
    tc = dict(cfg.get("text_config", cfg))
    emb = tensors[LM_PREFIX + "model.embed_tokens.weight"].shape
    n_layers = 0
    pat = re.compile(re.escape(LM_PREFIX) + r"model\.layers\.(\d+)\.")
    for name in tensors:
        m = pat.match(name)
        if m:
            n_layers = max(n_layers, int(m.group(1)) + 1)
    hidden = emb[1]
    n_head = int(tc.get("num_attention_heads", 32))  # Qwen2Config default
    head_dim = hidden // n_head
    k_rows = tensors[LM_PREFIX + "model.layers.0.self_attn.k_proj.weight"].shape[0]
    n_ff = tensors[LM_PREFIX + "model.layers.0.mlp.gate_proj.weight"].shape[0]
    hp = {
        "vocab_size": emb[0],
        "hidden_size": hidden,
        "num_hidden_layers": n_layers,
        "num_attention_heads": n_head,
        "num_key_value_heads": k_rows // head_dim,
        "intermediate_size": n_ff,
        # Qwen2Config defaults where text_config leaves them out.
        "max_position_embeddings": int(tc.get("max_position_embeddings", 32768)),
        "rope_theta": float(tc.get("rope_theta", (tc.get("rope_parameters") or {}).get("rope_theta", 10000.0))),
        "rms_norm_eps": float(tc.get("rms_norm_eps", 1e-6)),
    }
    for key in ("hidden_size", "num_hidden_layers", "num_key_value_heads", "intermediate_size", "vocab_size"):
        if key in tc and int(tc[key]) != hp[key]:
            raise SystemExit(f"config text_config.{key}={tc[key]} but the tensors say {hp[key]}")
    return hp


def build_vocab(ckpt: Path, n_vocab: int):
    """Token list / types as convert_hf_to_gguf.py's get_vocab_base() builds them for Qwen2."""
    import gguf

    vocab = json.loads((ckpt / "vocab.json").read_text(encoding="utf-8"))
    id_to_tok: dict[int, str] = {i: t for t, i in vocab.items()}
    special_ids: set[int] = set()
    tcfg_path = ckpt / "tokenizer_config.json"
    if tcfg_path.is_file():
        tcfg = json.loads(tcfg_path.read_text(encoding="utf-8"))
        for sid, info in (tcfg.get("added_tokens_decoder") or {}).items():
            id_to_tok[int(sid)] = info["content"]
            if info.get("special", False):
                special_ids.add(int(sid))
    added_path = ckpt / "added_tokens.json"
    added: set[int] = set(special_ids)
    if added_path.is_file():
        for t, i in json.loads(added_path.read_text(encoding="utf-8")).items():
            id_to_tok.setdefault(int(i), t)
            added.add(int(i))
    if max(id_to_tok) >= n_vocab:
        raise SystemExit(f"tokenizer has id {max(id_to_tok)} >= embedding rows {n_vocab}")
    tokens, toktypes = [], []
    for i in range(n_vocab):
        tok = id_to_tok.get(i)
        if tok is None:
            tokens.append(f"[PAD{i}]")
            toktypes.append(gguf.TokenType.UNUSED)
        elif i in added:
            looks_special = tok.startswith("<|") and tok.endswith("|>")
            tokens.append(tok)
            toktypes.append(gguf.TokenType.CONTROL if (i in special_ids or looks_special) else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(tok)
            toktypes.append(gguf.TokenType.NORMAL)
    return tokens, toktypes


def check_pre_tokenizer(ckpt: Path) -> None:
    """Warn when the tokenizer does not hash like a Qwen2 one (we write pre='qwen2')."""
    try:
        from hashlib import sha256

        from tokenizers import Tokenizer
    except ImportError:
        log("tokenizers not installed; writing tokenizer.ggml.pre=qwen2 unchecked")
        return
    tj = ckpt / "tokenizer.json"
    if not tj.is_file():
        return
    ids = Tokenizer.from_file(str(tj)).encode(CHKTXT, add_special_tokens=False).ids
    h = sha256(str(ids).encode()).hexdigest()
    if h in QWEN2_PRE_HASHES:
        log("tokenizer pre-tokenizer hash matches llama.cpp's 'qwen2'")
    else:
        log(f"WARNING: tokenizer chkhsh {h} is not a known qwen2 hash; writing pre=qwen2 anyway")


def gguf_name(hf_name: str, tmap) -> str | None:
    name = hf_name[len(LM_PREFIX):]
    return tmap.get_name(name, try_suffixes=(".weight", ".bias"))


def write_q8_0_gguf(ckpt: Path, out_path: Path, min_free: float, chunk_elems: int) -> None:
    import gguf
    import numpy as np

    tensors = read_safetensors_index(ckpt)
    hp = load_text_hparams(ckpt, tensors)
    log(f"decoder hparams: {hp}")
    n_layers = hp["num_hidden_layers"]
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, n_layers)

    # Decoder tensors only, in a stable order: embeddings, layers, final norm, lm head.
    def order(name: str):
        m = re.match(re.escape(LM_PREFIX) + r"model\.layers\.(\d+)\.(.*)", name)
        if "embed_tokens" in name:
            return (0, 0, name)
        if m:
            return (1, int(m.group(1)), m.group(2))
        return (2, 0 if "norm" in name else 1, name)

    plan = []  # (hf_name, gguf_name, qtype, nbytes, shape)
    for hf in sorted((n for n in tensors if n.startswith(LM_PREFIX)), key=order):
        t = tensors[hf]
        new = gguf_name(hf, tmap)
        if new is None:
            if hf.endswith("rotary_emb.inv_freq"):
                continue
            raise SystemExit(f"no qwen2 GGUF name for {hf}")
        two_d = len(t.shape) == 2 and not new.endswith("_norm.weight") and new.endswith(".weight")
        if two_d:
            qtype = gguf.GGMLQuantizationType.Q8_0
            block, tsize = gguf.GGML_QUANT_SIZES[qtype]
            if t.shape[1] % block:
                raise SystemExit(f"{hf}: row size {t.shape[1]} not a multiple of {block}")
            nbytes = t.shape[0] * (t.shape[1] // block) * tsize
        else:
            qtype = gguf.GGMLQuantizationType.F32
            nbytes = t.numel * 4
        plan.append((hf, new, qtype, nbytes, t.shape))
    skipped = sum(1 for n in tensors if not n.startswith(LM_PREFIX))
    # embed_tokens, norm, lm_head + 12 per layer (q/k/v weight+bias, o, gate, up, down, 2 norms)
    if len(plan) != 3 + 12 * n_layers:
        raise SystemExit(f"expected {3 + 12 * n_layers} decoder tensors, found {len(plan)}")
    total = sum(p[3] for p in plan)
    log(f"{len(plan)} decoder tensors -> {total / GB:.2f} GB of GGUF data; "
        f"{skipped} audio/projector tensors left out")

    need = total + min_free
    if free_bytes(out_path.parent) < need:
        raise DiskFull(f"{free_bytes(out_path.parent) / GB:.1f} GB free on {out_path.parent}, "
                       f"need {total / GB:.1f} GB for the Q8_0 GGUF + {min_free / GB:.1f} GB reserve -- stopping")

    check_pre_tokenizer(ckpt)
    tokens, toktypes = build_vocab(ckpt, hp["vocab_size"])

    partial = out_path.with_name(out_path.name + ".partial")
    w = gguf.GGUFWriter(partial, "qwen2")
    try:
        # Metadata as convert_hf_to_gguf.py writes it for Qwen2ForCausalLM (Q8_0).
        w.add_type(gguf.GGUFType.MODEL)
        w.add_name("Qwen2-Audio-7B-Instruct decoder (auscult benchmark checkpoint)")
        w.add_description("Decoder (language_model) of a Qwen2-Audio checkpoint, for benchmarks only; "
                          "written by auscult scripts/bench_llama_cpp.py")
        w.add_block_count(n_layers)
        w.add_context_length(hp["max_position_embeddings"])
        w.add_embedding_length(hp["hidden_size"])
        w.add_feed_forward_length(hp["intermediate_size"])
        w.add_head_count(hp["num_attention_heads"])
        w.add_head_count_kv(hp["num_key_value_heads"])
        w.add_rope_freq_base(hp["rope_theta"])
        w.add_layer_norm_rms_eps(hp["rms_norm_eps"])
        w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list(tokens)
        w.add_token_types(toktypes)
        special = gguf.SpecialVocab(ckpt, load_merges=True, n_vocab=len(tokens))
        special.add_to_gguf(w, quiet=True)
        log(f"tokenizer: {len(tokens)} tokens, {len(special.merges)} merges, special {special.special_token_ids}")

        for hf, new, qtype, nbytes, shape in plan:
            w.add_tensor_info(new, shape, np.dtype(np.float32), nbytes,
                              raw_dtype=qtype if qtype != gguf.GGMLQuantizationType.F32 else None)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()

        t0 = time.perf_counter()
        done = 0
        for i, (hf, new, qtype, nbytes, shape) in enumerate(plan):
            check_free(out_path.parent, min_free, f"writing {partial.name}")
            t = tensors[hf]
            row = max(1, t.numel // (shape[0] if shape else 1))
            rows_per_chunk = max(1, chunk_elems // row)
            out = np.empty(nbytes, dtype=np.uint8)
            pos = 0
            for chunk in iter_rows_f32(t, rows_per_chunk):
                q = gguf.quants.quantize(chunk, qtype) if qtype != gguf.GGMLQuantizationType.F32 else chunk
                qb = q.reshape(-1).view(np.uint8)
                out[pos:pos + qb.size] = qb
                pos += qb.size
                del chunk, q, qb
            assert pos == nbytes, (hf, pos, nbytes)
            w.write_tensor_data(out)
            done += nbytes
            del out
            if i % 12 == 0 or i == len(plan) - 1:
                el = time.perf_counter() - t0
                log(f"  [{i + 1}/{len(plan)}] {new} {qtype.name} {shape}; {done / GB:.2f}/{total / GB:.2f} GB "
                    f"in {el:.0f} s; {free_bytes(out_path.parent) / GB:.1f} GB free")
        w.close()
    except BaseException:
        w.close()
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out_path)


# --------------------------------------------------------------------------------------
# Step 2: Q8_0 -> Q4_K_M with llama.cpp's quantizer (in a child, watched for disk space)
# --------------------------------------------------------------------------------------

def quantize_child(src: str, dst: str, ftype_name: str, threads: int) -> int:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{ftype_name}")
    params.allow_requantize = True
    params.nthread = threads
    params.max_buf_size = 512 * 1024 * 1024  # keep the quantizer's row buffers small (default 8 GiB)
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    return int(rc)


def make_q4_k(src: Path, out_path: Path, min_free: float, threads: int) -> None:
    est = src.stat().st_size / (34 / 32) * (4.9 / 8)  # Q8_0 is 8.5 bits/weight, Q4_K_M ~4.9
    if free_bytes(out_path.parent) < est + min_free:
        raise DiskFull(f"{free_bytes(out_path.parent) / GB:.1f} GB free on {out_path.parent}, need ~{est / GB:.1f} GB "
                       f"for the Q4_K_M GGUF + {min_free / GB:.1f} GB reserve -- stopping")
    partial = out_path.with_name(out_path.name + ".partial")
    cmd = [sys.executable, os.path.abspath(__file__), "--_quantize-child", str(src), str(partial),
           "MOSTLY_Q4_K_M", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=sys.stderr, stderr=sys.stderr)
    last = 0.0
    try:
        while proc.poll() is None:
            time.sleep(2)
            if free_bytes(out_path.parent) < min_free:
                proc.kill()
                proc.wait()
                raise DiskFull(f"free space on {out_path.parent} fell under {min_free / GB:.1f} GB while "
                               f"quantizing -- stopped the quantizer and removed {partial.name}")
            if time.time() - last > 60 and partial.exists():
                last = time.time()
                log(f"  quantizing: {partial.stat().st_size / GB:.2f} GB written, "
                    f"{free_bytes(out_path.parent) / GB:.1f} GB free")
        if proc.returncode != 0:
            raise SystemExit(f"llama_model_quantize failed (child exit {proc.returncode})")
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out_path)


# --------------------------------------------------------------------------------------
# Step 3: benchmark one GGUF (child process)
# --------------------------------------------------------------------------------------

def bench_child(path: str, label: str, prompt_tokens: int, decode_tokens: int, threads: int,
                n_ctx: int, seed: int, use_mmap: bool) -> dict:
    import resource

    import numpy as np
    import llama_cpp

    t0 = time.perf_counter()
    llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                          n_batch=512, logits_all=False, use_mmap=use_mmap, verbose=False)
    load_s = time.perf_counter() - t0
    n_vocab = llm.n_vocab()
    ctx = llm.ctx

    # Random ids from the text vocabulary (below the first special token), seeded.
    text_vocab = min(151643, n_vocab)
    rng = np.random.default_rng(seed)
    prompt = [int(x) for x in rng.integers(0, text_vocab, size=prompt_tokens)]

    def argmax_last() -> int:
        ptr = llama_cpp.llama_get_logits_ith(ctx, -1)
        return int(np.ctypeslib.as_array(ptr, shape=(n_vocab,)).argmax())

    t0 = time.perf_counter()
    llm.eval(prompt)
    tok = argmax_last()
    prefill_s = time.perf_counter() - t0

    step_s = []
    generated = []
    for _ in range(decode_tokens):
        t0 = time.perf_counter()
        llm.eval([tok])
        tok = argmax_last()
        step_s.append(time.perf_counter() - t0)
        generated.append(tok)
    rest = step_s[1:]
    tps = (len(rest) / sum(rest)) if rest and sum(rest) > 0 else None
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "model": label,
        "load_s": round(load_s, 3),
        "prefill_tokens": prompt_tokens,
        "prefill_s": round(prefill_s, 3),
        "decode_tokens_per_s": round(tps, 4) if tps is not None else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        # extras
        "decode_tokens": decode_tokens,
        "first_decode_step_s": round(step_s[0], 3) if step_s else None,
        "prefill_tokens_per_s": round(prompt_tokens / prefill_s, 3) if prefill_s > 0 else None,
        "n_threads": threads,
        "n_ctx": n_ctx,
        "mmap": use_mmap,
        "gguf_gb": round(os.path.getsize(path) / GB, 3),
        "llama_cpp_python": getattr(llama_cpp, "__version__", "?"),
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }


def run_bench(path: Path, label: str, args) -> dict | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--_bench-child", str(path), label,
           "--prompt-tokens", str(args.prompt_tokens), "--decode-tokens", str(args.decode_tokens),
           "--threads", str(args.threads), "--n-ctx", str(args.n_ctx), "--seed", str(args.seed)]
    if args.no_mmap:
        cmd.append("--no-mmap")
    log(f"benchmarking {label}: {path} (load avg {os.getloadavg()[0]:.2f})")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    log(f"  {label} child finished in {time.perf_counter() - t0:.1f} s (exit {proc.returncode})")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        log(f"  {label} FAILED; child stdout: {proc.stdout[-2000:]}")
        return None
    return json.loads(lines[-1])


# --------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=Path(DEFAULT_CHECKPOINT),
                    help=f"Qwen2-Audio checkpoint folder (default {DEFAULT_CHECKPOINT})")
    ap.add_argument("--work-dir", type=Path, default=Path(DEFAULT_WORK_DIR),
                    help=f"where the GGUFs go (default {DEFAULT_WORK_DIR})")
    ap.add_argument("--only", choices=["q8_0", "q4_k"], help="benchmark only this GGUF")
    ap.add_argument("--prompt-tokens", type=int, default=785, help="prefill length (default 785)")
    ap.add_argument("--decode-tokens", type=int, default=32, help="greedy decode steps (default 32)")
    ap.add_argument("--threads", type=int, default=2, help="llama.cpp threads (default 2)")
    ap.add_argument("--n-ctx", type=int, default=4096, help="context size (default 4096)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random prompt (default 0)")
    ap.add_argument("--no-mmap", action="store_true", help="load with use_mmap=False (default: llama.cpp's mmap)")
    ap.add_argument("--min-free-gb", type=float, default=8.0,
                    help="stop when free disk on the work dir would fall under this (default 8)")
    ap.add_argument("--chunk-mb", type=float, default=64,
                    help="float32 MB of rows quantized at once while writing Q8_0 (default 64)")
    ap.add_argument("--prepare-only", action="store_true", help="write the GGUFs, skip the benchmark")
    ap.add_argument("--_bench-child", nargs=2, metavar=("GGUF", "LABEL"), help=argparse.SUPPRESS)
    ap.add_argument("--_quantize-child", nargs=3, metavar=("SRC", "DST", "FTYPE"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._bench_child:
        res = bench_child(args._bench_child[0], args._bench_child[1], args.prompt_tokens, args.decode_tokens,
                          args.threads, args.n_ctx, args.seed, not args.no_mmap)
        print(json.dumps(res), flush=True)
        return 0
    if args._quantize_child:
        return quantize_child(*args._quantize_child, args.threads)

    if args.prompt_tokens < 1 or args.decode_tokens < 2:
        ap.error("--prompt-tokens must be >= 1 and --decode-tokens >= 2 (the first step is excluded)")
    if args.prompt_tokens + args.decode_tokens + 1 > args.n_ctx:
        ap.error("prompt + decode tokens do not fit in --n-ctx")

    min_free = args.min_free_gb * GB
    args.work_dir.mkdir(parents=True, exist_ok=True)
    q8 = args.work_dir / Q8_NAME
    q4 = args.work_dir / Q4_NAME
    want_q4 = args.only in (None, "q4_k")
    want_q8 = args.only in (None, "q8_0")
    log(f"load avg {os.getloadavg()}, {free_bytes(args.work_dir) / GB:.1f} GB free on {args.work_dir}")

    try:
        if (want_q8 or (want_q4 and not q4.exists())) and not q8.exists():
            t0 = time.perf_counter()
            log(f"step 1: writing {q8}")
            write_q8_0_gguf(args.checkpoint, q8, min_free, int(args.chunk_mb * 1e6 / 4))
            log(f"step 1 done in {time.perf_counter() - t0:.1f} s: {q8.stat().st_size / GB:.3f} GB")
        elif q8.exists():
            log(f"step 1 skipped: {q8} exists ({q8.stat().st_size / GB:.3f} GB)")
        if want_q4 and not q4.exists():
            t0 = time.perf_counter()
            log(f"step 2: llama_model_quantize {q8.name} -> {q4.name} (LLAMA_FTYPE_MOSTLY_Q4_K_M)")
            make_q4_k(q8, q4, min_free, args.threads)
            log(f"step 2 done in {time.perf_counter() - t0:.1f} s: {q4.stat().st_size / GB:.3f} GB")
        elif want_q4:
            log(f"step 2 skipped: {q4} exists ({q4.stat().st_size / GB:.3f} GB)")
    except DiskFull as e:
        log(f"STOP: {e}")
        return 3

    if args.prepare_only:
        return 0
    failed = False
    for wanted, path, label in ((want_q8, q8, "llama.cpp Q8_0"), (want_q4, q4, "llama.cpp Q4_K_M")):
        if not wanted:
            continue
        res = run_bench(path, label, args)
        if res is None:
            failed = True
            continue
        print(json.dumps(res), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
