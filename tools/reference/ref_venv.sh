# shellcheck shell=bash
# Sourced by the fixture generators' wrappers (make_*_fixtures.sh, after `set -euo pipefail`): sets
# here (tools/reference) and repo (the repository root), and defines ref_exec.
#
# ref_exec VENV REQUIREMENTS GENERATOR [ARGS...]: creates the virtual environment VENV with
# tools/reference/REQUIREMENTS installed if it has no bin/python yet, exports the one-thread settings
# (fixed reduction orders: a rerun rewrites identical bytes) and execs VENV's python on
# tools/reference/GENERATOR with ARGS.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034  # repo: the wrappers' default venv paths
repo="$(cd "$here/../.." && pwd)"

ref_exec() {
  local venv="$1" requirements="$2" generator="$3"
  shift 3
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --upgrade pip
    "$venv/bin/python" -m pip install -r "$here/$requirements"
  fi
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
  exec "$venv/bin/python" "$here/$generator" "$@"
}
