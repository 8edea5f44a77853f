"""encore.SentenceTransformer against sentence-transformers' own outputs (tests/fixtures/st,
written by tools/reference/make_st_fixtures.py) and bitwise against the C++ API (the CLI)."""

import json
import subprocess
import threading

import numpy as np
import pytest

import encore
from conftest import FIXTURES, read_safetensors, scaled_error, st_texts

ST_DIRS = sorted(p.name for p in (FIXTURES / "st").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", ST_DIRS)
def test_matches_sentence_transformers(name):
    directory = FIXTURES / "st" / name
    cases = json.loads((directory / "cases.json").read_text())
    golden = read_safetensors(directory / "expected.safetensors")
    texts = st_texts()
    for case in cases["cases"]:
        options, request = case["options"], case["request"]
        model = encore.SentenceTransformer(str(directory), truncate_dim=options.get("dimensions"))
        got = model.encode(texts, batch_size=5, normalize_embeddings=bool(options.get("normalize")),
                           prompt_name=request.get("prompt_name"), prompt=request.get("prompt"),
                           task=request.get("task"))
        want = golden[case["key"]]
        assert got.shape == want.shape, case["key"]
        assert got.dtype == np.float32
        assert scaled_error(got, want) <= 1e-5, (name, case["key"])
    model = encore.SentenceTransformer(str(directory))
    assert model.similarity_fn_name == cases["similarity_fn_name"]
    base = model.encode(texts)
    sims = model.similarity(base[:1], base[1:])[0]
    assert scaled_error(sims, golden["similarity"]) <= 1e-5


def test_shapes_follow_sentence_transformers():
    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st2-pooling"))
    one = model.encode("a single sentence")
    many = model.encode(["a single sentence", "and another"])
    assert one.shape == (model.get_sentence_embedding_dimension(),)
    assert many.shape == (2, model.get_sentence_embedding_dimension())
    assert np.array_equal(one, many[0])
    assert model.encode([]).shape == (0, model.get_sentence_embedding_dimension())
    listed = model.encode(["x", "y"], convert_to_numpy=False)
    assert isinstance(listed, list) and len(listed) == 2


def test_token_embeddings_match_sentence_transformers():
    directory = FIXTURES / "st" / "st6-tokens"
    golden = read_safetensors(directory / "expected.safetensors")
    want, lengths = golden["tokens"], golden["tokens.lengths"]
    model = encore.SentenceTransformer(str(directory))
    texts = st_texts()
    tokens = model.encode(texts, output_value="token_embeddings")
    assert len(tokens) == len(texts)
    row = 0
    for i, t in enumerate(tokens):
        assert t.shape == (lengths[i], want.shape[1]), i
        assert scaled_error(t, want[row:row + lengths[i]]) <= 1e-5, i
        row += lengths[i]
    both = model.encode(texts[:3], output_value=None)
    assert np.array_equal(both[0]["token_embeddings"], tokens[0])
    assert np.array_equal(both[1]["sentence_embedding"], model.encode(texts[:3])[1])


def test_encode_query_and_document_pick_their_prompts():
    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st5-prompts"))
    texts = st_texts()[:5]
    assert np.array_equal(model.encode_query(texts), model.encode(texts, prompt_name="query"))
    assert np.array_equal(model.encode_document(texts), model.encode(texts, prompt_name="document"))
    assert np.array_equal(model.encode_query(texts, prompt="x: "), model.encode(texts, prompt="x: "))
    assert not np.array_equal(model.encode_document(texts), model.encode(texts))  # default prompt: query


def test_quantized_precisions_are_sentence_transformers_formulas():
    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st2-pooling"))
    texts = st_texts()
    emb = model.encode(texts)
    assert np.array_equal(model.encode(texts, precision="ubinary"), np.packbits(emb > 0).reshape(len(texts), -1))
    assert np.array_equal(model.encode(texts, precision="binary"),
                          (np.packbits(emb > 0).reshape(len(texts), -1) - 128).astype(np.int8))
    ranges = np.vstack((emb.min(axis=0), emb.max(axis=0)))
    steps = (ranges[1] - ranges[0]) / 255
    assert np.array_equal(model.encode(texts, precision="uint8"), ((emb - ranges[0]) / steps).astype(np.uint8))
    assert np.array_equal(model.encode(texts, precision="int8"), ((emb - ranges[0]) / steps - 128).astype(np.int8))


def test_normalize_and_truncate_dim_per_call():
    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st2-dense"))
    texts = st_texts()[:6]
    cut = model.encode(texts, truncate_dim=8, normalize_embeddings=True)
    assert cut.shape == (6, 8)
    assert np.allclose(np.linalg.norm(cut, axis=1), 1.0, atol=1e-6)
    constructed = encore.SentenceTransformer(str(FIXTURES / "st" / "st2-dense"), truncate_dim=8)
    assert np.allclose(constructed.encode(texts, normalize_embeddings=True), cut, atol=1e-7)


def _cli_embeddings(binary, directory, texts, tmp_path, *flags):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    out = tmp_path / "out.npy"
    subprocess.run([binary, "embed", "--model", str(directory), "--input", str(inputs), "--jsonl", "--output", str(out),
                    *flags], check=True, capture_output=True)
    return np.load(out)


@pytest.mark.parametrize("name", ["st2-pooling", "st5-prompts", "st2-dense"])
def test_bitwise_equal_to_the_cpp_api(name, encore_binary, tmp_path):
    directory = FIXTURES / "st" / name
    texts = st_texts()
    model = encore.SentenceTransformer(str(directory))
    assert np.array_equal(model.encode(texts, batch_size=64), _cli_embeddings(encore_binary, directory, texts, tmp_path))
    model.max_seq_length = 8
    assert np.array_equal(model.encode(texts), _cli_embeddings(encore_binary, directory, texts, tmp_path, "--max-length", "8"))
    for dtype, flag in (("bf16", "bf16"), ("int8", "int8")):
        reduced = encore.SentenceTransformer(str(directory), dtype=dtype)
        assert np.array_equal(reduced.encode(texts, batch_size=64),
                              _cli_embeddings(encore_binary, directory, texts, tmp_path, "--dtype", flag))


def test_errors_are_python_exceptions_with_encores_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        encore.SentenceTransformer(str(tmp_path / "no-such-model"))
    (tmp_path / "junk").mkdir()
    with pytest.raises(ValueError, match="junk"):
        encore.SentenceTransformer(str(tmp_path / "junk"))
    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st5-prompts"))
    with pytest.raises(ValueError, match="nope"):
        model.encode(["x"], prompt_name="nope")
    for bad in (b"bytes", None, 3, ["fine", None], ["fine", b"bytes"]):
        with pytest.raises(TypeError):
            model.encode(bad)
    with pytest.raises((TypeError, ValueError, UnicodeError)):
        model.encode(["lone surrogate \ud800"])
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.encode(["x"], no_such_argument=1)
    with pytest.raises(ValueError):
        model.encode(["x"], precision="float16")
    with pytest.raises(ValueError):
        model.encode(["x"], batch_size=0)
    with pytest.raises(ValueError):
        model.max_seq_length = 10 ** 6
    with pytest.raises(ValueError):
        encore.SentenceTransformer(str(FIXTURES / "st" / "st2-pooling"), dtype="float16")
    with pytest.raises(ValueError):
        encore.SentenceTransformer(str(FIXTURES / "st" / "st2-pooling"), threads=-1)
    assert model.encode(["still works"]).shape[0] == 1


def test_threads_are_per_instance_and_calls_are_concurrent_safe():
    directory = str(FIXTURES / "st" / "st2-pooling")
    texts = st_texts()
    want = encore.SentenceTransformer(directory).encode(texts)
    one = encore.SentenceTransformer(directory, threads=1)
    two = encore.SentenceTransformer(directory, threads=2)
    failures = []

    def work(model):
        for _ in range(10):
            if not np.array_equal(model.encode(texts, batch_size=7), want):
                failures.append(model)

    threads = [threading.Thread(target=work, args=(m,)) for m in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_the_gil_is_released_while_encoding():
    """A Python thread keeps running while another encodes: the longest pause it sees is a
    small part of the encode call (holding the GIL, it would pause for the whole call)."""
    import time

    model = encore.SentenceTransformer(str(FIXTURES / "st" / "st2-pooling"), threads=1)
    texts = st_texts() * 200
    start = time.perf_counter()
    model.encode(texts)
    duration = time.perf_counter() - start
    done = threading.Event()

    def encode():
        model.encode(texts)
        done.set()

    worker = threading.Thread(target=encode)
    worker.start()
    longest, last = 0.0, time.perf_counter()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    assert duration > 0.05, duration  # long enough to tell the two apart
    assert longest < duration / 3, (longest, duration)
