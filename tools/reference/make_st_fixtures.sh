#!/usr/bin/env bash
# Regenerates tests/fixtures/st: sentence-transformers directories saved by releases 2.7,
# 5.3 and 6.3 (each in its own pinned venv, created when missing) and their embeddings as
# sentence-transformers 6.3 computes them. See make_st_fixtures.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

venv() {  # venv DIR REQUIREMENTS
  if [ ! -x "$repo/$1/bin/python" ]; then
    python3 -m venv "$repo/$1"
    "$repo/$1/bin/python" -m pip install --quiet -r "$here/$2"
  fi
  echo "$repo/$1/bin/python"
}
st6=$(venv .venv-st requirements-embed.txt)
st5=$(venv .venv-st5 requirements-st5.txt)
st2=$(venv .venv-st2 requirements-st2.txt)

export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
rm -rf "$repo/tests/fixtures/st"
"$st6" "$here/make_st_fixtures.py" base
"$st2" "$here/make_st_fixtures.py" save --generation st2
"$st5" "$here/make_st_fixtures.py" save --generation st5
"$st6" "$here/make_st_fixtures.py" save --generation st6
"$st6" "$here/make_st_fixtures.py" golden
