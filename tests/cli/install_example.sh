#!/usr/bin/env bash
# `cmake --install` gives a usable package: examples/ builds against it with
# find_package(encore) and with pkg-config, and both programs run without LD_LIBRARY_PATH
# (the CMake build's RPATH, encore.pc's -rpath) and report a bad model directory as one line.
set -euo pipefail
enc=$1 fx=$2
build=$(dirname "$enc")
root=$(cd "$fx/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$root/examples" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" >/dev/null
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" c++ "$root/examples/embed.cc" -o "$tmp/embed_pc" \
  $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs encore)
"$tmp/prefix/bin/encore" --help >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }

# The installed package is the engine: the server (serve/, encore::serve) is an application
# linked into the CLI, and its symbols are not in libencore.
served=$(nm -DC --defined-only "$tmp"/prefix/lib/libencore.so | grep -c 'encore::serve::' || true)
[ "$served" -eq 0 ] || fail "the installed libencore.so defines $served encore::serve symbols"
unset LD_LIBRARY_PATH

# The loader finds the installed library through the program's own run path.
for exe in "$tmp/example/embed_example" "$tmp/embed_pc"; do
  libs=$(ldd "$exe")  # captured first: grep -q closing the pipe early would fail it under pipefail
  grep -q "libencore\.so.* => $tmp/prefix/" <<<"$libs" || fail "$exe does not resolve libencore.so in the prefix: $libs"
done

# encore::Error from a bad model directory: one line on stderr, exit 1 (an uncaught
# exception would abort with 134).
for exe in "$tmp/example/embed_example" "$tmp/embed_pc"; do
  set +e
  "$exe" "$tmp/no-such-model" "a" "b" >"$tmp/stdout" 2>"$tmp/stderr"
  code=$?
  set -e
  [ "$code" -eq 1 ] || fail "$exe on a bad model directory: exit $code, expected 1: $(cat "$tmp/stderr")"
  [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "$exe: the error is not one line: $(cat "$tmp/stderr")"
  grep -q "no-such-model" "$tmp/stderr" || fail "$exe: the error does not name the directory: $(cat "$tmp/stderr")"
  [ ! -s "$tmp/stdout" ] || fail "$exe printed results for a bad model directory: $(cat "$tmp/stdout")"
done

model=$root/models/all-MiniLM-L6-v2
if [ ! -f "$model/model.safetensors" ]; then
  echo "SKIPPED embedding with the example: $model is absent"
  exit 0
fi
for exe in "$tmp/example/embed_example" "$tmp/embed_pc"; do
  out=$("$exe" "$model" "A man is eating food." "A man is eating a piece of bread.")
  grep -Eq '^0\.[0-9]{4}  A man is eating food\.' <<<"$out" || fail "$exe: $out"
done
echo "install + example: ok"
