#!/usr/bin/env bash
# encore --version and -V: "encore X.Y.Z" with CMake's project(VERSION), then the version of
# the oneDNN it runs on; exit 0.
# Usage: version.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1
root=$(cd "$2/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

want=$(sed -n 's/^project(encore VERSION \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' "$root/CMakeLists.txt")
[ -n "$want" ] || fail "CMakeLists.txt's project() has no VERSION X.Y.Z"
for flag in --version -V; do
  out=$("$enc" "$flag") || fail "encore $flag exited $?"
  [ "$(sed -n 1p <<<"$out")" = "encore $want" ] || fail "encore $flag: '$(sed -n 1p <<<"$out")', expected 'encore $want'"
  sed -n 2p <<<"$out" | grep -Eq '^oneDNN [0-9]+\.[0-9]+\.[0-9]+$' || fail "encore $flag: no oneDNN version in: $out"
  [ "$(wc -l <<<"$out")" -eq 2 ] || fail "encore $flag: expected two lines: $out"
done
grep -q -- "--version" <<<"$("$enc" --help)" || fail "encore --help does not mention --version"
echo "version.sh: ok ($want)"
