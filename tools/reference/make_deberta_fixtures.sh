#!/usr/bin/env bash
# Regenerate tests/fixtures/family/deberta-v2-*/ (DebertaV2Model and its task heads) from the pinned
# reference packages. Creates the reference venv (.venv-ref at the repo root, or $ENCORE_REF_VENV) if
# it is missing; safe to rerun: the generator replaces the deberta-v2-* directories with byte-identical
# files and leaves the rest of tests/fixtures/family/ alone (make_family_fixtures.sh replaces all of
# it: run this after that one).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ENCORE_REF_VENV:-$repo/.venv-ref}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --upgrade pip
  "$venv/bin/python" -m pip install -r "$here/requirements.txt"
fi

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec "$venv/bin/python" "$here/make_deberta_fixtures.py" "$@"
