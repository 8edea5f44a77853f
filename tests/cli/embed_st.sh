#!/usr/bin/env bash
# encore embed on sentence-transformers directories of every format generation
# (tests/fixtures/st): the modules' output width, the encode() arguments as flags, and the
# one-line errors for what cannot run. The numbers themselves: tests/parity/st_modules_test.cc.
# Usage: embed_st.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 st=$2/st
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
dims() { head -n 1 "$1" | sed 's/.*\[//; s/\].*//' | tr ',' '\n' | wc -l; }
norm() { head -n 1 "$1" | sed 's/.*\[//; s/\].*//' | tr ',' '\n' | awk '{s += $1 * $1} END {printf "%.4f", s}'; }

# The silent wrong vector of old: Transformer -> Pooling -> Dense(32->16) -> Normalize, saved
# by sentence-transformers 2.7, is 16-dimensional and unit length.
"$enc" embed --model "$st/st2-dense" "a sentence" >"$tmp/o"
[ "$(dims "$tmp/o")" -eq 16 ] || fail "st2-dense: expected the Dense module's 16 dimensions, got $(dims "$tmp/o")"
[ "$(norm "$tmp/o")" = "1.0000" ] || fail "st2-dense: not unit length"

# --dimensions is truncate_dim: no renormalization unless --normalize.
"$enc" embed --model "$st/st2-dense" --dimensions 8 "a sentence" >"$tmp/o"
[ "$(dims "$tmp/o")" -eq 8 ] || fail "--dimensions 8"
[ "$(norm "$tmp/o")" != "1.0000" ] || fail "--dimensions alone must not renormalize"
"$enc" embed --model "$st/st2-dense" --dimensions 8 --normalize "a sentence" >"$tmp/o"
[ "$(norm "$tmp/o")" = "1.0000" ] || fail "--dimensions 8 --normalize: not unit length"
"$enc" embed --model "$st/st2-dense" --no-normalize "a sentence" >"$tmp/o"
[ "$(norm "$tmp/o")" != "1.0000" ] || fail "--no-normalize still normalized"

# Router: --task picks the route (and its prompt); a route that does not exist is an error.
"$enc" embed --model "$st/st5-router" "what is free software" >"$tmp/doc"
"$enc" embed --model "$st/st5-router" --task document --prompt "" "what is free software" >"$tmp/doc2"
"$enc" embed --model "$st/st5-router" --task document "what is free software" >"$tmp/doc3"
"$enc" embed --model "$st/st5-router" --task query "what is free software" >"$tmp/query"
cmp -s "$tmp/doc" "$tmp/doc2" || fail "the default route of st5-router is document (no prompt)"
cmp -s "$tmp/doc" "$tmp/doc3" && fail "--task document should add the document prompt (encode_document)"
cmp -s "$tmp/doc" "$tmp/query" && fail "--task query gave the document embedding"
set +e
"$enc" embed --model "$st/st5-router" --task summary "x" >/dev/null 2>"$tmp/err"; code=$?
set -e
[ "$code" -eq 1 ] || fail "an unknown route should exit 1, got $code"
grep -q "no route for task 'summary'" "$tmp/err" || fail "route error: $(cat "$tmp/err")"

# Prompts: --prompt-name, --prompt; an unknown name fails once, naming the model's prompts.
"$enc" embed --model "$st/st5-prompts" "text" >"$tmp/default"
"$enc" embed --model "$st/st5-prompts" --prompt-name query "text" >"$tmp/query"
"$enc" embed --model "$st/st5-prompts" --prompt "query: " "text" >"$tmp/literal"
cmp -s "$tmp/default" "$tmp/query" || fail "default_prompt_name query should equal --prompt-name query"
cmp -s "$tmp/query" "$tmp/literal" || fail "--prompt 'query: ' should equal --prompt-name query"
set +e
"$enc" embed --model "$st/st5-prompts" --prompt-name nope "a" "b" >/dev/null 2>"$tmp/err"; code=$?
"$enc" embed --model "$st/st5-prompts" --prompt-name query --prompt x "a" >/dev/null 2>&1; usage=$?
set -e
[ "$code" -eq 1 ] || fail "unknown prompt name should exit 1, got $code"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "one error line for an unknown prompt name: $(cat "$tmp/err")"
grep -q "prompt name 'nope' is not among the model's prompts (document, passage, query)" "$tmp/err" || fail "$(cat "$tmp/err")"
[ "$usage" -eq 2 ] || fail "--prompt with --prompt-name is a usage error"

# A static embedding model and the model2vec weight layout.
"$enc" embed --model "$st/st5-static" "" "static text" >"$tmp/o"
[ "$(wc -l <"$tmp/o")" -eq 2 ] && [ "$(dims "$tmp/o")" -eq 16 ] || fail "st5-static"
"$enc" embed --model "$st/st6-static-model2vec" "static text" >/dev/null || fail "st6-static-model2vec"

# A module encore does not run is named, never skipped.
cp -r "$st/st2-dense" "$tmp/cnn"
sed -i 's/sentence_transformers.models.Dense/sentence_transformers.models.CNN/' "$tmp/cnn/modules.json"
set +e
"$enc" embed --model "$tmp/cnn" "x" >"$tmp/o" 2>"$tmp/err"; code=$?
set -e
[ "$code" -eq 1 ] || fail "an unsupported module should exit 1, got $code"
[ ! -s "$tmp/o" ] || fail "no embedding may be written when a module cannot run"
grep -q "module type 'sentence_transformers.models.CNN' is not one encore runs" "$tmp/err" || fail "$(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "one line: $(cat "$tmp/err")"

# --model ORG/NAME from the local Hugging Face cache (HF_HUB_CACHE), offline; a miss names
# where encore looked.
mkdir -p "$tmp/hub/models--acme--tiny/refs" "$tmp/hub/models--acme--tiny/snapshots"
printf '%s' 0123456789abcdef0123456789abcdef01234567 >"$tmp/hub/models--acme--tiny/refs/main"
cp -r "$st/st2-dense" "$tmp/hub/models--acme--tiny/snapshots/0123456789abcdef0123456789abcdef01234567"
HF_HUB_CACHE="$tmp/hub" "$enc" embed --model acme/tiny "a sentence" >"$tmp/o"
"$enc" embed --model "$st/st2-dense" "a sentence" >"$tmp/o2"
cmp -s "$tmp/o" "$tmp/o2" || fail "acme/tiny from the cache differs from the directory"
set +e
HF_HUB_CACHE="$tmp/hub" "$enc" embed --model acme/absent "x" >/dev/null 2>"$tmp/err"; code=$?
set -e
[ "$code" -eq 1 ] || fail "a model missing from the cache should exit 1, got $code"
grep -q "not in the Hugging Face cache (looked for $tmp/hub/models--acme--absent/refs/main" "$tmp/err" ||
  fail "cache miss: $(cat "$tmp/err")"

# inspect shows the chain.
"$enc" inspect --model "$st/st6-tokens" | grep -q "modules:      Transformer(bert-hf, max_length 28) -> Dense(32->24, GELU, on tokens)" ||
  fail "inspect: $("$enc" inspect --model "$st/st6-tokens" | head -n 1)"
echo "cli embed_st: all checks passed"
