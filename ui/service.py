"""One Assistant per process, loaded in the background, and a bounded way to call it from async code.

The server starts answering HTTP at once: the corpus (and so the ISEV warnings and the sources list) loads
synchronously, the model and index in a thread. If the index must be rebuilt, the build reports the texts it
has embedded so the page and /api/health can show progress instead of hanging. If a last good index exists
(with the corpus snapshot it was built from), it serves while the rebuild runs, and keeps serving if the
rebuild fails (a lock path that is a directory, a full disk): the rebuild's state is `rebuild` in the status.

What HTTP clients see of an error never holds an absolute path (`without_paths`); the log keeps the details.
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant import Answer, Assistant, ExoqaError, InvalidQuestionError, Passage
from assistant.core import isev_warnings_for
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.paths import default_corpus_dir, default_index_dir
from assistant.corpus.sources import load_corpus
from assistant.retrieval.embeddings import DEFAULT_MODEL, load_embedder
from assistant.retrieval.index_store import read_last_good
from assistant.retrieval.retriever import Retriever, check_manifest, expected_manifest
from assistant.settings import Settings

log = logging.getLogger("exoqa.ui")

WORKERS = 2               # library calls at once (CPU-bound; the machine has few cores)
QUEUE_WAIT_SECONDS = 10.0  # how long a request waits for a free worker before a 503
TIME_LIMIT_SECONDS = 30.0  # how long one request may take before a 504


class NotReady(Exception):
    """The model or index is still loading or building (or failed to load)."""


class Busy(Exception):
    """Every worker stayed busy for the whole queue wait."""


class TooSlow(Exception):
    """The library call outlived the per-request time limit."""


# An absolute path: "/" at the start or after a space, quote, bracket or "=", not inside a URL or a fraction.
_ABSOLUTE_PATH = re.compile(r"""(?<![\w:/.~-])/[^\s'"`()<>\[\],;]+""")


def without_paths(message: str) -> str:
    """`message` with each absolute path cut to its last part ("…/e5-small"), for what HTTP clients see."""
    def last_part(match: re.Match) -> str:
        path = match.group(0)
        tail = path.rstrip(".:")  # sentence punctuation after a path stays
        name = tail.rstrip("/").rsplit("/", 1)[-1]
        return "…/" + name + path[len(tail):] if name else "…" + path[len(tail):]
    return _ABSOLUTE_PATH.sub(last_part, message)


class Service:
    def __init__(self, corpus_dir: Path | None = None, index_dir: Path | None = None, model: str = DEFAULT_MODEL,
                 rebuild: str = "auto", allow_download: bool = False, assistant: Assistant | None = None,
                 settings: Settings | None = None,
                 workers: int = WORKERS,
                 queue_wait: float = QUEUE_WAIT_SECONDS, time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.model = model
        self.corpus_dir = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
        # The corpus loads now (fast, and a broken corpus fails at once); the ISEV panel needs it from the start.
        self.corpus = assistant.corpus if assistant else load_corpus(self.corpus_dir)
        # The library's rule: a corpus without the article borrows the warnings from the shipped one.
        self.warnings = assistant.warnings if assistant else isev_warnings_for(self.corpus)
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.rebuild = rebuild
        self.settings = settings
        self.allow_download = allow_download
        self.assistant = assistant
        self.workers = workers
        self.queue_wait = queue_wait
        self.time_limit = time_limit
        self._lock = threading.Lock()
        self._state = "ready" if assistant else "loading"
        self._error = ""
        self._done = 0
        self._total = 0
        self._first_batch: tuple[float, int] | None = None  # (when, texts done) at the first progress report
        self._rebuild: dict[str, str] | None = None  # while a last good index serves: the rebuild's state
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="exoqa-ask")
        self._slots: asyncio.Semaphore | None = None
        self._loader: threading.Thread | None = None

    # ----- loading -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Load the model and index in a background thread (no-op when already loaded or loading)."""
        if self.assistant is not None or self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load, name="exoqa-load", daemon=True)
        self._loader.start()

    def wait_until_loaded(self, timeout: float | None = None) -> None:
        if self._loader is not None:
            self._loader.join(timeout)

    def _load(self) -> None:
        try:
            embedder = load_embedder(self.model, allow_download=self.allow_download)
            settings = self.settings or Settings.from_env()
            load = dict(corpus_dir=self.corpus_dir, index_dir=self.index_dir, model=self.model, embedder=embedder,
                        settings=settings)
            try:
                assistant = Assistant.load(**load, rebuild="never")
            except (IndexMissingError, IndexMismatchError, IndexCorruptError) as problem:
                if self.rebuild == "never":
                    raise
                # Serve the last good index at once (if there is one) while the index is rebuilt.
                self._serve_last_good(embedder, settings, str(problem))
                assistant = Assistant.load(**load, rebuild="auto", on_progress=self._embedded)
            self._serve(assistant)
            with self._lock:
                if self._rebuild is not None:  # a last good index served meanwhile: say how the rebuild ended
                    failed = assistant.retriever.fallback
                    self._rebuild = {"status": "failed", "error": without_paths(failed)} if failed else \
                        {"status": "done"}
            log.info("exoqa is ready")
        except Exception as exc:  # noqa: BLE001 - the page must say it failed rather than spin forever
            message = str(exc) if isinstance(exc, ExoqaError) else f"{type(exc).__name__}: {exc}"
            with self._lock:
                serving = self.assistant is not None
                if serving:  # the last good index keeps serving; the failed rebuild is reported, not fatal
                    self._rebuild = {"status": "failed", "error": without_paths(message)}
                else:
                    self._state, self._error = "error", without_paths(message)
            if isinstance(exc, ExoqaError):  # corpus, index or model problem, explained in one line
                log.error("exoqa could not %s: %s", "rebuild the index" if serving else "load", exc)
            else:
                log.exception("exoqa could not load")

    def _serve(self, assistant: Assistant) -> None:
        with self._lock:
            self.assistant, self.corpus, self.warnings = assistant, assistant.corpus, assistant.warnings
            self._state = "ready"

    def _serve_last_good(self, embedder, settings: Settings, reason: str) -> None:
        """Serve the last good index and the corpus snapshot it was built from, if both are intact."""
        index_dir = self.index_dir or default_index_dir(self.model, self.corpus_dir)
        try:
            corpus, stored = read_last_good(index_dir)
            check_manifest(stored.manifest, expected_manifest(corpus, embedder, settings))
        except ExoqaError as unusable:
            log.info("no last good index to serve during the rebuild: %s", unusable)
            return
        note = (f"serving the last good index (built for corpus {stored.manifest['corpus_hash'][:12]}) while the "
                f"index is rebuilt, because {without_paths(reason)}")
        stored.manifest = {**stored.manifest, "fallback": note}
        retriever = Retriever(corpus, embedder, stored, settings)
        retriever.fallback = note
        with self._lock:
            self._rebuild = {"status": "building", "reason": without_paths(reason)}
        self._serve(Assistant(corpus, retriever))
        log.warning("exoqa: %s", note)

    def _embedded(self, done: int, total: int) -> None:
        with self._lock:
            if self._first_batch is None:  # the clock for the estimate starts after the first batch
                log.info("building the index (%d sentences and passages to embed)", total)
                self._first_batch = (time.monotonic(), done)
            if self.assistant is None:  # nothing to serve yet: the page shows the build
                self._state = "building"
            self._done, self._total = done, total

    def status(self) -> dict[str, Any]:
        with self._lock:
            progress: dict[str, int] = {"done": self._done, "total": self._total}
            if self._first_batch is not None and self._first_batch[1] < self._done < self._total:
                started, first_done = self._first_batch
                rate = (self._done - first_done) / max(1e-6, time.monotonic() - started)
                progress["eta_seconds"] = round((self._total - self._done) / rate)
            return {"status": self._state, "error": self._error, "progress": progress,
                    "rebuild": dict(self._rebuild) if self._rebuild else None}

    def health(self) -> dict[str, Any]:
        status = self.status()
        ready = status["status"] == "ready"
        manifest = dict(self.assistant.retriever.index.manifest) if ready else None
        if manifest and "fallback" in manifest:
            manifest["fallback"] = without_paths(str(manifest["fallback"]))
        return {
            **status,
            "model": self.assistant.retriever.embedder.model_id if ready else self.model,
            "index": manifest,
            "corpus": {"sources": len(self.corpus.sources), "quotable_sources": len(self.corpus.quotable_sources),
                       "hash": self.corpus.content_hash},
            "limits": {"workers": self.workers, "queue_wait_seconds": self.queue_wait,
                       "time_limit_seconds": self.time_limit},
        }

    # ----- bounded calls -----------------------------------------------------------------------------------
    def _ready_assistant(self) -> Assistant:
        status = self.status()
        if status["status"] != "ready":
            raise NotReady(status)
        return self.assistant  # type: ignore[return-value]

    async def _run(self, function, *args):
        """Run a CPU-bound library call in the pool: wait at most queue_wait for a slot, then time_limit."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_wait)
        except TimeoutError:
            raise Busy() from None
        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the thread really finishes, even if the caller gave up waiting.
        future.add_done_callback(lambda _: self._slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.time_limit)
        except TimeoutError:
            raise TooSlow() from None

    async def ask(self, question: str, history: Sequence[Any] | None = None) -> Answer:
        assistant = self._ready_assistant()
        return await self._shown(self._run(assistant.ask, question, list(history or [])))

    async def search(self, query: str, k: int) -> list[Passage]:
        assistant = self._ready_assistant()
        return await self._shown(self._run(assistant.search, query, k))

    @staticmethod
    async def _shown(call):
        """Await a library call; an error that goes to the client loses its absolute paths (the log keeps them)."""
        try:
            return await call
        except InvalidQuestionError:
            raise
        except ExoqaError as exc:
            log.error("exoqa call failed: %s", exc)
            try:
                shown = type(exc)(without_paths(str(exc)))
            except TypeError:
                shown = ExoqaError(without_paths(str(exc)))
            raise shown from None

    def sources(self) -> list[dict]:
        return [s.card() for s in self.corpus.sources]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
