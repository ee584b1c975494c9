"""The translation layer: exoqa's own translation of each quotable sentence into the other language.

Kept beside the corpus as JSON Lines in `<corpus>/translations/*.jsonl`, one object per sentence:
{"source_id", "start", "end", "text", "translation"}, aligned to the original sentence's offsets. It is never
source text: retrieval scores a sentence or passage by the better of its original and its translation, and a quote
in the other language shows the translation as a labelled gloss. A line whose `text` no longer equals the source
at its offsets (the source changed) is ignored and counted, never shown.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.sources import Corpus
from assistant.errors import CorpusError

log = logging.getLogger("exoqa")

TRANSLATIONS_DIR = "translations"
PROVENANCE = "translated for exoqa, not source text"
OTHER_LANGUAGE = {"zh": "en", "en": "zh"}
_KEYS = ("source_id", "start", "end", "text", "translation")


@dataclass(frozen=True)
class Translations:
    """{(source_id, start, end): translation} for the sentences whose original still matches its source."""

    by_span: dict[tuple[str, int, int], str] = field(default_factory=dict)
    content_hash: str = ""  # sha256 of the entries in use ("" for none): the index manifest records it
    stale: int = 0          # lines ignored because their source text changed

    def of(self, source_id: str, start: int, end: int) -> str | None:
        return self.by_span.get((source_id, start, end))

    def __len__(self) -> int:
        return len(self.by_span)

    def manifest(self) -> dict | None:
        return {"sha256": self.content_hash, "sentences": len(self)} if self.by_span else None


NONE = Translations()


def load_translations(corpus: Corpus) -> Translations:
    """The corpus's translation layer (empty for an in-memory corpus or one without a translations folder).

    Raises CorpusError, naming the file and line, for a line that is not a well-formed entry."""
    folder = Path(corpus.directory) / TRANSLATIONS_DIR if corpus.directory is not None else None
    if folder is None or not folder.is_dir():
        return NONE
    by_span: dict[tuple[str, int, int], str] = {}
    stale = 0
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            entry = _entry(line, f"{path.name}:{number}")
            source_id, start, end = entry["source_id"], entry["start"], entry["end"]
            if source_id not in corpus or corpus[source_id].text[start:end] != entry["text"]:
                stale += 1
                continue
            by_span[(source_id, start, end)] = entry["translation"]
    if stale:
        log.warning("exoqa: %d translation(s) in %s no longer match their source text and are ignored", stale,
                    folder)
    digest = hashlib.sha256()
    for (source_id, start, end), translation in sorted(by_span.items()):
        digest.update(f"{source_id}\0{start}\0{end}\0{translation}\0".encode())
    return Translations(by_span, digest.hexdigest() if by_span else "", stale)


def _entry(line: str, where: str) -> dict:
    try:
        entry = json.loads(line)
    except ValueError as exc:
        raise CorpusError(f"translation {where} is not JSON ({exc})") from None
    if not isinstance(entry, dict) or any(k not in entry for k in _KEYS):
        raise CorpusError(f"translation {where} needs the keys {', '.join(_KEYS)}")
    if not (isinstance(entry["source_id"], str) and isinstance(entry["text"], str)
            and isinstance(entry["translation"], str) and entry["translation"].strip()
            and all(isinstance(entry[k], int) and not isinstance(entry[k], bool) and entry[k] >= 0
                    for k in ("start", "end"))):
        raise CorpusError(f"translation {where}: source_id/text/translation must be text, start/end offsets")
    return entry
