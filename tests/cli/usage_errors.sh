#!/usr/bin/env bash
# A usage error prints one line naming it, then where the help is, and exits 2; it does not
# bury the message under the whole help text. Checked for every command `encore --help` lists.
# Usage: usage_errors.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_usage_error "LINE 1" "LINE 2" -- command...: exit 2, exactly these two lines on stderr.
expect_usage_error() {
  local first=$1 second=$2
  shift 3
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$*: exit $rc, expected 2"
  [ "$(cat "$tmp/err")" = "$first"$'\n'"$second" ] || fail "$*: stderr is not '$first' + '$second': $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$*: wrote to stdout: $(head -c 200 "$tmp/out")"
}

commands=$("$enc" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ "$(echo "$commands" | wc -l)" -ge 10 ] || fail "encore --help lists: $commands"
for cmd in $commands; do
  expect_usage_error "encore $cmd: unknown option --no-such-option" "see 'encore $cmd --help'" -- \
    "$enc" "$cmd" --no-such-option
done
expect_usage_error "encore: unknown command 'frobnicate'" "see 'encore --help'" -- "$enc" frobnicate
expect_usage_error "encore classify: --model is required" "see 'encore classify --help'" -- "$enc" classify "text"
expect_usage_error "encore embed: --batch-size expects an integer, got 'x'" "see 'encore embed --help'" -- \
  "$enc" embed --model m --batch-size x "text"
# One --dtype parser for every command that takes it, the server's included.
for cmd in embed serve forward; do
  expect_usage_error "encore $cmd: --dtype must be f32, bf16 or int8 (or float32, bfloat16), not 'fp16'" \
    "see 'encore $cmd --help'" -- "$enc" "$cmd" --model m --dtype fp16
done
echo "usage_errors.sh: ok"
