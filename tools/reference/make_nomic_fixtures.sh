#!/usr/bin/env bash
# Regenerate tests/fixtures/family/nomic-bert-*/ (NomicBertModel, NomicBertForPreTraining,
# NomicBertForSequenceClassification from the pinned hub code in tools/reference/nomic_bert/) with the
# pinned reference packages. Creates the reference venv (.venv-ref at the repo root, or
# $ENCORE_REF_VENV) if it is missing; safe to rerun: the generator replaces the nomic-bert-* directories
# with byte-identical files and leaves the rest of tests/fixtures/family/ alone (make_family_fixtures.sh
# replaces all of it: run this after that one).
set -euo pipefail
# shellcheck source=SCRIPTDIR/ref_venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/ref_venv.sh"
ref_exec "${ENCORE_REF_VENV:-$repo/.venv-ref}" requirements.txt make_nomic_fixtures.py "$@"
