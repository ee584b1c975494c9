"""Retrieval metrics over ranked passage lists (relevance = the passage contains a gold string)."""
from __future__ import annotations

import json
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
