#!/usr/bin/env bash
# The model benchmark of issue 3: auscult with and without attention capture, against
# transformers' eager generate with output_attentions=True, on one mid-size random checkpoint
# (scripts/make_bench_checkpoint.py) and a 30 s clip; plus the sharded bfloat16 load.
#
#   scripts/bench_model.sh [BENCH_DIR] [REPEATS]
#
# Needs /usr/bin/time, a release build (cargo build --release --examples), and the PyTorch
# environment at $PYTHON (default ~/auscult-torch-venv/bin/python). Every number is printed
# as it is measured; whole-process wall time and peak RSS come from /usr/bin/time.
set -euo pipefail

BENCH=${1:-${AUSCULT_BENCH_DIR:-$HOME/auscult-bench}}
REPEATS=${2:-3}
PYTHON=${PYTHON:-$HOME/auscult-torch-venv/bin/python}
AUSCULT=./target/release/auscult
CLIP=tests/fixtures/audio/mel/long.wav   # 31.5 s: the model hears its first 30 s (750 audio tokens)
PROMPT="Describe the audio in detail."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cargo build --release --quiet --examples --bin auscult

bandwidth() { for size in 0.5 1 2; do ./target/release/examples/memory_bandwidth "$size"; done; }
echo "## machine: cores, then read bandwidth (it varies run to run on this VM)"
nproc
bandwidth

decode_rate() { "$PYTHON" -c "import json,sys; t=json.load(open(sys.argv[1])); print(round(t['timings']['decode_tokens_per_second'],2), round(t['timings']['load_seconds'],3), round(t['timings']['prefill_seconds'],3))" "$1"; }

auscult_run() { # tokens, extra flags...
  local tokens=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$AUSCULT" run --model "$BENCH/mid_f32" --audio "$CLIP" \
    --prompt "$PROMPT" --max-new-tokens "$tokens" --min-new-tokens "$tokens" --out "$OUT/trace.json" "$@" 2>/dev/null
  read -r wall rss <"$OUT/time"
  echo "auscult $tokens tokens ${*:-capture}: wall ${wall} s, peak RSS $((rss / 1024)) MiB, decode/load/prefill $(decode_rate "$OUT/trace.json")"
}

echo "## auscult, 128 tokens, capture on and off, interleaved"
for _ in $(seq "$REPEATS"); do
  auscult_run 128
  auscult_run 128 --no-capture
done
echo "## auscult, 512 tokens (memory as the chain grows)"
auscult_run 512
auscult_run 512 --no-capture

transformers_run() { # tokens, extra flags...
  local tokens=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$PYTHON" scripts/bench_transformers_generate.py --model "$BENCH/mid_f32" \
    --audio "$CLIP" --prompt "$PROMPT" --tokens "$tokens" "$@" 2>/dev/null >"$OUT/py.json"
  read -r wall rss <"$OUT/time"
  echo "transformers $tokens tokens ${*:-output_attentions}: wall ${wall} s, peak RSS $((rss / 1024)) MiB, $(cat "$OUT/py.json")"
}

echo "## transformers eager, output_attentions=True"
for _ in $(seq "$REPEATS"); do
  transformers_run 128
done
transformers_run 512
echo "## transformers eager, no attentions (reference only)"
transformers_run 128 --no-attentions

echo "## sharded bfloat16 checkpoint: load time and peak memory"
for dtype in bf16 f32; do
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$AUSCULT" run --model "$BENCH/mid_bf16_sharded" --audio "$CLIP" \
    --prompt "$PROMPT" --max-new-tokens 2 --dtype "$dtype" --no-capture --out "$OUT/trace.json" 2>/dev/null
  read -r wall rss <"$OUT/time"
  echo "bf16 shards as $dtype: wall ${wall} s, peak RSS $((rss / 1024)) MiB, decode/load/prefill $(decode_rate "$OUT/trace.json")"
done
du -sh "$BENCH/mid_bf16_sharded" "$BENCH/mid_f32"

echo "## read bandwidth again, after the runs"
bandwidth

echo "## weight bytes read per generated token (decoder layers, final norm, lm_head; float32)"
"$PYTHON" - "$BENCH/mid_f32/model.safetensors" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
total = 0
for name, info in header.items():
    if name == "__metadata__" or not name.startswith("language_model.") or "embed_tokens" in name:
        continue
    begin, end = info["data_offsets"]
    total += end - begin
print(f"{total} bytes ({total / 1e6:.1f} MB)")
EOF
