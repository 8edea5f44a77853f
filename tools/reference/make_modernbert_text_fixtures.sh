#!/usr/bin/env bash
# Regenerate tests/fixtures/modernbert-text/ (a ModernBERT-style byte-level BPE tokenizer.json, a tiny
# random sentence-transformers ModernBERT model and a ModernBertForSequenceClassification, with what
# sentence-transformers 5.3 and transformers 4.57.6 compute from text) from the pinned packages of
# tools/reference/requirements-st5.txt. Creates that venv (.venv-st5 at the repo root, or
# $ENCORE_ST5_VENV) if it is missing; safe to rerun: the generator replaces the directory with
# byte-identical files.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ENCORE_ST5_VENV:-$repo/.venv-st5}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --upgrade pip
  "$venv/bin/python" -m pip install -r "$here/requirements-st5.txt"
fi

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
exec "$venv/bin/python" "$here/make_modernbert_text_fixtures.py" "$@"
