#!/usr/bin/env bash
# The inputs every text subcommand shares (apps/encore/io_util.*): TEXT arguments, --input
# FILE, --input - and plain stdin give the same output, and so does --jsonl with the field
# names each --help documents; a line without its TAB, invalid JSON or a wrong field is an
# error for that input alone, named by its line (or argument) number; --output - is stdout.
# Runs on the random-weight models of tests/fixtures/heads.
# Usage: inputs.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2/heads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# same_from_every_source "TSV input" 'JSON input' CMD ARGS...: every way of giving the one
# input prints the same output.
same_from_every_source() {
  local tsv=$1 json=$2
  shift 2
  printf '%s\n' "$tsv" >"$tmp/in.txt"
  printf '%s\n' "$json" >"$tmp/in.jsonl"
  "$enc" "$@" "$tsv" >"$tmp/want" || fail "$*: TEXT argument failed"
  [ -s "$tmp/want" ] || fail "$*: no output"
  "$enc" "$@" --input "$tmp/in.txt" >"$tmp/got" || fail "$*: --input FILE failed"
  cmp -s "$tmp/want" "$tmp/got" || fail "$*: --input FILE differs from the argument"
  "$enc" "$@" --input - <"$tmp/in.txt" >"$tmp/got" || fail "$*: --input - failed"
  cmp -s "$tmp/want" "$tmp/got" || fail "$*: --input - differs from the argument"
  "$enc" "$@" <"$tmp/in.txt" >"$tmp/got" || fail "$*: stdin failed"
  cmp -s "$tmp/want" "$tmp/got" || fail "$*: stdin differs from the argument"
  "$enc" "$@" --jsonl --input "$tmp/in.jsonl" >"$tmp/got" || fail "$*: --jsonl --input failed"
  cmp -s "$tmp/want" "$tmp/got" || fail "$*: --jsonl differs: $(cat "$tmp/got")"
  "$enc" "$@" --jsonl "$json" >"$tmp/got" || fail "$*: --jsonl argument failed"
  cmp -s "$tmp/want" "$tmp/got" || fail "$*: --jsonl argument differs"
  set +e
  "$enc" "$@" "$tsv" --input "$tmp/in.txt" >/dev/null 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] && grep -q "not both" "$tmp/err" || fail "$*: TEXT and --input together: exit $rc, $(cat "$tmp/err")"
}

# expect_line_errors N "WHERE: MESSAGE[\n...]" -- CMD ARGS...: exit 1, N output lines (one
# per input), and each given line on stderr.
expect_line_errors() {
  local lines=$1 want=$2
  shift 3
  set +e
  "$enc" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "$*: exit $rc, expected 1: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/out")" -eq "$lines" ] || fail "$*: $(wc -l <"$tmp/out") output lines, expected $lines"
  while IFS= read -r w; do
    grep -qF -- "$w" "$tmp/err" || fail "$*: stderr lacks '$w': $(cat "$tmp/err")"
  done <<<"$want"
}

clf=$fx/sequence-classification/model
nsp=$fx/next-sentence/model
mlm=$fx/masked-lm/model
tok=$fx/token-classification/model
qa=$fx/question-answering/model
ce=$fx/cross-encoder/model

# Single texts: {"text": ...}.
same_from_every_source 'A free license.' '{"text": "A free license."}' embed --model "$mlm"
same_from_every_source 'A free license.' '{"text": "A free license."}' tokenize --model "$mlm"
same_from_every_source 'A free license.' '{"text": "A free license."}' classify --model "$clf" --all
same_from_every_source 'Free Software Foundation' '{"text": "Free Software Foundation"}' ner --model "$tok"
same_from_every_source 'the gnu [MASK] license' '{"text": "the gnu [MASK] license"}' fill-mask --model "$mlm"
# Pairs: {"text": ..., "text_pair": ...}; QA: {"question", "context"}; rerank: {"query", "documents"}.
same_from_every_source $'The cat sat.\tIt purred.' '{"text": "The cat sat.", "text_pair": "It purred."}' \
  classify --model "$nsp" --pairs --all
same_from_every_source $'The cat sat.\tIt purred.' '{"text": "The cat sat.", "text_pair": "It purred."}' \
  tokenize --model "$nsp" --pair
same_from_every_source $'Who?\tThe Foundation publishes it.' \
  '{"question": "Who?", "context": "The Foundation publishes it."}' qa --model "$qa"
same_from_every_source $'free software\tThe GPL.\tThe weather.' \
  '{"query": "free software", "documents": ["The GPL.", "The weather."]}' rerank --model "$ce"

# Each --help names the fields its --jsonl reads.
for spec in "embed text" "tokenize text text_pair" "classify text text_pair" "ner text" "fill-mask text" \
  "qa question context" "rerank query documents"; do
  read -r cmd fields <<<"$spec"
  for f in $fields; do
    grep -q "\"$f\"" <<<"$("$enc" "$cmd" --help)" || fail "$cmd --help does not name the --jsonl field \"$f\""
  done
done

# detokenize takes ids the same ways (its input always is JSON).
"$enc" detokenize --model "$mlm" '[101, 7592, 102]' >"$tmp/want"
echo '[101, 7592, 102]' | "$enc" detokenize --model "$mlm" --input - >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" || fail "detokenize: --input - differs from the argument"

# A pair without its TAB is an error for that input only, named by its line number; never a
# pair with an empty second text.
printf 'A\tB\nno tab\nC\tD\n' >"$tmp/pairs.txt"
expect_line_errors 3 'line 2: no TAB: expected TEXT<TAB>TEXT_PAIR' -- \
  classify --model "$nsp" --pairs --input "$tmp/pairs.txt"
sed -n 2p "$tmp/out" | grep -q '"error"' || fail "classify --pairs: line 2 is not an error line"
sed -n 3p "$tmp/out" | grep -q '"labels"' || fail "classify --pairs: line 3 did not run"
expect_line_errors 3 'line 2: no TAB: expected TEXT<TAB>TEXT_PAIR' -- tokenize --model "$nsp" --pair --input "$tmp/pairs.txt"
expect_line_errors 3 'line 2: no TAB: expected QUESTION<TAB>CONTEXT' -- qa --model "$qa" --input "$tmp/pairs.txt"
expect_line_errors 3 'line 2: no TAB: expected QUERY<TAB>DOCUMENT' -- rerank --model "$ce" --input "$tmp/pairs.txt"
expect_line_errors 2 'argument 2: no TAB' -- qa --model "$qa" $'Who?\tThe Foundation.' 'no context'

# --jsonl: invalid JSON, unknown, missing and mistyped fields are per-line errors.
printf '%s\n' '{"text": "good"}' 'not json' '{"txt": "x"}' '{"text": 5}' '["text"]' '{"text": "also good"}' \
  >"$tmp/bad.jsonl"
want='line 2: invalid JSON
line 3: unknown field "txt" (expected "text")
line 4: field "text" must be a string, not number
line 5: expected a JSON object with "text"'
for cmd in "embed --model $mlm" "tokenize --model $mlm" "classify --model $clf" "ner --model $tok"; do
  # shellcheck disable=SC2086
  expect_line_errors 6 "$want" -- $cmd --jsonl --input "$tmp/bad.jsonl"
  sed -n 6p "$tmp/out" | grep -q '"error"' && fail "$cmd --jsonl: the line after the bad ones failed"
  sed -n 6p "$tmp/out" | grep -q . || fail "$cmd --jsonl: the line after the bad ones is empty"
done
printf '%s\n' '{"text": "a [MASK]"}' '{"text": "a"}' >"$tmp/pair.jsonl"
expect_line_errors 2 $'line 1: missing field "text_pair"\nline 2: missing field "text_pair"' -- \
  classify --model "$nsp" --pairs --jsonl --input "$tmp/pair.jsonl"
printf '%s\n' '{"question": "Who?"}' '{"question": "Who?", "context": "It."}' >"$tmp/qa.jsonl"
expect_line_errors 2 'line 1: missing field "context"' -- qa --model "$qa" --jsonl --input "$tmp/qa.jsonl"
sed -n 2p "$tmp/out" | grep -q '"answers"' || fail "qa --jsonl: line 2 did not run"
printf '%s\n' '{"query": "q", "documents": []}' '{"query": "q", "documents": "one"}' '{"query": "q", "texts": ["a"]}' \
  >"$tmp/rank.jsonl"
want='line 1: field "documents" must be a non-empty array of strings
line 2: field "documents" must be a non-empty array of strings
line 3: unknown field "texts" (expected "query", "documents")'
expect_line_errors 3 "$want" -- rerank --model "$ce" --jsonl --input "$tmp/rank.jsonl"

# --output FILE and --output - write what stdout gets.
"$enc" embed --model "$mlm" "one" "two" >"$tmp/want"
"$enc" embed --model "$mlm" "one" "two" --output - >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" || fail "embed --output - differs from stdout"
"$enc" embed --model "$mlm" "one" "two" --output "$tmp/e.jsonl" >"$tmp/got"
cmp -s "$tmp/want" "$tmp/e.jsonl" && [ ! -s "$tmp/got" ] || fail "embed --output FILE differs from stdout"

# --input of a missing file: one line, exit 1.
set +e
"$enc" ner --model "$tok" --input "$tmp/nowhere.txt" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "nowhere.txt: cannot open" "$tmp/err" ||
  fail "missing --input file: exit $rc, $(cat "$tmp/err")"
echo "inputs.sh: ok"
