#!/usr/bin/env bash
# The Python tests (tests/python) against the wheel, installed the way a user installs it:
# scripts/wheel.sh builds the self-contained wheel, a new venv gets only that wheel and the
# pinned test requirements (Ray and Spark among them, for test_scale_out.py), and pytest
# compares with the committed goldens and, bitwise, with the C++ API through the release
# build's CLI (ENCORE_BINARY, default build/encore).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/wheel.sh build/dist
venv=build/venv-wheel-test
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q -r python/requirements-test.txt -r python/requirements-scale.txt
"$venv/bin/pip" install -q --no-deps "$(ls -t build/dist/encore_encoders-*.whl | head -1)"
# Self-contained: beyond the C and C++ runtimes, every library comes from the wheel.
module=$(ls "$venv"/lib/python3*/site-packages/encore/_encore*.so)
outside=$(ldd "$module" | awk '/=>/ {print $1 " " $3}' | grep -v "/site-packages/" |
  grep -Ev '^(libstdc\+\+|libgcc_s|libc|libm|libpthread|libdl|librt)\.so' || true)
[ -z "$outside" ] || { echo "python-tests: the wheel's module loads libraries from outside it: $outside" >&2; exit 1; }
# Imported from the venv, not from the source tree (python/encore has no compiled module).
cd tests/python
ENCORE_BINARY=${ENCORE_BINARY:-$PWD/../../build/encore} "../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
