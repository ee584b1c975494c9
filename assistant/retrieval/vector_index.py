"""Which FAISS index holds the vectors, chosen by how many there are.

All vectors are L2-normalised, so every index uses inner product (= cosine).

| vectors            | kind    | why |
|--------------------|---------|-----|
| < 50,000           | `flat`  | exact; a full scan of 50k x 384 costs a few ms, less than embedding the query |
| 50,000 - 500,000   | `hnsw`  | graph search, ~1-3 ms, recall@10 0.96 at 100k; memory = vectors + ~260 B/vector |
| >= 500,000         | `ivfpq` | lists of 96-byte 4-bit PQ codes, re-ranked by float16 codes (864 B/vector): recall@10 0.97 in 4 ms at 1M |

Override with the environment variable `EXOQA_VECTOR_INDEX=flat|hnsw|ivfpq` or the `kind=` parameter
(the parameter wins). The chosen kind and its search settings are applied again on every load, because
they are a property of this code, not of the file.
"""
from __future__ import annotations

import math
import os

import faiss
import numpy as np

from assistant.errors import ExoqaError

ENV_VAR = "EXOQA_VECTOR_INDEX"
KINDS = ("flat", "hnsw", "ivfpq")
FLAT_BELOW = 50_000
HNSW_BELOW = 500_000  # HNSW builds slowly at 1M on 2 cores (> 45 min); IVF-PQ takes 30 s
# Too few vectors to train IVF-PQ codebooks: such a set is always searched exactly.
IVFPQ_MIN_VECTORS = 1_000

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Measured on e5-like synthetic data (docs/performance.md): recall@10 at 100k 0.92 with 128, 0.96 with 256.
HNSW_EF_SEARCH = 256
# One four-bit sub-quantizer per 2 dimensions (96 bytes for 384-d), searched with FAISS's SIMD "fast-scan"
# kernels; 8-bit PQ trains ~50x slower on 2 cores. Half as many sub-quantizers lost ~10 points of recall@10
# on crowded e5-like data, which no re-rank depth recovers.
DIMS_PER_SUBQUANTIZER = 2
# e5 neighbours are crowded and queries sit apart from passages, so IVF must visit many lists (measured:
# docs/performance.md); the re-rank then orders k_factor x k candidates almost exactly.
IVF_NPROBE = 1024
REFINE_K_FACTOR = 256
# The re-rank codes cap recall: at 1M, 8-bit codes stop at recall@10 0.948 however many lists are visited;
# float16 codes reach 0.971 with nprobe 1024 / k_factor 256 in 3.8 ms (docs/performance.md).
REFINE_CODEC = "SQfp16"


class VectorIndexSettingError(ExoqaError, ValueError):
    """The requested vector index kind is not one of KINDS."""


def choose_kind(count: int, kind: str | None = None) -> str:
    """The index kind for `count` vectors: `kind`, else $EXOQA_VECTOR_INDEX, else by size."""
    requested = (kind or os.environ.get(ENV_VAR, "") or "auto").strip().lower()
    if requested not in (*KINDS, "auto"):
        raise VectorIndexSettingError(f"unknown vector index kind {requested!r}; use one of {', '.join(KINDS)} or auto "
                         f"(from the kind parameter or ${ENV_VAR})")
    if requested == "auto":
        requested = "flat" if count < FLAT_BELOW else "hnsw" if count < HNSW_BELOW else "ivfpq"
    if requested == "ivfpq" and count < IVFPQ_MIN_VECTORS:
        return "flat"
    return requested


def build(vectors: np.ndarray, kind: str | None = None, seed: int = 1234) -> faiss.Index:
    """A searchable inner-product index over `vectors` (rows L2-normalised), of the chosen kind."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = vectors.shape
    kind = choose_kind(count, kind)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        index = _ivfpq(vectors, seed)
    index.add(vectors)
    configure_search(index)
    return index


def _ivfpq(vectors: np.ndarray, seed: int) -> faiss.Index:
    count, dim = vectors.shape
    # About 4*sqrt(n) lists, with at least 39 training points each (FAISS's own rule of thumb).
    nlist = max(1, min(int(4 * math.sqrt(count)), count // 39))
    subquantizers = dim // DIMS_PER_SUBQUANTIZER if dim % DIMS_PER_SUBQUANTIZER == 0 else dim
    index = faiss.index_factory(dim, f"IVF{nlist},PQ{subquantizers}x4fs,Refine({REFINE_CODEC})", faiss.METRIC_INNER_PRODUCT)
    sample_size = min(count, max(39 * nlist, 100_000))
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(count, sample_size, replace=False))] if sample_size < count else vectors
    index.train(sample)
    return index


def kind_of(index: faiss.Index) -> str:
    """Which of KINDS a loaded index is."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexRefine):
        return "ivfpq"
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    return "flat"


def configure_search(index: faiss.Index, ef_search: int = HNSW_EF_SEARCH, nprobe: int = IVF_NPROBE,
                     k_factor: float = REFINE_K_FACTOR) -> faiss.Index:
    """Set the search-time accuracy knobs (efSearch for HNSW; nprobe and re-rank depth for IVF-PQ)."""
    concrete = faiss.downcast_index(index)
    if isinstance(concrete, faiss.IndexHNSW):
        concrete.hnsw.efSearch = ef_search
    elif isinstance(concrete, faiss.IndexRefine):
        concrete.k_factor = k_factor
        faiss.extract_index_ivf(concrete.base_index).nprobe = nprobe
    return index


def read(path: str, mmap: bool = False) -> faiss.Index:
    """Read an index file; `mmap=True` maps a flat index's vectors read-only instead of copying them,
    so several worker processes share one copy in the page cache (other kinds are read into memory)."""
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
    try:
        index = faiss.read_index(path, flags)
    except RuntimeError:
        if not mmap:
            raise
        index = faiss.read_index(path)
    return configure_search(index)
