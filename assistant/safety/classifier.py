"""The learned layer of the safety gate: logistic regression over the e5 query vector and character n-grams.

Trained by `scripts/train_safety_classifier.py` on the labelled bank (safety/data/bank.jsonl: thousands of examples
written from the policy's categories in Simplified and Traditional Chinese, Cantonese, pinyin, English and
code-switched text), never on an evaluation set. The weights ship in safety/data/classifier.npz with the hash of the
bank and of the feature definition they were trained with; inference is one matrix product.

Features of a turn: its e5 query vector (the gate's embedding of `Query.gate_text`, shared with retrieval) and the
L2-normalised hashed counts of the character 1-3-grams of its folded text (`text.normalize.fold`).
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from assistant.safety.policy import BY_ID, Decision

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHTS_PATH = DATA_DIR / "classifier.npz"
BANK_PATH = DATA_DIR / "bank.jsonl"
NGRAM_FEATURES = 2 ** 15
NGRAM_RANGE = (1, 3)
# Bump when the features change: shipped weights trained on other features are then refused.
FEATURES_VERSION = "e5-gate-text+char_wb-1-3-hash15-v2"  # v2: fold reads pinyin, Cantonese, base64


class ClassifierUnavailable(RuntimeError):
    """The shipped weights are missing or were trained on other features."""


@functools.lru_cache(maxsize=1)
def ngram_vectorizer() -> HashingVectorizer:
    return HashingVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, n_features=NGRAM_FEATURES,
                             alternate_sign=False, norm="l2", lowercase=False)


def features(folded_texts: list[str], vectors: np.ndarray):
    """The classifier's input rows, [e5 vector | hashed char n-grams], as a sparse matrix."""
    from scipy import sparse

    grams = ngram_vectorizer().transform(folded_texts)
    dense = sparse.csr_matrix(np.asarray(vectors, np.float32).reshape(len(folded_texts), -1))
    return sparse.hstack([dense, grams], format="csr", dtype=np.float32)


@dataclass(frozen=True)
class Verdict:
    category: str                      # the most probable category
    decision: Decision                 # its decision
    probabilities: dict[str, float]    # per decision (answer / refuse / emergency): summed over its categories
    category_probabilities: dict[str, float]

    def p(self, decision: Decision) -> float:
        return self.probabilities.get(str(decision), 0.0)

    def best_category(self, decision: Decision) -> str:
        """The most probable category of `decision`."""
        ranked = [c for c in sorted(self.category_probabilities, key=self.category_probabilities.get, reverse=True)
                  if BY_ID[c].decision == decision]
        return ranked[0]


class SafetyClassifier:
    def __init__(self, categories: list[str], weights: np.ndarray, bias: np.ndarray) -> None:
        self.categories = categories
        self.weights = np.ascontiguousarray(weights, np.float32)  # (features, categories)
        self.bias = np.asarray(bias, np.float32)
        self._decisions = [str(BY_ID[c].decision) for c in categories]

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> SafetyClassifier:
        try:
            with np.load(path) as stored:
                if str(stored["features_version"]) != FEATURES_VERSION:
                    raise ClassifierUnavailable(f"{path.name} was trained on other features "
                                                f"({stored['features_version']}); retrain it")
                categories = json.loads(str(stored["categories"]))
                return cls(categories, stored["weights"].astype(np.float32), stored["bias"])
        except (OSError, KeyError, ValueError) as exc:
            raise ClassifierUnavailable(f"cannot read the safety classifier {path}: {exc}") from exc

    def judge(self, folded_texts: list[str], vectors: np.ndarray) -> list[Verdict]:
        # A sparse product: no BLAS call, whose idle threads would spin against the embedding engine's next query.
        logits = np.asarray(features(folded_texts, vectors) @ self.weights) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        verdicts = []
        for row in probabilities:
            by_category = {c: float(p) for c, p in zip(self.categories, row)}
            by_decision: dict[str, float] = {}
            for decision, p in zip(self._decisions, row):
                by_decision[decision] = by_decision.get(decision, 0.0) + float(p)
            best = self.categories[int(row.argmax())]
            verdicts.append(Verdict(best, BY_ID[best].decision, by_decision, by_category))
        return verdicts


def bank_hash(rows: list[dict]) -> str:
    payload = json.dumps([[r["text"], r["decision"], r["category"]] for r in rows], ensure_ascii=False)
    return hashlib.sha256((FEATURES_VERSION + payload).encode("utf-8")).hexdigest()


def load_bank(path: Path = BANK_PATH) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("category") not in BY_ID or str(BY_ID[row["category"]].decision) != row.get("decision"):
            raise ValueError(f"{path.name} line {number}: category {row.get('category')!r} with decision "
                             f"{row.get('decision')!r} is not in the policy registry")
        rows.append(row)
    return rows


@functools.lru_cache(maxsize=1)
def default_classifier() -> SafetyClassifier:
    return SafetyClassifier.load()
