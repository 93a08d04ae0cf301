#!/usr/bin/env bash
# A 7B on this machine, side by side (issue 14): auscult bf16, q8_0 and q4_k with attention
# capture, transformers bf16 eager with and without output_attentions, and llama.cpp Q8_0 and
# Q4_K_M on the same decoder without capture; a 30 s clip; the memory bandwidth and the f32 GEMM
# rate measured in the same run, and the bounds they give.
#
#   scripts/bench_7b.sh [BENCH_DIR] [TOKENS]
#
# BENCH_DIR (default $AUSCULT_BENCH_DIR, else ~/auscult-bench) holds `qwen2-audio-7b`, a
# full-size checkpoint made by scripts/make_full_size_checkpoint.py from the hub files of
# Qwen2-Audio-7B-Instruct (random weights: for speed and memory only). TOKENS (default 32) greedy
# tokens are generated after a 785-token prompt (the 31.5 s fixture clip, heard as its first 30 s).
# ENGINES (default "auscult transformers llama") picks what runs, FORMATS (default "bf16 q8_0
# q4_k") auscult's formats; the whole run takes about 35 minutes here. An engine that fails is
# reported and the rest still run. Needs /usr/bin/time, a release build, and a Python environment at $PYTHON
# (default ~/auscult-torch-venv/bin/python) with torch, transformers, soundfile, gguf and
# llama-cpp-python. Quantized caches go to BENCH_DIR/cache (cleared first, so the first load of
# each format quantizes); llama.cpp's GGUFs to BENCH_DIR/llama (made once, kept).
#
# Every measurement is printed as it is taken, and the table at the end gathers them.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${1:-${AUSCULT_BENCH_DIR:-$HOME/auscult-bench}}
TOKENS=${2:-32}
ENGINES=${ENGINES:-auscult transformers llama}
FORMATS=${FORMATS:-bf16 q8_0 q4_k}
PYTHON=${PYTHON:-$HOME/auscult-torch-venv/bin/python}
MODEL=$BENCH/qwen2-audio-7b
CLIP=tests/fixtures/audio/mel/long.wav   # 31.5 s; the model hears its first 30 s
SHORT_CLIP=tests/fixtures/audio/mel/short.wav
PROMPT="Describe the audio in detail."
AUSCULT=./target/release/auscult
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
ROWS=$OUT/rows.tsv   # engine, load cold, load cached, prefill, decode tokens/s, peak RSS

[ -f "$MODEL/config.json" ] || { echo "$MODEL: no checkpoint; make it with scripts/make_full_size_checkpoint.py" >&2; exit 1; }
cargo build --release --quiet --examples --bin auscult

echo "## machine"
nproc
grep -m1 "model name" /proc/cpuinfo
uptime
bandwidth() { for size in 1 2; do ./target/release/examples/memory_bandwidth "$size"; done; }
echo "## read bandwidth, before"
bandwidth | tee "$OUT/bandwidth"
echo "## linear layers on the 7B's shapes (one row: share of the bandwidth bound; 785 rows: share of the f32 GEMM)"
./target/release/examples/linear_kernels 785 | tee "$OUT/kernels"

# Seconds from a trace's timings.
timing() { "$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['timings'][sys.argv[2]])" "$1" "$2"; }

auscult_run() { # label, clip, tokens, flags...
  local label=$1 clip=$2 tokens=$3; shift 3
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$AUSCULT" run --model "$MODEL" --audio "$clip" \
    --prompt "$PROMPT" --max-new-tokens "$tokens" --min-new-tokens "$tokens" \
    --cache-dir "$BENCH/cache" --out "$OUT/trace.json" "$@" 2>"$OUT/stderr" || { cat "$OUT/stderr" >&2; return 1; }
  read -r wall rss <"$OUT/time"
  echo "auscult $label: wall $wall s, peak RSS $((rss / 1024)) MiB; $(tail -1 "$OUT/stderr")"
  echo "$rss" >"$OUT/rss"
}

if [[ $ENGINES == *auscult* ]]; then
  rm -rf "$BENCH/cache"
  for format in $FORMATS; do
    case $format in bf16) flags=(--dtype bf16) ;; *) flags=(--quantize "$format") ;; esac
    echo "## auscult $format: first load (quantizing and caching), 0.3 s clip, 1 token"
    auscult_run "$format first load" "$SHORT_CLIP" 1 "${flags[@]}" --no-capture
    cold=$(timing "$OUT/trace.json" load_seconds)
    echo "## auscult $format: 30 s clip, $TOKENS tokens, capture on"
    auscult_run "$format" "$CLIP" "$TOKENS" "${flags[@]}"
    printf "auscult %s, capture\t%.0f\t%.0f\t%.0f (encoder %.0f)\t%.2f\t%.1f\n" "$format" "$cold" \
      "$(timing "$OUT/trace.json" load_seconds)" "$(timing "$OUT/trace.json" prefill_seconds)" \
      "$(timing "$OUT/trace.json" audio_encoder_seconds)" \
      "$(timing "$OUT/trace.json" decode_tokens_per_second)" "$(echo "$(cat "$OUT/rss") / 1048576" | bc -l)" >>"$ROWS"
  done
fi

if [[ $ENGINES == *transformers* ]]; then
  for attentions in "" --no-attentions; do
    echo "## transformers bf16 eager ${attentions:-with output_attentions}"
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$PYTHON" scripts/bench_transformers_generate.py --model "$MODEL" \
      --audio "$CLIP" --prompt "$PROMPT" --tokens "$TOKENS" --dtype bf16 $attentions 2>"$OUT/py.err" >"$OUT/py.json" ||
      { echo "transformers failed:"; tail -3 "$OUT/py.err"; continue; }
    read -r wall rss < <(tail -1 "$OUT/time")
    echo "wall $wall s, peak RSS $((rss / 1024)) MiB, $(cat "$OUT/py.json")"
    "$PYTHON" - "$OUT/py.json" "$rss" "${attentions:-output_attentions}" >>"$ROWS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
label = "transformers bf16 eager, " + ("no attentions" if sys.argv[3] == "--no-attentions" else "output_attentions")
print(f"{label}\t{r['load_s']:.0f}\t—\t{r['prefill_s']:.0f}\t{r['decode_tokens_per_s']:.2f}\t{int(sys.argv[2]) / 1048576:.1f}")
EOF
  done
fi

if [[ $ENGINES == *llama* ]]; then
  echo "## llama.cpp (llama-cpp-python), the decoder alone, 785 prompt tokens, no capture"
  "$PYTHON" scripts/bench_llama_cpp.py --checkpoint "$MODEL" --work-dir "$BENCH/llama" \
    --prompt-tokens 785 --decode-tokens "$TOKENS" | tee "$OUT/llama.jsonl" || echo "llama.cpp failed (see above)"
  "$PYTHON" - "$OUT/llama.jsonl" >>"$ROWS" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"{r['model']} (decoder only)\t{r['load_s']:.0f}\t—\t{r['prefill_s']:.0f}\t{r['decode_tokens_per_s']:.2f}\t{r['peak_rss_mb'] / 1024:.1f}")
EOF
fi

echo "## read bandwidth, after"
bandwidth | tee -a "$OUT/bandwidth"

echo "## bounds"
"$PYTHON" - "$MODEL" "$OUT/bandwidth" "$OUT/kernels" <<'EOF'
import json, re, sys
from pathlib import Path
model, bandwidth_log, kernels_log = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
config = json.loads((model / "config.json").read_text())
text, audio = config["text_config"], config["audio_config"]
gbs = [float(x) for x in re.findall(r"([0-9.]+) GB/s", open(bandwidth_log).read())]
gemm = [float(x) for x in re.findall(r"\bgemm\s+([0-9.]+)", open(kernels_log).read())]
# The hub's text_config leaves out what equals transformers' Qwen2Config defaults.
qwen2_defaults = {"hidden_size": 4096, "intermediate_size": 22016, "num_hidden_layers": 32,
                  "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 151936}
text = {**qwen2_defaults, **text}
h, i, layers, vocab = text["hidden_size"], text["intermediate_size"], text["num_hidden_layers"], text["vocab_size"]
heads, kv_heads = text["num_attention_heads"], text["num_key_value_heads"]
kv_dim = h // heads * kv_heads
per_layer = h * h * 2 + h * kv_dim * 2 + 3 * h * i          # q, o, k, v, gate, up, down
decoder_params = layers * per_layer + vocab * h              # + the head
prompt = 785
# The encoder always hears 30 s: 3000 mel frames, two convolutions, 1500 positions.
d, ff, e_layers, frames = audio["d_model"], audio["encoder_ffn_dim"], audio["encoder_layers"], 1500
encoder = 2 * (3 * audio["num_mel_bins"] * d * 3000 + 3 * d * d * frames) \
    + e_layers * (2 * frames * (4 * d * d + 2 * d * ff) + 4 * frames * frames * d)
decoder = 2 * prompt * layers * per_layer + layers * 4 * prompt * prompt * h + 2 * h * vocab
gemm_rate = max(gemm) * 1e9
print(f"bandwidth {min(gbs):.1f}-{max(gbs):.1f} GB/s; f32 GEMM {min(gemm):.0f}-{max(gemm):.0f} GFLOP/s")
for name, bytes_per_weight in [("bf16", 2), ("q8_0", 34 / 32), ("q4_k", 144 / 256)]:
    kv = layers * 2 * prompt * kv_dim * 4
    per_token = layers * per_layer * bytes_per_weight + vocab * h * bytes_per_weight + kv
    print(f"decode bound {name}: {per_token / 1e9:.2f} GB a token -> {min(gbs) * 1e9 / per_token:.2f}-{max(gbs) * 1e9 / per_token:.2f} tokens/s")
print(f"prefill at the best GEMM rate: encoder {encoder / 1e12:.2f} TFLOP, decoder {decoder / 1e12:.2f} TFLOP -> {(encoder + decoder) / gemm_rate:.0f} s (x1.3: {1.3 * (encoder + decoder) / gemm_rate:.0f} s)")
EOF

echo "## table ($TOKENS tokens after a 785-token prompt; seconds, tokens/s, GiB)"
printf "| engine | load, first | load, cached | prefill, 30 s clip | decode tokens/s | peak RSS GiB |\n| --- | --- | --- | --- | --- | --- |\n"
sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$ROWS"
