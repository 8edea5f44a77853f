"""Spark: a pandas UDF that embeds a string column with encore, through
``pyspark.ml.functions.predict_batch_udf``.

    from encore.spark import embed_udf

    embed = embed_udf("models/all-MiniLM-L6-v2", batch_size=256)
    df = spark.read.parquet("in/").withColumn("embedding", embed("text"))
    df.write.parquet("out/")

predict_batch_udf calls the model factory once per Python worker and keeps what it returns,
so each worker loads the model once. Each task's encore uses ``spark.task.cpus`` threads, so
a node's executors use its cores without oversubscribing them. The model directory must be
readable at the same path on every executor.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _task_cpus() -> int:
    """spark.task.cpus of the running task (at least 1); 0 (encore's default) outside a task."""
    from pyspark import TaskContext

    context = TaskContext.get()
    return max(1, int(context.cpus())) if context is not None else 0


def embed_udf(model: str, batch_size: int = 256, threads: int | None = None, dtype: str = "float32",
              truncate_dim: int | None = None, **encode_kwargs: Any):
    """A Spark UDF: a string column in, an array<float> column out (``SentenceTransformer.encode``
    with ``encode_kwargs``: ``normalize_embeddings``, ``prompt_name``, ``prompt``, ``task``)."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    if encode_kwargs.get("precision", "float32") != "float32":
        raise ValueError("embed_udf returns array<float>; quantize after the UDF (encore.quantize_embeddings)")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")

    def make_predict_fn():
        from . import SentenceTransformer

        st = SentenceTransformer(model, truncate_dim=truncate_dim, threads=_task_cpus() if threads is None else threads,
                                 dtype=dtype)

        def predict(texts: np.ndarray) -> np.ndarray:
            return st.encode(list(texts), **encode_kwargs)  # NumPy's str_ is a str

        return predict

    return predict_batch_udf(make_predict_fn, return_type=ArrayType(FloatType()), batch_size=batch_size)
