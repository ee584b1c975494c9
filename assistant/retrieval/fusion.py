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


def ranked_ids(scores: np.ndarray, zero_is_unranked: bool = False, depth: int = CANDIDATES,
               among: np.ndarray | None = None) -> np.ndarray:
    """The items a ranking gives a place to, best first: the `depth` best of `scores` (of `among` if given),
    without those scoring <= 0 when `zero_is_unranked` (BM25: no query term matched)."""
    if among is None:
        ranked = top_ids(scores, min(depth, len(scores)))
    else:
        ranked = among[top_ids(scores[among], min(depth, len(among)))]
    return ranked[scores[ranked] > 0] if zero_is_unranked else ranked


def rrf(scores: np.ndarray, rrf_k: float, zero_is_unranked: bool = False, depth: int = CANDIDATES,
        among: np.ndarray | None = None) -> np.ndarray:
    """Reciprocal-rank weights 1 / (rrf_k + rank) of `scores`; only the `depth` best get one (the rest 0).

    `among` (indices) restricts the ranking to those items when the caller already knows the shortlist,
    which saves a pass over a million scores.
    """
    return _reciprocal(ranked_ids(scores, zero_is_unranked, depth, among), len(scores), rrf_k)


def _reciprocal(ranked: np.ndarray, size: int, rrf_k: float) -> np.ndarray:
    out = np.zeros(size, np.float32)
    out[ranked] = 1.0 / (rrf_k + np.arange(1, len(ranked) + 1, dtype=np.float32))
    return out


def standardised(scores: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """For each ranked item (aligned with `ranked`), how far its score stands above the ranked items' mean in
    their standard deviations: the positive part of a z-score, 0 below the mean or when all scores are equal."""
    values = scores[ranked].astype(np.float64)
    spread = values.std() if len(values) > 1 else 0.0
    if spread <= 0:
        return np.zeros(len(ranked), np.float32)
    return np.maximum((values - values.mean()) / spread, 0.0).astype(np.float32)


@dataclass
class DenseRankings:
    """The dense side of one query: passage and sentence similarities (-1 outside the shortlists, if any),
    each passage's best sentence, and, for a large index, the shortlisted ids (None = every item)."""

    passage_similarity: np.ndarray
    sentence_similarity: np.ndarray
    best_sentence: np.ndarray
    passage_listed: np.ndarray | None
    best_listed: np.ndarray | None


@dataclass(frozen=True)
class Rows:
    """Which item each vector row belongs to, when an item has more than one row (its original and its
    translation): an item's similarity is the best of its usable rows. `usable` (None = all) leaves out rows
    that do not count for this query (a translation into another language than the question's)."""

    owner: np.ndarray
    items: int
    usable: np.ndarray | None = None


def dense_rankings(passage_index: faiss.Index, sentence_index: faiss.Index, sentence_owner: np.ndarray,
                   vector: np.ndarray, depth: int = CANDIDATES, passage_rows: Rows | None = None,
                   sentence_rows: Rows | None = None) -> DenseRankings:
    """Search both vector indexes: every vector up to `depth` of them (exact), else the `depth` nearest.

    `passage_rows` / `sentence_rows` map rows to items when there are more rows than items (None: one each)."""
    n_p = passage_rows.items if passage_rows else passage_index.ntotal
    n_s = sentence_rows.items if sentence_rows else sentence_index.ntotal
    best_sentence = np.full(n_p, -1.0, np.float32)
    if max(passage_index.ntotal, sentence_index.ntotal) <= depth:
        passage_similarity, _ = _item_similarities(passage_index, vector, passage_index.ntotal, passage_rows)
        sentence_similarity, _ = _item_similarities(sentence_index, vector, sentence_index.ntotal, sentence_rows)
        np.maximum.at(best_sentence, sentence_owner, sentence_similarity)
        return DenseRankings(passage_similarity, sentence_similarity, best_sentence, None, None)
    passage_similarity, passage_listed = _item_similarities(passage_index, vector,
                                                            min(passage_index.ntotal, depth), passage_rows)
    sentence_similarity, sentence_listed = _item_similarities(sentence_index, vector,
                                                              min(sentence_index.ntotal, depth), sentence_rows)
    owners = sentence_owner[sentence_listed]
    np.maximum.at(best_sentence, owners, sentence_similarity[sentence_listed])
    return DenseRankings(passage_similarity, sentence_similarity, best_sentence, passage_listed, np.unique(owners))


def _item_similarities(index: faiss.Index, vector: np.ndarray, depth: int, rows: Rows | None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(each item's best usable row similarity, -1 outside the shortlist; the listed items)."""
    similarity, listed = _similarities(index, vector, depth)
    if rows is None:
        return similarity, listed
    if rows.usable is not None:
        similarity[~rows.usable] = -1.0
        listed = listed[rows.usable[listed]]
    out = np.full(rows.items, -1.0, np.float32)
    np.maximum.at(out, rows.owner[listed], similarity[listed])
    return out, np.unique(rows.owner[listed])


def fuse(dense: DenseRankings, lexical: np.ndarray, weights: tuple[float, float, float], rrf_k: float,
         depth: int = CANDIDATES, score_weights: tuple[float, float, float] | None = None) -> np.ndarray:
    """Weighted reciprocal rank fusion of dense passage, best-sentence and BM25 rankings.

    `score_weights` adds, per ranking, that weight times its `standardised` scores, computed over the items the
    ranking places (every item up to `depth` of them, else its shortlist; BM25: the matched ones): ranks decide,
    and how clearly a ranking's top stands out settles what ranks alone leave close. The term is never
    negative, so an item no ranking places (fused 0) never overtakes one that is placed.
    """
    w_passage, w_sentence, w_lexical = weights
    matched = None if dense.passage_listed is None else np.flatnonzero(lexical > 0)
    rankings = ((dense.passage_similarity, ranked_ids(dense.passage_similarity, depth=depth,
                                                       among=dense.passage_listed)),
                (dense.best_sentence, ranked_ids(dense.best_sentence, depth=depth, among=dense.best_listed)),
                (lexical, ranked_ids(lexical, zero_is_unranked=True, depth=depth, among=matched)))
    size = len(lexical)
    fused = sum(w * _reciprocal(ranked, size, rrf_k) for w, (_, ranked) in zip((w_passage, w_sentence, w_lexical),
                                                                               rankings))
    for w, (scores, ranked) in zip(score_weights or (), rankings):
        if w:
            fused[ranked] += w * standardised(scores, ranked)  # only ranked items: no pass over a million
    return fused


def hybrid_scores(passage_index: faiss.Index, sentence_index: faiss.Index, sentence_owner: np.ndarray,
                  lexical: np.ndarray, vector: np.ndarray, weights: tuple[float, float, float], rrf_k: float,
                  depth: int = CANDIDATES, score_weights: tuple[float, float, float] | None = None,
                  passage_rows: Rows | None = None, sentence_rows: Rows | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(fused passage scores, sentence similarities): dense_rankings then fuse.

    Up to `depth` passages and sentences this is the exact full computation. Above, the vector indexes are
    searched for their `depth` nearest only; sentences outside that shortlist get similarity -1 and
    passages whose sentences are all outside it get no best-sentence weight.
    """
    dense = dense_rankings(passage_index, sentence_index, sentence_owner, vector, depth, passage_rows, sentence_rows)
    return fuse(dense, lexical, weights, rrf_k, depth, score_weights), dense.sentence_similarity


def _similarities(index: faiss.Index, vector: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(cosine of every stored vector to the query, -1 outside the `depth` nearest; the ids of those nearest)."""
    similarities, ids = index.search(vector, depth)
    found = ids[0] >= 0
    out = np.full(index.ntotal, -1.0, np.float32)
    out[ids[0][found]] = similarities[0][found]
    return out, ids[0][found]
