"""encore.ColBERT / encore.maxsim against PyLate 1.6's goldens (tests/fixtures/colbert) and
encore.BGEM3FlagModel against FlagEmbedding 1.4.2's (tests/fixtures/bge-m3), through the Python
API: the same token rows and vectors within 1e-5, MaxSim and bge-m3 scores within 1e-5 relative,
FlagEmbedding's output shapes (dict of dense_vecs / lexical_weights / colbert_vecs)."""

import json

import numpy as np
import pytest

import encore
from conftest import FIXTURES


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("case", ["tiny", "tiny-attend", "tiny-noexp", "tiny-dense-tanh-res", "stanford"])
def test_colbert_matches_pylate(case):
    model = encore.ColBERT(FIXTURES / "colbert" / case)
    cases = jsonl(FIXTURES / "colbert" / f"{case}.jsonl")
    for is_query in (True, False):
        want = [c for c in cases if c["is_query"] == is_query]
        got = model.encode([c["text"] for c in want], is_query=is_query)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            ref = np.asarray(w["embeddings"], dtype=np.float32)
            assert g.dtype == np.float32 and g.shape == ref.shape, w["text"]
            assert np.abs(g - ref).max(initial=0.0) <= 1e-5, w["text"]
    single = model.encode(cases[2]["text"])  # a string: one array; PyLate's default is_query=True
    assert single.ndim == 2 and np.array_equal(single, model.encode([cases[2]["text"]], is_query=True)[0])
    for c in jsonl(FIXTURES / "colbert" / f"{case}.maxsim.jsonl"):
        q = model.encode(c["query"], is_query=True)
        d = model.encode(c["documents"], is_query=False)
        np.testing.assert_allclose(encore.maxsim([q], d)[0], c["scores_unpadded"], rtol=1e-5, atol=1e-5)


def test_colbert_refuses_what_it_does_not_compute():
    model = encore.ColBERT(FIXTURES / "colbert" / "tiny")
    with pytest.raises(ValueError):
        model.encode("x", normalize_embeddings=False)
    with pytest.raises(TypeError):
        model.encode("x", prompt_name="query")
    with pytest.raises(ValueError, match="modules.json"):
        encore.ColBERT(FIXTURES / "heads" / "masked-lm" / "model")


def test_bge_m3_matches_flagembedding():
    model = encore.BGEM3FlagModel(FIXTURES / "bge-m3" / "tiny", use_fp16=False)
    for name, max_length in (("encode", None), ("encode_len12", 12)):
        cases = jsonl(FIXTURES / "bge-m3" / f"{name}.jsonl")
        out = model.encode([c["text"] for c in cases], max_length=max_length, return_dense=True, return_sparse=True,
                           return_colbert_vecs=True)
        np.testing.assert_allclose(out["dense_vecs"], [c["dense"] for c in cases], atol=1e-5)
        for lw, cv, c in zip(out["lexical_weights"], out["colbert_vecs"], cases):
            assert sorted(lw) == sorted(c["lexical_weights"]), c["text"]
            for k, v in c["lexical_weights"].items():
                assert abs(lw[k] - v) <= 1e-5 * max(1.0, abs(v)), c["text"]
            np.testing.assert_allclose(cv, np.asarray(c["colbert_vecs"], dtype=np.float32).reshape(cv.shape),
                                       atol=1e-5)
    only_dense = model.encode("hello")
    assert only_dense["dense_vecs"].shape == (32,) and only_dense["lexical_weights"] is None
    for s in jsonl(FIXTURES / "bge-m3" / "scores.jsonl"):
        q = model.encode(s["query"], return_sparse=True, return_colbert_vecs=True)
        p = model.encode(s["passage"], return_sparse=True, return_colbert_vecs=True)
        lex = model.compute_lexical_matching_score(q["lexical_weights"], p["lexical_weights"])
        assert abs(lex - s["lexical"]) <= 1e-5 * max(1.0, abs(s["lexical"]))
        col = model.colbert_score(q["colbert_vecs"], p["colbert_vecs"])
        assert abs(col - s["colbert"]) <= 1e-5 * max(1.0, abs(s["colbert"]))


def test_bge_m3_default_is_flagembeddings_fp16_weights():
    model = encore.BGEM3FlagModel(FIXTURES / "bge-m3" / "tiny")  # use_fp16=True, as FlagEmbedding's default
    cases = jsonl(FIXTURES / "bge-m3" / "encode_fp16.jsonl")
    assert all(c["use_fp16"] for c in cases)
    out = model.encode([c["text"] for c in cases], return_colbert_vecs=True)
    np.testing.assert_allclose(out["dense_vecs"], [c["dense"] for c in cases], atol=1e-5)
    exact = encore.BGEM3FlagModel(FIXTURES / "bge-m3" / "tiny", use_fp16=False).encode([c["text"] for c in cases])
    assert np.abs(exact["dense_vecs"] - out["dense_vecs"]).max() > 1e-5  # the rounding shows
