#!/usr/bin/env bash
# Regenerate tests/fixtures/family/ (RoBERTa, XLM-R, CamemBERT, DistilBERT, ELECTRA, ALBERT, MPNet)
# from the pinned reference packages. Creates the reference venv (.venv-ref at the repo root) if
# it is missing; safe to rerun: the generator replaces tests/fixtures/family/ with byte-identical files.
set -euo pipefail
# shellcheck source=SCRIPTDIR/ref_venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/ref_venv.sh"
ref_exec "${ENCORE_REF_VENV:-$repo/.venv-ref}" requirements.txt make_family_fixtures.py "$@"
