#!/usr/bin/env bash
# Captures the inspector's main views as text with tmux (NO_COLOR, so the heatmap shows as shade
# characters that survive a text capture) into docs/screenshots/, for the README.
#   scripts/screenshots.sh            # builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/auscult
out=docs/screenshots
mkdir -p "$out"
tmux_=(tmux -L auscult-screenshots)

# shot NAME WIDTH HEIGHT "ARGS" KEYS...: runs auscult ARGS, sends the keys, captures the pane.
shot() {
  local name=$1 width=$2 height=$3 args=$4
  shift 4
  "${tmux_[@]}" kill-server 2>/dev/null || true
  "${tmux_[@]}" new-session -d -s shot -x "$width" -y "$height" \
    "NO_COLOR=1 TERM=xterm-256color $bin $args; sleep 5"
  sleep 1.5
  for key in "$@"; do
    "${tmux_[@]}" send-keys -t shot "$key"
    sleep 0.2
  done
  sleep 0.5
  "${tmux_[@]}" capture-pane -p -t shot | sed -e 's/[[:space:]]*$//' >"$out/$name.txt"
  "${tmux_[@]}" send-keys -t shot q
  "${tmux_[@]}" kill-server 2>/dev/null || true
  echo "$out/$name.txt"
}

# No arguments: the demo model live on the first bundled example (the run takes well under the
# second the script waits).
shot demo-live-100x30 100 30 "" j j j
shot main-100x30 100 30 "inspect assets/demo/demo-tones.json" j j j j j j j j
shot moved-100x30 100 30 "inspect assets/demo/demo-tones.json" j j l m + Right
shot help-100x30 100 30 "inspect assets/demo/demo-tones.json" '?'
shot legend-100x30 100 30 "inspect assets/demo/demo-tones.json" '?' '?'
shot list-100x30 100 30 "inspect assets/demo/demo-set.jsonl"
shot docked-160x40 160 40 "inspect assets/demo/demo-set.jsonl" n n j j j
shot small-80x24 80 24 "inspect assets/demo/demo-tones.json" j
# Qwen3-Omni live on its tiny test checkpoint (random weights: the text is noise): the family in
# the header, the experts line in the step panel.
shot qwen3-omni-live-80x24 80 24 "inspect --model tests/fixtures/qwen3_omni/instruct --audio tests/fixtures/audio/mel/mid.wav --prompt 'Is the pitch rising or falling? Answer A or B.' --max-new-tokens 60"

# Two traces files compared: the demo model asked 8 fresh items directly and with reasoning
# (`demo eval` writes both; `demo compare` does the same and opens them).
pairs=$(mktemp -d)
trap 'rm -rf "$pairs"' EXIT
$bin demo eval --n 8 --seed 1 --prompt r1-aqa,r1-aqa-think --out "$pairs" >/dev/null
compare="inspect $pairs/r1-aqa/traces.jsonl --compare $pairs/r1-aqa-think/traces.jsonl"
shot compare-80x24 80 24 "$compare" e n n n n o j j j
shot compare-side-by-side-180x40 180 40 "$compare" e n n n n o j j j
shot compare-list-100x30 100 30 "$compare" f f f f

# Heads that listen: 20 synthetic items run by `batch` with per-head maps (the ranking needs
# them for "peak in the named event").
$bin demo items --out "$pairs/items" --n 20 --seed 1 2>/dev/null
$bin batch --model assets/demo-model --data "$pairs/items/mmau.json" --prompt-template r1-aqa-think \
  --per-head-maps --out "$pairs/heads/traces.jsonl" >/dev/null 2>&1
shot heads-100x30 100 30 "inspect $pairs/heads/traces.jsonl" e H

