"""Shared helpers of the Python tests: fixture paths, a safetensors reader, the CLI binary.

The tests run against an installed encore (pip install . or the wheel of scripts/wheel.sh)
and compare with the goldens the reference packages wrote under tests/fixtures (no reference
package is needed here). ENCORE_BINARY names the `encore` CLI, for bitwise comparisons with
the C++ API; scripts/test.sh sets it.
"""

import json
import os
import pathlib
import struct

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MODELS = ROOT / "models"

_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_,
           "U8": np.uint8, "I8": np.int8, "F16": np.float16}


def read_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def st_texts():
    with open(FIXTURES / "st" / "texts.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def scaled_error(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))) if want.size else 0.0



def read_goldens(path):
    """The JSON objects of a golden.jsonl file, one a line."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_text_classification(text_dir, goldens, max_length=48, min_checked=20):
    """encore.pipeline("text-classification") on TEXT_DIR/classifier against the goldens' logits, on the
    texts that fit in max_length tokens (the reference truncated to max_length; the pipeline does not
    truncate): the argmax label first, and every score the softmax of the reference's logits within 1e-4."""
    import encore  # here, not at the top: conftest is imported before any test needs encore

    labels = json.loads((text_dir / "classifier" / "config.json").read_text())["id2label"]
    label_id = {v: int(k) for k, v in labels.items()}
    clf = encore.pipeline("text-classification", model=str(text_dir / "classifier"))
    checked = 0
    for x in goldens:
        if len(x["ids"]) > max_length:  # the reference truncated them; the pipeline does not truncate
            continue
        logits = np.array(x["logits"], dtype=np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        got = clf(x["text"], top_k=None)
        assert got[0]["label"] == labels[str(int(np.argmax(logits)))], x["text"]
        for r in got:
            want = probs[label_id[r["label"]]]
            assert abs(r["score"] - want) <= 1e-4, (x["text"], r, want)
        checked += 1
    assert checked >= min_checked

def real_model_dir(name):
    """models/real/NAME. Absent: a failure where ENCORE_REQUIRE_REAL_MODELS=1 (scripts/test.sh sets
    it after fetching them), else a skip naming the fetch command, as the C++ suite does."""
    d = MODELS / "real" / name
    if not (d / "config.json").exists():
        why = f"real model {name} is absent from {d} (fetch it with: bash scripts/fetch-real-models.sh {name})"
        if os.environ.get("ENCORE_REQUIRE_REAL_MODELS") == "1":
            pytest.fail(why + "; ENCORE_REQUIRE_REAL_MODELS=1 requires it")
        pytest.skip(why)
    return str(d)


@pytest.fixture(scope="session")
def encore_binary():
    path = os.environ.get("ENCORE_BINARY")
    if not path:
        pytest.fail("ENCORE_BINARY is not set: it names the encore CLI built from the same tree (scripts/test.sh sets it)")
    return path
