"""Add documents (.txt, .md, .html, .pdf) to a corpus directory as corpus files with metadata.

Each document becomes `<id>.txt` (metadata header, blank line, extracted text), where the id is derived
from the file name. A document that is too big, of another type, or cannot be parsed is reported and
skipped; nothing is written for it. Each corpus file is written atomically (temporary file, then rename),
and a document whose bytes are unchanged since it was last ingested is left alone. Corpus files that
`ingest` did not write (such as the shipped sources) are never replaced.

Never losing a document silently: each corpus file records where its document came from (`source_path`, the
resolved path). A different document whose name gives an existing id (`a/zebra.txt` after `b/zebra.txt`, or
`x.html` after `x.txt`) is refused with a reason unless `replace=True` (`exoqa ingest --replace`); the same
document ingested again from its own path is an update.

Ingest is bounded by what indexing costs: the characters of new text one run adds to the index (`max_chars`,
default MAX_INGEST_CHARS); a document that would take the run past it is refused with the time it would take.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.atomic import write_atomic
from assistant.corpus.sources import is_valid_source_id, parse_source, parse_source_bytes, serialize_source
from assistant.errors import CorpusError
from assistant.text.language import detect_language

ALLOWED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                    ".pdf": "pdf"}
MAX_BYTES = 20 * 1024 * 1024  # what is read and parsed; what is indexed is bounded by MAX_INGEST_CHARS
# Characters of new text one ingest run may add to the index. Building embeds each character about twice
# (sentence and passage vectors): 744 (Chinese) to 1,985 (English) corpus characters/s on this 2-core machine
# (docs/performance.md), so a million characters is 8 to 22 minutes of building. `--max-chars` raises it.
MAX_INGEST_CHARS = 1_000_000
SLOWEST_CHARS_PER_SECOND = 744  # the slower (Chinese) build rate above, for a pessimistic time in refusals
MAX_TITLE_CHARS = 300
INGESTED_BY = "exoqa ingest"
_ID_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


class UnparseableDocument(Exception):
    """The document's bytes cannot be turned into text."""


@dataclass
class IngestResult:
    added: list[str] = field(default_factory=list)       # source ids written for the first time
    updated: list[str] = field(default_factory=list)     # source ids whose document changed
    unchanged: list[str] = field(default_factory=list)   # same bytes as when last ingested
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    replaced: list[str] = field(default_factory=list)    # ids now holding a different document (replace=True)
    characters: int = 0                                  # characters of new text written (what must be indexed)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.replaced)


def source_id_for(path: Path) -> str:
    """A corpus id from a file name: lowercase, unsafe characters as '-', at most 100 characters."""
    stem = unicodedata.normalize("NFKD", Path(path).stem).encode("ascii", "ignore").decode().lower()
    slug = _ID_UNSAFE.sub("-", stem).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)[:100].rstrip("-._")
    if not is_valid_source_id(slug):
        raise UnparseableDocument(f"cannot derive a corpus id from the file name {Path(path).name!r}; rename it "
                                  "with letters or digits")
    return slug


def _visible(text: str) -> str:
    """Without format characters (Unicode Cf: bidi overrides such as U+202E, zero-width characters), which
    could make a title or file name display as something else."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _clean(text: str) -> str:
    """NFC, Unix line ends, no control characters, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.replace("\t", " "))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnparseableDocument(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _parse_text(data: bytes) -> tuple[str, str | None]:
    return _decode(data), None


def _parse_markdown(data: bytes) -> tuple[str, str | None]:
    text = _decode(data)
    heading = _MD_HEADING.search(text)
    return text, heading.group(1) if heading else None


def _parse_html(data: bytes) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(data, "html.parser")
    except Exception as exc:  # the parser raises assorted errors on broken markup
        raise UnparseableDocument(f"HTML cannot be parsed: {exc}") from None
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    if not title:
        heading = soup.find(["h1", "h2"])
        title = heading.get_text(" ", strip=True) if heading else None
    if soup.head:
        soup.head.decompose()  # <title> and <meta> are metadata, not quotable text
    text = (soup.body or soup).get_text("\n")
    if "\ufffd" in text:  # bytes that are text in no encoding the page declares (or binary data)
        raise UnparseableDocument("the HTML is not valid text in UTF-8 or in the encoding it declares")
    return text, title


def _parse_pdf(data: bytes) -> tuple[str, str | None]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnparseableDocument("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except UnparseableDocument:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, OSError, RecursionError) as exc:
        raise UnparseableDocument(f"PDF cannot be parsed: {exc}") from None
    return "\n\n".join(pages), title


_PARSERS = {"text": _parse_text, "markdown": _parse_markdown, "html": _parse_html, "pdf": _parse_pdf}


def document_to_source_bytes(path: Path, data: bytes, license: str = "unknown", url: str = "") -> tuple[str, bytes]:
    """(source id, corpus file bytes) for one document; UnparseableDocument says why not."""
    kind = ALLOWED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UnparseableDocument(f"type {path.suffix or '(none)'} is not accepted "
                                  f"(accepted: {', '.join(sorted(ALLOWED_SUFFIXES))})")
    source_id = source_id_for(path)
    text, title = _PARSERS[kind](data)
    body = _clean(text)
    if not body:
        raise UnparseableDocument("no text could be extracted (a scanned PDF or an empty file?)")
    file_name = _visible(path.name)
    title = " ".join(_visible(title or "").split())[:MAX_TITLE_CHARS] or " ".join(_visible(path.stem).split())
    meta = {"id": source_id, "title": title or source_id, "authors": "", "year": "", "url": url,
            "language": detect_language(body[:2000]), "role": "document", "license": license or "unknown",
            "completeness": "full", "source_file": file_name, "source_path": _visible(str(path.resolve())),
            "sha256": hashlib.sha256(data).hexdigest(), "provenance": f"{INGESTED_BY} from {file_name} ({kind})"}
    serialized = serialize_source(meta, body + "\n")
    parse_source_bytes(serialized, f"{source_id}.txt")  # the corpus must be able to read what we write
    return source_id, serialized


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            # Symlinked files are listed (and then refused with a reason); symlinked folders are not entered.
            files.extend(sorted(p for p in path.rglob("*")
                                if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")))
        else:
            files.append(path)
    return files


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing symlinks and anything over `max_bytes` (also if it grows while read)."""
    if path.is_symlink():
        raise UnparseableDocument("it is a symbolic link; ingest the file it points to instead")
    if not path.is_file():
        raise UnparseableDocument("no such file" if not path.exists() else "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise UnparseableDocument(f"{_size(size)} is over the {_size(max_bytes)} limit")
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnparseableDocument(f"it is over the {_size(max_bytes)} limit")
    return data


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count:,} bytes"


def duration(seconds: float) -> str:
    """'3 h 35 min', '12 min', '40 s': a build time as a person reads it."""
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 600:
        return f"{seconds // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"


def _same_document(existing, path: Path) -> bool:
    """Whether the corpus file `existing` was ingested from the file at `path` (an update, not a clash).

    Files ingested before `source_path` was recorded are known only by their file name."""
    recorded = existing.meta.get("source_path")
    if recorded:
        return recorded == _visible(str(path.resolve()))
    return existing.meta.get("source_file") == _visible(path.name)


def _clash(source_id: str, existing, path: Path) -> str:
    where = existing.meta.get("source_path") or existing.meta.get("source_file") or "another file"
    return (f"the corpus already has {source_id!r} from {where}, a different document; pass --replace "
            "(in Python: replace=True) to replace it, or rename this file")


def ingest(paths: list[Path], corpus_dir: Path, license: str = "unknown", url: str = "",
           max_bytes: int = MAX_BYTES, max_chars: int = MAX_INGEST_CHARS, replace: bool = False) -> IngestResult:
    """Add or update the documents at `paths` (files or folders) in `corpus_dir` (created if missing).

    A different document under an existing id is refused unless `replace`; documents whose new text would take
    this run past `max_chars` characters are refused (see the module docstring)."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    result = IngestResult()
    claimed: dict[str, str] = {}
    for path in _expand([Path(p) for p in paths]):
        name = path.name
        try:
            data = _read_bounded(path, max_bytes)
            source_id, serialized = document_to_source_bytes(path, data, license, url)
            if source_id in claimed:
                raise UnparseableDocument(f"its id {source_id!r} is already taken by {claimed[source_id]} "
                                          "in this run; rename one of them")
            target = corpus_dir / f"{source_id}.txt"
            status = "added"
            if target.is_symlink():
                raise UnparseableDocument(f"the corpus file {target.name} is a symbolic link; refusing to replace it")
            if target.exists():
                try:
                    existing = parse_source(target)
                except CorpusError:
                    existing = None
                if existing is None or not existing.meta.get("provenance", "").startswith(INGESTED_BY):
                    raise UnparseableDocument(f"the corpus already has a source {source_id!r} that ingest did not "
                                              "add; rename the file")
                identical_copy = not replace and existing.meta.get("sha256") == hashlib.sha256(data).hexdigest() \
                    and existing.meta.get("source_file") == _visible(name)  # the same bytes from another folder
                if existing.sha256 == hashlib.sha256(serialized).hexdigest() or identical_copy:
                    claimed[source_id] = name
                    result.unchanged.append(source_id)
                    continue
                if _same_document(existing, path):
                    status = "updated"
                elif replace:
                    status = "replaced"
                else:
                    raise UnparseableDocument(_clash(source_id, existing, path))
            size = len(parse_source_bytes(serialized, target.name).text)
            if result.characters + size > max_chars:
                raise UnparseableDocument(_over_budget(size, result.characters, max_chars))
        except (UnparseableDocument, OSError) as exc:
            result.skipped.append((name, str(exc)))
            continue
        write_atomic(target, serialized)
        claimed[source_id] = name
        result.characters += size
        getattr(result, status).append(source_id)
    return result


def _over_budget(size: int, used: int, max_chars: int) -> str:
    """Why a document is refused for what indexing it would cost."""
    cost = f"about {duration(size / SLOWEST_CHARS_PER_SECOND)} to index on this machine"
    if size > max_chars:
        return (f"its text is {size:,} characters ({cost}), over the {max_chars:,}-character indexing limit of one "
                "ingest; split it, or raise the limit with --max-chars")
    return (f"its text is {size:,} characters ({cost}) and this run already adds {used:,} of its {max_chars:,}; "
            "ingest it in another run, or raise the limit with --max-chars")
