#!/usr/bin/env bash
# Regenerate tests/fixtures/formats/ (checkpoint-format fixtures) from the core fixtures.
# Two reference environments, created if missing: .venv-ref (torch, transformers; see
# requirements.txt) writes the torch.save files, .venv-tf (requirements-tf.txt) writes the
# TensorFlow bundles. Torch files are not byte-reproducible (torch.save records a
# serialization id, the legacy format memory addresses); their tensors are.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ref="${ENCORE_REF_VENV:-$repo/.venv-ref}"
tf="${ENCORE_TF_VENV:-$repo/.venv-tf}"

make_venv() {  # venv requirements
  if [ ! -x "$1/bin/python" ]; then
    python3 -m venv "$1"
    "$1/bin/python" -m pip install --upgrade pip
    "$1/bin/python" -m pip install -r "$2"
  fi
}
make_venv "$ref" "$here/requirements.txt"
make_venv "$tf" "$here/requirements-tf.txt"

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
"$ref/bin/python" "$here/make_format_fixtures.py" --part torch "$@"
"$ref/bin/python" "$here/make_format_fixtures.py" --part family "$@"
"$tf/bin/python" "$here/make_format_fixtures.py" --part tf "$@"
