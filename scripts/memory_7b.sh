#!/usr/bin/env bash
# Memory at real size (issue 14): the full-size 7B refused up front as f32 and loaded anyway with
# --force; peak RSS for a 30 s clip and 512 tokens in bf16, with the KV cache in f32 and in f16
# (--kv-cache-f16); a long chain's memory curve (q4_k by
# default, 2,048 tokens) from `auscult run --memory-log`, against the growth the KV cache and the
# captured rows should give.
#
#   scripts/memory_7b.sh [BENCH_DIR] [LONG_TOKENS] [LONG_FORMAT]
#
# BENCH_DIR (default $AUSCULT_BENCH_DIR, else ~/auscult-bench) holds `qwen2-audio-7b` from
# scripts/make_full_size_checkpoint.py and the quantized cache in `cache` (made by
# scripts/bench_7b.sh, or on the first load here). STEPS picks what runs (default "f32 bf16 kv16 long").
# Needs /usr/bin/time and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${1:-${AUSCULT_BENCH_DIR:-$HOME/auscult-bench}}
LONG_TOKENS=${2:-2048}
LONG_FORMAT=${3:-q4_k}
STEPS=${STEPS:-f32 bf16 kv16 long}
MODEL=$BENCH/qwen2-audio-7b
CLIP=tests/fixtures/audio/mel/long.wav   # 31.5 s; the model hears its first 30 s
AUSCULT=./target/release/auscult
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

[ -f "$MODEL/config.json" ] || { echo "$MODEL: no checkpoint; make it with scripts/make_full_size_checkpoint.py" >&2; exit 1; }
cargo build --release --quiet --bin auscult

run() { # label, tokens, flags...
  local label=$1 tokens=$2; shift 2
  local status=0
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$AUSCULT" run --model "$MODEL" --audio "$CLIP" \
    --prompt "Describe the audio in detail." --max-new-tokens "$tokens" --min-new-tokens "$tokens" \
    --cache-dir "$BENCH/cache" --out "$OUT/trace.json" "$@" 2>"$OUT/stderr" || status=$?
  read -r wall rss < <(tail -1 "$OUT/time")
  echo "$label: exit $status, wall $wall s, peak RSS $(echo "scale=2; $rss / 1048576" | bc) GiB"
  sed 's/^/  /' "$OUT/stderr" | grep -v '^  *$' | tail -3
  rm -f "$OUT/trace.json" "$OUT"/trace.attn.safetensors
}

if [[ $STEPS == *f32* ]]; then
  echo "## --dtype f32: refused before loading"
  run "f32" 16 --dtype f32
  echo "## --dtype f32 --force: loads anyway (this machine has less memory than f32 needs)"
  run "f32 --force" 16 --dtype f32 --force || true
fi

if [[ " $STEPS " == *" bf16 "* ]]; then
  echo "## bf16, 30 s clip, 512 tokens, capture on"
  run "bf16, 512 tokens" 512 --dtype bf16 --memory-log "$OUT/bf16.tsv"
  column -t "$OUT/bf16.tsv"
fi

if [[ $STEPS == *kv16* ]]; then
  echo "## bf16, KV cache in f16, 30 s clip, 512 tokens, capture on"
  run "bf16 --kv-cache-f16, 512 tokens" 512 --dtype bf16 --kv-cache-f16 --memory-log "$OUT/kv16.tsv"
  column -t "$OUT/kv16.tsv"
fi

if [[ $STEPS == *long* ]]; then
  echo "## $LONG_FORMAT, 30 s clip, $LONG_TOKENS tokens, capture on"
  run "$LONG_FORMAT, $LONG_TOKENS tokens" "$LONG_TOKENS" --quantize "$LONG_FORMAT" --memory-log "$OUT/long.tsv"
  column -t "$OUT/long.tsv"
  python3 - "$MODEL/config.json" "$OUT/long.tsv" <<'EOF'
import csv, json, sys
# The hub's text_config leaves out what equals transformers' Qwen2Config defaults.
text = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 32, **json.load(open(sys.argv[1]))["text_config"]}
layers, heads = text["num_hidden_layers"], text["num_attention_heads"]
kv_dim = text["hidden_size"] // heads * text["num_key_value_heads"]
audio_tokens = 750  # 30 s
per_token = layers * 2 * kv_dim * 4 + layers * (2 * heads + audio_tokens) * 4
rows = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
after_prompt = next(r for r in rows if r["stage"] == "prefill")
end = rows[-1]
tokens = int(end["generated_tokens"]) - int(after_prompt["generated_tokens"])
grown = float(end["resident_mb"]) - float(after_prompt["resident_mb"])
print(f"grew {grown:.0f} MB over {tokens} tokens after the prompt ({grown * 1e6 / max(tokens, 1) / 1e6:.2f} MB a token); "
      f"KV cache (f32) + captured rows: {per_token / 1e6:.2f} MB a token -> {per_token * tokens / 1e6:.0f} MB")
EOF
fi
