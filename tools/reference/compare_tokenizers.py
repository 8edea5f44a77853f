#!/usr/bin/env python3
"""Full comparison of `encore tokenize` against the reference tokenizers.

Drives the CLI over a large corpus of real text (see make_tokenizer_fixtures.py) and over
every Unicode code point, for each vocabulary x flavour (hf, hf-slow, google), with and
without pairs, truncation (longest_first, only_first, only_second) and special tokens, and
reports the share of lines whose ids, type ids (and, for the hf flavour, character
offsets) are identical. Vocabularies: all-MiniLM-L6-v2's bert-base-uncased (also with
lowercasing switched off, on a quarter of the corpus), bert-base-cased,
bert-base-multilingual-cased and bert-base-chinese (rebuilt from blingfire's tables).

  .venv-ref/bin/python tools/reference/compare_tokenizers.py --encore build-tok/encore
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixtures as fx  # noqa: E402


def run_cli(encore, model, flavour, lines, flags):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="\n", suffix=".txt", delete=False) as f:
        for line in lines:
            f.write(line + "\n")
        path = f.name
    try:
        cmd = [encore, "tokenize", "--model", model, "--flavour", flavour] + flags + ["--input", path]
        p = subprocess.run(cmd, capture_output=True)
    finally:
        os.unlink(path)
    out = p.stdout.decode("utf-8").split("\n")[: len(lines)]
    errors = {}
    for err in p.stderr.decode("utf-8", "replace").splitlines():
        if err.startswith("encore tokenize: line "):
            n, msg = err[len("encore tokenize: line "):].split(":", 1)
            errors[int(n) - 1] = msg.strip()
        elif "inputs failed" not in err:
            raise SystemExit(f"encore failed: {err}")
    return [None if i in errors else json.loads(s) for i, s in enumerate(out)], errors


def compare(got, errors, expected, offsets, report):
    same = 0
    bad = []
    for i, (g, e) in enumerate(zip(got, expected)):
        if "error" in e:
            ok = g is None
        elif g is None:
            ok = False
        else:
            ok = g["input_ids"] == e["ids"] and g["token_type_ids"] == e["types"]
            if ok and offsets:
                ok = g["offsets"] == e["offsets"]
        if ok:
            same += 1
        elif len(bad) < report:
            bad.append((i, g, errors.get(i), e))
    return same, bad


def jobs_for(variant, singles, pairs):
    flavour = fx.VARIANTS[variant][0]
    j = [("single", [(s, None, "none", 0, True) for s in singles], ["--truncation", "none"]),
         ("single/max32/no-special", [(s, None, "longest_first", 32, False) for s in singles[: len(singles) // 4]],
          ["--max-length", "32", "--no-special-tokens"]),
         ("pair/longest_first/48", [(a, b, "longest_first", 48, True) for a, b in pairs], ["--pair", "--max-length", "48"]),
         ("pair/no-special", [(a, b, "none", 0, False) for a, b in pairs[: len(pairs) // 4]],
          ["--pair", "--truncation", "none", "--no-special-tokens"])]
    if flavour != "google":
        q = len(pairs) // 4
        j.append(("pair/only_first/24", [(a, b, "only_first", 24, True) for a, b in pairs[:q]],
                  ["--pair", "--max-length", "24", "--truncation", "only_first"]))
        j.append(("pair/only_second/24", [(a, b, "only_second", 24, True) for a, b in pairs[q: 2 * q]],
                  ["--pair", "--max-length", "24", "--truncation", "only_second"]))
    return j


def sweep_lines():
    lines = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp == 10:
            continue
        c = chr(cp)
        lines.append(f"x{c}y {c} A{c}{c}")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--encore", default=os.path.join(fx.ROOT, "build-tok", "encore"))
    p.add_argument("--singles", type=int, default=60000)
    p.add_argument("--pairs", type=int, default=40000)
    p.add_argument("--variants", default=",".join(fx.VARIANTS),
                   help="comma-separated, from: " + ", ".join(fx.VARIANTS))
    p.add_argument("--cased-fraction", type=float, default=0.25, help="corpus share for *-cased variants")
    p.add_argument("--sweep", action="store_true", help="also every code point (1.1M lines per flavour)")
    p.add_argument("--report", type=int, default=3)
    args = p.parse_args()

    if any(fx.VARIANTS[v][0] != "hf" for v in args.variants.split(",")):
        fx.check_python_tables()  # hf-slow and google follow this Python's Unicode version
    singles, pairs = fx.corpus(args.singles, args.pairs)
    summary = []
    for variant in args.variants.split(","):
        flavour, over, model = fx.VARIANTS[variant]
        ref = fx.Reference(variant)
        frac = args.cased_fraction if over else 1.0
        s = singles[: int(len(singles) * frac)]
        pr = pairs[: int(len(pairs) * frac)]
        jobs = jobs_for(variant, s, pr)
        if args.sweep and not over:
            jobs.append(("codepoint-sweep", [(l, None, "none", 0, True) for l in sweep_lines()], ["--truncation", "none"]))
        for name, items, flags in jobs:
            t0 = time.time()
            expected = ref.encode_batch(items)
            t1 = time.time()
            lines = [a if b is None else a + "\t" + b for a, b, *_ in items]
            offsets = flavour == "hf" and "no-special" not in name
            got, errors = run_cli(args.encore, ref.dir, flavour, lines,
                                  flags + (["--offsets"] if offsets else []))
            t2 = time.time()
            same, bad = compare(got, errors, expected, offsets, args.report)
            pct = 100.0 * same / max(1, len(items))
            summary.append((variant, name, len(items), same))
            print(f"{variant:14s} {name:26s} {same:8d}/{len(items):<8d} {pct:8.4f}%  "
                  f"(reference {t1 - t0:.1f}s, encore {t2 - t1:.1f}s)", flush=True)
            for i, g, err, e in bad:
                print("   MISMATCH", json.dumps(lines[i][:300], ensure_ascii=True))
                print("     encore   ", err or (g and {k: g[k] for k in ("input_ids", "token_type_ids", "offsets") if k in g}))
                print("     reference", e)
    print("\n| vocabulary | flavour | lines | identical | % identical | different |")
    print("|---|---|---:|---:|---:|---:|")
    for variant in args.variants.split(","):
        flavour, over, model = fx.VARIANTS[variant]
        rows = [x for x in summary if x[0] == variant]
        n, same = (sum(x[k] for x in rows) for k in (2, 3))
        name = model + (" (lowercase off)" if over.get("lowercase") is False else "")
        print(f"| {name} | {flavour} | {n:,} | {same:,} | {100.0 * same / max(1, n):.4f} | {n - same:,} |")
    total = sum(x[2] for x in summary)
    same = sum(x[3] for x in summary)
    print(f"TOTAL {same}/{total} lines identical ({100.0 * same / max(1, total):.4f}%); "
          f"{total - same} differ (Python {sys.version.split()[0]}, Unicode "
          f"{unicodedata.unidata_version})")
    return 0 if same == total else 1


if __name__ == "__main__":
    sys.exit(main())
