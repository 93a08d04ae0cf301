#!/usr/bin/env python3
"""Write a full-size RANDOM checkpoint in a hub checkpoint's exact layout, for benchmarks.

    python scripts/make_full_size_checkpoint.py HUB_FILES_DIR OUT_DIR \
        [--skip-prefix PREFIX]... [--float32-prefix PREFIX]... [--seed N] [--block-mb MB]
    python scripts/make_full_size_checkpoint.py --verify OUT_DIR

HUB_FILES_DIR is a folder of a real checkpoint's files without the weights: its
`model.safetensors.index.json` (which tensor goes into which shard, and `total_size`) and
`tensor_shapes.reconstructed.json` (tensor name -> [shape, dtype]). OUT_DIR gets one valid
safetensors file per shard of the index, every tensor under its real name with its real shape,
and a copy of every other file of HUB_FILES_DIR (config, tokenizer, templates, the index itself;
a Qwen2.5-Omni tokenizer_config.json without `extra_special_tokens` gets the hub's, see
OMNI_NAMED_TOKENS in fixture_support.py).
The weights are random and mean nothing: the checkpoint is for measuring speed and memory, never
for quality. Never commit one (a 7B is 17-22 GB) and never use one in CI.

Data types: bfloat16 everywhere, except under the prefixes given with --float32-prefix. Without
that option the float32 part is inferred from the index: when its `total_size` is not the size of
all tensors in bfloat16, the script looks for the top-level prefixes (`token2wav.`, ...) whose
tensors, stored as float32, make up the difference (Qwen2.5-Omni-7B stores token2wav in float32).
The dtype column of tensor_shapes.reconstructed.json is not used: it is the dtype of a model built
in memory, not what the hub's files store.

Values: one seeded block of N(0, 0.02) numbers (a few MB) is drawn once and tiled through every
weight tensor (each tensor starts at its own offset into the block, from a hash of its name);
norm weights (`*norm*.weight`, `ln_*.weight`) are 1, biases tile a second block of N(0, 0.002).
So the script needs a few MB of memory and runs as fast as the disk writes.

--skip-prefix PREFIX (repeatable) leaves the tensors under PREFIX as sparse holes: the header
lists them and the file has its full size, but their bytes are never written (they read as
zeros) and take no disk. For Qwen2.5-Omni, `--skip-prefix talker. --skip-prefix token2wav.
--skip-prefix thinker.visual.` keeps the 22.4 GB layout in the thinker's ~18 GB of disk; an
audio-in, text-out loader never reads those tensors.
"""

import argparse
import itertools
import json
import math
import os
import shutil
import struct
import sys
import time
import zlib

import numpy as np

# scripts/ is on sys.path when this runs as `python scripts/make_full_size_checkpoint.py`
# (fixture_support imports no torch at the top; nothing here needs it).
from fixture_support import NORM_WEIGHT, add_omni_named_tokens, safetensors_header

INDEX = "model.safetensors.index.json"
SHAPES = "tensor_shapes.reconstructed.json"
BYTES = {"BF16": 2, "F32": 4}


def to_bf16_bytes(x):
    """float32 array -> bfloat16 bytes, round to nearest even (as torch does)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype("<u2").tobytes()


class Tiler:
    """A block of values, doubled so that any window of one block length is contiguous."""

    def __init__(self, values, dtype):
        raw = to_bf16_bytes(values) if dtype == "BF16" else np.asarray(values, "<f4").tobytes()
        self.element = BYTES[dtype]
        self.length = len(raw)
        self.doubled = memoryview(raw + raw)

    def write(self, f, nbytes, start_element):
        """Writes nbytes of the tiled block, starting at element start_element of the block."""
        start = (start_element * self.element) % self.length
        while nbytes > 0:
            n = min(nbytes, self.length)
            f.write(self.doubled[start:start + n])
            nbytes -= n


def add_named_tokens_if_omni(out):
    """Qwen2.5-Omni-7B's tokenizer_config.json on the hub names its multimodal tokens, and
    transformers' Qwen2_5OmniProcessor needs them: a Qwen2.5-Omni copy without them gets them
    (fixture_support.add_omni_named_tokens). Returns whether the file changed."""
    config = json.load(open(os.path.join(out, "config.json")))
    path = os.path.join(out, "tokenizer_config.json")
    if config.get("model_type") not in ("qwen2_5_omni", "qwen2_5_omni_thinker") or not os.path.exists(path):
        return False
    return add_omni_named_tokens(path)


def tensor_kind(name):
    if NORM_WEIGHT.search(name):
        return "norm"
    if name.endswith(".bias"):
        return "bias"
    return "weight"


def infer_float32_prefixes(shapes, total_size):
    numel = {k: math.prod(v[0]) for k, v in shapes.items()}
    all_bf16 = 2 * sum(numel.values())
    if all_bf16 == total_size:
        return []
    extra = total_size - all_bf16  # 2 more bytes per float32 element
    tops = sorted({k.split(".")[0] + "." for k in shapes})
    per_top = {t: sum(n for k, n in numel.items() if k.startswith(t)) for t in tops}
    for r in range(1, len(tops) + 1):
        for combo in itertools.combinations(tops, r):
            if 2 * sum(per_top[t] for t in combo) == extra:
                return list(combo)
    sys.exit(
        f"the index's total_size {total_size} is neither all-bfloat16 ({all_bf16}) nor explained by "
        "float32 top-level prefixes; give --float32-prefix"
    )


def shard_plan(index, shapes, float32_prefixes):
    """{shard file: [(name, dtype, shape, nbytes)]} in the order safetensors writes them."""
    plan = {}
    for name, shard in index["weight_map"].items():
        if name not in shapes:
            sys.exit(f"{name} is in the index but not in {SHAPES}")
        shape = list(shapes[name][0])
        dtype = "F32" if any(name.startswith(p) for p in float32_prefixes) else "BF16"
        plan.setdefault(shard, []).append((name, dtype, shape, math.prod(shape) * BYTES[dtype]))
    for entries in plan.values():
        # safetensors serialises by descending alignment, then name.
        entries.sort(key=lambda e: (-BYTES[e[1]], e[0]))
    return dict(sorted(plan.items()))


def make(args):
    hub, out = args.hub_dir, args.out_dir
    index = json.load(open(os.path.join(hub, INDEX)))
    shapes = json.load(open(os.path.join(hub, SHAPES)))
    if set(shapes) != set(index["weight_map"]):
        sys.exit(f"{INDEX} and {SHAPES} name different tensors")
    total_size = int(index["metadata"]["total_size"])
    float32_prefixes = args.float32_prefix or infer_float32_prefixes(shapes, total_size)
    plan = shard_plan(index, shapes, float32_prefixes)
    planned = sum(e[3] for entries in plan.values() for e in entries)
    if planned != total_size:
        sys.exit(f"tensor bytes {planned} != index total_size {total_size}")
    print(f"{hub}: {len(shapes)} tensors, {len(plan)} shards, total_size {total_size:,} bytes; "
          f"float32 under {float32_prefixes or 'none'}; holes under {args.skip_prefix or 'none'}")

    os.makedirs(out, exist_ok=True)
    for fn in sorted(os.listdir(hub)):
        src = os.path.join(hub, fn)
        if os.path.isfile(src) and not fn.endswith(".safetensors"):
            shutil.copyfile(src, os.path.join(out, fn))
    if add_named_tokens_if_omni(out):
        print("  tokenizer_config.json: added the named multimodal tokens (extra_special_tokens) the hub file has")

    rng = np.random.default_rng(args.seed)
    block = max(1, args.block_mb * 2**20 // 4)
    weights = rng.normal(0.0, 0.02, block).astype(np.float32)
    biases = rng.normal(0.0, 0.002, block).astype(np.float32)
    tilers = {
        (kind, dtype): Tiler(values, dtype)
        for kind, values in (("weight", weights), ("bias", biases), ("norm", np.ones(block, np.float32)))
        for dtype in BYTES
    }

    started = time.monotonic()
    written = holes = 0
    for shard, entries in plan.items():
        t0 = time.monotonic()
        head, data_size = safetensors_header(entries, {"format": "pt"})
        path = os.path.join(out, shard)
        shard_written = 0
        with open(path, "wb") as f:
            f.write(head)
            for name, dtype, _shape, nbytes in entries:
                if any(name.startswith(p) for p in args.skip_prefix):
                    f.seek(nbytes, os.SEEK_CUR)
                    holes += nbytes
                    continue
                start = zlib.crc32(name.encode()) % block
                tilers[(tensor_kind(name), dtype)].write(f, nbytes, start)
                shard_written += nbytes
            f.truncate(len(head) + data_size)  # the full size even when the file ends in a hole
        written += shard_written
        dt = time.monotonic() - t0
        on_disk = os.stat(path).st_blocks * 512
        print(f"  {shard}: {len(entries)} tensors, {len(head) + data_size:,} bytes "
              f"({on_disk / 1e9:.2f} GB on disk), {dt:.1f} s, {shard_written / 1e9 / max(dt, 1e-9):.2f} GB/s",
              flush=True)
    dt = time.monotonic() - started
    print(f"wrote {written / 1e9:.2f} GB of tensor data and {holes / 1e9:.2f} GB of holes in {dt:.1f} s "
          f"({written / 1e9 / max(dt, 1e-9):.2f} GB/s)")
    verify(out)


def verify(out):
    """Every tensor of the index is in its shard with the shape of tensor_shapes, each shard is a
    well-formed safetensors file of exactly its header's size, and the sizes add up to total_size."""
    index = json.load(open(os.path.join(out, INDEX)))
    shapes = json.load(open(os.path.join(out, SHAPES)))
    seen, total, apparent, disk = set(), 0, 0, 0
    for shard in sorted(set(index["weight_map"].values())):
        path = os.path.join(out, shard)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        end = 0
        spans = []
        for name, info in header.items():
            if index["weight_map"].get(name) != shard:
                sys.exit(f"{shard}: {name} is not assigned to this shard by the index")
            if info["shape"] != list(shapes[name][0]):
                sys.exit(f"{shard}: {name} has shape {info['shape']}, expected {shapes[name][0]}")
            a, b = info["data_offsets"]
            if b - a != math.prod(info["shape"]) * BYTES[info["dtype"]]:
                sys.exit(f"{shard}: {name}: {b - a} bytes for {info['shape']} {info['dtype']}")
            spans.append((a, b))
            end = max(end, b)
            total += b - a
            seen.add(name)
        spans.sort()
        if spans[0][0] != 0 or any(x[1] != y[0] for x, y in zip(spans, spans[1:])):
            sys.exit(f"{shard}: tensor data is not contiguous")
        size = os.path.getsize(path)
        if size != 8 + n + end:
            sys.exit(f"{shard}: file is {size} bytes, header says {8 + n + end}")
        apparent += size
        disk += os.stat(path).st_blocks * 512
    missing = set(index["weight_map"]) - seen
    if missing:
        sys.exit(f"{len(missing)} tensors of the index are in no shard, e.g. {sorted(missing)[:3]}")
    if total != int(index["metadata"]["total_size"]):
        sys.exit(f"tensor bytes {total} != index total_size {index['metadata']['total_size']}")
    print(f"verified {out}: {len(seen)} tensors, total_size {total:,} bytes consistent; "
          f"shards {apparent / 1e9:.2f} GB apparent, {disk / 1e9:.2f} GB on disk")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("hub_dir", nargs="?")
    p.add_argument("out_dir")
    p.add_argument("--skip-prefix", action="append", default=[])
    p.add_argument("--float32-prefix", action="append", default=[])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--block-mb", type=int, default=4)
    p.add_argument("--verify", action="store_true", help="only check OUT_DIR")
    args = p.parse_args()
    if args.verify:
        verify(args.out_dir)
        return
    if not args.hub_dir:
        p.error("HUB_FILES_DIR is required")
    if os.path.abspath(args.hub_dir) == os.path.abspath(args.out_dir):
        p.error("OUT_DIR must differ from HUB_FILES_DIR")
    make(args)


if __name__ == "__main__":
    main()
