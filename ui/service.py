"""One Assistant per process, loaded in the background, and a bounded way to call it from async code.

The server starts answering HTTP at once: the corpus (and so the ISEV warnings and the sources list) loads
synchronously, the model and index in a thread. If the index must be rebuilt, the build reports the texts it
has embedded so the page and /api/health can show progress instead of hanging.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant import Answer, Assistant, ExoqaError, Passage
from assistant.core import isev_warnings_for
from assistant.paths import default_corpus_dir
from assistant.corpus.sources import load_corpus
from assistant.retrieval.embeddings import DEFAULT_MODEL
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
            assistant = Assistant.load(corpus_dir=self.corpus_dir, index_dir=self.index_dir, model=self.model,
                                       allow_download=self.allow_download, rebuild=self.rebuild,
                                       settings=self.settings, on_progress=self._embedded)
            with self._lock:
                self.assistant, self.corpus, self.warnings = assistant, assistant.corpus, assistant.warnings
                self._state = "ready"
            log.info("exoqa is ready")
        except ExoqaError as exc:  # corpus, index or model problem, explained in one line on the page
            with self._lock:
                self._state, self._error = "error", str(exc)
            log.error("exoqa could not load: %s", exc)
        except Exception as exc:  # noqa: BLE001 - the page must say it failed rather than spin forever
            with self._lock:
                self._state, self._error = "error", f"{type(exc).__name__}: {exc}"
            log.exception("exoqa could not load")

    def _embedded(self, done: int, total: int) -> None:
        with self._lock:
            if self._state != "building":
                log.info("building the index (%d sentences and passages to embed)", total)
            self._state, self._done, self._total = "building", done, total

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"status": self._state, "error": self._error,
                    "progress": {"done": self._done, "total": self._total}}

    def health(self) -> dict[str, Any]:
        status = self.status()
        ready = status["status"] == "ready"
        manifest = dict(self.assistant.retriever.index.manifest) if ready else None
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
        return await self._run(assistant.ask, question, list(history or []))

    async def search(self, query: str, k: int) -> list[Passage]:
        assistant = self._ready_assistant()
        return await self._run(assistant.search, query, k)

    def sources(self) -> list[dict]:
        return [s.card() for s in self.corpus.sources]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
