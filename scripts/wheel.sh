#!/usr/bin/env bash
# Builds encore's self-contained Python wheel into OUT_DIR (default dist/): `pip wheel .`
# (scikit-build-core + nanobind, pinned in pyproject.toml) compiles libencore and the module,
# then `auditwheel repair` copies every library they need beyond the manylinux baseline
# (oneDNN, utf8proc, oniguruma, OpenMP, ...) into the wheel, so that it installs and runs in a
# fresh venv on a machine without the build dependencies.
# Usage: scripts/wheel.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
bash scripts/deps.sh
tools=build/venv-wheel-tools
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install -q -r python/requirements-wheel.txt
rm -rf build/wheel-raw
mkdir -p "$out"
"$tools/bin/pip" wheel --no-deps -w build/wheel-raw .
PATH="$PWD/$tools/bin:$PATH" "$tools/bin/auditwheel" repair -w "$out" build/wheel-raw/encore_encoders-*.whl
ls "$out"/encore_encoders-*.whl
