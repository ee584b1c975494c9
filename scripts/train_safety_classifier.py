"""Train the safety gate's classifier on the labelled bank; report 5-fold cross-validation; write the weights.

    .venv/bin/python scripts/train_safety_classifier.py            # CV report + assistant/safety/data/classifier.npz
    .venv/bin/python scripts/train_safety_classifier.py --cv-only  # the report alone

The bank (assistant/safety/data/bank.jsonl) is written from the policy's categories, never from an evaluation set.
Examples with a `history` are follow-ups whose label depends on earlier turns: they test the gate's follow-up rule
(tests/test_safety_gate.py) and are left out of the turn classifier. The decision thresholds are chosen here from
the out-of-fold probabilities as a reference; the gate's own thresholds (Settings: safety_emergency_threshold,
safety_refuse_threshold) were chosen on the safety dev sets with the rules in place, and the report gives the
cross-validation figures at those too.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.atomic import replacing  # noqa: E402
from assistant.query import Query  # noqa: E402
from assistant.retrieval.embeddings import load_embedder  # noqa: E402
from assistant.safety.classifier import (BANK_PATH, FEATURES_VERSION, WEIGHTS_PATH, bank_hash, load_bank,  # noqa: E402
                                         ngram_vectorizer)
from assistant.safety.policy import BY_ID  # noqa: E402
from assistant.settings import Settings  # noqa: E402

C_GRID = (4.0, 16.0, 64.0)
SEED = 20261201


def design(rows: list[dict], vectors: np.ndarray) -> sparse.csr_matrix:
    folded = [Query.build(r["text"]).folded for r in rows]
    return sparse.hstack([sparse.csr_matrix(vectors), ngram_vectorizer().transform(folded)]).tocsr()


def decisions_of(probabilities: np.ndarray, categories: list[str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for j, c in enumerate(categories):
        d = str(BY_ID[c].decision)
        out[d] = out.get(d, 0) + probabilities[:, j]
    return out


def decide(p: dict[str, np.ndarray], t_emergency: float, t_refuse: float) -> np.ndarray:
    return np.where(p["emergency"] >= t_emergency, "emergency", np.where(p["refuse"] >= t_refuse, "refuse", "answer"))


def figures(truth: np.ndarray, predicted: np.ndarray) -> dict:
    def rate(mask, bad):
        return round(float(bad[mask].mean()), 4) if mask.any() else None
    return {"accuracy": round(float((truth == predicted).mean()), 4),
            "emergency_recall": rate(truth == "emergency", predicted == "emergency"),
            "harmful_compliance": rate(truth == "refuse", predicted == "answer"),
            "over_refusal": rate(truth == "answer", predicted != "answer")}


def out_of_fold(X, y: np.ndarray, C: float, columns=None) -> np.ndarray:
    X = X[:, columns] if columns is not None else X
    probabilities = np.zeros((X.shape[0], len(np.unique(y))))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=SEED).split(X, y):
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X[train], y[train])
        probabilities[test] = model.predict_proba(X[test])
    return probabilities


def choose_thresholds(p: dict[str, np.ndarray], truth: np.ndarray) -> tuple[float, float]:
    """A missed emergency costs most, then harmful compliance, then over-refusal (weights 5 / 2 / 1)."""
    best = None
    for t_e in np.arange(0.10, 0.61, 0.05):
        for t_r in np.arange(0.30, 0.81, 0.05):
            f = figures(truth, decide(p, t_e, t_r))
            cost = 5 * (1 - f["emergency_recall"]) + 2 * f["harmful_compliance"] + f["over_refusal"]
            if best is None or cost < best[0] - 1e-9:
                best = (cost, round(float(t_e), 2), round(float(t_r), 2))
    return best[1], best[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv-only", action="store_true")
    parser.add_argument("--vectors", type=Path, default=None, help="precomputed bank vectors (.npy, bank order)")
    parser.add_argument("--save-vectors", type=Path, default=None, help="write the bank vectors here (.npy)")
    parser.add_argument("--C", type=float, default=None, help="use this C instead of choosing it on the grid")
    args = parser.parse_args(argv)
    bank = load_bank(BANK_PATH)
    turn = [i for i, r in enumerate(bank) if not r.get("history")]
    rows = [bank[i] for i in turn]
    if args.vectors:
        vectors = np.load(args.vectors)[turn]
    else:
        embedder = load_embedder()
        vectors = np.vstack([embedder.embed_queries([Query.build(r["text"]).gate_text for r in rows[i:i + 32]])
                             for i in range(0, len(rows), 32)])
    if args.save_vectors:
        full = np.zeros((len(bank), vectors.shape[1]), np.float32)
        full[turn] = vectors
        np.save(args.save_vectors, full)
    X = design(rows, vectors)
    y = np.array([r["category"] for r in rows])
    truth = np.array([r["decision"] for r in rows])
    categories = sorted(set(y))
    report: dict = {"examples": len(rows), "features": FEATURES_VERSION, "cv": {}}
    dim = vectors.shape[1]
    layers = {"e5 vector only": np.arange(dim), "character n-grams only": np.arange(dim, X.shape[1]), "both": None}
    chosen_c, best_acc = (args.C, 0.0) if args.C else (C_GRID[0], -1.0)
    for C in () if args.C else C_GRID:
        p = decisions_of(out_of_fold(X, y, C), categories)
        acc = figures(truth, decide(p, 0.5, 0.5))["accuracy"]
        report["cv"][f"both, C={C}"] = figures(truth, decide(p, 0.5, 0.5))
        if acc > best_acc:
            chosen_c, best_acc = C, acc
    for name, columns in layers.items():
        p = decisions_of(out_of_fold(X, y, chosen_c, columns), categories)
        report["cv"][f"{name} (C={chosen_c}, argmax)"] = figures(truth, decide(p, 0.5, 0.5))
    p = decisions_of(out_of_fold(X, y, chosen_c), categories)
    t_e, t_r = choose_thresholds(p, truth)
    report["cost_optimal_thresholds"] = {"emergency": t_e, "refuse": t_r}
    report["cv"][f"both (C={chosen_c}), cost-optimal thresholds {t_e} / {t_r}"] = figures(truth, decide(p, t_e, t_r))
    gate = Settings()
    report["cv"][f"both (C={chosen_c}), gate thresholds {gate.safety_emergency_threshold} / "
                 f"{gate.safety_refuse_threshold}"] = figures(
        truth, decide(p, gate.safety_emergency_threshold, gate.safety_refuse_threshold))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.cv_only:
        return 0
    model = LogisticRegression(C=chosen_c, max_iter=3000, class_weight="balanced").fit(X, y)
    with replacing(WEIGHTS_PATH, mode=0o644) as handle:
        np.savez_compressed(handle, weights=model.coef_.T.astype(np.float16), bias=model.intercept_.astype(np.float32),
                            categories=np.array(json.dumps(list(model.classes_))),
                            features_version=np.array(FEATURES_VERSION), bank_sha256=np.array(bank_hash(rows)),
                            report=np.array(json.dumps(report)))
    print(f"wrote {WEIGHTS_PATH.relative_to(ROOT)} ({WEIGHTS_PATH.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
