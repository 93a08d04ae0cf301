#!/usr/bin/env bash
# Prints which top-level module of src/ names which other one (`crate::x` paths, test code
# included), one line per module, then every pair of modules that name each other. A grep, not
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
  printf '%-12s -> %s\n' "$m" "$targets"
done
echo
cycles=0
for a in $modules; do
  for b in ${uses[$a]}; do
    if [[ " ${uses[$b]:-} " == *" $a "* && "$a" < "$b" ]]; then
      echo "cycle: $a <-> $b"
      cycles=$((cycles + 1))
    fi
  done
done
echo "$cycles pairs of modules that name each other"
