#!/usr/bin/env python3
"""Load time and peak memory of bert-base in every checkpoint format encore reads, next to
the reference loaders. Run it through bench/load_time (which builds the drivers and checks
the reference venvs); this file only needs the standard library itself and runs the venv
pythons for the parts that need torch or TensorFlow.

Fixtures (models/bench/load-time/, gitignored; made once, from models/bench/bert-base):
  hf-f32         model.safetensors, F32 (bench/make_random_bert.py)
  hf-f16, hf-bf16  the same tensors cast to F16 / BF16 (safetensors)
  hf-bin         pytorch_model.bin, zip format (save_pretrained(safe_serialization=False))
  google-ckpt    bert_model.ckpt.{index,data-00000-of-00001} (tf.compat.v1.train.Saver, Google's
                 names; from `encore convert --to google-safetensors`)
  torch-st       nn.TransformerEncoder state_dict as model.safetensors (`encore convert --to torch`)
  torch-pt       the same state_dict as model.pt (torch.save)

Measures, per format, N runs after one warm-up run (page cache warm), medians reported:
  encore: build/bench/encore_load DIR --forward under /usr/bin/time -v: the Model::load
          call, launch to model ready (ENCORE_T0: this script's clock just before the
          launch), a first forward pass on 16 tokens, RSS right after loading and the
          load's peak (/proc/self/status VmRSS, VmHWM), the process's maximum RSS.
  reference, in .venv-ref (torch, transformers; .venv-tf for the TF bundle): the same
          numbers for the reference loader (its first forward in torch.no_grad(); the TF row
          has no model, TensorFlow only reads the tensors), and the RSS before its load call
          (the interpreter and imports).

Environment: ENCORE_BUILD_DIR (default build/), ENCORE_REF_VENV / ENCORE_TF_VENV (default
.venv-ref / .venv-tf), ENCORE_LOAD_DRIVER (another copy of encore_load to run instead).

usage: load_time.py [--runs 5] [--formats hf-f32,hf-bin,...] [--skip-reference] [--out FILE.md] [--make-only]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("ENCORE_BUILD_DIR", REPO / "build"))
REF = Path(os.environ.get("ENCORE_REF_VENV", REPO / ".venv-ref")) / "bin" / "python"
TF = Path(os.environ.get("ENCORE_TF_VENV", REPO / ".venv-tf")) / "bin" / "python"
DRIVER = Path(os.environ.get("ENCORE_LOAD_DRIVER", BUILD / "bench" / "encore_load"))  # override: another copy
BERT_BASE = REPO / "models" / "bench" / "bert-base"
FIX = REPO / "models" / "bench" / "load-time"

FORMATS = ["hf-f32", "hf-f16", "hf-bf16", "hf-bin", "google-ckpt", "torch-st", "torch-pt"]
LABEL = {
    "hf-f32": "HF safetensors F32",
    "hf-f16": "HF safetensors F16",
    "hf-bf16": "HF safetensors BF16",
    "hf-bin": "HF pytorch_model.bin (zip)",
    "google-ckpt": "Google TF checkpoint",
    "torch-st": "TransformerEncoder state_dict, safetensors",
    "torch-pt": "TransformerEncoder state_dict, model.pt",
}

# ---------------------------------------------------------------- fixture writers (venv side)

MAKE_CAST = r"""
import sys, shutil, torch
from safetensors.torch import load_file, save_file
src, dst, dtype = sys.argv[1:4]
t = load_file(src + "/model.safetensors")
save_file({k: v.to(getattr(torch, dtype)).contiguous() for k, v in t.items()}, dst + "/model.safetensors",
          metadata={"format": "pt"})
shutil.copy(src + "/config.json", dst + "/config.json")
"""

MAKE_BIN = r"""
import sys
from transformers import BertModel
BertModel.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2], safe_serialization=False)
"""

MAKE_PT = r"""
import sys, torch
from safetensors.torch import load_file
torch.save(load_file(sys.argv[1] + "/model.safetensors"), sys.argv[2] + "/model.pt")
"""

MAKE_TF = r"""
import os, sys, shutil
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, tensorflow as tf
from safetensors.numpy import load_file
src, dst = sys.argv[1:3]
weights = load_file(src + "/model.safetensors")
tf.compat.v1.disable_eager_execution()
graph = tf.Graph()
with graph.as_default():
    # Placeholders fed at init: constants would put 440 MB into the GraphDef.
    var_list, feed = {}, {}
    for i, (name, value) in enumerate(sorted(weights.items())):
        p = tf.compat.v1.placeholder(tf.float32, value.shape)
        var_list[name] = tf.compat.v1.Variable(p, name=f"v{i}")
        feed[p] = value
    saver = tf.compat.v1.train.Saver(var_list)
    with tf.compat.v1.Session(graph=graph) as s:
        s.run(tf.compat.v1.global_variables_initializer(), feed_dict=feed)
        saver.save(s, dst + "/bert_model.ckpt", write_meta_graph=False, write_state=False)
shutil.copy(src + "/bert_config.json", dst + "/bert_config.json")
"""

# ---------------------------------------------------------------- reference loaders (venv side)

# Each prints one JSON line: load_s (the load call), ready_s (launch to model ready: the
# launcher's wall clock in ENCORE_T0), first_forward_s (16 tokens), rss_before_kb (after the
# imports), rss_kb and hwm_kb (right after loading).
REF_PRELUDE = r"""
import json, os, sys, time
def status_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
def report(load_s, before, forward=None, **extra):
    ready = time.time() - float(os.environ["ENCORE_T0"])
    rss, hwm = status_kb("VmRSS"), status_kb("VmHWM")
    out = {"load_s": load_s, "ready_s": ready, "rss_before_kb": before, "rss_kb": rss, "hwm_kb": hwm}
    if forward:
        import torch
        with torch.no_grad():
            t = time.perf_counter()
            forward()
            out["first_forward_s"] = time.perf_counter() - t
    out.update(extra)
    print(json.dumps(out))
"""

REF_HF = REF_PRELUDE + r"""
import torch
from transformers import BertModel
before = status_kb("VmRSS")
t0 = time.perf_counter()
model = BertModel.from_pretrained(sys.argv[1])
t1 = time.perf_counter()
ids = torch.tensor([[(j * 7919 + 101) % model.config.vocab_size for j in range(16)]])
report(t1 - t0, before, lambda: model(input_ids=ids), dtype=str(next(model.parameters()).dtype))
"""

REF_TORCH = REF_PRELUDE + r"""
import torch
from safetensors.torch import load_file
cfg = json.load(open(sys.argv[1] + "/transformer_encoder.json"))
pt = sys.argv[2] == "pt"
before = status_kb("VmRSS")
t0 = time.perf_counter()
layer = torch.nn.TransformerEncoderLayer(cfg["d_model"], cfg["nhead"], cfg["dim_feedforward"], cfg["dropout"],
                                         activation=cfg["activation"], layer_norm_eps=cfg["layer_norm_eps"],
                                         batch_first=cfg["batch_first"], norm_first=cfg["norm_first"])
model = torch.nn.TransformerEncoder(layer, cfg["num_layers"], enable_nested_tensor=False)
sd = torch.load(sys.argv[1] + "/model.pt", mmap=True) if pt else load_file(sys.argv[1] + "/model.safetensors")
model.load_state_dict(sd)
del sd
model.eval()
t1 = time.perf_counter()
src = torch.zeros((1, 16, cfg["d_model"]) if cfg["batch_first"] else (16, 1, cfg["d_model"]))
report(t1 - t0, before, lambda: model(src))
"""

REF_TF = REF_PRELUDE + r"""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
before = status_kb("VmRSS")
t0 = time.perf_counter()
reader = tf.train.load_checkpoint(sys.argv[1] + "/bert_model.ckpt")
arrays = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
t1 = time.perf_counter()
report(t1 - t0, before, tensors=len(arrays))  # no model: TensorFlow only reads the tensors here
"""

REF_WHAT = {
    "hf-f32": "transformers BertModel.from_pretrained",
    "hf-f16": "transformers BertModel.from_pretrained (F32 model)",
    "hf-bf16": "transformers BertModel.from_pretrained (F32 model)",
    "hf-bin": "transformers BertModel.from_pretrained",
    "google-ckpt": "TensorFlow tf.train.load_checkpoint + get_tensor of every variable",
    "torch-st": "nn.TransformerEncoder(...) + load_state_dict(safetensors load_file)",
    "torch-pt": "nn.TransformerEncoder(...) + load_state_dict(torch.load(mmap=True))",
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def make_fixtures(formats):
    if not (BERT_BASE / "model.safetensors").exists():
        print("making models/bench/bert-base (bench/make_random_bert.py) ...", file=sys.stderr)
        run([str(REF), str(REPO / "bench" / "make_random_bert.py"), str(BERT_BASE)])
    FIX.mkdir(parents=True, exist_ok=True)
    encore = str(BUILD / "encore")
    for f in formats:
        d = FIX / f
        if d.exists():
            continue
        print(f"making {d.relative_to(REPO)} ...", file=sys.stderr)
        tmp = Path(tempfile.mkdtemp(dir=FIX, prefix=f".{f}-"))
        tmp.chmod(0o755)
        try:
            if f == "hf-f32":
                for name in ("config.json", "model.safetensors"):
                    os.link(BERT_BASE / name, tmp / name) if same_fs(BERT_BASE, tmp) else shutil.copy(BERT_BASE / name, tmp)
            elif f in ("hf-f16", "hf-bf16"):
                run([str(REF), "-c", MAKE_CAST, str(BERT_BASE), str(tmp), "float16" if f == "hf-f16" else "bfloat16"])
            elif f == "hf-bin":
                run([str(REF), "-c", MAKE_BIN, str(BERT_BASE), str(tmp)])
                for extra in tmp.iterdir():  # keep the config and the .bin only
                    if extra.name not in ("config.json", "pytorch_model.bin"):
                        extra.unlink()
            elif f == "google-ckpt":
                g = Path(tempfile.mkdtemp(dir=FIX, prefix=".google-st-"))
                try:
                    run([encore, "convert", str(BERT_BASE), str(g / "out"), "--to", "google-safetensors"],
                        stdout=subprocess.DEVNULL)
                    run([str(TF), "-c", MAKE_TF, str(g / "out"), str(tmp)])
                finally:
                    shutil.rmtree(g)
            elif f == "torch-st":
                shutil.rmtree(tmp)
                run([encore, "convert", str(BERT_BASE), str(tmp), "--to", "torch"], stdout=subprocess.DEVNULL)
            elif f == "torch-pt":
                src = FIX / "torch-st"
                if not src.exists():
                    make_fixtures(["torch-st"])
                run([str(REF), "-c", MAKE_PT, str(src), str(tmp)])
                shutil.copy(src / "transformer_encoder.json", tmp)
            tmp.rename(d)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


def same_fs(a, b):
    return os.stat(a).st_dev == os.stat(b).st_dev


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (wall s, max RSS KB, last stdout line as JSON)."""
    env = dict(env or os.environ, ENCORE_T0=repr(time.time()))
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return (int(h or 0) * 3600 + int(m) * 60 + float(s), rss, out)


def measure(cmd, runs, env=None):
    timed(cmd, env)  # warm-up: page cache, dynamic loader
    rows = [timed(cmd, env) for _ in range(runs)]
    med = lambda key: statistics.median([r[2].get(key, -1) for r in rows])
    return {
        "load_s": med("load_s"),
        "load_min_s": min(r[2]["load_s"] for r in rows),
        "load_max_s": max(r[2]["load_s"] for r in rows),
        "ready_s": med("ready_s"),
        "forward_s": med("first_forward_s"),
        "wall_s": statistics.median([r[0] for r in rows]),
        "max_rss_mb": statistics.median([r[1] for r in rows]) / 1024,
        "hwm_mb": med("hwm_kb") / 1024,
        "rss_after_mb": med("rss_kb") / 1024,
        "rss_before_mb": med("rss_before_kb") / 1024,
    }


def reference_cmd(f):
    d = str(FIX / f)
    if f == "google-ckpt":
        return [str(TF), "-c", REF_TF, d]
    if f in ("torch-st", "torch-pt"):
        return [str(REF), "-c", REF_TORCH, d, "pt" if f == "torch-pt" else "st"]
    return [str(REF), "-c", REF_HF, d]


def machine():
    load = open("/proc/loadavg").read().split()[:3]
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({cpu}), load average {' '.join(load)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--out", help="also write the markdown table to this file")
    ap.add_argument("--make-only", action="store_true", help="make the fixtures, measure nothing")
    a = ap.parse_args()
    formats = [f for f in a.formats.split(",") if f]
    for f in formats:
        if f not in FORMATS:
            sys.exit(f"unknown format {f!r} (one of {', '.join(FORMATS)})")
    make_fixtures(formats)
    if a.make_only:
        return

    before = machine()
    results = {}
    for f in formats:
        size = sum(p.stat().st_size for p in (FIX / f).iterdir()) / 1e6
        print(f"{f}: encore ...", file=sys.stderr)
        enc = measure([str(DRIVER), str(FIX / f), "--forward"], a.runs)
        ref = None
        if not a.skip_reference:
            print(f"{f}: reference ...", file=sys.stderr)
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
            ref = measure(reference_cmd(f), a.runs, env)
        results[f] = (size, enc, ref)
    after = machine()

    def cell(v, fmt):
        return "-" if v is None or v < 0 else fmt.format(v)

    lines = [
        f"bert-base (110M parameters, random weights), warm page cache, median of {a.runs} runs after one warm-up.",
        f"Machine: {before} (before) / {after.split('load average ')[1]} (after).",
        "load: the load call; ready: launch (before exec) to model ready; forward: then a first forward",
        "pass on 16 tokens; RSS: right after loading (VmRSS) / the load's peak (VmHWM) / the process's",
        "maximum (/usr/bin/time -v, first forward included); reference RSS before its load call in brackets.",
        "",
        "| format | MB | encore load s (min-max) | ready s | forward s | RSS after / peak / max MB | "
        "reference | load s | ready s | forward s | RSS after / peak / max MB (before) |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for f in formats:
        size, e, r = results[f]
        row = (f"| {LABEL[f]} | {size:.0f} | {e['load_s']:.3f} ({e['load_min_s']:.3f}-{e['load_max_s']:.3f}) | "
               f"{cell(e['ready_s'], '{:.3f}')} | {cell(e['forward_s'], '{:.3f}')} | "
               f"{e['rss_after_mb']:.0f} / {e['hwm_mb']:.0f} / {e['max_rss_mb']:.0f} | ")
        if r:
            row += (f"{REF_WHAT[f]} | {r['load_s']:.3f} | {cell(r['ready_s'], '{:.2f}')} | "
                    f"{cell(r['forward_s'], '{:.3f}')} | {r['rss_after_mb']:.0f} / {r['hwm_mb']:.0f} / "
                    f"{r['max_rss_mb']:.0f} ({r['rss_before_mb']:.0f}) |")
        else:
            row += "- | - | - | - | - |"
        lines.append(row)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
