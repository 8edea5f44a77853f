#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang-14, ASan + UBSan, only src/io and src/core)
# in build-fuzz/ and runs each for SECONDS (default 60) on a seed corpus made from the test
# fixtures, as many at once as there are cores. New corpus entries stay in build-fuzz/corpus/,
# crashes in build-fuzz/findings/.
# Usage: scripts/fuzz.sh [SECONDS]     Needs clang-14 and libclang-rt-14-dev (libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DENCORE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)"
python3 tests/fuzz/make_seeds.py tests/fixtures build-fuzz/corpus
# The targets run $(nproc) at a time (each is one process on one core), each into its own log,
# printed in order once all are done.
fuzz_one() {
  local target=$1
  mkdir -p "build-fuzz/findings/$target"
  {
    echo "== fuzz_$target for ${secs}s =="
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="build-fuzz/findings/$target/" "build-fuzz/corpus/$target" \
      2>&1 | grep -E "^(#[0-9]+ +DONE|Done|stat::|==[0-9]+==ERROR|SUMMARY|INFO: Loaded|artifact_prefix|Test unit written)" || true
  } > "build-fuzz/$target.log"
}
export -f fuzz_one
export secs
targets=(safetensors torch_pickle tf_bundle serve_request tokenizer_json tokenizer_encode bpe_merges precompiled
         regex_pattern sentencepiece_model vocab_txt)
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one {}'
status=0
for target in "${targets[@]}"; do
  cat "build-fuzz/$target.log"
  if ls "build-fuzz/findings/$target"/* >/dev/null 2>&1; then
    echo "fuzz_$target: findings in build-fuzz/findings/$target" >&2
    status=1
  fi
done
exit $status
