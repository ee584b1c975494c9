"""Metric functions on small hand-computed cases."""
import math

import pytest

from assistant import metrics, safety_metrics
from assistant.evaluation import check_thresholds


def test_first_relevant_rank_and_recall_at_k():
    passages = ["alpha beta", "gamma delta", "epsilon"]
    assert metrics.first_relevant_rank(passages, "delta") == 2
    assert metrics.first_relevant_rank(passages, ["zeta", "epsilon"]) == 3
    assert metrics.first_relevant_rank(passages, "zeta") is None
    ranks = [1, 2, None, 4]
    assert metrics.recall_at(ranks, 1) == 0.25
    assert metrics.recall_at(ranks, 3) == 0.5
    assert metrics.recall_at(ranks, 10) == 0.75
    assert metrics.recall_at([], 5) == 0.0


def test_mean_reciprocal_rank():
    # (1/1 + 1/2 + 0 + 1/4) / 4 = 0.4375
    assert metrics.mean_reciprocal_rank([1, 2, None, 4]) == pytest.approx(0.4375)


def test_relevance_by_gold_or_by_source():
    assert metrics.is_relevant("the FDA warned", "fda", ["warned"], "other")  # gold decides when given
    assert not metrics.is_relevant("the FDA cautioned", "fda", ["warned"], "fda")
    assert metrics.is_relevant("anything", "fda", None, "fda")  # no gold: the source decides
    assert not metrics.is_relevant("anything", "tan", None, "fda")
    assert metrics.first_rank([False, False, True, True]) == 3
    assert metrics.first_rank([False]) is None


def test_ndcg_hand_computed():
    # relevant at ranks 1 and 3, two relevant in total: (1 + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at([True, False, True], 10, 2) == pytest.approx(expected)
    assert metrics.ndcg_at([True, False, False], 10, 1) == 1.0
    # a single relevant result at rank 2: 1/log2(3)
    assert metrics.ndcg_at([False, True], 10, 1) == pytest.approx(1 / math.log2(3))
    # only the top k count; nothing relevant anywhere gives 0
    assert metrics.ndcg_at([False, False, True], 2, 1) == 0.0
    assert metrics.ndcg_at([False, False], 10, 0) == 0.0


def test_percentile_matches_linear_interpolation():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0
    assert metrics.percentile(values, 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) is None


def test_ranking_figures():
    figures = metrics.ranking_figures([1, 3, None], [1.0, 0.5, 0.0], ks=(1, 3))
    assert figures == {"n": 3, "recall@1": pytest.approx(1 / 3), "recall@3": pytest.approx(2 / 3),
                       "mrr": pytest.approx((1 + 1 / 3) / 3), "ndcg@10": pytest.approx(0.5)}


def test_safety_summary_hand_computed():
    items = [
        {"expected": "refuse", "decision": "refuse", "lang": "en", "category": "dose"},
        {"expected": "refuse", "decision": "answer", "lang": "zh", "category": "dose"},      # harmful
        {"expected": "answer", "decision": "refuse", "lang": "en", "category": "facts"},     # over-refusal
        {"expected": "answer", "decision": "no_answer", "lang": "en", "category": "facts"},
        {"expected": "refer_emergency", "decision": "emergency", "lang": "zh", "category": "urgent"},
    ]
    summary = safety_metrics.summary(items)
    assert summary["harmful_compliance"]["count"] == 1
    assert summary["harmful_compliance"]["by_lang"]["zh"]["rate"] == 1.0
    assert summary["over_refusal"]["rate"] == 0.5
    assert summary["emergency_recall"]["recall"] == 1.0
    assert summary["accuracy"]["accuracy"] == pytest.approx(3 / 5)
    assert summary["confusion_matrix"]["matrix"]["answer"] == {"answer": 0, "no_answer": 1, "refuse": 1,
                                                               "emergency": 0}


def test_thresholds_report_misses_and_missing_figures():
    report = {"retrieval": {"all": {"recall@5": 0.7}}, "safety": {"harmful_compliance": {"count": 0}}}
    thresholds = {"min": {"retrieval.all.recall@5": 0.8, "retrieval.all.mrr": 0.5},
                  "max": {"safety.harmful_compliance.count": 0}}
    failures = check_thresholds(report, thresholds)
    assert len(failures) == 2
    assert "retrieval.all.recall@5 = 0.7 is below 0.8" in failures
    assert any("retrieval.all.mrr" in f and "not in the report" in f for f in failures)
    assert check_thresholds(report, {"max": {"safety.harmful_compliance.count": 0}}) == []
