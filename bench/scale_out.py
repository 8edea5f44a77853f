#!/usr/bin/env python3
"""Throughput of encore.ray on one machine: Ray Data embedding N real sentences (bench/corpus.py)
from Parquet to Parquet with 1 actor and with 2 actors, beside one process calling
SentenceTransformer.encode, in interleaved rounds (docs/scale-out.md quotes the result).

Run it with a Python that has the encore wheel and python/requirements-scale.txt, e.g. the
venv scripts/python-tests.sh leaves behind:

  build/venv-wheel-test/bin/python bench/scale_out.py [--sentences 10000] [--rounds 3]

Each configuration: (actors x CPUs per actor), encore's threads = the actor's CPUs. Ray gets one
CPU more than the actors hold, for Ray Data's read and write tasks. Times include reading and
writing Parquet and, for Ray, starting the actors (loading the model), not starting Ray.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import build_corpus  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MODEL = str(REPO / "models" / "all-MiniLM-L6-v2")


def cpu_model():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def run_ray(src, out, actors, cpus):
    import ray

    import encore.ray
    ray.init(num_cpus=actors * cpus + 1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        t0 = time.perf_counter()
        ds = ray.data.read_parquet(src).repartition(8)  # small files are read as one block
        ds = ds.map_batches(encore.ray.Embedder, fn_constructor_kwargs={"model": MODEL, "normalize_embeddings": True},
                            concurrency=actors, num_cpus=cpus, batch_size=500)
        ds.write_parquet(out)
        return time.perf_counter() - t0
    finally:
        ray.shutdown()


def run_single(src, out, threads):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import encore
    t0 = time.perf_counter()
    table = pq.read_table(src)
    model = encore.SentenceTransformer(MODEL, threads=threads)
    emb = model.encode(table.column("text").to_pylist(), normalize_embeddings=True)
    dim = emb.shape[1]
    column = pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), dim)
    pq.write_table(table.append_column("embedding", column), os.path.join(out, "part-0.parquet"))
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one configuration in a fresh process
    ap.add_argument("--src", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        kind, a, b = args.one.split(":")
        with tempfile.TemporaryDirectory() as out:
            seconds = run_ray(args.src, out, int(a), int(b)) if kind == "ray" else run_single(args.src, out, int(b))
        print(f"seconds {seconds:.3f}")
        return

    import pyarrow as pa
    import pyarrow.parquet as pq
    texts = build_corpus(args.sentences)
    configs = [("single", "1", "1"), ("single", "1", "2"), ("ray", "1", "1"), ("ray", "2", "1"), ("ray", "1", "2")]
    times = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as src:
        for f in range(4):
            part = texts[f::4]
            pq.write_table(pa.table({"id": list(range(f, len(texts), 4)), "text": part}), f"{src}/part-{f}.parquet")
        for r in range(args.rounds):
            for c in configs:  # interleaved: every ratio compares the same moments of the machine
                p = subprocess.run([sys.executable, __file__, "--one", ":".join(c), "--src", src], capture_output=True,
                                   text=True, check=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
                seconds = float([l for l in p.stdout.splitlines() if l.startswith("seconds ")][-1].split()[1])
                times[c].append(seconds)
                print(f"round {r + 1} {':'.join(c)}: {seconds:.2f} s", file=sys.stderr, flush=True)
    base = statistics.median(times[("single", "1", "1")])
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; {args.sentences} sentences, all-MiniLM-L6-v2, "
          f"{args.rounds} interleaved rounds\n")
    print("| configuration | median s | sentences/s | min–max s | vs one process, 1 thread |")
    print("|---|---|---|---|---|")
    names = {"single": "one process, SentenceTransformer.encode", "ray": "Ray Data, encore.ray.Embedder"}
    for c in configs:
        kind, actors, cpus = c
        what = f"{names[kind]}, {cpus} thread(s)" if kind == "single" else \
            f"{names[kind]}, {actors} actor(s) x {cpus} CPU(s)"
        m = statistics.median(times[c])
        print(f"| {what} | {m:.2f} | {args.sentences / m:.0f} | {min(times[c]):.2f}–{max(times[c]):.2f} | "
              f"{base / m:.2f}x |")


if __name__ == "__main__":
    main()
