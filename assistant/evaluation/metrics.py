"""Ranking metrics, computed by ir-measures (trec_eval underneath): the one implementation the evaluation and the
benchmarks share.

Reported names and their trec_eval measures: "recall@k" is Success@k (a relevant passage within the top k: the
figure the README has always reported), "mrr" is RR, "ndcg@10" is nDCG@10 with binary relevance, the ideal
ranking putting every relevant passage of the index first. A query with no relevant passage in the index counts
as a miss (0), as does a query with an empty run.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import RR, Success, nDCG

RANK_KS = (1, 3, 5, 10)
_MISSING = "\0no-relevant-passage"  # stands in as the relevant document of a query that has none


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def is_relevant(text: str, source_id: str, gold: str | Sequence[str] | None, want_source: str | None) -> bool:
    """A passage is relevant when it contains a gold string; with no gold, when it belongs to `want_source`."""
    if gold:
        golds = [gold] if isinstance(gold, str) else list(gold)
        return any(g in text for g in golds)
    return want_source is not None and source_id == want_source


def _names(ks: Sequence[int]) -> dict[str, object]:
    return {**{f"recall@{k}": Success @ k for k in ks}, "mrr": RR, "ndcg@10": nDCG @ 10}


def per_query(runs: Mapping[str, Sequence[str]], qrels: Mapping[str, set[str]], ks: Sequence[int] = RANK_KS
              ) -> dict[str, dict[str, float]]:
    """{query id: {"recall@k"..., "mrr", "ndcg@10"}} for ranked document ids (best first) and relevant sets."""
    measures = _names(ks)
    trec_qrels = [ir_measures.Qrel(q, d, 1) for q, docs in qrels.items() for d in (docs or {_MISSING})]
    # Scores from ranks: trec_eval sorts by score, and distinct scores keep the caller's order exactly.
    trec_run = [ir_measures.ScoredDoc(q, d, float(len(docs) - rank)) for q, docs in runs.items()
                for rank, d in enumerate(docs)]
    by_measure = {repr(m): name for name, m in measures.items()}
    out = {q: {name: 0.0 for name in measures} for q in runs}
    for metric in ir_measures.iter_calc(list(measures.values()), trec_qrels, trec_run):
        if metric.query_id in out:
            out[metric.query_id][by_measure[repr(metric.measure)]] = float(metric.value)
    return out


def mean_figures(rows: Sequence[Mapping[str, float]], ks: Sequence[int] = RANK_KS) -> dict:
    names = list(_names(ks))
    return {"n": len(rows), **{name: (sum(r[name] for r in rows) / len(rows) if rows else 0.0) for name in names}}


def ranking_figures(runs: Mapping[str, Sequence[str]], qrels: Mapping[str, set[str]],
                    ks: Sequence[int] = RANK_KS) -> dict:
    """Mean recall@k (Success@k), MRR and nDCG@10 over the queries of `runs`."""
    return mean_figures(list(per_query(runs, qrels, ks).values()), ks)


def matrix_figures(scores: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = (1, 5, 10), depth: int = 100
                   ) -> dict:
    """ranking_figures for a (queries x documents) score matrix and a boolean relevance matrix (benchmarks).

    Each query's documents are ranked by score, ties by document index (a stable sort), down to `depth`."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    runs = {str(q): [str(d) for d in row] for q, row in enumerate(order)}
    qrels = {str(q): {str(d) for d in np.flatnonzero(row)} for q, row in enumerate(relevant)}
    return ranking_figures(runs, qrels, ks)


def recall_curve(first_ranks: Sequence[int | None], k: int) -> list[float]:
    """recall@1..k from each query's first relevant rank (None: not within the run)."""
    return [sum(1 for r in first_ranks if r is not None and r <= n) / len(first_ranks) if first_ranks else 0.0
            for n in range(1, k + 1)]


def first_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    return next((rank for rank, flag in enumerate(flags, 1) if flag), None)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
