"""Quote choice: the best distinct sentences of the top retrieved passages, and the evidence they give."""
from __future__ import annotations

import numpy as np

from assistant.corpus.chunking import Span
from assistant.retrieval.fusion import rrf, top_ids
from assistant.retrieval.retriever import Retrieval
from assistant.settings import Settings


def select_sentences(sentences: list[Span], passage_sentences: list[range], retrieval: Retrieval,
                     settings: Settings) -> list[tuple[Span, float]]:
    """Best distinct sentences of the top passages, as (sentence, dense similarity).

    Sentences are ordered by reciprocal-rank fusion of their dense similarity, their BM25 score and
    their passage's rank (equal weights; dev gold-in-quotes 62 -> 69 of 104 against dense alone).
    """
    top_passages = top_ids(retrieval.fused, settings.passages_considered)  # partial sort: millions possible
    passage_rank: dict[int, int] = {}
    for rank, p in enumerate(top_passages):
        for s in passage_sentences[int(p)]:
            passage_rank.setdefault(s, rank)
    if not passage_rank:
        return []
    ids = np.fromiter(passage_rank, dtype=np.int64)
    k = settings.sentence_rrf_k
    order_score = (rrf(retrieval.sentence_similarity[ids], k, depth=len(ids))
                   + rrf(retrieval.sentence_lexical[ids], k, zero_is_unranked=True, depth=len(ids))
                   + 1.0 / (k + 1 + np.fromiter(passage_rank.values(), dtype=np.float64)))
    chosen: list[tuple[Span, float]] = []
    seen: set[str] = set()
    for j in np.argsort(-order_score, kind="stable"):
        span = sentences[int(ids[j])]
        if len(span.text) < settings.min_quote_chars or span.text in seen:
            continue
        seen.add(span.text)
        chosen.append((span, float(retrieval.sentence_similarity[ids[j]])))
        if len(chosen) == settings.max_quotes:
            break
    return chosen


def evidence_strength(chosen: list[tuple[Span, float]]) -> float:
    """The best dense similarity among the chosen quotes: what the abstention threshold compares."""
    return max((score for _, score in chosen), default=-1.0)
