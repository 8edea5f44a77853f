#!/usr/bin/env python3
"""Full comparison of encore with `tokenizers` on the rebuilt (and any real) tokenizers of
make_tok_models.py: every field of the encoding (ids, type ids, attention mask,
special-tokens mask, word ids, offsets in code points and bytes, tokens), the overflowing
windows, and decode with and without special tokens, over N cases per tokenizer: real
multilingual lines and their mutations, random code points from every block, whitespace
and control runs, added tokens glued to text; singles and pairs; every truncation
strategy, both sides, strides; padding on both sides.

  .venv-tok/bin/python tools/reference/compare_tok_models.py --driver build/bench/encore_tokenize_cases \\
      [--lines 100000] [--only roberta-base,...] [--dir NAME=PATH ...] [--sweep]

--sweep adds every code point in context (1.1 million cases per tokenizer, no options).
--spm-only gives encore, for the SentencePiece models, a directory with only the .model
file and tokenizer_config.json (what transformers' converter reads) instead of the
converter's tokenizer.json, which remains the reference.
Prints one line per tokenizer and exits 1 on any difference.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tok_models as tm  # noqa: E402

FIELDS = ("ids", "types", "attention", "special", "words", "offsets", "byte_offsets", "tokens")


def same_encoding(g, e):
    return all(g.get(k) == e.get(k) for k in FIELDS)


def same(g, e):
    if "error" in e or "error" in g:
        return ("error" in e) == ("error" in g)
    if not same_encoding(g, e) or g["decoded"] != e["decoded"] or g["decoded_keep"] != e["decoded_keep"]:
        return False
    if len(g["overflow"]) != len(e["overflow"]):
        return False
    return all(same_encoding(a, b) for a, b in zip(g["overflow"], e["overflow"]))


def sweep_cases():
    out = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        out.append({"a": f"x{c}y {c} A{c}{c} 1{c}2 {c}'s", "special": True})
    return out


def run_driver(driver, directory, cases):
    data = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases).encode("utf-8")
    p = subprocess.run([driver, directory], input=data, capture_output=True)
    if p.returncode != 0:
        raise SystemExit(f"driver failed: {p.stderr.decode(errors='replace')}")
    lines = p.stdout.decode("utf-8").split("\n")
    return [json.loads(x) for x in lines[: len(cases)]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", default=os.path.join(tm.ROOT, "build", "bench", "encore_tokenize_cases"))
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--only", default=",".join(tm.BUILDERS))
    ap.add_argument("--dir", action="append", default=[], help="NAME=DIR: also a real tokenizer directory")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--report", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=20000)
    ap.add_argument("--spm-only", action="store_true")
    args = ap.parse_args()
    dirs = [(n, tm.model_dir(n)) for n in args.only.split(",") if n]
    dirs += [tuple(d.split("=", 1)) for d in args.dir]
    total_bad = 0
    rows = []
    import glob
    import shutil
    import tempfile
    for name, directory in dirs:
        ref = tm.Reference(directory)
        encore_dir = directory
        models = glob.glob(os.path.join(directory, "*.model"))
        if args.spm_only:
            if not models:
                continue
            encore_dir = tempfile.mkdtemp()
            for f in models + [os.path.join(directory, "tokenizer_config.json"), os.path.join(directory, "special_tokens_map.json")]:
                shutil.copy(f, encore_dir)
            name += " (spm only)"
        lines = tm.texts(args.lines, tm.added_contents(directory), seed=77)
        cases = tm.cases_for(lines, random.Random(78))
        if args.sweep:
            cases += sweep_cases()
        n_same = 0
        bad = []
        t_ref = t_enc = 0.0
        for start in range(0, len(cases), args.chunk):
            part = cases[start: start + args.chunk]
            t0 = time.time()
            expected = [ref.run(c) for c in part]
            t1 = time.time()
            got = run_driver(args.driver, encore_dir, part)
            t2 = time.time()
            t_ref += t1 - t0
            t_enc += t2 - t1
            for c, g, e in zip(part, got, expected):
                if same(g, e):
                    n_same += 1
                elif len(bad) < args.report:
                    bad.append((c, g, e))
        rows.append((name, len(cases), n_same))
        total_bad += len(cases) - n_same
        print(f"{name:20s} {n_same:8d}/{len(cases):<8d} identical  (reference {t_ref:.1f}s, encore {t_enc:.1f}s)",
              flush=True)
        for c, g, e in bad:
            print("   CASE    ", json.dumps(c, ensure_ascii=True)[:400])
            for k in list(FIELDS) + ["decoded", "decoded_keep", "error", "overflow"]:
                if g.get(k) != e.get(k):
                    print(f"     {k:12s} encore   ", json.dumps(g.get(k), ensure_ascii=True)[:300])
                    print(f"     {'':12s} reference", json.dumps(e.get(k), ensure_ascii=True)[:300])
    print("\n| tokenizer | cases | identical | different |")
    print("|---|---:|---:|---:|")
    for name, n, s in rows:
        print(f"| {name} | {n:,} | {s:,} | {n - s:,} |")
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
