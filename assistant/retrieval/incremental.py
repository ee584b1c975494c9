"""Incremental index builds: reuse the vectors of sources whose embedded texts did not change.

Each source gets a key: the sha256 of the model id and every text embedded for it (sentences, then
passages, with their offsets). The key covers the exact strings sent to the model, so a changed file,
chunking rule or passage header changes it. A rebuild looks up the previous index in the same directory
and copies the rows of every source whose key is unchanged; only the rest is embedded.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from assistant.corpus.chunking import Span
from assistant.retrieval.vector_index import kind_of

MANIFEST_KEY = "source_keys"  # extra manifest field: {source_id: key}
BATCH = 16
EXACT_KINDS = {"flat", "hnsw"}  # index kinds that store the vectors themselves


def source_keys(model_id: str, units: Sequence[Span], texts: Sequence[str]) -> dict[str, str]:
    """{source_id: key} over `units` (sentences then passages) and the texts embedded for them."""
    digests: dict[str, hashlib._Hash] = {}
    for unit, text in zip(units, texts, strict=True):
        digest = digests.setdefault(unit.source_id, hashlib.sha256(model_id.encode() + b"\0"))
        digest.update(f"{unit.start}:{unit.end}:{len(text)}\0".encode() + text.encode() + b"\0")
    return {sid: d.hexdigest() for sid, d in digests.items()}


def _previous_rows(directory: Path, dim: int, keys: dict[str, str]) -> dict[str, np.ndarray]:
    """Rows of the previous index for each source whose key is unchanged (sentences then passages, in order)."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        old_keys = manifest.get(MANIFEST_KEY) or {}
        reusable = {sid for sid, key in keys.items() if old_keys.get(sid) == key}
        if not reusable or manifest.get("dim") != dim:
            return {}
        units = json.loads((directory / "units.json").read_text(encoding="utf-8"))
        sentences = faiss.read_index(str(directory / "sentences.faiss"))
        passages = faiss.read_index(str(directory / "passages.faiss"))
        if {kind_of(sentences), kind_of(passages)} - EXACT_KINDS:
            return {}  # compressed vectors (IVF-PQ) are approximations: embed again rather than reuse them
        sentence_matrix = sentences.reconstruct_n(0, sentences.ntotal)
        passage_matrix = passages.reconstruct_n(0, passages.ntotal)
        if len(units["sentences"]) != len(sentence_matrix) or len(units["passages"]) != len(passage_matrix):
            return {}
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return {}  # no usable previous index: embed everything
    rows: dict[str, list[np.ndarray]] = {sid: [] for sid in reusable}
    for (sid, *_), vector in zip(units["sentences"], sentence_matrix):
        if sid in rows:
            rows[sid].append(vector)
    for (sid, *_), vector in zip(units["passages"], passage_matrix):
        if sid in rows:
            rows[sid].append(vector)
    return {sid: np.asarray(vectors, np.float32).reshape(-1, dim) for sid, vectors in rows.items()}


def embed_units(directory: Path, dim: int, units: Sequence[Span], texts: Sequence[str], keys: dict[str, str],
                embed: Callable[[list[str]], np.ndarray], progress: bool = True,
                on_progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for `units` in order, reusing unchanged sources' rows; returns (matrix, rows reused).

    `on_progress(done, total)` follows the texts that must be embedded (not those reused)."""
    previous = _previous_rows(Path(directory), dim, keys)
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.source_id] = counts.get(unit.source_id, 0) + 1
    previous = {sid: rows for sid, rows in previous.items() if len(rows) == counts.get(sid)}
    matrix = np.zeros((len(units), dim), np.float32)
    cursor = {sid: 0 for sid in previous}
    todo: list[int] = []
    for i, unit in enumerate(units):
        if unit.source_id in previous:
            matrix[i] = previous[unit.source_id][cursor[unit.source_id]]
            cursor[unit.source_id] += 1
        else:
            todo.append(i)
    for b in tqdm(range(0, len(todo), BATCH), desc="embedding", unit="batch", disable=not progress or not todo):
        batch = todo[b:b + BATCH]
        matrix[batch] = embed([texts[i] for i in batch])
        if on_progress is not None:
            on_progress(min(b + BATCH, len(todo)), len(todo))
    return matrix, len(units) - len(todo)
