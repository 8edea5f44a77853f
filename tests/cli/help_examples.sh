#!/usr/bin/env bash
# Every example of every `encore CMD --help` runs as written: from the repository root, with
# `encore` on PATH being the binary under test. The commands are those `encore --help` lists;
# an example is a line after "example:", joined with the next one when it ends in `\` or `|`.
# Two things are changed, and only these, so that runs can share a machine:
#  - /tmp/ becomes a private scratch directory (convert refuses an existing destination);
#  - a background `encore serve ... --port P &` listens on a free port instead of P, and the
#    later examples' localhost:P are pointed at it; the server is stopped after the command's
#    examples. curl runs with --fail-with-body, since an HTTP error status leaves curl's exit
#    status 0 and the example would pass while answering an error.
# Examples that use models/all-MiniLM-L6-v2 need scripts/fetch-model.sh to have run; without
# the model this test fails.
# Usage: help_examples.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$(realpath "$1")
root=$(cd "$2/../.." && pwd)
tmp=$(mktemp -d)
servers=()
stop_servers() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
  servers=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT
failures=()
fail_example() { failures+=("encore $1: $2"); echo "FAIL: encore $1 --help example: $2" >&2; }

mkdir -p "$tmp/bin" "$tmp/scratch"
ln -s "$enc" "$tmp/bin/encore"
real_curl=$(command -v curl) || { echo "FAIL: curl is needed to run serve's example" >&2; exit 1; }
printf '#!/bin/sh\nexec %s --fail-with-body "$@"\n' "$real_curl" >"$tmp/bin/curl"
chmod +x "$tmp/bin/curl"
export PATH="$tmp/bin:$PATH"

commands=$("$enc" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ "$(echo "$commands" | wc -l)" -ge 10 ] || { echo "FAIL: encore --help lists: $commands" >&2; exit 1; }

examples_of() {
  "$enc" "$1" --help | sed -n '/^example:$/,$p' | tail -n +2 | awk '
    { sub(/^[ \t]+/, ""); line = buf $0 }
    /\\$/ { sub(/\\$/, "", line); buf = line; next }
    /\|$/ { buf = line " "; next }
    { if (line != "") print line; buf = "" }'
}

all_examples=$(for c in $commands; do examples_of "$c"; done)
if grep -q 'models/all-MiniLM-L6-v2' <<<"$all_examples" && [ ! -f "$root/models/all-MiniLM-L6-v2/model.safetensors" ]; then
  echo "FAIL: examples use models/all-MiniLM-L6-v2, which is missing; run scripts/fetch-model.sh" >&2
  exit 1
fi

# Starts `encore serve ... --port P &` on a free port; records P -> the bound port in $ports.
declare -A ports
start_server() {
  local cmd=$1 ex=$2 port
  port=$(sed -n 's/.*--port \([0-9][0-9]*\).*/\1/p' <<<"$ex")
  [ -n "$port" ] || { fail_example "$cmd" "a background example without --port: $ex"; return; }
  local run=${ex%&}
  run=${run/--port $port/--port 0 --port-file $tmp/port.$port}
  (cd "$root" && exec bash -c "exec $run") >"$tmp/server.$port.log" 2>&1 &
  servers+=("$!")
  for _ in $(seq 1 600); do
    [ -s "$tmp/port.$port" ] && break
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  if [ -s "$tmp/port.$port" ]; then
    ports[$port]=$(cat "$tmp/port.$port")
  else
    fail_example "$cmd" "$ex (the server did not start: $(tail -n 3 "$tmp/server.$port.log"))"
  fi
}

count=0
for cmd in $commands; do
  examples=$(examples_of "$cmd")
  [ -n "$examples" ] || { fail_example "$cmd" "--help has no example"; continue; }
  while IFS= read -r ex; do
    count=$((count + 1))
    run=${ex//\/tmp\//$tmp/scratch/}
    case "$run" in
      *'&') start_server "$cmd" "$run"; continue ;;
    esac
    for p in "${!ports[@]}"; do run=${run//localhost:$p/localhost:${ports[$p]}}; done
    set +e
    (cd "$root" && bash -eo pipefail -c "$run") >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    set -e
    [ "$rc" -eq 0 ] && echo "ran: $ex" || fail_example "$cmd" "exit $rc: $ex :: $(tail -n 3 "$tmp/err")"
  done <<<"$examples"
  stop_servers
  ports=()
done

if [ ${#failures[@]} -gt 0 ]; then
  echo "${#failures[@]} of $count examples failed:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "help_examples.sh: all $count examples of $(echo $commands | wc -w) commands ran"
