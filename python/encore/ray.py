"""Ray Data: embed a Dataset's text column with encore, one model per actor.

    import ray
    import encore.ray

    ds = ray.data.read_parquet("in/")
    ds = ds.map_batches(encore.ray.Embedder, fn_constructor_kwargs={"model": "models/all-MiniLM-L6-v2"},
                        concurrency=2, num_cpus=1, batch_size=256)
    ds.write_parquet("out/")

Ray constructs the class once per actor, so each actor loads the model once. Each actor's
encore uses as many threads as the CPUs Ray reserved for it (``num_cpus``), so N actors on a
node use the node's cores without oversubscribing them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import SentenceTransformer


def _actor_cpus() -> int:
    """The CPUs Ray reserved for this actor (at least 1); 0 (encore's default) outside Ray."""
    try:
        import ray
    except ImportError:  # pragma: no cover - encore.ray is used under Ray
        return 0
    if not ray.is_initialized():
        return 0
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 0)
    return max(1, int(cpus))


class Embedder:
    """A callable class for ``Dataset.map_batches``: adds ``output_column`` (one float32 vector
    per row, as ``SentenceTransformer.encode`` computes it) to each batch.

    ``threads=None`` uses the actor's reserved CPUs. The encode arguments (``prompt_name``,
    ``prompt``, ``normalize_embeddings``, ``precision``, ``task``) are those of
    ``encore.SentenceTransformer.encode``.
    """

    def __init__(self, model: str, column: str = "text", output_column: str = "embedding",
                 threads: int | None = None, dtype: str = "float32", truncate_dim: int | None = None,
                 **encode_kwargs: Any):
        self.column = column
        self.output_column = output_column
        self.encode_kwargs = encode_kwargs
        self.model = SentenceTransformer(model, truncate_dim=truncate_dim,
                                         threads=_actor_cpus() if threads is None else threads, dtype=dtype)

    def __call__(self, batch):
        if hasattr(batch, "columns") and hasattr(batch, "assign"):  # batch_format="pandas"
            texts = batch[self.column].tolist()
            return batch.assign(**{self.output_column: list(self._encode(texts))})
        if not isinstance(batch, dict):
            raise TypeError(f"encore.ray.Embedder takes numpy or pandas batches, not {type(batch).__name__}")
        if self.column not in batch:
            raise KeyError(f"the batch has no column {self.column!r} (it has {', '.join(batch)})")
        out = dict(batch)
        out[self.output_column] = self._encode(list(batch[self.column]))
        return out

    def _encode(self, texts: list) -> np.ndarray:
        return self.model.encode(texts, **self.encode_kwargs)  # NumPy's str_ is a str
