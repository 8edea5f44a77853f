"""Argument checks shared by the package's classes."""

from __future__ import annotations

from typing import Any


def _dtype(dtype: str) -> str:
    """The spelling is checked by encore (float32 / f32, bfloat16 / bf16, int8)."""
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be a str, not {type(dtype).__name__}")
    return dtype


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
        raise ValueError(f"threads must be a non-negative int or None, not {threads!r}")
    return threads


def _positive_or_none(value: Any, name: str) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
        raise ValueError(f"{name} must be a positive int or None, not {value!r}")
    return value


def _texts(sentences: Any) -> tuple[list[str], bool]:
    """The texts of a call, and whether one string was given (sentence-transformers' 1-D case)."""
    if isinstance(sentences, str):
        return [sentences], True
    if isinstance(sentences, (bytes, bytearray)) or sentences is None:
        raise TypeError(f"sentences must be a str or a list of str, not {type(sentences).__name__}")
    texts = list(sentences)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"sentences[{i}] is {type(t).__name__}, not str")
    return texts, False
