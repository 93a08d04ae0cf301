#!/usr/bin/env bash
# The cost of causal evidence (issue 17), each measurement as a multiple of the plain run's
# time, measured in the same process: the trace's own timings (prefill + decode) against the
# seconds its `evidence` record gives each measurement. Two models: the bundled demo model on a
# bundled clip, and the 110 M benchmark checkpoint (scripts/make_bench_checkpoint.py) on a 30 s
# clip with exactly 128 generated tokens.
#
#   scripts/bench_evidence.sh [BENCH_DIR] [REPEATS]
#
# Needs a release build and python3 (standard library only).
set -euo pipefail

BENCH=${1:-${AUSCULT_BENCH_DIR:-$HOME/auscult-bench}}
REPEATS=${2:-3}
AUSCULT=./target/release/auscult
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cargo build --release --quiet --bin auscult

EVIDENCE=(--reliance silence,masked --counterfactual-answer silence --hide-audio-from-steps)

summary() { # trace
  python3 - "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
run = t["timings"]["prefill_seconds"] + t["timings"]["decode_seconds"]
s = t["evidence"]["seconds"]
occ = t["evidence"].get("occlusion")
parts = {
    "reliance (actual+silence+masked)": s.get("actual", 0) + s.get("silence", 0) + s.get("masked", 0),
    "actual": s.get("actual"), "silence": s.get("silence"), "masked": s.get("masked"),
    "counterfactual answer": s.get("counterfactual_answer"),
    "interventions": s.get("interventions"),
    "occlusion (%d windows)" % len(occ["windows"]) if occ else "occlusion": s.get("occlusion"),
}
print(f"  run {run:.3f} s ({len(t['generation']['ids'])} tokens, {len(t['steps'])} steps, "
      f"prompt {len(t['input']['ids'])} tokens)")
for name, value in parts.items():
    if value is not None:
        print(f"  {name:<36} {value:8.3f} s  {value / run:6.2f} x the run")
PY
}

echo "## the demo model, assets/examples/clips/synth-30064771072.wav"
for _ in $(seq "$REPEATS"); do
  "$AUSCULT" run --model assets/demo-model --audio assets/examples/clips/synth-30064771072.wav \
    --prompt "How many sounds are there? Choose one: 1; 3; 4; 6." --out "$OUT/demo.json" \
    "${EVIDENCE[@]}" --occlusion-window 0.25s --occlusion-hop 0.125s 2>/dev/null
  summary "$OUT/demo.json"
done

# The random checkpoint's ids are past its small tokenizer's vocabulary: its text is empty and has
# no steps. For the interventions, the trace is given 8 steps of 16 tokens each (token ranges
# are all an intervention needs) and measured again with `auscult reliance`.
eight_steps() { # trace
  python3 - "$1" <<'PY'
import json, sys
path = sys.argv[1]
t = json.load(open(path))
t["steps"] = [{"index": k, "tokens": [16 * k, 16 * k + 16], "chars": [0, 0], "kind": "other",
               "text": ""} for k in range(8)]
t["evidence"]["interventions"] = []
json.dump(t, open(path, "w"))
PY
}

echo "## the 110 M benchmark checkpoint, 30 s clip, 128 tokens"
for _ in $(seq "$REPEATS"); do
  "$AUSCULT" run --model "$BENCH/mid_f32" --audio tests/fixtures/audio/mel/long.wav \
    --prompt "Describe the audio in detail." --max-new-tokens 128 --min-new-tokens 128 \
    --out "$OUT/bench.json" "${EVIDENCE[@]}" --occlusion-window 1s 2>/dev/null
  eight_steps "$OUT/bench.json"
  "$AUSCULT" reliance "$OUT/bench.json" --model "$BENCH/mid_f32" --hide-audio-from-steps 2>/dev/null
  summary "$OUT/bench.json"
done
