"""Incremental index builds: reuse the vectors of sources whose embedded texts did not change.

Each source gets a key: the sha256 of the model id and every text embedded for it (sentences and their
glosses, then passages and theirs, with their offsets). The key covers the exact strings sent to the model, so a changed file,
chunking rule or passage header changes it. A rebuild looks up the previous index in the same directory
and copies the rows of every source whose key is unchanged; only the rest is embedded.

Nothing damaged is copied: a previous file whose sha256 does not match its manifest gives no rows, and each
reused row must be finite and of unit length (every embedder returns L2-normalised rows). Whatever was damaged
is embedded again and said in one line on the log.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from assistant.corpus.chunking import Span
from assistant.retrieval.index_store import GLOSS_FIELDS
from assistant.retrieval.vector_index import kind_of

log = logging.getLogger("exoqa")

MANIFEST_KEY = "source_keys"  # extra manifest field: {source_id: key}
BATCH = 16
EXACT_KINDS = {"flat", "hnsw"}  # index kinds that store the vectors themselves
UNIT_NORM_TOLERANCE = 1e-3  # float32 e5 rows are within ~1e-6 of length 1; damage is far outside this


def source_keys(model_id: str, units: Sequence[Span], texts: Sequence[str]) -> dict[str, str]:
    """{source_id: key} over `units` (sentences then passages) and the texts embedded for them."""
    digests: dict[str, hashlib._Hash] = {}
    for unit, text in zip(units, texts, strict=True):
        digest = digests.setdefault(unit.source_id, hashlib.sha256(model_id.encode() + b"\0"))
        digest.update(f"{unit.start}:{unit.end}:{len(text)}\0".encode() + text.encode() + b"\0")
    return {sid: d.hexdigest() for sid, d in digests.items()}


@dataclass
class PreviousRows:
    """Rows of the previous index per unchanged source (sentences then passages), whether each was read from
    a file that matches its manifest, and what was found damaged."""

    rows: dict[str, np.ndarray] = field(default_factory=dict)
    verified: dict[str, np.ndarray] = field(default_factory=dict)  # {source_id: bool per row}
    damage: list[str] = field(default_factory=list)


def _verified_bytes(directory: Path, name: str, manifest: dict) -> bytes | None:
    """The file's bytes if their sha256 is the manifest's (read once, so what is checked is what is used)."""
    data = (directory / name).read_bytes()
    expected = (manifest.get("files") or {}).get(name)
    return data if expected and hashlib.sha256(data).hexdigest() == expected else None


def _matrix(data: bytes | None, count: int, dim: int) -> np.ndarray | None:
    """The stored vectors of an exact index file (None: unusable; NaN rows are treated as damaged)."""
    if data is None:
        return None
    index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    if kind_of(index) not in EXACT_KINDS:
        return None  # compressed vectors (IVF-PQ) are approximations: embed again rather than reuse them
    if index.ntotal != count or index.d != dim:
        raise ValueError("vector count or dimension disagrees with units.json")
    return index.reconstruct_n(0, index.ntotal)


def _previous_rows(directory: Path, dim: int, keys: dict[str, str]) -> PreviousRows:
    """Rows of the previous index for each source whose key is unchanged, taken only from files that match
    the previous manifest."""
    found = PreviousRows()
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        return found  # no previous index: embed everything
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        old_keys = manifest.get(MANIFEST_KEY) or {}
        reusable = {sid for sid, key in keys.items() if old_keys.get(sid) == key}
        if not reusable or manifest.get("dim") != dim:
            return found
        units_bytes = _verified_bytes(directory, "units.json", manifest)
        if units_bytes is None:
            found.damage.append("units.json does not match its manifest")
            return found
        units = json.loads(units_bytes)
        matrices = {}
        owners = {}
        for name, kind in (("sentences.faiss", "sentences"), ("passages.faiss", "passages")):
            data = _verified_bytes(directory, name, manifest)
            if data is None:
                found.damage.append(f"{name} does not match its manifest")
            # each item's row, then each gloss's row (index_store.StoredIndex), all owned by the item's source
            owners[kind] = [unit[0] for unit in units[kind]] + [units[kind][int(i)][0]
                                                                 for i, _ in units.get(GLOSS_FIELDS[kind]) or ()]
            matrices[kind] = _matrix(data, len(owners[kind]), dim)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError) as exc:
        found.damage.append(f"unreadable: {exc}")
        return PreviousRows(damage=found.damage)
    rows: dict[str, list[np.ndarray]] = {sid: [] for sid in reusable}
    verified: dict[str, list[bool]] = {sid: [] for sid in reusable}
    missing = np.full(dim, np.nan, np.float32)
    for kind in ("sentences", "passages"):
        matrix = matrices[kind]
        for position, sid in enumerate(owners[kind]):
            if sid in rows:
                rows[sid].append(matrix[position] if matrix is not None else missing)
                verified[sid].append(matrix is not None)
    found.rows = {sid: np.asarray(vectors, np.float32).reshape(-1, dim) for sid, vectors in rows.items()}
    found.verified = {sid: np.asarray(flags, bool) for sid, flags in verified.items()}
    return found


def usable_rows(matrix: np.ndarray) -> np.ndarray:
    """Which rows are finite unit vectors (what every embedder returns); anything else is damage."""
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(matrix.astype(np.float64), axis=1)
    return np.isfinite(matrix).all(axis=1) & (np.abs(norms - 1.0) <= UNIT_NORM_TOLERANCE)


def fill_rows(matrix: np.ndarray, units: Sequence[Span], rows: dict[str, np.ndarray],
              usable: dict[str, np.ndarray]) -> list[int]:
    """Copy each source's previous rows, in unit order, into `matrix` where `usable` says so; returns the indexes
    of the units still to embed (every unit of a source without rows, and each unusable row)."""
    cursor = dict.fromkeys(rows, 0)
    todo: list[int] = []
    for i, unit in enumerate(units):
        sid = unit.source_id
        if sid in rows:
            at = cursor[sid]
            cursor[sid] += 1
            if usable[sid][at]:
                matrix[i] = rows[sid][at]
                continue
        todo.append(i)
    return todo


def _reuse(directory: Path, dim: int, units: Sequence[Span], keys: dict[str, str]
           ) -> tuple[np.ndarray, list[int], list[str]]:
    """(matrix with the reusable rows filled in, indexes of the units to embed, what was found damaged)."""
    previous = _previous_rows(Path(directory), dim, keys)
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.source_id] = counts.get(unit.source_id, 0) + 1
    rows = {sid: r for sid, r in previous.rows.items() if len(r) == counts.get(sid)}
    matrix = np.zeros((len(units), dim), np.float32)
    # A row is reused only if it was read from a file that matches its manifest and is a finite unit vector.
    usable = {sid: previous.verified[sid] & usable_rows(r) for sid, r in rows.items()}
    bad = sum(int((previous.verified[sid] & ~ok).sum()) for sid, ok in usable.items())
    todo = fill_rows(matrix, units, rows, usable)
    if bad:
        previous.damage.append(f"{bad} stored vector(s) were not finite unit vectors")
    return matrix, todo, previous.damage


def embed_units(directory: Path, dim: int, units: Sequence[Span], texts: Sequence[str], keys: dict[str, str],
                embed: Callable[[list[str]], np.ndarray], progress: bool = True,
                on_progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for `units` in order, reusing unchanged sources' rows; returns (matrix, rows reused).

    `on_progress(done, total)` follows the texts that must be embedded (not those reused)."""
    matrix, todo, damage = _reuse(directory, dim, units, keys)
    if damage:
        log.warning("exoqa: the previous index at %s is damaged (%s); no damaged vector is reused: "
                    "%d of %d texts embedded again, %d vectors reused", directory, "; ".join(damage), len(todo),
                    len(units), len(units) - len(todo))
    for b in tqdm(range(0, len(todo), BATCH), desc="embedding", unit="batch", disable=not progress or not todo):
        batch = todo[b:b + BATCH]
        matrix[batch] = embed([texts[i] for i in batch])
        if on_progress is not None:
            on_progress(min(b + BATCH, len(todo)), len(todo))
    return matrix, len(units) - len(todo)


@dataclass(frozen=True)
class BuildEstimate:
    """What a build will embed and how long that should take here (timed on a sample of its own texts)."""

    total: int          # texts in the index
    to_embed: int       # texts the build must embed (the rest is reused)
    characters: int     # characters sent to the model
    seconds: float      # estimated embedding time

    @property
    def reused(self) -> int:
        return self.total - self.to_embed


def estimate_build(directory: Path, dim: int, units: Sequence[Span], texts: Sequence[str], keys: dict[str, str],
                   embed: Callable[[list[str]], np.ndarray], sample: int = BATCH) -> BuildEstimate:
    """Estimate a build before starting it: the texts to embed, and the time one batch of them, spread over
    the list, takes on this machine now, scaled by characters."""
    _, todo, _ = _reuse(directory, dim, units, keys)
    characters = sum(len(texts[i]) for i in todo)
    if not todo:
        return BuildEstimate(len(units), 0, 0, 0.0)
    picked = [texts[todo[round(j * (len(todo) - 1) / max(1, sample - 1))]] for j in range(min(sample, len(todo)))]
    started = time.perf_counter()
    embed(picked)
    elapsed = time.perf_counter() - started
    per_char = elapsed / max(1, sum(len(t) for t in picked))
    return BuildEstimate(len(units), len(todo), characters, per_char * characters)
