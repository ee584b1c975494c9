"""The on-disk index: FAISS vectors for passages and sentences, their spans, and a manifest.

The manifest records what built the index (corpus hash, model, dimensions,
chunking, format) and the sha256 of every file. Loading checks both against the
current corpus and model. Writes go to a temporary directory that is renamed into
place, under a build lock (a file beside the index), so a failed, interrupted or
concurrent build never leaves a half-written index where a reader can see it.
Each index also keeps a snapshot of the corpus it was built from (corpus.json),
so the last good index can keep serving, self-consistently, when a rebuild fails.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout

from assistant.retrieval import vector_index
from assistant.corpus.chunking import Span
from assistant.corpus.sources import Corpus, parse_source_bytes, serialize_source
from assistant.errors import CorpusError, ExoqaError, IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 1
_FILES = ("passages.faiss", "sentences.faiss", "units.json")
GLOSS_FIELDS = {"passages": "passage_glosses", "sentences": "sentence_glosses"}  # in units.json
SNAPSHOT = "corpus.json"  # optional: the corpus the index was built from (indexes written before it lack it)
# How long a build waits for another process's build of the same index before giving up.
LOCK_TIMEOUT_SECONDS = float(os.environ.get("EXOQA_BUILD_LOCK_TIMEOUT", "900"))


class IndexBuildError(ExoqaError):
    """An index could not be built or written (disk full, read-only, another build holding the lock)."""


class IndexLockedError(IndexBuildError):
    """Another build of the same index held the build lock for longer than the timeout."""


@dataclass
class StoredIndex:
    """The loaded index. Each vector file holds one row per item, then one row per gloss (the item's
    translation, corpus/translations.py): `passage_glosses[j] = (passage id, gloss text)` is row
    len(passages) + j of passages.faiss, and likewise for sentences."""

    manifest: dict
    passages: list[Span]
    passage_sentences: list[range]
    sentences: list[Span]
    passage_vectors: faiss.Index
    sentence_vectors: faiss.Index
    passage_glosses: list[tuple[int, str]] = field(default_factory=list)
    sentence_glosses: list[tuple[int, str]] = field(default_factory=list)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _staging_prefix(directory: Path) -> str:
    return f".{directory.name}.tmp"


def _backup_of(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.old")


def lock_path(directory: Path) -> Path:
    return Path(directory).with_name(f".{Path(directory).name}.lock")


_locks: dict[Path, FileLock] = {}


@contextlib.contextmanager
def build_lock(directory: Path, timeout: float | None = None, on_wait=None):
    """Hold the build lock of `directory` (re-entrant in one thread; exclusive across threads and processes).

    On first acquisition it also repairs what an interrupted build left behind: a staging directory, or the
    previous index moved aside but not yet replaced. `on_wait(message)` is called once if the lock is busy.
    """
    directory = Path(directory).absolute()
    timeout = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        lock = _locks.setdefault(directory, FileLock(str(lock_path(directory))))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            message = f"another build of {directory} is running; waiting for it (up to {timeout:.0f} s)"
            (on_wait or (lambda m: print(f"exoqa: {m}", file=sys.stderr, flush=True)))(message)
            lock.acquire(timeout=timeout)
    except Timeout:
        raise IndexLockedError(f"another build of {directory} held its lock for over {timeout:.0f} s; "
                               f"try again when it has finished (lock file {lock_path(directory).name})") from None
    except IsADirectoryError as exc:
        raise IndexBuildError(f"cannot take the build lock beside {directory}: {lock_path(directory)} is a "
                              "directory, not a lock file; remove it") from exc
    except OSError as exc:
        raise IndexBuildError(f"cannot take the build lock beside {directory} ({exc}); is the directory "
                              "read-only or the disk full?") from exc
    try:
        if lock.lock_counter == 1:
            _repair_interrupted(directory)
        yield
    finally:
        lock.release()


def _repair_interrupted(directory: Path) -> None:
    """Called with the lock held: put back an index moved aside by a killed build, drop stale staging dirs."""
    backup = _backup_of(directory)
    if backup.exists():
        if directory.exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(backup, directory)  # the build died between its two renames: the old index is whole
    for stale in directory.parent.glob(_staging_prefix(directory) + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _snapshot(corpus: Corpus) -> dict | None:
    """Each source's exact file text, if it can be reproduced byte for byte (else no snapshot)."""
    files = {}
    for source in corpus.sources:
        try:
            data = (Path(corpus.directory) / f"{source.id}.txt").read_bytes() if corpus.directory else None
        except OSError:
            return None
        if data is None:  # an in-memory corpus: its bytes are the serialised document
            data = serialize_source(source.meta, source.text)
        if hashlib.sha256(data).hexdigest() != source.sha256:
            return None  # the file changed since it was loaded; a snapshot would not match the index
        files[source.id] = data.decode("utf-8")
    return {"corpus_hash": corpus.content_hash, "sources": files}


def write_index(directory: Path, manifest: dict, passages: list[tuple[Span, range]], sentences: list[Span],
                passage_vectors: np.ndarray, sentence_vectors: np.ndarray, corpus: Corpus | None = None,
                kind: str | None = None, glosses: dict[str, list[tuple[int, str]]] | None = None) -> None:
    """Write the index atomically under the build lock; an IndexBuildError leaves the previous index as it was.

    `kind`: the FAISS index kind (vector_index.choose_kind; None or "auto" follows the size). `glosses`:
    {"passages": [(passage id, gloss)], "sentences": [...]}, whose rows follow the items' rows in the vectors."""
    directory = Path(directory)
    with build_lock(directory):
        try:
            _write_locked(directory, manifest, passages, sentences, passage_vectors, sentence_vectors, corpus,
                          None if kind == "auto" else kind, glosses or {})
        except (OSError, RuntimeError) as exc:  # faiss reports failed writes as RuntimeError
            raise IndexBuildError(f"could not write the index to {directory} ({exc}); the previous index, if "
                                  "any, is unchanged") from exc


def _write_locked(directory: Path, manifest: dict, passages: list[tuple[Span, range]], sentences: list[Span],
                  passage_vectors: np.ndarray, sentence_vectors: np.ndarray, corpus: Corpus | None,
                  kind: str | None, glosses: dict[str, list[tuple[int, str]]]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(directory), dir=directory.parent))
    try:
        # Flat (exact) for small sets, approximate above; see vector_index for the rule and its override.
        kinds = {}
        for name, vectors in (("passages", passage_vectors), ("sentences", sentence_vectors)):
            built = vector_index.build(vectors, kind)
            kinds[name] = vector_index.kind_of(built)
            faiss.write_index(built, str(staging / f"{name}.faiss"))
        units = {
            "passages": [[p.source_id, p.start, p.end, r.start, r.stop] for p, r in passages],
            "sentences": [[s.source_id, s.start, s.end] for s in sentences],
            **{GLOSS_FIELDS[kind]: [[i, text] for i, text in rows] for kind, rows in glosses.items() if rows},
        }
        (staging / "units.json").write_text(json.dumps(units), encoding="utf-8")
        names = list(_FILES)
        snapshot = _snapshot(corpus) if corpus is not None else None
        if snapshot is not None:
            (staging / SNAPSHOT).write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
            names.append(SNAPSHOT)
        full = {**manifest, "format_version": FORMAT_VERSION, "vector_index": kinds,
                "files": {name: _sha256(staging / name) for name in names}}
        (staging / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for path in staging.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        backup = _backup_of(directory)
        if directory.exists():
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(directory, backup)
        os.replace(staging, directory)
        shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_manifest(directory: Path) -> dict:
    directory = Path(directory)
    if not directory.exists() and _backup_of(directory).exists():
        # A build was killed between moving the old index aside and renaming the new one in: the lock's
        # repair step puts the old one back (or, if a build is running now, waits for its rename).
        with contextlib.suppress(IndexBuildError), build_lock(directory):
            pass
    path = directory / "manifest.json"
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
            if not (directory / name).exists():
                raise IndexCorruptError(f"index file {name} is missing from {directory}. Run `exoqa build`.")
            if _sha256(directory / name) != manifest["files"][name]:
                raise IndexCorruptError(f"index file {name} does not match its manifest (changed or truncated). "
                                        "Run `exoqa build`.")
        units = json.loads((directory / "units.json").read_text(encoding="utf-8"))
        passage_vectors = vector_index.read(str(directory / "passages.faiss"), mmap=mmap)
        sentence_vectors = vector_index.read(str(directory / "sentences.faiss"), mmap=mmap)
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise IndexCorruptError(f"index at {directory} is unreadable: {exc}. Run `exoqa build`.") from exc
    try:
        passages, ranges, sentences = spans_of(units, corpus)
    except KeyError as exc:
        raise IndexMismatchError(f"the index was built for another corpus: it has source {exc} that this corpus "
                                 f"lacks (corpus_hash: index has {str(manifest.get('corpus_hash'))[:12]!r}, "
                                 f"need {corpus.content_hash[:12]!r}). Run `exoqa build`.") from exc
    except (ValueError, TypeError) as exc:
        raise IndexMismatchError(f"index units do not fit this corpus ({exc}). Run `exoqa build`.") from exc
    try:
        passage_glosses = _glosses(units, "passages", len(passages))
        sentence_glosses = _glosses(units, "sentences", len(sentences))
    except (ValueError, TypeError) as exc:
        raise IndexCorruptError(f"index glosses are malformed ({exc}). Run `exoqa build`.") from exc
    if passage_vectors.ntotal != len(passages) + len(passage_glosses) \
            or sentence_vectors.ntotal != len(sentences) + len(sentence_glosses) \
            or passage_vectors.d != manifest.get("dim"):
        raise IndexCorruptError("index vectors and units disagree in count or dimension. Run `exoqa build`.")
    return StoredIndex(manifest, passages, ranges, sentences, passage_vectors, sentence_vectors, passage_glosses,
                       sentence_glosses)


def spans_of(units: dict, corpus) -> tuple[list[Span], list[range], list[Span]]:
    """(passages, each passage's sentence range, sentences) from stored units, their text read from `corpus`
    (KeyError: a source the corpus lacks)."""
    passages = [Span(sid, a, b, corpus[sid].text[a:b]) for sid, a, b, _, _ in units["passages"]]
    ranges = [range(i, j) for _, _, _, i, j in units["passages"]]
    sentences = [Span(sid, a, b, corpus[sid].text[a:b]) for sid, a, b in units["sentences"]]
    return passages, ranges, sentences


def gloss_count(units: dict, kind: str) -> int:
    """How many gloss rows follow the item rows of `kind` ("passages" / "sentences") in its vector file."""
    return len(units.get(GLOSS_FIELDS[kind]) or ())


def _glosses(units: dict, kind: str, items: int) -> list[tuple[int, str]]:
    rows = [(int(i), str(text)) for i, text in units.get(GLOSS_FIELDS[kind]) or ()]
    if any(not 0 <= i < items for i, _ in rows):
        raise ValueError(f"a {kind} gloss names an item outside 0..{items - 1}")
    return rows


def read_last_good(directory: Path, mmap: bool | None = None) -> tuple[Corpus, StoredIndex]:
    """The index at `directory` with the corpus it was built from (its snapshot), both checked.

    Raises IndexMissingError / IndexCorruptError when there is no intact index with a snapshot.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    expected = (manifest.get("files") or {}).get(SNAPSHOT)
    if not expected:
        raise IndexMissingError(f"the index at {directory} keeps no corpus snapshot (built before snapshots)")
    path = directory / SNAPSHOT
    try:
        if _sha256(path) != expected:
            raise IndexCorruptError(f"the corpus snapshot of {directory} does not match its manifest")
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        sources = [parse_source_bytes(text.encode("utf-8"), f"{sid}.txt") for sid, text in snapshot["sources"].items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CorpusError) as exc:
        raise IndexCorruptError(f"the corpus snapshot of {directory} is unreadable: {exc}") from exc
    corpus = Corpus(directory=None, sources=tuple(sorted(sources, key=lambda s: f"{s.id}.txt")))
    if corpus.content_hash != manifest.get("corpus_hash"):
        raise IndexCorruptError(f"the corpus snapshot of {directory} is not the corpus the index was built from")
    return corpus, read_index(directory, corpus, mmap=mmap)
