#!/usr/bin/env bash
# Regenerate tests/fixtures/family/deberta-v2-*/ (DebertaV2Model and its task heads) from the pinned
# reference packages. Creates the reference venv (.venv-ref at the repo root, or $ENCORE_REF_VENV) if
# it is missing; safe to rerun: the generator replaces the deberta-v2-* directories with byte-identical
# files and leaves the rest of tests/fixtures/family/ alone (make_family_fixtures.sh replaces all of
# it: run this after that one).
set -euo pipefail
# shellcheck source=SCRIPTDIR/ref_venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/ref_venv.sh"
ref_exec "${ENCORE_REF_VENV:-$repo/.venv-ref}" requirements.txt make_deberta_fixtures.py "$@"
