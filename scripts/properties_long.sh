#!/usr/bin/env bash
# The property tests of src/properties.rs at 100 times CI's case count (1,000,000 a target),
# optimised, from a fresh random draw. A failure prints the minimal input: make it a named test in the `found` module there.
#
#   scripts/properties_long.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES=${1:-1000000} PROPTEST_RANDOM=1
cargo build --release --lib --tests --quiet
time cargo test --release --lib properties -- --test-threads 2
