"""Metric functions on small hand-computed cases."""
import math

import pytest

from assistant.evaluation import metrics
from assistant.evaluation import safety_metrics
from assistant.evaluation.run import check_thresholds


# The ranking metrics come from ir-measures (trec_eval); these hand-computed cases are the cross-check that its
# figures are the ones exoqa has always reported (recall@k = a relevant result within the top k).
RUNS = {"q1": ["a", "b", "c"], "q2": ["x", "a", "y"], "q3": ["n", "m"], "q4": ["p", "q", "r", "s"]}
QRELS = {"q1": {"a"}, "q2": {"a"}, "q3": {"zzz"}, "q4": {"s"}}  # first relevant ranks 1, 2, none, 4


def test_recall_at_k_is_success_at_k():
    f = metrics.ranking_figures(RUNS, QRELS, ks=(1, 3, 10))
    assert f["recall@1"] == pytest.approx(0.25)
    assert f["recall@3"] == pytest.approx(0.5)
    assert f["recall@10"] == pytest.approx(0.75)
    assert f["n"] == 4


def test_mean_reciprocal_rank():
    # (1/1 + 1/2 + 0 + 1/4) / 4 = 0.4375
    assert metrics.ranking_figures(RUNS, QRELS)["mrr"] == pytest.approx(0.4375)


def test_queries_without_relevant_passages_or_results_count_as_misses():
    f = metrics.per_query({"q": [], "r": ["a"]}, {"q": {"a"}, "r": set()})
    assert f["q"]["mrr"] == 0.0 and f["r"]["mrr"] == 0.0 and f["r"]["recall@10"] == 0.0


def test_matrix_figures_rank_by_score_ties_by_index():
    import numpy as np

    scores = np.array([[0.1, 0.9, 0.5], [0.5, 0.5, 0.2]])
    relevant = np.array([[False, False, True], [False, True, False]])
    f = metrics.matrix_figures(scores, relevant, ks=(1, 2))
    assert f["recall@1"] == 0.0 and f["recall@2"] == 1.0 and f["mrr"] == pytest.approx(0.5)


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
    ndcg = lambda run, relevant: metrics.per_query({"q": run}, {"q": relevant})["q"]["ndcg@10"]  # noqa: E731
    assert ndcg(["a", "x", "b"], {"a", "b"}) == pytest.approx(expected)
    assert ndcg(["a", "x", "y"], {"a"}) == pytest.approx(1.0)
    assert ndcg(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))  # a single relevant result at rank 2
    assert ndcg(["x", "y"], set()) == 0.0  # nothing relevant anywhere gives 0


def test_percentile_matches_linear_interpolation():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0
    assert metrics.percentile(values, 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) is None


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
