#!/usr/bin/env bash
# Peak memory of a long generation with the auscult Python package's capture against
# transformers' output_attentions=True (issue 20, docs/python-package.md §7), in one session.
#
#   scripts/bench_python_capture.sh [BENCH_DIR] [REPEATS] [TOKENS]
#
# BENCH_DIR defaults to $AUSCULT_BENCH_DIR, else ~/auscult-bench (make it with
# scripts/make_bench_checkpoint.py; only mid_f32 is used); REPEATS to 3, TOKENS to 512. Needs
# /usr/bin/time and the PyTorch environment at $PYTHON (default ~/auscult-torch-venv/bin/python,
# torch and transformers >= 5.25). Each configuration runs in its own process, the four
# interleaved in each repeat, greedy, exactly TOKENS new tokens, CPU, float32:
#   a  transformers eager, output_attentions=True   (scripts/bench_transformers_generate.py)
#   b  transformers eager, no attentions (the floor) (the same, --no-attentions)
#   c  the package, attention="eager"                (scripts/bench_python_capture.py)
#   d  the package, attention="sdpa"                 (the same)
# Every run is printed as it is measured (wall and peak RSS from /usr/bin/time, the script's JSON
# line with ru_maxrss); then medians per configuration and whether each run's generated ids equal
# the first (a) run's.
# (a)'s peak is mostly glibc's heap, not tensors: the attentions it keeps are 609 MB at 512 tokens,
# yet it peaks gigabytes above the floor. With MALLOC_MMAP_THRESHOLD_=131072 in the environment
# (large blocks mmapped, so returned when freed) (a) peaks at about the floor plus its attentions;
# presumably the many small kept tensors pin heap space that the growing KV cache cannot reuse.
set -euo pipefail

BENCH=${1:-${AUSCULT_BENCH_DIR:-$HOME/auscult-bench}}
REPEATS=${2:-3}
TOKENS=${3:-512}
PYTHON=${PYTHON:-$HOME/auscult-torch-venv/bin/python}
MODEL=$BENCH/mid_f32
CLIP=tests/fixtures/audio/mel/long.wav   # 31.5 s: the model hears its first 30 s (750 audio tokens)
PROMPT="Describe the audio in detail."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "## machine: cores, load, memory"
nproc
uptime
free -m | head -2

run_one() { # label, repeat, script, extra flags...
  local label=$1 repeat=$2 script=$3; shift 3
  local tag="$label.$repeat"
  /usr/bin/time -f "%e %M" -o "$OUT/$tag.time" "$PYTHON" "$script" --model "$MODEL" --audio "$CLIP" \
    --prompt "$PROMPT" --tokens "$TOKENS" --ids-out "$OUT/$tag.ids" "$@" 2>"$OUT/$tag.err" >"$OUT/$tag.json" \
    || { echo "$tag failed:"; tail -20 "$OUT/$tag.err"; exit 1; }
  read -r wall rss <"$OUT/$tag.time"
  echo "$tag: wall ${wall} s, peak RSS $((rss / 1024)) MiB, $(cat "$OUT/$tag.json")"
}

echo "## $TOKENS tokens, $REPEATS repeats, configurations interleaved"
for repeat in $(seq "$REPEATS"); do
  run_one a "$repeat" scripts/bench_transformers_generate.py
  run_one b "$repeat" scripts/bench_transformers_generate.py --no-attentions
  run_one c "$repeat" scripts/bench_python_capture.py --attention eager
  run_one d "$repeat" scripts/bench_python_capture.py --attention sdpa
done

echo "## medians (peak RSS and wall from /usr/bin/time; MB = 10^6 bytes)"
"$PYTHON" - "$OUT" "$REPEATS" "$TOKENS" <<'PY'
import json, statistics, sys
out, repeats, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = {
    "a": "transformers eager, output_attentions=True",
    "b": "transformers eager, no attentions",
    "c": "package, attention=eager",
    "d": "package, attention=sdpa",
}
reference = json.load(open(f"{out}/a.1.ids"))
print(f"reference ids (a.1): {len(reference)} tokens, {len(set(reference))} distinct")
print("| configuration | peak RSS MB | ru_maxrss MB | wall s | tokens/s (whole process) | decode tokens/s | prefill s | ids equal a.1 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for label, name in names.items():
    rows = []
    for r in range(1, repeats + 1):
        wall, rss_kib = open(f"{out}/{label}.{r}.time").read().split()
        fields = json.loads(open(f"{out}/{label}.{r}.json").read())
        ids = json.load(open(f"{out}/{label}.{r}.ids"))
        rows.append((float(wall), int(rss_kib) * 1024 / 1e6, fields, ids == reference))
    med = lambda values: statistics.median(values)  # noqa: E731
    wall = med([w for w, _, _, _ in rows])
    print(
        f"| {label}: {name} | {med([m for _, m, _, _ in rows]):.0f} "
        f"| {med([f['peak_rss_gb'] * 1024 for _, _, f, _ in rows]):.0f} | {wall:.1f} | {tokens / wall:.1f} "
        f"| {med([f['decode_tokens_per_s'] for _, _, f, _ in rows]):.1f} "
        f"| {med([f['prefill_s'] for _, _, f, _ in rows]):.2f} "
        f"| {'yes' if all(e for _, _, _, e in rows) else 'NO'} ({sum(e for _, _, _, e in rows)}/{len(rows)}) |"
    )
PY
uptime
