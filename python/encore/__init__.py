"""encore: Transformer encoders exactly as their reference implementations compute them.

The classes follow the APIs people already call: ``SentenceTransformer`` as
sentence-transformers has it, ``Tokenizer`` as the ``tokenizers`` library has it, and
``Model.forward`` as ``encore forward`` (named tensors in, named tensors out). The numbers are
the C++ API's; NumPy arrays come back without copies.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from . import _encore
from ._args import _dtype, _positive_or_none, _texts, _threads
from .pipelines import pipeline

__all__ = ["BGEM3FlagModel", "ColBERT", "CrossEncoder", "Model", "SentenceTransformer", "SparseEncoder", "Tokenizer",
           "Encoding", "maxsim", "pipeline", "quantize_embeddings"]

class Model:
    """An encoder loaded from a model directory; ``forward`` is the ``encore forward`` contract."""

    def __init__(self, path: str, dialect: str | None = None, dtype: str = "float32", threads: int | None = None,
                 activation: str | None = None):
        self._model = _encore.Model(str(path), dialect, _dtype(dtype), _threads(threads), activation or "")

    def forward(self, inputs: dict[str, np.ndarray], all_hidden: bool = False, attentions: bool = False,
                causal: bool = False) -> dict[str, np.ndarray]:
        """Named arrays in, named float32 arrays out (``encore forward --help`` lists the names)."""
        if not isinstance(inputs, dict):
            raise TypeError(f"inputs must be a dict of name -> numpy array, not {type(inputs).__name__}")
        arrays = {}
        for name, value in inputs.items():
            if not isinstance(name, str):
                raise TypeError(f"input names must be str, not {type(name).__name__}")
            array = np.ascontiguousarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"input '{name}': unsupported array dtype {array.dtype} (float, int or bool)")
            arrays[name] = array
        return self._model.forward(arrays, bool(all_hidden), bool(attentions), bool(causal))

    @property
    def dialect(self) -> str:
        return self._model.dialect

    @property
    def parameter_count(self) -> int:
        return self._model.parameter_count


class Encoding:
    """One encoded text (or pair), with the fields of ``tokenizers.Encoding``."""

    __slots__ = ("ids", "type_ids", "attention_mask", "special_tokens_mask", "tokens", "offsets", "word_ids",
                 "sequence_ids", "overflowing")

    def __init__(self, fields: dict):
        for k in self.__slots__:
            setattr(self, k, fields[k])
        self.offsets = [tuple(o) for o in self.offsets]
        self.overflowing = [Encoding(o) for o in self.overflowing]

    @property
    def words(self) -> list:
        return self.word_ids

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, attention_mask, special_tokens_mask, overflowing])"


class Tokenizer:
    """A tokenizer.json, vocab.txt or SentencePiece tokenizer, tokenizing as its reference does."""

    def __init__(self, native: Any):
        self._tok = native

    @classmethod
    def from_file(cls, path: str) -> "Tokenizer":
        return cls(_encore.Tokenizer.from_file(str(path)))

    @classmethod
    def from_pretrained(cls, directory: str, flavour: str | None = None) -> "Tokenizer":
        return cls(_encore.Tokenizer.from_dir(str(directory), flavour))

    def encode(self, sequence: str, pair: str | None = None, add_special_tokens: bool = True,
               max_length: int | None = None) -> Encoding:
        _texts(sequence)
        if pair is not None:
            _texts(pair)
        return Encoding(self._tok.encode(sequence, pair, add_special_tokens, max_length))

    def encode_batch(self, inputs: Sequence[str], add_special_tokens: bool = True,
                     max_length: int | None = None) -> list[Encoding]:
        texts, _ = _texts(inputs)
        return [Encoding(e) for e in self._tok.encode_batch(texts, add_special_tokens, max_length)]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self._tok.decode([int(i) for i in ids], skip_special_tokens)

    def decode_batch(self, sequences: Iterable[Sequence[int]], skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(s, skip_special_tokens) for s in sequences]

    def token_to_id(self, token: str) -> int | None:
        return self._tok.token_to_id(token)

    def id_to_token(self, id: int) -> str | None:
        return self._tok.id_to_token(int(id))

    def get_vocab_size(self) -> int:
        return self._tok.get_vocab_size()


def quantize_embeddings(embeddings: np.ndarray, precision: str, ranges: np.ndarray | None = None,
                        calibration_embeddings: np.ndarray | None = None) -> np.ndarray:
    """sentence_transformers.quantization.quantize_embeddings, for NumPy arrays."""
    embeddings = np.asarray(embeddings)
    if embeddings.dtype in (np.uint8, np.int8):
        raise ValueError("Embeddings to quantize must be float rather than int8 or uint8.")
    if precision == "float32":
        return embeddings.astype(np.float32)
    if precision.endswith("int8"):
        if ranges is None:
            if calibration_embeddings is not None:
                ranges = np.vstack((np.min(calibration_embeddings, axis=0), np.max(calibration_embeddings, axis=0)))
            else:
                ranges = np.vstack((np.min(embeddings, axis=0), np.max(embeddings, axis=0)))
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        if precision == "uint8":
            return ((embeddings - starts) / steps).astype(np.uint8)
        if precision == "int8":
            return ((embeddings - starts) / steps - 128).astype(np.int8)
    if precision == "binary":
        return (np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1) - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1)
    raise ValueError(f"Precision {precision} is not supported")


_SIMILARITY = ("cosine", "dot", "euclidean", "manhattan")


class SentenceTransformer:
    """sentence_transformers.SentenceTransformer for inference, on encore.

    ``encode`` takes sentence-transformers' arguments and returns what it returns for them:
    a string gives a 1-D array, a list a 2-D one (a list of 2-D arrays for token
    embeddings); ``convert_to_tensor=True`` gives a torch tensor when torch is installed.
    """

    def __init__(self, model_name_or_path: str, truncate_dim: int | None = None, threads: int | None = None,
                 dtype: str = "float32", device: str | None = None):
        if device not in (None, "cpu"):
            raise ValueError(f"encore runs on the CPU; device={device!r} is not available")
        if truncate_dim is not None and (not isinstance(truncate_dim, int) or truncate_dim <= 0):
            raise ValueError(f"truncate_dim must be a positive int or None, not {truncate_dim!r}")
        self._embedder = _encore.Embedder(str(model_name_or_path), _dtype(dtype), _threads(threads), truncate_dim or 0)
        self._max_seq_length = self._embedder.max_length
        self.truncate_dim = truncate_dim

    # -- configuration, as sentence-transformers exposes it
    @property
    def max_seq_length(self) -> int:
        return self._max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        limit = self._embedder.position_limit
        if not isinstance(value, int) or value <= 0 or (limit and value > limit):
            raise ValueError(f"max_seq_length must be an int in [1, {limit}], not {value!r}")
        self._max_seq_length = value

    @property
    def prompts(self) -> dict[str, str]:
        return dict(self._embedder.prompts)

    @property
    def default_prompt_name(self) -> str | None:
        return self._embedder.default_prompt_name

    @property
    def similarity_fn_name(self) -> str:
        return self._embedder.similarity_fn_name

    def get_sentence_embedding_dimension(self) -> int:
        return self._embedder.dimensions

    def get_max_seq_length(self) -> int:
        return self._max_seq_length

    def __repr__(self) -> str:
        return f"encore.SentenceTransformer({self._embedder.describe()})"

    # -- encoding
    def encode(self, sentences: str | Sequence[str], prompt_name: str | None = None, prompt: str | None = None,
               batch_size: int = 32, show_progress_bar: bool | None = None,
               output_value: str | None = "sentence_embedding", precision: str = "float32",
               convert_to_numpy: bool = True, convert_to_tensor: bool = False, device: str | None = None,
               normalize_embeddings: bool = False, truncate_dim: int | None = None, task: str | None = None,
               **kwargs: Any):
        if kwargs:
            raise TypeError(f"encode() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        texts, single = _texts(sentences)
        if output_value not in ("sentence_embedding", "token_embeddings", None):
            raise ValueError(f"output_value must be 'sentence_embedding', 'token_embeddings' or None, not {output_value!r}")
        if precision not in ("float32", "int8", "uint8", "binary", "ubinary"):
            raise ValueError(f"precision must be float32, int8, uint8, binary or ubinary, not {precision!r}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        if prompt is not None and not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        length = 0 if self._max_seq_length == self._embedder.max_length else self._max_seq_length
        route = task or ""
        if output_value != "sentence_embedding":
            tokens, sentence = self._embedder.embed_tokens(texts, route, prompt_name, prompt, length, batch_size,
                                                           normalize_embeddings)
            if output_value is None:  # both from one pass
                out = [{"token_embeddings": t, "sentence_embedding": s} for t, s in zip(tokens, sentence)]
                return out[0] if single else out
            out = [_tensor(t) if convert_to_tensor else t for t in tokens]
            return out[0] if single else out
        if truncate_dim is None:
            emb = self._embedder.embed(texts, route, prompt_name, prompt, length, normalize_embeddings, batch_size)
        else:  # the cut comes before the normalization, as in sentence-transformers
            emb = np.ascontiguousarray(
                self._embedder.embed(texts, route, prompt_name, prompt, length, False, batch_size)[:, :truncate_dim])
            if normalize_embeddings:
                norms = np.sqrt(np.square(emb, dtype=np.float64).sum(axis=1, keepdims=True))
                emb = (emb / np.maximum(norms, 1e-12)).astype(np.float32)
        if precision != "float32":
            emb = quantize_embeddings(emb, precision)
        if convert_to_tensor:
            emb = _tensor(emb)
        elif not convert_to_numpy:
            emb = [row for row in emb]
        return emb[0] if single else emb

    def encode_query(self, sentences, **kwargs):
        """encode with the "query" route and, when no prompt is given, the "query" prompt (encore picks it)."""
        return self.encode(sentences, task="query", **kwargs)

    def encode_document(self, sentences, **kwargs):
        """encode with the "document" route and, when no prompt is given, the "document" prompt."""
        return self.encode(sentences, task="document", **kwargs)

    def similarity(self, a, b):
        """similarity_fn_name between every row of a and every row of b: [len(a), len(b)]."""
        a = np.atleast_2d(np.asarray(a, dtype=np.float32))
        b = np.atleast_2d(np.asarray(b, dtype=np.float32))
        fn = self.similarity_fn_name
        if fn == "cosine":
            an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
            bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
            return an @ bn.T
        if fn == "dot":
            return a @ b.T
        if fn == "euclidean":
            return -np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0))
        if fn == "manhattan":
            return -np.abs(a[:, None, :] - b[None, :, :]).sum(-1)
        raise ValueError(f"unknown similarity function {fn!r} (one of {', '.join(_SIMILARITY)})")


class CrossEncoder:
    """sentence_transformers.CrossEncoder for inference, on encore: ``predict`` for cross-encoders
    with any number of labels, ``rank`` for those with one (rerankers).

    The default activation is the model's (config.json ``sentence_transformers.activation_fn``,
    else Sigmoid for one label and Identity for several), as sentence-transformers chooses it;
    ``activation_fn`` replaces it with any callable on the logits (a NumPy array).
    """

    def __init__(self, model_name_or_path: str, max_length: int | None = None, threads: int | None = None,
                 dtype: str = "float32", device: str | None = None, batch_size: int = 32):
        if device not in (None, "cpu"):
            raise ValueError(f"encore runs on the CPU; device={device!r} is not available")
        if max_length is not None and (not isinstance(max_length, int) or max_length <= 0):
            raise ValueError(f"max_length must be a positive int or None, not {max_length!r}")
        self._reranker = _encore.Reranker(str(model_name_or_path), _dtype(dtype), _threads(threads), max_length or 0,
                                          batch_size)

    @property
    def num_labels(self) -> int:
        return self._reranker.num_labels

    def predict(self, sentences, batch_size: int = 32, show_progress_bar: bool | None = None, activation_fn=None,
                apply_softmax: bool = False, convert_to_numpy: bool = True, convert_to_tensor: bool = False, **kwargs):
        """Scores of (first, second) pairs: for one label a float per pair (a 1-D float32 array for a
        list), for several a row of label scores per pair (2-D). ``apply_softmax`` turns each pair's
        scores into a softmax over its labels, after the activation, as sentence-transformers does
        (so with one label every score is 1). Scores do not depend on batch_size (encore batches
        without padding)."""
        if kwargs:
            raise TypeError(f"predict() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        single = isinstance(sentences, (list, tuple)) and len(sentences) == 2 and all(isinstance(s, str) for s in sentences)
        pairs = [sentences] if single else list(sentences)
        checked = []
        for i, p in enumerate(pairs):
            if not isinstance(p, (list, tuple)) or len(p) != 2 or not all(isinstance(s, str) for s in p):
                raise TypeError(f"sentences[{i}] must be a pair of str, not {p!r}")
            checked.append((p[0], p[1]))
        scores = self._reranker.predict(checked, activation_fn is not None)  # [pairs, labels]
        if activation_fn is not None:
            scores = np.asarray(activation_fn(scores), dtype=np.float32)
        if apply_softmax:
            shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
        if scores.shape[1] == 1:
            scores = np.ascontiguousarray(scores[:, 0])
        if convert_to_tensor:
            scores = _tensor(scores)
        elif not convert_to_numpy:
            scores = [float(s) for s in scores] if scores.ndim == 1 else [row for row in scores]
        return scores[0] if single else scores

    def rank(self, query: str, documents: Sequence[str], top_k: int | None = None, return_documents: bool = False,
             batch_size: int = 32, show_progress_bar: bool | None = None, activation_fn=None,
             apply_softmax: bool = False, **kwargs) -> list[dict]:
        """Documents best first as [{"corpus_id", "score"(, "text")}], equal scores in input order."""
        if self.num_labels != 1:
            raise ValueError(f"CrossEncoder.rank() needs a model with one label; this model has {self.num_labels} "
                             "(CrossEncoder.predict() scores every label)")
        _texts(query)
        docs, _ = _texts(documents)
        scores = self.predict([(query, d) for d in docs], batch_size=batch_size, activation_fn=activation_fn,
                              apply_softmax=apply_softmax, **kwargs)
        results = [{"corpus_id": i, "score": float(s)} for i, s in enumerate(scores)]
        if return_documents:
            for r in results:
                r["text"] = docs[r["corpus_id"]]
        results = sorted(results, key=lambda r: r["score"], reverse=True)
        return results[:top_k] if top_k is not None else results


class SparseEncoder:
    """sentence_transformers.SparseEncoder for inference on SPLADE models (MLMTransformer +
    SpladePooling, or a masked-LM checkpoint with SpladePooling's defaults), on encore.

    ``encode`` returns what sentence-transformers returns: by default a torch sparse COO tensor
    [texts, vocabulary] (needs torch); ``convert_to_sparse_tensor=False`` gives a dense
    float32 NumPy array instead. ``encode_indices`` gives each text's (indices, values) NumPy
    arrays, without torch and without the dense width.
    """

    def __init__(self, model_name_or_path: str, max_active_dims: int | None = None, threads: int | None = None,
                 dtype: str = "float32", device: str | None = None):
        if device not in (None, "cpu"):
            raise ValueError(f"encore runs on the CPU; device={device!r} is not available")
        self._encoder = _encore.SparseEncoder(str(model_name_or_path), _dtype(dtype), _threads(threads))
        self._tokenizer = None
        self._path = str(model_name_or_path)
        self.max_active_dims = _positive_or_none(max_active_dims, "max_active_dims")

    @property
    def max_seq_length(self) -> int:
        return self._encoder.max_length

    def get_sentence_embedding_dimension(self) -> int:
        return self._encoder.dimensions

    def __repr__(self) -> str:
        return f"encore.SparseEncoder({self._encoder.describe()})"

    def encode_indices(self, sentences: str | Sequence[str], max_active_dims: int | None = None):
        """[(indices int32, values float32)] per text (one pair for a string): the non-zero
        weights by vocabulary index ascending."""
        texts, single = _texts(sentences)
        k = _positive_or_none(max_active_dims, "max_active_dims") or self.max_active_dims
        rows = self._encoder.encode(texts, k or 0)
        return rows[0] if single else rows

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32, show_progress_bar: bool | None = None,
               convert_to_tensor: bool = True, convert_to_sparse_tensor: bool = True, max_active_dims: int | None = None,
               device: str | None = None, **kwargs: Any):
        if kwargs:
            raise TypeError(f"encode() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        texts, single = _texts(sentences)
        rows = self.encode_indices(texts, max_active_dims=max_active_dims)
        V = self._encoder.dimensions
        if convert_to_sparse_tensor:
            try:
                import torch
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise ImportError("convert_to_sparse_tensor=True needs torch; install it, pass "
                                  "convert_to_sparse_tensor=False (dense NumPy) or use encode_indices") from e
            rows_of = np.concatenate([np.full(len(i), r, dtype=np.int64) for r, (i, _) in enumerate(rows)] or [[]])
            cols = np.concatenate([i.astype(np.int64) for i, _ in rows] or [[]])
            vals = np.concatenate([v for _, v in rows] or [np.zeros(0, np.float32)]).astype(np.float32)
            if single:
                return torch.sparse_coo_tensor(torch.from_numpy(cols)[None], torch.from_numpy(vals), (V,),
                                               check_invariants=False).coalesce()
            index = torch.from_numpy(np.stack([rows_of, cols]).astype(np.int64))
            # Valid by construction (in range, unique per row), so torch's invariant checks are
            # off, explicitly: left implicit, torch warns on the first call.
            return torch.sparse_coo_tensor(index, torch.from_numpy(vals), (len(texts), V),
                                           check_invariants=False).coalesce()
        dense = np.zeros((len(texts), V), dtype=np.float32)
        for r, (i, v) in enumerate(rows):
            dense[r, i] = v
        if convert_to_tensor:
            dense = _tensor(dense)
        return dense[0] if single else dense

    def decode(self, embedding, top_k: int | None = None) -> list:
        """[(token, weight)] by weight descending, from an (indices, values) pair of
        encode_indices or a dense row: what SparseEncoder.decode gives for one embedding."""
        if isinstance(embedding, tuple):
            indices, values = embedding
        else:
            row = np.asarray(embedding.to_dense() if hasattr(embedding, "to_dense") else embedding, dtype=np.float32)
            indices = np.nonzero(row)[0]
            values = row[indices]
        if self._tokenizer is None:
            self._tokenizer = Tokenizer.from_pretrained(self._path)
        order = sorted(range(len(indices)), key=lambda j: (-float(values[j]), int(indices[j])))
        if top_k is not None:
            order = order[:top_k]
        return [(self._tokenizer.id_to_token(int(indices[j])), float(values[j])) for j in order]


class ColBERT:
    """pylate.models.ColBERT for inference on encore: token vectors of PyLate ColBERT
    directories (prefix tokens, [MASK] query expansion, skip-list, Dense projections, per-token
    L2 norm), equal to PyLate 1.6's within float32 rounding. ``encode`` returns one float32
    [tokens, dim] NumPy array per text, as PyLate does; score them with ``encore.maxsim``.
    """

    def __init__(self, model_name_or_path: str, query_length: int | None = None, document_length: int | None = None,
                 threads: int | None = None, dtype: str = "float32", device: str | None = None):
        if device not in (None, "cpu"):
            raise ValueError(f"encore runs on the CPU; device={device!r} is not available")
        self._model = _encore.ColBERT(str(model_name_or_path), _dtype(dtype), _threads(threads), 32,
                                      _positive_or_none(query_length, "query_length") or 0,
                                      _positive_or_none(document_length, "document_length") or 0)

    @property
    def query_length(self) -> int:
        return self._model.query_length

    @property
    def document_length(self) -> int:
        return self._model.document_length

    def get_sentence_embedding_dimension(self) -> int:
        return self._model.dimensions

    def __repr__(self) -> str:
        return f"encore.ColBERT({self._model.describe()})"

    def encode(self, sentences: str | Sequence[str], is_query: bool = True, batch_size: int = 32,
               show_progress_bar: bool | None = None, convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               normalize_embeddings: bool = True, pool_factor: int = 1, device: str | None = None, **kwargs: Any):
        """PyLate's encode(sentences, is_query=True): [float32 [tokens, dim]] per text (one array
        for a string). PyLate's default is is_query=True, as here: pass is_query=False for
        documents."""
        if kwargs:
            raise TypeError(f"encode() got unexpected keyword arguments: {', '.join(sorted(kwargs))} "
                            "(encore's ColBERT runs PyLate's defaults for the others)")
        if not normalize_embeddings or pool_factor != 1:
            raise ValueError("encore's ColBERT computes normalize_embeddings=True, pool_factor=1 only")
        texts, single = _texts(sentences)
        rows = self._model.encode(texts, bool(is_query))
        if convert_to_tensor:
            rows = [_tensor(r) for r in rows]
        return rows[0] if single else rows


def maxsim(queries, documents) -> np.ndarray:
    """MaxSim of every query with every document: [queries, documents] float32, each the sum over
    the query's vectors of its best dot product with the document's vectors (ColBERT's late
    interaction). Takes ColBERT.encode's outputs (arrays, or one array each). Each pair is scored
    alone: PyLate's batched colbert_scores pads shorter documents with zero vectors, which can
    raise a score when a query vector's dot products with that document are all negative."""
    def sets(x):  # one [tokens, dim] array (or tensor), or a list of them
        if getattr(x, "ndim", None) == 2:
            return [np.asarray(x, dtype=np.float32)]
        return [np.asarray(v, dtype=np.float32) for v in x]

    qs, ds = sets(queries), sets(documents)
    out = np.zeros((len(qs), len(ds)), dtype=np.float32)
    for i, q in enumerate(qs):
        for j, d in enumerate(ds):
            if len(q) and len(d):
                out[i, j] = np.float32((q.astype(np.float64) @ d.astype(np.float64).T).max(axis=1).sum())
    return out


class BGEM3FlagModel:
    """FlagEmbedding's BGEM3FlagModel for inference on encore: bge-m3's dense, sparse (lexical
    weights) and ColBERT outputs from one forward pass, equal to FlagEmbedding 1.4.2's within
    float32 rounding.

    ``use_fp16=True`` (FlagEmbedding's default) does what FlagEmbedding does on the CPU: every
    weight rounded to float16, then float32 arithmetic; ``use_fp16=False`` uses the
    checkpoint's weights as they are. The directory needs colbert_linear.pt and
    sparse_linear.pt (FlagEmbedding would run random heads without them).
    """

    def __init__(self, model_name_or_path: str, normalize_embeddings: bool = True, use_fp16: bool = True,
                 batch_size: int = 256, query_max_length: int = 512, passage_max_length: int = 512,
                 threads: int | None = None, dtype: str = "float32", devices=None, **kwargs: Any):
        if devices not in (None, "cpu", ["cpu"]):
            raise ValueError(f"encore runs on the CPU; devices={devices!r} is not available")
        if kwargs:
            raise TypeError(f"BGEM3FlagModel() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        self._model = _encore.BgeM3(str(model_name_or_path), _dtype(dtype), _threads(threads), 32, 0,
                                    bool(normalize_embeddings), bool(use_fp16))
        self.batch_size = batch_size
        self.query_max_length = query_max_length
        self.passage_max_length = passage_max_length

    def __repr__(self) -> str:
        return f"encore.BGEM3FlagModel({self._model.describe()})"

    def _length(self, max_length):
        # FlagEmbedding's 512 (passage_max_length), at most what the model's positions allow.
        return min(max_length, self._model.max_length) if max_length == 512 else max_length

    def encode(self, sentences: str | Sequence[str], batch_size: int | None = None, max_length: int | None = None,
               return_dense: bool = True, return_sparse: bool = False, return_colbert_vecs: bool = False) -> dict:
        """{"dense_vecs", "lexical_weights", "colbert_vecs"} as BGEM3FlagModel.encode returns them:
        dense float32 [texts, H] (or [H] for a string), lexical weights {"token id": float32} per
        text (by id ascending; FlagEmbedding's dict is in first-occurrence order), ColBERT
        float32 [tokens after <s>, dim] per text; None for an output not asked for."""
        texts, single = _texts(sentences)
        dense, sparse, colbert = self._model.encode(texts, self._length(max_length or self.passage_max_length))
        out = {"dense_vecs": None, "lexical_weights": None, "colbert_vecs": None}
        if return_dense:
            out["dense_vecs"] = dense[0] if single else dense
        if return_sparse:
            weights = [{str(int(i)): np.float32(v) for i, v in zip(idx, val)} for idx, val in sparse]
            out["lexical_weights"] = weights[0] if single else weights
        if return_colbert_vecs:
            out["colbert_vecs"] = colbert[0] if single else colbert
        return out

    def encode_queries(self, queries, batch_size=None, max_length=None, **kwargs):
        return self.encode(queries, batch_size, max_length or self.query_max_length, **kwargs)

    def encode_corpus(self, corpus, batch_size=None, max_length=None, **kwargs):
        return self.encode(corpus, batch_size, max_length or self.passage_max_length, **kwargs)

    @staticmethod
    def compute_lexical_matching_score(lexical_weights_1, lexical_weights_2):
        """The sum of weight products over the token ids both have (FlagEmbedding's)."""
        if isinstance(lexical_weights_1, dict) and isinstance(lexical_weights_2, dict):
            score = np.float32(0)
            for token, weight in lexical_weights_1.items():
                if token in lexical_weights_2:
                    score += np.float32(weight) * np.float32(lexical_weights_2[token])
            return score
        if isinstance(lexical_weights_1, dict) or isinstance(lexical_weights_2, dict):
            raise ValueError("give two dicts or two lists of dicts")
        return np.array([[BGEM3FlagModel.compute_lexical_matching_score(a, b) for b in lexical_weights_2]
                         for a in lexical_weights_1])

    @staticmethod
    def colbert_score(q_reps, p_reps) -> float:
        """MaxSim of the query's ColBERT vectors with the passage's, divided by the query's
        number of vectors (FlagEmbedding's colbert_score)."""
        q = np.asarray(q_reps, dtype=np.float32)
        return float(maxsim(q, p_reps)[0, 0] / np.float32(len(q)))


def _tensor(array: np.ndarray):
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("convert_to_tensor=True needs torch; install it or use convert_to_numpy") from e
    return torch.from_numpy(array)
