"""encore.CrossEncoder against sentence-transformers' CrossEncoder goldens: rank
(tests/fixtures/heads/cross-encoder/pipeline.jsonl) and predict with one and with three labels,
every activation and apply_softmax (tests/fixtures/heads/cross_encoder_predict.jsonl,
tools/reference/make_cross_encoder_fixtures.py)."""

import json

import numpy as np
import pytest

import encore
from conftest import FIXTURES

MODEL = str(FIXTURES / "heads" / "cross-encoder" / "model")


def goldens():
    with open(FIXTURES / "heads" / "cross-encoder" / "pipeline.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_rank_matches_sentence_transformers():
    model = encore.CrossEncoder(MODEL)
    for g in goldens():
        got = model.rank(g["query"], g["documents"], return_documents=True)
        assert [r["corpus_id"] for r in got] == [r["corpus_id"] for r in g["ranking"]], g["query"]
        for r, w in zip(got, g["ranking"]):
            assert abs(r["score"] - w["score"]) <= 1e-5, g["query"]
            assert r["text"] == g["documents"][r["corpus_id"]]
        top = model.rank(g["query"], g["documents"], top_k=2)
        assert top == [{"corpus_id": r["corpus_id"], "score": r["score"]} for r in got[:2]]


def test_predict_shapes_and_activations():
    model = encore.CrossEncoder(MODEL)
    pairs = [("free software", "The GPL is free."), ("free software", "It rains.")]
    scores = model.predict(pairs)
    assert scores.shape == (2,) and scores.dtype == np.float32
    assert np.all((scores > 0) & (scores < 1))  # Sigmoid: one label, no activation in config.json
    one = model.predict(["free software", "The GPL is free."])
    assert one == scores[0]
    logits = model.predict(pairs, activation_fn=lambda x: x)
    assert np.allclose(1 / (1 + np.exp(-logits.astype(np.float64))), scores, atol=1e-6)
    assert model.predict(pairs, convert_to_numpy=False) == [float(s) for s in scores]


ACTIVATIONS = {None: None, "Identity": lambda x: x, "Sigmoid": lambda x: 1 / (1 + np.exp(-x))}


def test_predict_matches_sentence_transformers_for_one_and_several_labels():
    with open(FIXTURES / "heads" / "cross_encoder_predict.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert {r["model"] for r in rows} == {"cross-encoder", "sequence-classification"}
    models = {}
    for r in rows:
        model = models.setdefault(r["model"], encore.CrossEncoder(str(FIXTURES / "heads" / r["model"] / "model")))
        got = model.predict(r["pairs"], activation_fn=ACTIVATIONS[r["activation_fn"]], apply_softmax=r["apply_softmax"],
                            batch_size=3)
        want = np.asarray(r["scores"], dtype=np.float32)
        assert got.shape == want.shape and got.dtype == np.float32, r
        assert np.max(np.abs(got - want)) <= 1e-5, (r["model"], r["activation_fn"], r["apply_softmax"])
        one = model.predict(r["pairs"][0], activation_fn=ACTIVATIONS[r["activation_fn"]], apply_softmax=r["apply_softmax"])
        assert np.array_equal(one, got[0])


def test_several_labels_predict_but_do_not_rank():
    model = encore.CrossEncoder(str(FIXTURES / "heads" / "sequence-classification" / "model"))
    assert model.num_labels == 3
    with pytest.raises(ValueError, match="one label"):
        model.rank("query", ["doc"])
    rows = model.predict([("a", "b"), ("c", "d")], convert_to_numpy=False)
    assert len(rows) == 2 and rows[0].shape == (3,)


def test_errors():
    with pytest.raises(FileNotFoundError):
        encore.CrossEncoder("/no/such/model")
    model = encore.CrossEncoder(MODEL)
    for bad in (["only one"], [("a", None)], [("a", b"b")], "text"):
        with pytest.raises(TypeError):
            model.predict(bad)
    with pytest.raises(TypeError):
        model.predict([("a", "b")], no_such_argument=True)
    with pytest.raises(TypeError):
        model.rank(b"query", ["doc"])
