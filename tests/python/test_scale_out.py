"""encore.ray and encore.spark on the engines themselves: a local Ray cluster and local-mode
Spark embed 10,000 real sentences (bench/corpus.py: Debian's shipped docs) from Parquet to
Parquet, and every vector must equal, bit for bit, the one a single-process
SentenceTransformer.encode computes for the same sentence.

Needs ray, pyspark and pyarrow (python/requirements-scale.txt) and Java 17 (scripts/deps.sh):
scripts/python-tests.sh installs them, so these tests run in CI.
"""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import encore
from conftest import MODELS, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from corpus import build_corpus  # noqa: E402

MODEL = str(MODELS / "all-MiniLM-L6-v2")
N = 10_000
FILES = 4


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The sentences, their Parquet input (FILES files of id, text) and the single-process result."""
    texts = build_corpus(N)
    assert len(set(texts)) == N, "the corpus must hold N distinct real sentences"
    src = tmp_path_factory.mktemp("in")
    per = N // FILES
    for f in range(FILES):
        ids = list(range(f * per, (f + 1) * per))
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "text": [texts[i] for i in ids]}),
                       src / f"part-{f}.parquet")
    want = encore.SentenceTransformer(MODEL).encode(texts, normalize_embeddings=True)
    return texts, src, want


def read_embeddings(path, column="embedding"):
    """(ids, [N, dim] float32) from a Parquet directory, ordered by id."""
    table = pq.read_table(path)
    ids = table.column("id").to_numpy()
    emb = table.column(column)
    if isinstance(emb.type, pa.ExtensionType):  # Ray's tensor column, read without Ray's type registered
        emb = pa.chunked_array([c.storage for c in emb.chunks])
    vectors = np.array(emb.to_pylist(), dtype=np.float32)
    order = np.argsort(ids)
    return ids[order], vectors[order]


def check_equal(ids, got, want):
    assert ids.tolist() == list(range(N)), "every row comes back once"
    assert got.shape == want.shape
    diff = np.abs(got - want).max()
    assert np.array_equal(got, want), f"differs from the single-process run by up to {diff:g}"


class TrackedEmbedder:
    """encore.ray.Embedder plus the actor's process id per row, to check that both actors worked."""

    def __init__(self, **kwargs):
        import encore.ray
        self.embedder = encore.ray.Embedder(**kwargs)

    def __call__(self, batch):
        import os
        out = self.embedder(batch)
        out["worker"] = np.full(len(out["id"]), os.getpid())
        return out


def test_ray_data_parquet_to_parquet(corpus, tmp_path):
    import ray
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # TrackedEmbedder, by value

    texts, src, want = corpus
    # Two actors of one CPU each, and one CPU left for Ray Data's read and write tasks (with
    # every CPU held by the actors, the reads never get scheduled).
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        # Ray Data reads these small files as one block, and a block goes to one actor:
        # repartition so that both actors get work.
        ds = ray.data.read_parquet(str(src)).repartition(8)
        ds = ds.map_batches(TrackedEmbedder, fn_constructor_kwargs={"model": MODEL, "normalize_embeddings": True},
                            concurrency=2, num_cpus=1, batch_size=500)
        ds.write_parquet(str(tmp_path / "out"))
    finally:
        ray.shutdown()
    ids, got = read_embeddings(tmp_path / "out")
    check_equal(ids, got, want)
    workers = np.unique(pq.read_table(tmp_path / "out").column("worker").to_numpy())
    assert len(workers) == 2, f"rows were embedded by {len(workers)} actor(s), not 2"


def test_spark_parquet_to_parquet(corpus, tmp_path, monkeypatch):
    from pyspark.sql import SparkSession

    from encore.spark import embed_udf

    texts, src, want = corpus
    # The workers' Python: this venv's, where encore is installed (Spark 4.3 local mode reads
    # PYSPARK_PYTHON; its spark.pyspark.python setting did not reach the workers here).
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("encore-test")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    try:
        embed = embed_udf(MODEL, batch_size=500, normalize_embeddings=True)
        df = spark.read.parquet(str(src)).withColumn("embedding", embed("text"))
        df.write.parquet(str(tmp_path / "out"))
    finally:
        spark.stop()
    ids, got = read_embeddings(tmp_path / "out")
    check_equal(ids, got, want)
