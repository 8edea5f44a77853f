#!/usr/bin/env bash
# The task subcommands (classify, fill-mask, ner, qa, rerank) through the real binary, on
# the random-weight head models of tests/fixtures/heads: JSON lines, per-input errors with
# the others still processed, exit codes 0 / 1 / 2, --help with an example.
# Usage: tasks.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2/heads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for cmd in classify fill-mask ner qa rerank; do
  grep -q "example:" <<<"$("$enc" "$cmd" --help)" || fail "$cmd --help has no example"
  set +e; "$enc" "$cmd" --bogus >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "$cmd with an unknown option exited $rc, expected 2"
  # The shared run flags (--batch-size, --threads, --dtype) are validated alike: usage errors.
  for bad in "--batch-size 0" "--threads -1" "--dtype fp64" "--batch-size x"; do
    # shellcheck disable=SC2086
    set +e; "$enc" "$cmd" --model "$fx/masked-lm/model" $bad "x" >/dev/null 2>"$tmp/err"; rc=$?; set -e
    [ "$rc" -eq 2 ] || fail "$cmd $bad exited $rc, expected 2"
    grep -q -- "${bad%% *}" "$tmp/err" || fail "$cmd $bad: the message does not name the flag"
  done
done

# fill-mask: two inputs, the second without a mask -> an error line, exit 1.
set +e
"$enc" fill-mask --model "$fx/masked-lm/model" --top-k 3 "the gnu [MASK] license" "no mask at all" >"$tmp/fm" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "fill-mask with a bad input exited $rc"
[ "$(wc -l <"$tmp/fm")" -eq 2 ] || fail "fill-mask: expected 2 lines"
head -n 1 "$tmp/fm" | grep -q '"token_str"' || fail "fill-mask: no predictions"
[ "$(head -n 1 "$tmp/fm" | grep -o '"score"' | wc -l)" -eq 3 ] || fail "fill-mask: expected 3 candidates"
sed -n 2p "$tmp/fm" | grep -q 'No mask_token' || fail "fill-mask: no error line"

# classify: all labels, best first; exit 0.
"$enc" classify --model "$fx/sequence-classification/model" --all "This License is free." >"$tmp/c"
[ "$(grep -o '"label"' "$tmp/c" | wc -l)" -eq 3 ] || fail "classify --all: expected 3 labels"
# next-sentence through --pairs.
printf 'The cat sat.\tIt purred.\n' | "$enc" classify --model "$fx/next-sentence/model" --pairs --all | grep -q is_next ||
  fail "classify --pairs on an NSP model"

# ner and qa and rerank, with one bad line each.
"$enc" ner --model "$fx/token-classification/model" --aggregation first "Free Software Foundation" | grep -q '"entities"' ||
  fail "ner"
set +e
printf 'Who?\tThe Foundation publishes it.\nno context\n' | "$enc" qa --model "$fx/question-answering/model" >"$tmp/qa" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/qa")" -eq 2 ] || fail "qa: expected 2 lines and exit 1 (got $rc)"
head -n 1 "$tmp/qa" | grep -q '"answer"' || fail "qa: no answer"
printf 'query\tdoc one\tdoc two\n' | "$enc" rerank --model "$fx/cross-encoder/model" | grep -q '"corpus_id"' || fail "rerank"

# rerank --top-k N: the N best of the full ranking, in its order; 0 keeps every document.
printf 'query\tdoc one\tdoc two\tdoc three\tdoc four\n' >"$tmp/rank.txt"
"$enc" rerank --model "$fx/cross-encoder/model" --input "$tmp/rank.txt" | grep -o '{"corpus_id[^}]*}' >"$tmp/all"
[ "$(wc -l <"$tmp/all")" -eq 4 ] || fail "rerank: expected 4 documents"
"$enc" rerank --model "$fx/cross-encoder/model" --input "$tmp/rank.txt" --top-k 2 | grep -o '{"corpus_id[^}]*}' >"$tmp/top"
[ "$(cat "$tmp/top")" = "$(head -n 2 "$tmp/all")" ] || fail "rerank --top-k 2: $(cat "$tmp/top") vs $(cat "$tmp/all")"
"$enc" rerank --model "$fx/cross-encoder/model" --input "$tmp/rank.txt" --top-k 0 | grep -o '{"corpus_id[^}]*}' >"$tmp/top"
cmp -s "$tmp/top" "$tmp/all" || fail "rerank --top-k 0 should keep every document"
set +e; "$enc" rerank --model "$fx/cross-encoder/model" --top-k -1 x >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "rerank --top-k -1 exited $rc, expected 2"

# A model with the wrong head: exit 1 with a message naming both heads.
set +e
"$enc" fill-mask --model "$fx/sequence-classification/model" "x [MASK]" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q BertForSequenceClassification "$tmp/err" || fail "wrong head: exit $rc"
echo "tasks.sh: ok"
