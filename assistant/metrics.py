"""Retrieval metrics over ranked passage lists (relevance = the passage contains a gold string)."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def first_relevant_rank(passages: Sequence[str], gold: str | Sequence[str]) -> int | None:
    """1-based rank of the first passage containing a gold string, or None."""
    golds = [gold] if isinstance(gold, str) else list(gold)
    for rank, text in enumerate(passages, 1):
        if any(g in text for g in golds):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks) if ranks else 0.0


def retrieval_report(assistant, items: Sequence[dict], k: int = 10) -> dict:
    """recall@1/3/5/10 and MRR for items {"question", "gold", "lang"}, overall and per language."""
    ranks = [first_relevant_rank([p.text for p in assistant.search(i["question"], k)], i["gold"]) for i in items]
    def figures(rs: list) -> dict:
        return {"n": len(rs), **{f"recall@{n}": recall_at(rs, n) for n in (1, 3, 5, 10)},
                "mrr": mean_reciprocal_rank(rs)}
    report = {"all": figures(ranks)}
    for lang in sorted({i["lang"] for i in items}):
        report[lang] = figures([r for r, i in zip(ranks, items) if i["lang"] == lang])
    report["misses@5"] = [i["id"] for r, i in zip(ranks, items) if r is None or r > 5]
    return report


def is_relevant(text: str, source_id: str, gold: str | Sequence[str] | None, want_source: str | None) -> bool:
    """A passage is relevant when it contains a gold string; with no gold, when it belongs to `want_source`."""
    if gold:
        golds = [gold] if isinstance(gold, str) else list(gold)
        return any(g in text for g in golds)
    return want_source is not None and source_id == want_source


def first_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    return next((rank for rank, flag in enumerate(flags, 1) if flag), None)


def ndcg_at(flags: Sequence[bool], k: int, n_relevant: int) -> float:
    """Binary nDCG@k: DCG of the ranking over the DCG of `n_relevant` relevant results ranked first."""
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    if ideal == 0:
        return 0.0
    return sum(1.0 / math.log2(i + 2) for i, flag in enumerate(flags[:k]) if flag) / ideal


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


def ranking_figures(ranks: Sequence[int | None], ndcgs: Sequence[float], ks: Sequence[int] = (1, 3, 5, 10)) -> dict:
    """recall@k (a relevant result within the top k), MRR and mean nDCG@10 over a set of queries."""
    return {"n": len(ranks), **{f"recall@{k}": recall_at(ranks, k) for k in ks},
            "mrr": mean_reciprocal_rank(ranks), "ndcg@10": mean(list(ndcgs)) or 0.0}
