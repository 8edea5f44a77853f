#!/usr/bin/env bash
# The repository documents itself: every Markdown file under docs/ that a document,
# header, source or script names exists, README.md and docs/ point at nothing outside the
# repository (../), and the default port of `encore serve` (found by starting it without
# --port) is the one README.md, docs/serving.md and `encore serve --help` state.
# Usage: docs.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
root=$(cd "$fx/../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$root"

refs=$(grep -rnoE "docs/[A-Za-z0-9_.-]+\.md" README.md docs include src apps tests/cli tests/unit tests/parity \
  tools scripts bench examples cmake CMakeLists.txt || true)
[ -n "$refs" ] || fail "no docs/*.md reference found: the search is broken"
while IFS=: read -r file line ref; do
  [ -f "$ref" ] || fail "$file:$line names $ref, which does not exist"
done <<<"$refs"

outside=$(grep -nE "\.\./[A-Za-z]" README.md docs/*.md || true)
[ -z "$outside" ] || fail "references outside the repository: $outside"

# Without --port the server binds its default: the port file says which, or, when another
# program holds it, the one-line error names it.
"$enc" serve --model "$fx/heads/sequence-classification/model" --port-file "$tmp/port" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -s "$tmp/port" ]; then
  port=$(cat "$tmp/port")
  kill -TERM "$pid"
  wait "$pid" || fail "serve did not exit 0 on SIGTERM"
else
  wait "$pid" || true
  port=$(grep -oE "cannot listen on 127\.0\.0\.1:[0-9]+" "$tmp/log" | grep -oE "[0-9]+$" || true)
fi
pid=
[ -n "$port" ] || fail "serve without --port neither listened nor named its port: $(cat "$tmp/log")"
grep -qF "127.0.0.1:$port by default" README.md || fail "README.md does not state serve's default port $port"
grep -qF "| \`--host\`, \`--port\` | 127.0.0.1, $port |" docs/serving.md ||
  fail "docs/serving.md does not state serve's default port $port"
# Into a file first: grep -q stops reading at the match, and the help's writer would then die
# of SIGPIPE, which pipefail reports as a failure.
"$enc" serve --help >"$tmp/help"
grep -qF "TCP port (default $port;" "$tmp/help" || fail "serve --help does not state its default port $port"
echo "docs.sh: ok (serve's default port is $port)"
