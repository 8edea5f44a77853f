#!/usr/bin/env python3
"""encore's tokenizer against `tokenizers`, side by side on one thread: encode_batch of the
same lines (no truncation or padding, special tokens added), best of --repeat runs, and
the time to load each tokenizer.json (a 250,002-piece Unigram one, XLM-R's size, made by
padding the rebuilt xlm-roberta-base vocabulary with synthetic pieces).

  .venv-tok/bin/python bench/tokenizer_speed.py [--driver build/bench/encore_tokenize_cases]
      [--lines 20000] [--only roberta-base,...]

Both run on one thread: RAYON_NUM_THREADS=1 for tokenizers, OMP_NUM_THREADS=1 for encore.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
import make_tok_models as tm  # noqa: E402


def encore_run(driver, directory, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([driver, directory, *args], capture_output=True, env=env, check=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def big_unigram(src, dst, pieces=250002, seed=3):
    """xlm-roberta-base's tokenizer.json with its vocabulary grown to `pieces` entries."""
    tj = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    rng = random.Random(seed)
    have = {p for p, _ in vocab}
    alphabet = [p for p, _ in vocab if len(p) == 1] or list("abcdefghijklmnopqrstuvwxyz")
    mask = vocab.pop()  # <mask> stays last
    while len(vocab) < pieces - 1:
        p = ("\u2581" if rng.random() < 0.5 else "") + "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))
        if p not in have:
            have.add(p)
            vocab.append([p, -rng.uniform(5, 15)])
    vocab.append(mask)
    for t in tj["added_tokens"]:
        if t["content"] == mask[0]:
            t["id"] = len(vocab) - 1
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "tokenizer.json"), "w", encoding="utf-8") as w:
        json.dump(tj, w, ensure_ascii=False)
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", default=os.path.join(tm.ROOT, "build", "bench", "encore_tokenize_cases"))
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="roberta-base,xlm-roberta-base,albert-base-v2,deberta-v3-base")
    ap.add_argument("--dir", action="append", default=[], help="NAME=DIR: also a real tokenizer directory")
    args = ap.parse_args()
    from tokenizers import Tokenizer
    lines = [s.replace("\n", " ") for s in tm.texts(args.lines, [], seed=123)]
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "lines.txt")
    with open(path, "w", encoding="utf-8", newline="\n") as w:
        w.write("".join(s + "\n" for s in lines))
    dirs = [(n, tm.model_dir(n)) for n in args.only.split(",") if n] + [tuple(d.split("=", 1)) for d in args.dir]
    print("| tokenizer | lines | tokens | tokenizers lines/s | encore lines/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, d in dirs:
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        best = 1e30
        n_tokens = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            encs = tok.encode_batch(lines)
            best = min(best, time.perf_counter() - t0)
            n_tokens = sum(len(e.ids) for e in encs)
        mine = encore_run(args.driver, d, "--bench", path, "--repeat", str(args.repeat))
        if mine["tokens"] != n_tokens:
            print(f"  (token counts differ: encore {mine['tokens']}, tokenizers {n_tokens})")
        print(f"| {name} | {len(lines):,} | {n_tokens:,} | {len(lines) / best:,.0f} | "
              f"{len(lines) / mine['seconds']:,.0f} | {best / mine['seconds']:.2f}x |", flush=True)
    big = big_unigram(tm.model_dir("xlm-roberta-base"), os.path.join(tmp, "unigram-250k"))
    ref = 1e30
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        Tokenizer.from_file(os.path.join(big, "tokenizer.json"))
        ref = min(ref, time.perf_counter() - t0)
    mine = min(encore_run(args.driver, big, "--load")["load_seconds"] for _ in range(args.repeat))
    print(f"\nload of a 250,002-piece Unigram tokenizer.json ({os.path.getsize(os.path.join(big, 'tokenizer.json')) / 1e6:.1f} MB): "
          f"tokenizers {ref * 1000:.0f} ms, encore {mine * 1000:.0f} ms")


if __name__ == "__main__":
    main()
