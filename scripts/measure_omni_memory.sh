#!/usr/bin/env bash
# Peak memory of loading a full-layout Qwen2.5-Omni checkpoint against its thinker alone.
#
# Makes two checkpoints from tests/fixtures/qwen2_5_omni/full in a scratch folder: "full" holds
# the fixture's tensors plus GiB-sized talker.* and token2wav.* tensors (as a real checkpoint's
# talker and vocoder, which audio inspection never reads), "thinker" holds only the thinker's
# tensors. Runs `auscult forward` on each under /usr/bin/time and prints the peak RSS of both.
#
#   scripts/measure_omni_memory.sh [PYTHON] [GIB]
# PYTHON needs numpy and safetensors (default: python3); GIB is the size of the extra tensors
# (default 2). Uses the release binary (cargo build --release first), or $AUSCULT_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
gib=${2:-2}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
binary=${AUSCULT_BIN:-${CARGO_TARGET_DIR:-target}/release/auscult}

"$python" - "$scratch" "$gib" <<'PY'
import json, shutil, sys, os
import numpy as np
from safetensors.numpy import load_file, save_file

scratch, gib = sys.argv[1], float(sys.argv[2])
source = "tests/fixtures/qwen2_5_omni/full"
tensors = load_file(os.path.join(source, "model.safetensors"))
thinker = {k: v for k, v in tensors.items() if k.startswith("thinker.")}
# Rows of 1 MiB (float32) of non-zero values, so nothing is sparse on disk or in memory.
rows = int(gib * 1024)
extra = {
    "talker.extra.weight": np.full((rows // 2, 262144), 0.5, dtype=np.float32),
    "token2wav.extra.weight": np.full((rows - rows // 2, 262144), 0.25, dtype=np.float32),
}
for name, keep in [("full", {**tensors, **extra}), ("thinker", thinker)]:
    out = os.path.join(scratch, name)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("case_*", "model.safetensors"))
    save_file(keep, os.path.join(out, "model.safetensors"))
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    print(f"{name}: model.safetensors {size / 2**20:.1f} MiB")
PY

for name in full thinker; do
  /usr/bin/time -f "%M" -o "$scratch/$name.rss" "$binary" forward --model "$scratch/$name" \
    --audio tests/fixtures/audio/mel/mid.wav --prompt "What sound is this?" \
    --out "$scratch/$name.forward.safetensors" >/dev/null 2>"$scratch/$name.err" \
    || { cat "$scratch/$name.err"; exit 1; }
  echo "$name: peak RSS $(( $(cat "$scratch/$name.rss") / 1024 )) MiB"
done
