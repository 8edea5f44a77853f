#!/usr/bin/env bash
# The max length `encore tokenize` and `encore embed` apply to all-MiniLM-L6-v2, as both
# --help texts say: tokenize truncates as the tokenizers library does (tokenizer.json's
# truncation: 128 tokens), embed as sentence-transformers does (sentence_bert_config.json's
# max_seq_length: 256), and tokenize --max-length 256 shows what embed sees.
# Needs scripts/fetch-model.sh to have run; fails without the model.
# Usage: max_length.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1
model=$(cd "$2/../.." && pwd)/models/all-MiniLM-L6-v2
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$model/model.safetensors" ] || fail "$model is missing; run scripts/fetch-model.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# words N: N words of one token each.
words() { for i in $(seq 1 "$1"); do printf '%s ' "$(sed -n "$((i % 6 + 1))p" <<<$'the\ncat\nsat\non\na\nmat')"; done; }
ids() { "$enc" tokenize --model "$model" "$@" | sed 's/.*"input_ids":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l; }

long=$(words 300)
[ "$(ids "$long")" -eq 128 ] || fail "tokenize: expected tokenizer.json's 128 tokens, got $(ids "$long")"
[ "$(ids --max-length 256 "$long")" -eq 256 ] || fail "tokenize --max-length 256: got $(ids --max-length 256 "$long")"
[ "$(ids --truncation none "$long")" -eq 302 ] || fail "tokenize --truncation none: got $(ids --truncation none "$long")"

# embed keeps 256 tokens: 300 words embed as their first 254 (+ [CLS] and [SEP]) do, not as
# their first 126.
"$enc" embed --model "$model" "$long" "$(words 254)" "$(words 126)" >"$tmp/e" 2>"$tmp/err"
[ "$(sed -n 1p "$tmp/e")" = "$(sed -n 2p "$tmp/e")" ] || fail "embed of 300 words differs from its first 254"
[ "$(sed -n 1p "$tmp/e")" != "$(sed -n 3p "$tmp/e")" ] || fail "embed truncated to 128 tokens"
grep -q "1 input(s) longer than 256 tokens were truncated (first: argument 1)" "$tmp/err" ||
  fail "embed's truncation warning: $(cat "$tmp/err")"
grep -q "max_seq_length" <<<"$("$enc" tokenize --help)" || fail "tokenize --help does not explain the difference"
grep -q "encore tokenize" <<<"$("$enc" embed --help)" || fail "embed --help does not explain the difference"
echo "max_length.sh: ok"
