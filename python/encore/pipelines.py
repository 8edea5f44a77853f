"""encore.pipeline(task, model=...): transformers' pipelines on encore, with their output
structures (lists of dicts, the same keys, single inputs unwrapped as transformers does)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _encore
from ._args import _dtype, _texts, _threads

_NOT_GIVEN = object()


def _options(dtype: str, threads: int | None, batch_size: int) -> dict:
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    return {"dtype": _dtype(dtype), "threads": _threads(threads), "batch_size": batch_size}


class TextClassificationPipeline:
    """transformers TextClassificationPipeline: labels from config.json id2label, the
    problem type's function (softmax, sigmoid or none) unless function_to_apply says."""

    def __init__(self, model: str, dtype: str = "float32", threads: int | None = None, batch_size: int = 32,
                 top_k: Any = _NOT_GIVEN, function_to_apply: str | None = None):
        self._clf = _encore.TextClassifier(str(model), **_options(dtype, threads, batch_size))
        self._top_k, self._function = top_k, function_to_apply

    def __call__(self, inputs, top_k: Any = _NOT_GIVEN, function_to_apply: str | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if top_k is _NOT_GIVEN:
            top_k = self._top_k
        legacy = top_k is _NOT_GIVEN  # transformers' legacy output: one dict per input
        function = (function_to_apply or self._function or "default").lower()
        single = isinstance(inputs, (str, dict))
        items = [inputs] if single else list(inputs)
        texts, pairs = [], []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                if not isinstance(item.get("text"), str) or not isinstance(item.get("text_pair", ""), str):
                    raise TypeError(f"inputs[{i}] must be {{'text': str, 'text_pair': str}}, not {item!r}")
                texts.append(item["text"])
                pairs.append(item.get("text_pair", ""))
            elif isinstance(item, str):
                texts.append(item)
                pairs.append("")
            else:
                raise TypeError(f"inputs[{i}] is {type(item).__name__}, not str")
        with_pairs = any(isinstance(item, dict) and "text_pair" in item for item in items)
        results = self._clf.classify(texts, pairs if with_pairs else [], function)
        out = []
        for scores in results:
            entries = [{"label": label, "score": score} for label, score in scores]
            if legacy:
                out.append(entries[0])
            else:
                out.append(entries if top_k is None else entries[:top_k])
        if single:
            return [out[0]] if legacy else out[0]
        return out


class TokenClassificationPipeline:
    """transformers TokenClassificationPipeline ("ner"), every aggregation strategy."""

    def __init__(self, model: str, aggregation_strategy: str = "none", ignore_labels: list[str] | None = None,
                 dtype: str = "float32", threads: int | None = None, batch_size: int = 32):
        strategy = str(getattr(aggregation_strategy, "value", aggregation_strategy)).lower()
        self._grouped = strategy != "none"
        self._clf = _encore.TokenClassifier(str(model), strategy, ["O"] if ignore_labels is None else list(ignore_labels),
                                            **_options(dtype, threads, batch_size))

    def __call__(self, inputs, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        texts, single = _texts(inputs)
        out = self._clf.classify(texts, self._grouped)
        return out[0] if single else out


class FillMaskPipeline:
    """transformers FillMaskPipeline: top_k predictions per mask token."""

    def __init__(self, model: str, top_k: int = 5, dtype: str = "float32", threads: int | None = None,
                 batch_size: int = 32):
        self._model, self._options = str(model), _options(dtype, threads, batch_size)
        self._by_top_k = {top_k: _encore.FillMask(self._model, top_k, **self._options)}
        self._top_k = top_k

    @property
    def mask_token(self) -> str:
        return next(iter(self._by_top_k.values())).mask_token

    def __call__(self, inputs, top_k: int | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        k = self._top_k if top_k is None else top_k
        if not isinstance(k, int) or k <= 0:
            raise ValueError(f"top_k must be a positive int, not {k!r}")
        if k not in self._by_top_k:
            self._by_top_k[k] = _encore.FillMask(self._model, k, **self._options)
        texts, single = _texts(inputs)
        results = self._by_top_k[k].fill(texts)
        out = [masks[0] if len(masks) == 1 else masks for masks in results]
        return out[0] if single else out


class QuestionAnsweringPipeline:
    """transformers QuestionAnsweringPipeline: spans of the context, best first."""

    _OPTIONS = ("top_k", "max_answer_len", "max_seq_len", "doc_stride", "handle_impossible_answer")

    def __init__(self, model: str, dtype: str = "float32", threads: int | None = None, batch_size: int = 32):
        self._model, self._options = str(model), _options(dtype, threads, batch_size)
        self._instances: dict = {}

    def _answerer(self, top_k=1, max_answer_len=15, max_seq_len=0, doc_stride=0, handle_impossible_answer=False):
        key = (top_k, max_answer_len, max_seq_len or 0, doc_stride or 0, bool(handle_impossible_answer))
        if key not in self._instances:
            self._instances[key] = _encore.QuestionAnswerer(self._model, *key, **self._options)
        return self._instances[key]

    def __call__(self, question=None, context=None, **kwargs):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in self._OPTIONS}
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        questions, single = _texts(question)
        contexts, _ = _texts(context)
        if len(contexts) == 1 and len(questions) > 1:
            contexts = contexts * len(questions)
        if len(contexts) != len(questions):
            raise ValueError(f"{len(questions)} questions and {len(contexts)} contexts")
        results = self._answerer(**options).answer(questions, contexts)
        top_k = options.get("top_k", 1)
        out = [answers[0] if top_k == 1 and answers else answers for answers in results]
        return out[0] if single else out


class FeatureExtractionPipeline:
    """transformers FeatureExtractionPipeline: the last hidden state of every token,
    special tokens included, as nested lists [1][tokens][hidden] (a NumPy array with
    return_tensors=True)."""

    def __init__(self, model: str, dtype: str = "float32", threads: int | None = None, batch_size: int = 32):
        from . import Model, Tokenizer

        _options(dtype, threads, batch_size)
        self._model = Model(str(model), dtype=dtype, threads=threads)
        self._tokenizer = Tokenizer.from_pretrained(str(model))

    def __call__(self, inputs, return_tensors: bool = False, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        texts, single = _texts(inputs)
        out = []
        for text in texts:
            # One text: every type id is 0, the models' default when token_type_ids is absent.
            ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
            states = self._model.forward({"input_ids": ids})
            last = states["last_hidden_state"] if "last_hidden_state" in states else states["sequence_output"]
            out.append(last if return_tensors else last.tolist())
        return out[0] if single else out


_TASKS = {
    "text-classification": TextClassificationPipeline,
    "sentiment-analysis": TextClassificationPipeline,
    "token-classification": TokenClassificationPipeline,
    "ner": TokenClassificationPipeline,
    "fill-mask": FillMaskPipeline,
    "question-answering": QuestionAnsweringPipeline,
    "feature-extraction": FeatureExtractionPipeline,
}


def pipeline(task: str, model: str | None = None, **kwargs):
    """transformers.pipeline(task, model=DIR, ...) on encore."""
    if task not in _TASKS:
        raise ValueError(f"unknown task {task!r} (one of {', '.join(sorted(_TASKS))})")
    if model is None:
        raise ValueError("encore.pipeline needs model= (a model directory or a Hugging Face id in the local cache)")
    device = kwargs.pop("device", None)
    if device not in (None, "cpu", -1):
        raise ValueError(f"encore runs on the CPU; device={device!r} is not available")
    return _TASKS[task](model, **kwargs)
