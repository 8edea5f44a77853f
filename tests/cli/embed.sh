#!/usr/bin/env bash
# encore embed through the real binary: outputs, bad input lines, .npy, usage errors.
# Usage: embed.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
model=$(cd "$fx/../.." && pwd)/models/all-MiniLM-L6-v2
if [ ! -f "$model/model.safetensors" ]; then
  echo "SKIPPED: $model is absent (run scripts/fetch-model.sh)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Arguments: one JSON line each, 384 numbers, unit length (the Normalize module).
"$enc" embed --model "$model" "first sentence" "second one" >"$tmp/out.jsonl"
[ "$(wc -l <"$tmp/out.jsonl")" -eq 2 ] || fail "expected 2 lines"
n=$(head -n 1 "$tmp/out.jsonl" | tr ',' '\n' | wc -l)
[ "$n" -eq 384 ] || fail "expected 384 dimensions, got $n"
norm=$(head -n 1 "$tmp/out.jsonl" | sed 's/.*\[//; s/\].*//' | tr ',' '\n' | awk '{s += $1 * $1} END {printf "%.4f", s}')
[ "$norm" = "1.0000" ] || fail "embedding is not unit length: $norm"

# stdin with awkward lines: empty, whitespace, invalid UTF-8, a 100,000-character line.
{
  echo "ordinary text"
  echo ""
  printf '   \t \n'
  printf 'bad \xff\xfe bytes\n'
  head -c 100000 /dev/zero | tr '\0' 'a'; echo            # one 100,000-character word: [UNK]
  for i in $(seq 1 2000); do printf 'many words '; done; echo  # 4,000 tokens: truncated
  echo "last line still runs"
} >"$tmp/in.txt"
set +e
"$enc" embed --model "$model" --input "$tmp/in.txt" >"$tmp/out2.jsonl" 2>"$tmp/err"
code=$?
set -e
[ "$code" -eq 1 ] || fail "a bad line should make the exit code 1, got $code"
[ "$(wc -l <"$tmp/out2.jsonl")" -eq 7 ] || fail "every input line gets an output line"
sed -n 4p "$tmp/out2.jsonl" | grep -q '"error"' || fail "invalid UTF-8 line should carry an error"
sed -n 7p "$tmp/out2.jsonl" | grep -q '"embedding"' || fail "lines after a bad one still run"
grep -q "line 4:" "$tmp/err" || fail "stderr names the bad input: $(cat "$tmp/err")"
grep -q "truncated" "$tmp/err" || fail "the long line warns about truncation once"
[ "$(grep -c truncated "$tmp/err")" -eq 1 ] || fail "one truncation warning only"

# NumPy output: header and size for [2, 128] float32 with Matryoshka dimensions.
"$enc" embed --model "$model" --dimensions 128 --output "$tmp/e.npy" "a" "b"
head -c 6 "$tmp/e.npy" | od -c | head -n 1 | grep -q "N   U   M   P   Y" || fail "not an .npy file"
grep -aq "'shape': (2, 128)" "$tmp/e.npy" || fail ".npy shape"
size=$(stat -c %s "$tmp/e.npy")
[ "$size" -eq $((128 + 2 * 128 * 4)) ] || fail ".npy size $size"

# Usage errors exit 2; bad options exit 1 with one line.
set +e
"$enc" embed --model "$model" --normalize --no-normalize x >/dev/null 2>&1; [ $? -eq 2 ] || fail "conflicting flags"
"$enc" embed --model "$model" --pooling median x >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "unknown pooling"
set -e
grep -q "unknown pooling mode 'median'" "$tmp/err" || fail "pooling error message"
echo "cli embed: all checks passed"
