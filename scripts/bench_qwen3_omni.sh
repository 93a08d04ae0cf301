#!/usr/bin/env bash
# Qwen3-Omni-30B-A3B's thinker at real size on the CPU (issue 19): load, prefill of a 30 s clip,
# decode tokens/s against the bound the active weights set, peak RSS, through the quantized path.
#
#   scripts/bench_qwen3_omni.sh CHECKPOINT [FORMAT] [TOKENS]
#
# CHECKPOINT is a random checkpoint in the hub layout (scripts/make_qwen3_omni_bench_files.py,
# then scripts/make_full_size_checkpoint.py); FORMAT q4_k (default) or q8_0; TOKENS to decode
# (default 32). Runs twice: the first load quantizes and fills a fresh cache, the second reads
# the cache. Needs /usr/bin/time and a release build (cargo build --release --examples).
# Prints the machine's read bandwidth first: the decode bound is the bytes of the weights one
# token reads (attention, router, top-k experts and head of every layer) over it.
set -euo pipefail

CHECKPOINT=${1:?checkpoint directory}
FORMAT=${2:-q4_k}
TOKENS=${3:-32}
AUSCULT=./target/release/auscult
CLIP=tests/fixtures/audio/mel/long.wav # 31.5 s: Qwen3-Omni pads and cuts nothing, 410 audio tokens
PROMPT="Describe the audio in detail."
OUT=$(mktemp -d)
CACHE=${AUSCULT_BENCH_CACHE:-$OUT/cache}
trap 'rm -rf "$OUT"' EXIT

cargo build --release --quiet --examples --bin auscult

echo "## machine: cores, then read bandwidth (GB/s; it varies run to run on this VM)"
nproc
for size in 1 2; do ./target/release/examples/memory_bandwidth "$size"; done

summary() {
  python3 - "$1" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
s = t["timings"]
span = t["input"]["audio_span"]
print(f"load {s['load_seconds']:.1f} s, prefill {s['prefill_seconds']:.2f} s of which audio encoder "
      f"{s['audio_encoder_seconds']:.2f} s ({len(t['input']['ids'])} prompt tokens, {span[1] - span[0]} audio), "
      f"decode {s['decode_tokens_per_second']:.2f} tokens/s over {len(t['generation']['ids'])} tokens")
EOF
}

for pass in "quantize + cache" "from the cache"; do
  echo "## $FORMAT, $pass"
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$AUSCULT" run --model "$CHECKPOINT" --quantize "$FORMAT" \
    --cache-dir "$CACHE" --audio "$CLIP" --prompt "$PROMPT" \
    --max-new-tokens "$TOKENS" --min-new-tokens "$TOKENS" --out "$OUT/trace.json" 2>"$OUT/stderr" ||
    { cat "$OUT/stderr"; exit 1; }
  read -r wall rss <"$OUT/time"
  grep -i "quantiz\|memory\|needs" "$OUT/stderr" | head -3 || true
  echo "wall ${wall} s, peak RSS $((rss / 1024)) MiB"
  summary "$OUT/trace.json"
done
du -sh "$CACHE" | sed 's/^/quantized cache: /'
