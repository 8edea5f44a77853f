#!/usr/bin/env bash
# The test command: builds encore (release and ASan+UBSan), runs every fuzz target for a
# bounded time, then the whole suite in both builds with ctest. Installs what it needs
# (scripts/deps.sh) and fetches the default model for the tests that use it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch-model.sh || echo "test: default model unavailable; tests that need it will skip" >&2
bash scripts/build.sh release
bash scripts/build.sh asan
echo "== fuzz targets (libFuzzer, 30 s each) =="
bash scripts/fuzz.sh 30
echo "== ASan + UBSan build =="
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
echo "== release build =="
ctest --test-dir build --output-on-failure -j "$(nproc)"
