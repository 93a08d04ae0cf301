#!/usr/bin/env bash
# The Python package's checks that need PyTorch, which CI does not install (see README,
# "Python"): the whole pytest suite (capture against `output_attentions` on the fixtures), then
# the committed Python-made traces made again and compared (scripts/make_python_traces.py
# --check). Run from anywhere:
#
#   scripts/python_checks.sh [PYTHON]
#
# PYTHON (default: $AUSCULT_TORCH_PYTHON, else `python3`) must have torch, transformers >= 5.25,
# soundfile, soxr, tokenizers, regex, pandas and pytest: `pip install './python[capture,read,test]'`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-${AUSCULT_TORCH_PYTHON:-python3}}
"$python" -c 'import torch, transformers; print(f"torch {torch.__version__}, transformers {transformers.__version__}")'
echo "== pytest python/ (with torch)"
"$python" -m pytest -q python/tests
echo "== the Python-made traces, made again"
"$python" scripts/make_python_traces.py --check
