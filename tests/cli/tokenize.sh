#!/usr/bin/env bash
# encore tokenize / detokenize through the real binary: output format, flags, bad lines.
# Usage: tokenize.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
model=$fx/tokenizer/minilm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

# One line in, one JSON object out; values from tokenizers 0.22.2 (all-MiniLM-L6-v2).
out=$(printf 'Hello, world!\n' | "$enc" tokenize --model "$model" --truncation none --offsets)
expect "$out" '{"input_ids":[101,7592,1010,2088,999,102],"token_type_ids":[0,0,0,0,0,0],"attention_mask":[1,1,1,1,1,1],"offsets":[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]}' "single"

# Pairs (TAB), truncation, character vs byte offsets, no special tokens.
out=$(printf 'été\tcafé au lait\n' | "$enc" tokenize --model "$model" --pair --max-length 6 --offsets)
expect "$out" '{"input_ids":[101,3802,102,7668,8740,102],"token_type_ids":[0,0,0,1,1,1],"attention_mask":[1,1,1,1,1,1],"offsets":[[0,0],[0,2],[0,0],[0,4],[5,7],[0,0]]}' "pair"
out=$(printf 'été\n' | "$enc" tokenize --model "$model" --byte-offsets --no-special-tokens)
expect "$out" '{"input_ids":[3802,2063],"token_type_ids":[0,0],"attention_mask":[1,1],"offsets":[[0,3],[3,5]]}' "byte offsets"

# tokenizer.json's own truncation/padding (128) applies unless flags say otherwise.
n=$(printf 'hi\n' | "$enc" tokenize --model "$model" --pad-to 8 | tr -cd ',' | wc -c)
[ "$n" -eq 23 ] || fail "pad-to 8: expected 3 arrays of 8 ids, got $n commas"

# Flavours: Google keeps typed [SEP] as text; hf-slow and hf match it as a special token.
g=$(printf 'a [SEP] b\n' | "$enc" tokenize --model "$model" --flavour google --details)
case "$g" in *'"tokens":["[CLS]","a","[","sep","]","b","[SEP]"]'*) ;; *) fail "google: $g" ;; esac
s=$(printf 'a [SEP] b\n' | "$enc" tokenize --model "$model" --flavour hf-slow --details)
case "$s" in *'"tokens":["[CLS]","a","[SEP]","b","[SEP]"]'*) ;; *) fail "hf-slow: $s" ;; esac

# A bad line is reported with its number; the others are still written; exit status 1.
printf 'good\n\xff\xfe bad\nalso good\nno tab here\n' >"$tmp/in.txt"
set +e
"$enc" tokenize --model "$model" --input "$tmp/in.txt" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
expect "$rc" 1 "exit status with a bad line"
expect "$(wc -l <"$tmp/out")" 4 "output lines"
grep -q 'line 2: invalid UTF-8 at byte 0' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
grep -q '"input_ids":\[101,2036,2204,102\]' "$tmp/out" || fail "line 3 missing: $(cat "$tmp/out")"
set +e
"$enc" tokenize --model "$model" --pair --input "$tmp/in.txt" >/dev/null 2>"$tmp/err"
set -e
grep -q 'line 4: no TAB' "$tmp/err" || fail "pair without TAB: $(cat "$tmp/err")"

# Usage errors exit 2; a missing model exits 1 with one line.
set +e
"$enc" tokenize --model "$model" --truncation sideways </dev/null >/dev/null 2>&1
rc=$?
"$enc" tokenize --model "$tmp/nowhere" </dev/null >/dev/null 2>"$tmp/err"
rc2=$?
set -e
expect "$rc" 2 "bad --truncation"
expect "$rc2" 1 "missing model"
expect "$(wc -l <"$tmp/err")" 1 "one-line error"

# A model directory without tokenizer files: the message names the files, whichever command.
mkdir "$tmp/no-tokenizer"
cp "$fx/core/bert-hf-gelu-abs-h36/model/"* "$tmp/no-tokenizer/"
for cmd in tokenize embed; do
  set +e
  "$enc" "$cmd" --model "$tmp/no-tokenizer" "text" >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  expect "$rc" 1 "$cmd without tokenizer files"
  expect "$(cat "$tmp/err")" "encore $cmd: error: $tmp/no-tokenizer: no tokenizer.json or vocab.txt in the model directory" \
    "$cmd without tokenizer files"
done

# detokenize: JSON objects or id arrays back to text.
out=$(printf 'Hello, world! unaffable\n' | "$enc" tokenize --model "$model" | "$enc" detokenize --model "$model")
expect "$out" 'hello, world! unaffable' "round trip"
out=$(echo '[101, 7592, 1010, 2088, 999, 102]' | "$enc" detokenize --model "$model" --keep-special-tokens)
expect "$out" '[CLS] hello, world! [SEP]' "keep special tokens"
set +e
printf '[1, "x"]\n[7592]\n' | "$enc" detokenize --model "$model" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
expect "$rc" 1 "detokenize bad line"
expect "$(sed -n 2p "$tmp/out")" "hello" "detokenize continues"
grep -q 'line 1:' "$tmp/err" || fail "detokenize stderr: $(cat "$tmp/err")"
echo "tokenize CLI: ok"
