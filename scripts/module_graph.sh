#!/usr/bin/env bash
# Prints which top-level module of src/ names which other one (`crate::x` paths, test code
# included), one line per module, then any cycle among them (exit 1 if there is one). A grep, not
# a compiler: it reads paths as written, which is what a reader of the code sees.
# Usage: scripts/module_graph.sh [SRC_DIR]   (default: src)
set -euo pipefail
src=${1:-src}
modules=$(cd "$src" && { ls -d */ | tr -d /; ls *.rs | sed 's/\.rs$//'; } | grep -vx 'lib\|main' | sort)
declare -A uses
for m in $modules; do
  if [ -d "$src/$m" ]; then files=$(find "$src/$m" -name '*.rs'); else files="$src/$m.rs"; fi
  targets=$(grep -ohE 'crate::[a-z_]+' $files | sed 's/crate:://' | sort -u | grep -vx "$m" || true)
  targets=$(comm -12 <(echo "$targets") <(echo "$modules" | tr ' ' '\n') | tr '\n' ' ')
  uses[$m]=$targets
  printf '%-14s -> %s\n' "$m" "${targets% }"
done
echo
# Any cycle, of any length: tsort refuses a graph with a loop and names the modules on it.
edges=$(for m in $modules; do for t in ${uses[$m]}; do echo "$m $t"; done; echo "$m $m"; done)
if loops=$(echo "$edges" | tsort 2>&1 >/dev/null) && [ -z "$loops" ]; then
  echo "no cycles: every module names only modules below it"
else
  echo "$loops" | sed 's/^tsort: //' | awk '/input contains a loop/ { if (line) print line; line = "cycle:"; next }
    { line = line " " $0 } END { if (line) print line }'
  exit 1
fi
