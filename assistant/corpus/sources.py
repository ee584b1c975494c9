"""The source documents: parse corpus files, expose quotable text and metadata.

A corpus file is `key: value` metadata lines, a blank line, then the body. The
body is the source text that offsets point into; inside it, `===== ... =====`
section lines are editorial and `[...]` marks a gap, so neither is quotable.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping
from pathlib import Path

from assistant.errors import CorpusError

METADATA_FIELDS = ("id", "ref", "title", "authors", "venue", "year", "url", "doi", "language", "role",
                   "license", "completeness", "provenance", "note")
_SECTION_LINE = re.compile(r"^=====.*=====[ \t]*$", re.MULTILINE)
_GAP = re.compile(r"\[\.\.\.\]|\[…\]")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Region:
    """A stretch of quotable source text: [start, end) into `Source.text`."""

    start: int
    end: int
    section: str


@dataclass(frozen=True)
class Source:
    id: str
    meta: dict[str, str]
    text: str
    regions: tuple[Region, ...] = field(default=())
    sha256: str = ""

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    @property
    def language(self) -> str:
        return self.meta.get("language", "en")

    @property
    def quotable(self) -> bool:
        return bool(self.regions)

    def card(self) -> dict[str, str]:
        """Metadata for citations and the sources list."""
        return {"source_id": self.id, **{k: self.meta.get(k, "") for k in METADATA_FIELDS if k != "id"}}


def quotable_regions(body: str) -> tuple[Region, ...]:
    """Split a body into regions that exclude section lines and gap markers."""
    regions: list[Region] = []
    section = ""
    cursor = 0
    pieces: list[tuple[int, int, str]] = []
    for match in _SECTION_LINE.finditer(body):
        pieces.append((cursor, match.start(), section))
        section = match.group(0).strip("= \t")
        cursor = match.end()
    pieces.append((cursor, len(body), section))
    for start, end, name in pieces:
        sub_start = start
        for gap in _GAP.finditer(body, start, end):
            regions.append(Region(sub_start, gap.start(), name))
            sub_start = gap.end()
        regions.append(Region(sub_start, end, name))
    return tuple(_trim(body, r) for r in regions if body[r.start:r.end].strip())


def _trim(body: str, region: Region) -> Region:
    start, end = region.start, region.end
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return Region(start, end, region.section)


def parse_source(path: Path) -> Source:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path.name}: {exc}") from exc
    source = parse_source_bytes(data, path.name)
    if source.id != path.stem:
        raise CorpusError(f"{path.name}: id {source.id!r} must match the file name")
    return source


def parse_source_bytes(data: bytes, name: str) -> Source:
    """Parse the bytes of one corpus file; `name` only labels error messages."""
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"cannot read corpus file {name}: {exc}") from exc
    header, sep, body = raw.partition("\n\n")
    meta: dict[str, str] = {}
    for number, line in enumerate(header.splitlines(), 1):
        key, colon, value = line.partition(":")
        if not colon:
            raise CorpusError(f"{name}, line {number}: expected 'key: value' metadata, got {line[:60]!r}")
        meta[key.strip()] = value.strip()
    source_id = meta.get("id", "")
    if not _SOURCE_ID.match(source_id):
        raise CorpusError(f"{name}: missing or invalid 'id' metadata ({source_id!r})")
    return Source(id=source_id, meta=meta, text=body if sep else "", regions=quotable_regions(body),
                  sha256=hashlib.sha256(data).hexdigest())


def is_valid_source_id(source_id: str) -> bool:
    return bool(_SOURCE_ID.match(source_id))


def serialize_source(meta: Mapping[str, object], text: str) -> bytes:
    """The corpus file for `meta` (must hold a valid "id") and body `text`: the inverse of parse_source_bytes."""
    lines = []
    for key, value in meta.items():
        if not isinstance(key, str) or not key.strip() or ":" in key or "\n" in key:
            raise CorpusError(f"invalid metadata key {key!r}")
        flat = " ".join(str("" if value is None else value).split())  # one line per field
        lines.append(f"{key.strip()}: {flat}".rstrip())
    if not isinstance(text, str):
        raise CorpusError(f"the text of {meta.get('id')!r} must be a string")
    return ("\n".join(lines) + "\n\n" + text).encode("utf-8")


@dataclass(frozen=True)
class Corpus:
    directory: Path | None
    sources: tuple[Source, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.sources})

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, object]]) -> Corpus:
        """A corpus held in memory: each document is {"id", "text", and optional metadata such as "title"}.

        Each document is parsed exactly as its corpus file would be, so the content hash (and the index built
        for it) is the same as for a directory holding those files.
        """
        sources: list[Source] = []
        seen: set[str] = set()
        for position, document in enumerate(documents):
            if not isinstance(document, Mapping):
                raise CorpusError(f"document {position} must be a mapping with 'id' and 'text'")
            source_id, text = document.get("id"), document.get("text")
            if not isinstance(source_id, str) or not _SOURCE_ID.match(source_id):
                raise CorpusError(f"document {position}: invalid id {source_id!r} "
                                  "(lowercase letters, digits, '.', '_', '-'; at most 100 characters)")
            if source_id in seen:
                raise CorpusError(f"document {position}: duplicate id {source_id!r}")
            seen.add(source_id)
            meta = {"id": source_id, **{k: v for k, v in document.items() if k not in ("id", "text")}}
            sources.append(parse_source_bytes(serialize_source(meta, text), source_id))
        if not sources:
            raise CorpusError("no documents given")
        return cls(directory=None, sources=tuple(sorted(sources, key=lambda s: f"{s.id}.txt")))  # load_corpus order

    def __getitem__(self, source_id: str) -> Source:
        return self._by_id[source_id]  # type: ignore[attr-defined]

    def __contains__(self, source_id: object) -> bool:
        return source_id in self._by_id  # type: ignore[attr-defined]

    @property
    def quotable_sources(self) -> list[Source]:
        return [s for s in self.sources if s.quotable]

    @property
    def content_hash(self) -> str:
        """Hash of every file's bytes: any edit to the corpus changes it."""
        digest = hashlib.sha256()
        for source in self.sources:
            digest.update(f"{source.id}\0{source.sha256}\0".encode())
        return digest.hexdigest()


def load_corpus(directory: Path) -> Corpus:
    directory = Path(directory)
    if not directory.is_dir():
        raise CorpusError(f"corpus directory not found: {directory}")
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise CorpusError(f"no corpus files (*.txt) in {directory}")
    return Corpus(directory=directory, sources=tuple(parse_source(p) for p in files))
