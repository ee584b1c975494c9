"""The learned layer of the safety gate: the shipped weights, their cross-validation record, and load errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.safety.classifier import (BANK_PATH, WEIGHTS_PATH, ClassifierUnavailable, SafetyClassifier, bank_hash,
                                         load_bank)
from assistant.safety.policy import BY_ID, Decision


def test_bank_is_large_varied_and_in_the_registry():
    rows = load_bank()  # raises on a category or decision outside the policy registry
    assert len(rows) >= 4000
    scripts = {r.get("script") for r in rows}
    assert {"simplified", "traditional", "cantonese", "pinyin", "mixed", "en"} <= scripts
    for decision in ("answer", "refuse", "emergency"):
        assert sum(r["decision"] == decision for r in rows) >= 900
    assert sum(bool(r.get("history")) for r in rows) >= 250  # follow-ups


def test_shipped_weights_match_the_bank_and_record_their_cross_validation():
    with np.load(WEIGHTS_PATH) as stored:
        turn_rows = [r for r in load_bank() if not r.get("history")]
        assert str(stored["bank_sha256"]) == bank_hash(turn_rows), "retrain: scripts/train_safety_classifier.py"
        report = json.loads(str(stored["report"]))
    both = next(v for k, v in report["cv"].items() if k.startswith("both (") and "gate thresholds" in k)
    # 5-fold cross-validation of the classifier alone on the bank at the gate's thresholds (the rules add recall;
    # scripts/train_safety_classifier.py prints the table)
    assert both["emergency_recall"] >= 0.9 and both["harmful_compliance"] <= 0.03 and both["over_refusal"] <= 0.05
    e5_only = next(v for k, v in report["cv"].items() if k.startswith("e5 vector only"))
    ngrams_only = next(v for k, v in report["cv"].items() if k.startswith("character n-grams only"))
    combined = next(v for k, v in report["cv"].items() if k.startswith("both (") and "argmax" in k)
    assert combined["accuracy"] > max(e5_only["accuracy"], ngrams_only["accuracy"])  # each layer adds


def test_every_category_is_a_registry_category():
    classifier = SafetyClassifier.load()
    assert set(classifier.categories) <= set(BY_ID)
    assert {str(BY_ID[c].decision) for c in classifier.categories} == {"answer", "refuse", "emergency"}


def test_weights_for_other_features_are_refused(tmp_path):
    with np.load(WEIGHTS_PATH) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["features_version"] = np.array("something-else")
    bad = tmp_path / "classifier.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ClassifierUnavailable, match="other features"):
        SafetyClassifier.load(bad)
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    with pytest.raises(ClassifierUnavailable):
        SafetyClassifier.load(tmp_path / "broken.npz")


def test_probabilities_sum_to_one_per_decision():
    classifier = SafetyClassifier.load()
    dim = classifier.weights.shape[0] - 2 ** 15
    verdict = classifier.judge(["外泌体是怎么提取分离的"], np.ones((1, dim), np.float32) / np.sqrt(dim))[0]
    assert abs(sum(verdict.probabilities.values()) - 1) < 1e-5
    assert verdict.decision == BY_ID[verdict.category].decision
    assert verdict.best_category(Decision.REFUSE) in {c for c in BY_ID if BY_ID[c].decision == Decision.REFUSE}
    assert BANK_PATH.exists()
