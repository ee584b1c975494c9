"""Realistic synthetic data for the scale study, grown from the shipped corpus.

Vectors: each is a random mix of two real e5 vectors from the shipped index plus Gaussian noise in a fixed
random 48-dimensional subspace (NOISE_RANK), normalised again. Real embeddings vary along few directions
locally; noise in all 384 dimensions instead would make every neighbour list a coin toss (see
docs/performance.md). With SIGMA = 0.015 pairs of synthetic vectors have cosines like pairs of real corpus
vectors (median 0.80), and a dev question's 1st and 10th neighbours differ by ~0.01 in cosine: crowded.
Texts: two to four real corpus sentences with one word dropped and a variant tag added, tokenised once per
distinct sentence, so BM25 sees real vocabulary and realistic document-frequency skew.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from assistant.retrieval.lexical import tokenize

SIGMA = 0.015
NOISE_RANK = 48


def seed_vectors(index_dir: Path) -> np.ndarray:
    """The real passage and sentence vectors of a built index."""
    rows = []
    for name in ("sentences.faiss", "passages.faiss"):
        index = faiss.read_index(str(Path(index_dir) / name))
        rows.append(index.reconstruct_n(0, index.ntotal))
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def vectors(seeds: np.ndarray, count: int, seed: int = 0, batch: int = 100_000) -> np.ndarray:
    """`count` normalised vectors near the manifold the real vectors span."""
    rng = np.random.default_rng(seed)
    dim = seeds.shape[1]
    basis = np.linalg.qr(np.random.default_rng(0).standard_normal((dim, NOISE_RANK)))[0].astype(np.float32)
    scale = SIGMA * np.sqrt(dim / NOISE_RANK)  # the same total noise as SIGMA in every dimension
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, batch):
        n = min(batch, count - start)
        a = seeds[rng.integers(0, len(seeds), n)]
        b = seeds[rng.integers(0, len(seeds), n)]
        w = rng.random((n, 1), dtype=np.float32)
        noise = rng.standard_normal((n, NOISE_RANK), dtype=np.float32) @ basis.T
        block = w * a + (1 - w) * b + scale * noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + n] = block
    return out


def token_lists(sentences: list[str], count: int, seed: int = 0) -> list[list[str]]:
    """`count` BM25 documents: 2-4 real sentences each, one token dropped, plus a variant tag."""
    rng = np.random.default_rng(seed)
    tokenised = [tokenize(s) or ["\u2400"] for s in sentences]
    picks = rng.integers(0, len(tokenised), (count, 4))
    lengths = rng.integers(2, 5, count)
    tags = rng.integers(0, max(1, count // 50), count)
    docs = []
    for row, length, tag in zip(picks, lengths, tags):
        tokens = [t for s in row[:length] for t in tokenised[s]]
        if len(tokens) > 1:
            del tokens[int(tag) % len(tokens)]
        tokens.append(f"variant{tag}")
        docs.append(tokens)
    return docs
