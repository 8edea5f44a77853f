"""NomicBERT from Python: encore.SentenceTransformer and encore.pipeline("text-classification")
on tests/fixtures/nomic-text (tools/reference/make_nomic_text_fixtures.py: a WordPiece tokenizer.json
shaped like bert-base-uncased's, which nomic-embed-text-v1 ships, and tiny random NomicBERT models with
the pinned hub code beside them). Embeddings are held to sentence-transformers 5.3 with
trust_remote_code (Transformer -> Pooling(mean), no Normalize; str.strip() changes no ids with this
tokenizer, so 6.x computes the same), logits to NomicBertForSequenceClassification."""

import numpy as np

import encore
from conftest import FIXTURES, check_text_classification, read_goldens, scaled_error

TEXT = FIXTURES / "nomic-text"


def goldens():
    return read_goldens(TEXT / "golden.jsonl")


def test_embeddings_match_sentence_transformers():
    g = goldens()
    model = encore.SentenceTransformer(str(TEXT / "st"))
    got = model.encode([x["text"] for x in g], batch_size=7)
    want = np.array([x["embedding"] for x in g], dtype=np.float32)
    assert got.shape == want.shape == (len(g), 32)
    assert scaled_error(got, want) <= 1e-5


def test_normalized_embeddings():
    # No Normalize module: normalize_embeddings=True is sentence-transformers' own unit-length scaling.
    g = goldens()
    model = encore.SentenceTransformer(str(TEXT / "st"))
    got = model.encode([x["text"] for x in g], normalize_embeddings=True)
    want = np.array([x["embedding"] for x in g], dtype=np.float64)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    assert scaled_error(got, want) <= 1e-5


def test_text_classification_matches_reference():
    check_text_classification(TEXT, goldens())
