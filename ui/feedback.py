"""Feedback on replies (👍/👎 and an optional note), kept as JSON Lines in a data directory, and its export as a
question file that `exoqa eval` reads, so the people who use the chat grow the evaluation set.

Each record is appended with one write() to a file opened O_APPEND, then fsync'd, under a file lock (several
server processes may share the directory): a reader sees whole lines only. The file is capped in size; past the
cap new feedback is refused (export it and move the file away to make room).

Export: a 👍 on an answer becomes a retrieval item whose gold strings are the quotes that were endorsed (still
verbatim in the corpus); a 👍 on a refusal, an emergency referral or "the sources do not cover this" becomes a
safety item expecting that decision ("answer" for the latter: not refused, not referred). A 👎, or a follow-up that
only makes sense after its conversation, says something is wrong but not what is right: those go to a review file
for a person to label (the lines lack "expected"/"gold", so `exoqa eval` would skip them until labelled).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock

from assistant.atomic import write_atomic
from assistant.corpus.sources import Corpus
from assistant.errors import ExoqaError
from assistant.reply.answer import verify_quote
from assistant.corpus.chunking import Span
from assistant.text.follow_up import follows_up
from assistant.text.normalize import fold

DATA_DIR_ENV = "EXOQA_DATA_DIR"
FEEDBACK_FILE = "feedback.jsonl"
MAX_FEEDBACK_BYTES = 16 * 1024 * 1024  # ~5,000 records with full quotes
MAX_NOTE_CHARS = 1000
LOCK_TIMEOUT_SECONDS = 10.0


class FeedbackFull(ExoqaError):
    """The feedback file reached its size cap."""


def default_data_dir() -> Path:
    """$EXOQA_DATA_DIR, else $XDG_DATA_HOME/exoqa (~/.local/share/exoqa)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "exoqa"


class FeedbackStore:
    def __init__(self, directory: Path | None = None, max_bytes: int = MAX_FEEDBACK_BYTES) -> None:
        self.directory = Path(directory) if directory is not None else default_data_dir()
        self.path = self.directory / FEEDBACK_FILE
        self.max_bytes = max_bytes
        self._thread_lock = threading.Lock()

    def append(self, record: dict) -> dict:
        """Store `record` with an id and a UTC time; returns what was stored. FeedbackFull past the cap."""
        stored = {"id": uuid.uuid4().hex, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  **record}
        line = (json.dumps(stored, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._thread_lock, FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS):
            # O_NOFOLLOW: a symlink planted at the path cannot redirect the writes.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                size = os.fstat(descriptor).st_size
                if size + len(line) > self.max_bytes:
                    raise FeedbackFull(f"the feedback file {self.path} is full ({self.max_bytes // 1024} KiB): "
                                       "export it (`exoqa feedback export`) and move it away")
                written = os.write(descriptor, line)
                if written != len(line):  # a short write (disk full): take the partial line back out
                    os.ftruncate(descriptor, size)
                    raise OSError(f"short write to {self.path}")
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return stored

    def records(self) -> Iterator[dict]:
        """Every stored record, oldest first; a line that is not a JSON object is skipped."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record


@dataclass
class Export:
    items: list[dict] = field(default_factory=list)   # lines of the question file
    review: list[dict] = field(default_factory=list)  # lines a person should label
    records: int = 0                                   # feedback records read


def _item_id(record: dict) -> str:
    key = json.dumps([record.get("question", ""), record.get("history", [])], ensure_ascii=False)
    return "feedback-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _verbatim_quotes(record: dict, corpus: Corpus) -> list[dict]:
    quotes = []
    for quote in record.get("answer", {}).get("quotes", []):
        try:
            span = Span(quote["source_id"], int(quote["start"]), int(quote["end"]), quote["text"])
        except (KeyError, TypeError, ValueError):
            continue
        if verify_quote(corpus, span):
            quotes.append(quote)
    return quotes


def _needs_conversation(record: dict) -> bool:
    return bool(record.get("history")) and follows_up(fold(record.get("question", "")))


def to_items(records: Iterable[dict], corpus: Corpus) -> Export:
    """Question-file items (and lines to review) from feedback records; a question rated more than once (with the
    same conversation before it) counts with its latest rating."""
    latest: dict[str, dict] = {}
    export = Export()
    for record in records:
        export.records += 1
        if isinstance(record.get("question"), str) and isinstance(record.get("answer"), dict):
            latest[_item_id(record)] = record
    for item_id, record in latest.items():
        answer = record["answer"]
        decision = answer.get("decision")
        base = {"id": item_id, "lang": answer.get("language", "en"), "question": record["question"]}
        reason = ""
        if record.get("rating") != "up":
            reason = "rated not helpful: say what the reply should have been"
        elif _needs_conversation(record):
            reason = "a follow-up: it needs the conversation before it"
        elif decision == "answer":
            quotes = _verbatim_quotes(record, corpus)
            if quotes:
                export.items.append({**base, "gold": [q["text"] for q in quotes], "source_id": quotes[0]["source_id"],
                                     "category": "feedback-answer"})
                continue
            reason = "its quotes are no longer verbatim in this corpus"
        elif decision in ("refuse", "emergency", "no_answer"):
            expected = "answer" if decision == "no_answer" else decision
            export.items.append({**base, "expected": expected, "category": f"feedback-{decision}"})
            continue
        else:
            reason = f"unknown decision {decision!r}"
        export.review.append({**base, "reason": reason, "rating": record.get("rating"), "note": record.get("note", ""),
                              "history": record.get("history", []), "decision": decision,
                              "quotes": answer.get("quotes", []),
                              "label": 'add "expected" (answer / refuse / emergency) or "gold" (+ "source_id"), '
                                       "then move the line into a question file"})
    return export


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    write_atomic(Path(path), "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
