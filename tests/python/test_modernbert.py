"""ModernBERT from Python: encore.SentenceTransformer and encore.pipeline("text-classification")
on tests/fixtures/modernbert-text (tools/reference/make_modernbert_text_fixtures.py: a byte-level
BPE tokenizer.json shaped like ModernBERT's, tiny random models). Embeddings are held to
sentence-transformers 6.x, which tokenizes texts as given (the goldens' nostrip_* where 5.3, which
wrote them, stripped); logits to transformers 4.57.6 (ModernBertForSequenceClassification)."""

import numpy as np

import encore
from conftest import FIXTURES, check_text_classification, read_goldens, scaled_error

TEXT = FIXTURES / "modernbert-text"


def goldens():
    return read_goldens(TEXT / "golden.jsonl")


def test_embeddings_match_sentence_transformers():
    g = goldens()
    model = encore.SentenceTransformer(str(TEXT / "st"))
    got = model.encode([x["text"] for x in g], batch_size=7)
    want = np.array([x.get("nostrip_embedding", x["embedding"]) for x in g], dtype=np.float32)
    assert got.shape == want.shape
    assert scaled_error(got, want) <= 1e-5


def test_text_classification_matches_transformers():
    check_text_classification(TEXT, goldens())
