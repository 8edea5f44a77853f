#!/usr/bin/env bash
# Regenerate tests/fixtures/nomic-text/ (a bert-base-uncased-style WordPiece tokenizer.json, a tiny
# random sentence-transformers NomicBERT model and a NomicBertForSequenceClassification, both with the
# pinned hub code of tools/reference/nomic_bert/ copied in, with what sentence-transformers 5.3 and
# transformers 4.57.6 compute from text) from the pinned packages of tools/reference/requirements-st5.txt
# (einops included: the NomicBERT code imports it). Creates that venv (.venv-st5 at the repo root, or
# $ENCORE_ST5_VENV) if it is missing; safe to rerun: the generator replaces the directory with
# byte-identical files.
set -euo pipefail
# shellcheck source=SCRIPTDIR/ref_venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/ref_venv.sh"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
ref_exec "${ENCORE_ST5_VENV:-$repo/.venv-st5}" requirements-st5.txt make_nomic_text_fixtures.py "$@"
