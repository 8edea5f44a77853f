#!/usr/bin/env python3
"""Goldens of sentence-transformers CrossEncoder.predict for the Python package's CrossEncoder:
tests/fixtures/heads/cross_encoder_predict.jsonl.

The models are the committed head fixtures: heads/cross-encoder/model (one label) and
heads/sequence-classification/model (three labels, an NLI-shaped classifier). Each row is one
predict() call on real sentence pairs (GPL-3 and Apache-2.0 text; one pair longer than the
models' 128 positions, cut longest_first): the model, the arguments (activation_fn as the
torch.nn class name, apply_softmax) and the scores as CrossEncoder returns them (a list for
one label, a list of label rows for several).

Run with .venv-st5 (tools/reference/requirements-st5.txt: sentence-transformers 5.3.0,
transformers 4.57.6, torch 2.15.0). Rerunning rewrites an identical file.
"""

import json
import os
import re
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import torch
from sentence_transformers import CrossEncoder

REPO = Path(__file__).resolve().parents[2]
HEADS = REPO / "tests" / "fixtures" / "heads"


def sentences():
    text = open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read()
    text += open("/usr/share/common-licenses/Apache-2.0", encoding="utf-8").read()
    parts = [p.strip() for p in re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", text))]
    found = [p for p in parts if 30 <= len(p) <= 200]
    return found[:: len(found) // 16][:16]


def main():
    s = sentences()
    pairs = [[" ".join(s[i].split()[:6]), s[i + 1]] for i in range(0, 14, 2)]
    pairs.append([s[14], " ".join(s) * 2])  # longer than 128 tokens: truncation longest_first
    rows = []
    for name in ["cross-encoder", "sequence-classification"]:
        for activation in [None, "Sigmoid", "Identity"]:
            for softmax in [False, True]:
                # A new instance per call: predict(activation_fn=...) replaces the instance's
                # activation for later calls too (CrossEncoder.set_activation_fn).
                model = CrossEncoder(str(HEADS / name / "model"), device="cpu")
                fn = getattr(torch.nn, activation)() if activation else None
                scores = model.predict(pairs, activation_fn=fn, apply_softmax=softmax, batch_size=3)
                rows.append({"model": name, "activation_fn": activation, "apply_softmax": softmax, "pairs": pairs,
                             "scores": np.asarray(scores, dtype=np.float32).tolist()})
    with open(HEADS / "cross_encoder_predict.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
