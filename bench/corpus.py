"""The (b)-style corpus: real English sentences from files Debian ships, split deterministically.

bench/compare.py times workload (b) on it, and the Ray and Spark tests (tests/python) embed it
Parquet to Parquet. Standard library only, so both can import it.
"""
from __future__ import annotations

import glob
import gzip
import os
import random
import re
import subprocess
import sys


def log(*a):
    print(*a, file=sys.stderr, flush=True)


_SPLIT = re.compile(r'(?<=[.!?])\s+(?=[A-Z"(\[])')


def _sentences(text):
    # A bullet (changelog entries, lists) starts a new paragraph.
    text = re.sub(r"\n[ \t]*(?:[*+-]|\d+\.)[ \t]+", "\n\n", text)
    for para in re.split(r"\n\s*\n", text):
        lines = [l.strip() for l in para.splitlines()]
        lines = [l for l in lines if l and not l.startswith(("--", "==", "##"))]
        para = re.sub(r"\s+", " ", " ".join(lines)).strip()
        for s in _SPLIT.split(para):
            s = s.strip()
            if len(s.split()) < 4 or len(s) > 2000 or not s[0].isupper():
                continue
            if sum(c.isalpha() or c == " " for c in s) < 0.8 * len(s):
                continue  # code, tables, ASCII art
            yield s


def corpus_files():
    """/usr/share/common-licenses, then README*, changelog.Debian.gz and changelog.gz of the
    installed packages whose priority is required, important or standard: the base system,
    the same on every machine of an image, whatever else gets installed later."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Priority}\\n"], capture_output=True,
                         text=True).stdout
    base = sorted({l.split()[0].split(":")[0] for l in out.splitlines()
                   if len(l.split()) == 2 and l.split()[1] in ("required", "important", "standard")})
    files = sorted(glob.glob("/usr/share/common-licenses/*"))
    for p in base:
        d = f"/usr/share/doc/{p}"
        files += sorted(glob.glob(d + "/README*")) + sorted(glob.glob(d + "/changelog.Debian.gz")) + \
            sorted(glob.glob(d + "/changelog.gz"))
    return [f for f in dict.fromkeys(files) if os.path.isfile(f)]


def build_corpus(n):
    """N distinct sentences from corpus_files() (changelog entries only where they end like a
    sentence), shuffled with a fixed seed: deterministic for a given base system."""
    seen, pool = set(), []
    for f in corpus_files():
        try:
            with gzip.open(f) if f.endswith(".gz") else open(f, "rb") as file:
                text = file.read().decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError):
            continue
        for s in _sentences(text):
            if "/changelog" in f and not s.endswith((".", "!", "?")):
                continue
            if s not in seen:
                seen.add(s)
                pool.append(s)
    random.Random(0).shuffle(pool)
    if len(pool) < n:
        log(f"warning: only {len(pool)} distinct sentences found; repeating them to reach {n}")
        pool = (pool * (n // len(pool) + 1))
    return pool[:n]
