"""The vector index kind: chosen by size, overridable, searchable after a disk round trip (also mmap'd)."""
from pathlib import Path

import faiss
import numpy as np
import pytest

from assistant.retrieval import vector_index
from assistant.paths import PROJECT_ROOT
from assistant.retrieval.index_store import read_index, read_manifest, write_index
from assistant.corpus.chunking import Span
from benchmarks import synthetic

SHIPPED_INDEX = PROJECT_ROOT / "index" / "e5-small"


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    """5,000 vectors grown from the real e5 vectors of the shipped index (see benchmarks/synthetic.py)."""
    return synthetic.vectors(synthetic.seed_vectors(SHIPPED_INDEX), 5_000, seed=7)


def _recall_at_10(index: faiss.Index, base: np.ndarray, queries: np.ndarray) -> float:
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))


def test_kind_follows_size(monkeypatch):
    monkeypatch.delenv(vector_index.ENV_VAR, raising=False)
    assert vector_index.choose_kind(88) == "flat"
    assert vector_index.choose_kind(vector_index.FLAT_BELOW - 1) == "flat"
    assert vector_index.choose_kind(vector_index.FLAT_BELOW) == "hnsw"
    assert vector_index.choose_kind(vector_index.HNSW_BELOW - 1) == "hnsw"
    assert vector_index.choose_kind(1_000_000) == "ivfpq"
    assert vector_index.choose_kind(vector_index.HNSW_BELOW) == "ivfpq"


def test_setting_overrides_size_and_parameter_overrides_setting(monkeypatch):
    monkeypatch.setenv(vector_index.ENV_VAR, "HNSW")
    assert vector_index.choose_kind(10) == "hnsw"
    assert vector_index.choose_kind(10, kind="flat") == "flat"
    monkeypatch.setenv(vector_index.ENV_VAR, "ivfpq")
    assert vector_index.choose_kind(5_000) == "ivfpq"
    assert vector_index.choose_kind(vector_index.IVFPQ_MIN_VECTORS - 1) == "flat"  # too few to train codebooks


def test_unknown_kind_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(vector_index.ENV_VAR, "annoy")
    with pytest.raises(vector_index.VectorIndexSettingError, match="annoy.*flat, hnsw, ivfpq"):
        vector_index.choose_kind(100)
    with pytest.raises(ValueError):
        vector_index.choose_kind(100, kind="lsh")


@pytest.mark.parametrize("kind, min_recall", [("flat", 1.0), ("hnsw", 0.95), ("ivfpq", 0.8)])
def test_each_kind_finds_the_exact_neighbours(vectors, kind, min_recall, tmp_path):
    queries = vectors[::250] + 0.01 * np.random.default_rng(1).standard_normal((20, vectors.shape[1]), np.float32)
    index = vector_index.build(vectors, kind)
    assert vector_index.kind_of(index) == kind and index.ntotal == len(vectors)
    recall = _recall_at_10(index, vectors, queries)
    assert recall >= min_recall
    path = str(tmp_path / f"{kind}.faiss")
    faiss.write_index(index, path)
    for mmap in (False, True):
        loaded = vector_index.read(path, mmap=mmap)
        assert vector_index.kind_of(loaded) == kind
        np.testing.assert_array_equal(loaded.search(queries, 10)[1], index.search(queries, 10)[1])


def test_search_settings_trade_latency_for_recall(vectors):
    index = vector_index.build(vectors, "ivfpq")
    queries = vectors[::100]
    low = _recall_at_10(vector_index.configure_search(index, nprobe=1, k_factor=1), vectors, queries)
    high = _recall_at_10(vector_index.configure_search(index, nprobe=64, k_factor=16), vectors, queries)
    assert high > low


def test_index_store_writes_the_chosen_kind_and_reads_it_back(monkeypatch, tmp_path, vectors):
    sentences = [Span("s", i, i + 1, "x") for i in range(2_000)]
    passages = [(Span("s", i, i + 2, "xx"), range(2 * i, 2 * i + 2)) for i in range(1_000)]
    monkeypatch.setenv(vector_index.ENV_VAR, "hnsw")
    write_index(tmp_path / "idx", {"dim": vectors.shape[1]}, passages, sentences, vectors[:1_000], vectors[:2_000])
    assert read_manifest(tmp_path / "idx")["vector_index"] == {"passages": "hnsw", "sentences": "hnsw"}

    class OneSource:
        def __getitem__(self, source_id):
            return type("Source", (), {"text": "x" * 3_000})()

    stored = read_index(tmp_path / "idx", OneSource(), mmap=True)
    assert vector_index.kind_of(stored.passage_vectors) == "hnsw"
    assert stored.passage_vectors.search(vectors[:1], 1)[1][0][0] == 0


def test_shipped_index_is_flat_and_exact():
    assert vector_index.kind_of(faiss.read_index(str(SHIPPED_INDEX / "passages.faiss"))) == "flat"
