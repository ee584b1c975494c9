"""The on-disk index: FAISS vectors for passages and sentences, their spans, and a manifest.

The manifest records what built the index (corpus hash, model, dimensions,
chunking, format). Loading checks it against the current corpus and model;
writes go to a temporary directory that is renamed into place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from . import vector_index
from .chunking import Span
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 1
_FILES = ("passages.faiss", "sentences.faiss", "units.json")


@dataclass
class StoredIndex:
    manifest: dict
    passages: list[Span]
    passage_sentences: list[range]
    sentences: list[Span]
    passage_vectors: faiss.Index
    sentence_vectors: faiss.Index


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_index(directory: Path, manifest: dict, passages: list[tuple[Span, range]], sentences: list[Span],
                passage_vectors: np.ndarray, sentence_vectors: np.ndarray) -> None:
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp", dir=directory.parent))
    try:
        # Flat (exact) for small sets, approximate above; see vector_index for the rule and its override.
        kinds = {}
        for name, vectors in (("passages", passage_vectors), ("sentences", sentence_vectors)):
            built = vector_index.build(vectors)
            kinds[name] = vector_index.kind_of(built)
            faiss.write_index(built, str(staging / f"{name}.faiss"))
        units = {
            "passages": [[p.source_id, p.start, p.end, r.start, r.stop] for p, r in passages],
            "sentences": [[s.source_id, s.start, s.end] for s in sentences],
        }
        (staging / "units.json").write_text(json.dumps(units), encoding="utf-8")
        full = {**manifest, "format_version": FORMAT_VERSION, "vector_index": kinds,
                "files": {name: _sha256(staging / name) for name in _FILES}}
        (staging / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for path in staging.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        backup = directory.with_name(f".{directory.name}.old")
        if directory.exists():
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(directory, backup)
        os.replace(staging, directory)
        shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / "manifest.json"
    if not path.exists():
        raise IndexMissingError(f"no index at {directory} (run `exoqa build`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest {path} is unreadable: {exc}. Run `exoqa build`.") from exc


def check_manifest(manifest: dict, expected: dict) -> None:
    """Raise IndexMismatchError naming every field that differs from what the caller needs."""
    wrong = [f"{key}: index has {manifest.get(key)!r}, need {value!r}"
             for key, value in {**expected, "format_version": FORMAT_VERSION}.items() if manifest.get(key) != value]
    if wrong:
        raise IndexMismatchError("the index was built for something else (" + "; ".join(wrong) + "). Run `exoqa build`.")


def read_index(directory: Path, corpus, mmap: bool | None = None) -> StoredIndex:
    """Load and check an index; `mmap` (default: $EXOQA_MMAP_INDEX=1) maps flat vectors read-only from disk,
    so worker processes serving the same index share one copy of it in the page cache."""
    directory = Path(directory)
    mmap = os.environ.get("EXOQA_MMAP_INDEX", "") == "1" if mmap is None else mmap
    manifest = read_manifest(directory)
    try:
        for name in _FILES:
            if _sha256(directory / name) != manifest["files"][name]:
                raise IndexCorruptError(f"index file {name} does not match its manifest (changed or truncated). "
                                        "Run `exoqa build`.")
        units = json.loads((directory / "units.json").read_text(encoding="utf-8"))
        passage_vectors = vector_index.read(str(directory / "passages.faiss"), mmap=mmap)
        sentence_vectors = vector_index.read(str(directory / "sentences.faiss"), mmap=mmap)
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise IndexCorruptError(f"index at {directory} is unreadable: {exc}. Run `exoqa build`.") from exc
    try:
        passages = [Span(sid, a, b, corpus[sid].text[a:b]) for sid, a, b, _, _ in units["passages"]]
        ranges = [range(i, j) for _, _, _, i, j in units["passages"]]
        sentences = [Span(sid, a, b, corpus[sid].text[a:b]) for sid, a, b in units["sentences"]]
    except (KeyError, ValueError, TypeError) as exc:
        raise IndexMismatchError(f"index units do not fit this corpus ({exc}). Run `exoqa build`.") from exc
    if passage_vectors.ntotal != len(passages) or sentence_vectors.ntotal != len(sentences) \
            or passage_vectors.d != manifest.get("dim"):
        raise IndexCorruptError("index vectors and units disagree in count or dimension. Run `exoqa build`.")
    return StoredIndex(manifest, passages, ranges, sentences, passage_vectors, sentence_vectors)
