#!/usr/bin/env bash
# The test command: builds encore (release and ASan+UBSan), runs every fuzz target for a
# bounded time, then the whole suite in both builds with ctest, then the Python tests against
# the wheel (scripts/python-tests.sh). Installs what it needs
# (scripts/deps.sh) and fetches the default model and every real model (scripts/fetch-model.sh,
# scripts/fetch-real-models.sh; a failed fetch fails the run), then sets
# ENCORE_REQUIRE_REAL_MODELS=1 so that a real-model test fails instead of skipping.
# ENCORE_SKIP_REAL_MODELS=1 (a developer without the network, or the 2 GB): the real models are
# not fetched, and their tests skip where models/real lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch-model.sh
if [ "${ENCORE_SKIP_REAL_MODELS:-}" = 1 ]; then
  echo "test: ENCORE_SKIP_REAL_MODELS=1: real models not fetched; RealModels.* skip those absent" \
    "from models/real (bash scripts/fetch-real-models.sh fetches them)" >&2
else
  bash scripts/fetch-real-models.sh
  export ENCORE_REQUIRE_REAL_MODELS=1
fi
# The official OpenAI client, for tests/cli/serve_openai.sh.
if ! .venv-serve/bin/python -c "import openai" 2>/dev/null; then
  python3 -m venv .venv-serve
  .venv-serve/bin/pip install -q -r bench/requirements-serve.txt
fi
bash scripts/build.sh release
bash scripts/build.sh asan
echo "== fuzz targets (libFuzzer, 30 s each) =="
bash scripts/fuzz.sh 30
echo "== ASan + UBSan build =="
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
echo "== release build =="
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== Python wheel and tests =="
bash scripts/python-tests.sh
