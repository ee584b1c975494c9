"""Rank-based fusion that stays cheap at a million chunks.

Up to CANDIDATES items every score is ranked, exactly as a full sort would (the shipped corpus has ~100
passages, so its rankings are unchanged). Above that, each ranking only looks at its CANDIDATES best items:
a partial sort (argpartition) instead of a full one, and items outside every shortlist fuse to 0, which is what
reciprocal rank fusion gives them in the limit anyway (1 / (k + rank) with rank > 1000 is < 0.001).
"""
from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

CANDIDATES = 1_000


def top_ids(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first, ties by index (as a stable full sort would order them)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = scores[np.argpartition(-scores, k - 1)[k - 1]]
    # Among scores equal to the k-th, keep the lowest indices, as a stable sort would.
    above = np.flatnonzero(scores > cut)
    chosen = np.concatenate([above, np.flatnonzero(scores == cut)[:k - len(above)]])
    return chosen[np.lexsort((chosen, -scores[chosen]))]


def rrf(scores: np.ndarray, rrf_k: float, zero_is_unranked: bool = False, depth: int = CANDIDATES,
        among: np.ndarray | None = None) -> np.ndarray:
    """Reciprocal-rank weights 1 / (rrf_k + rank) of `scores`; only the `depth` best get one (the rest 0).

    `among` (indices) restricts the ranking to those items when the caller already knows the shortlist,
    which saves a pass over a million scores.
    """
    out = np.zeros(len(scores), np.float32)
    if among is None:
        ranked = top_ids(scores, min(depth, len(scores)))
    else:
        ranked = among[top_ids(scores[among], min(depth, len(among)))]
    out[ranked] = 1.0 / (rrf_k + np.arange(1, len(ranked) + 1, dtype=np.float32))
    if zero_is_unranked:
        out[ranked[scores[ranked] <= 0]] = 0.0
    return out


@dataclass
class DenseRankings:
    """The dense side of one query: passage and sentence similarities (-1 outside the shortlists, if any),
    each passage's best sentence, and, for a large index, the shortlisted ids (None = every item)."""

    passage_similarity: np.ndarray
    sentence_similarity: np.ndarray
    best_sentence: np.ndarray
    passage_listed: np.ndarray | None
    best_listed: np.ndarray | None


def dense_rankings(passage_index: faiss.Index, sentence_index: faiss.Index, sentence_owner: np.ndarray,
                   vector: np.ndarray, depth: int = CANDIDATES) -> DenseRankings:
    """Search both vector indexes: every vector up to `depth` of them (exact), else the `depth` nearest."""
    n_p, n_s = passage_index.ntotal, sentence_index.ntotal
    best_sentence = np.full(n_p, -1.0, np.float32)
    if max(n_p, n_s) <= depth:
        passage_similarity, _ = _similarities(passage_index, vector, n_p)
        sentence_similarity, _ = _similarities(sentence_index, vector, n_s)
        np.maximum.at(best_sentence, sentence_owner, sentence_similarity)
        return DenseRankings(passage_similarity, sentence_similarity, best_sentence, None, None)
    passage_similarity, passage_listed = _similarities(passage_index, vector, min(n_p, depth))
    sentence_similarity, sentence_listed = _similarities(sentence_index, vector, min(n_s, depth))
    owners = sentence_owner[sentence_listed]
    np.maximum.at(best_sentence, owners, sentence_similarity[sentence_listed])
    return DenseRankings(passage_similarity, sentence_similarity, best_sentence, passage_listed, np.unique(owners))


def fuse(dense: DenseRankings, lexical: np.ndarray, weights: tuple[float, float, float], rrf_k: float,
         depth: int = CANDIDATES) -> np.ndarray:
    """Weighted reciprocal rank fusion of dense passage, best-sentence and BM25 rankings."""
    w_passage, w_sentence, w_lexical = weights
    matched = None if dense.passage_listed is None else np.flatnonzero(lexical > 0)
    return (w_passage * rrf(dense.passage_similarity, rrf_k, depth=depth, among=dense.passage_listed)
            + w_sentence * rrf(dense.best_sentence, rrf_k, depth=depth, among=dense.best_listed)
            + w_lexical * rrf(lexical, rrf_k, zero_is_unranked=True, depth=depth, among=matched))


def hybrid_scores(passage_index: faiss.Index, sentence_index: faiss.Index, sentence_owner: np.ndarray,
                  lexical: np.ndarray, vector: np.ndarray, weights: tuple[float, float, float], rrf_k: float,
                  depth: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """(fused passage scores, sentence similarities): dense_rankings then fuse.

    Up to `depth` passages and sentences this is the exact full computation. Above, the vector indexes are
    searched for their `depth` nearest only; sentences outside that shortlist get similarity -1 and
    passages whose sentences are all outside it get no best-sentence weight.
    """
    dense = dense_rankings(passage_index, sentence_index, sentence_owner, vector, depth)
    return fuse(dense, lexical, weights, rrf_k, depth), dense.sentence_similarity


def _similarities(index: faiss.Index, vector: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(cosine of every stored vector to the query, -1 outside the `depth` nearest; the ids of those nearest)."""
    similarities, ids = index.search(vector, depth)
    found = ids[0] >= 0
    out = np.full(index.ntotal, -1.0, np.float32)
    out[ids[0][found]] = similarities[0][found]
    return out, ids[0][found]
