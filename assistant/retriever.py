"""Hybrid retrieval: dense passage and sentence scores from FAISS fused with BM25 by weighted reciprocal rank."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import ranking
from .chunking import Span, corpus_passages, corpus_sentences
from .context import CONTEXT_VERSION, source_headers
from .corpus import Corpus
from .embeddings import Embedder
from .errors import ExoqaError, IndexCorruptError, IndexMismatchError, IndexMissingError
from .glossary import expand
from .incremental import MANIFEST_KEY as KEYS_FIELD, embed_units, source_keys
from .index_store import (IndexBuildError, StoredIndex, build_lock, check_manifest, read_index, read_last_good,
                          write_index)
from .lexical import LexicalIndex

log = logging.getLogger("exoqa")

PASSAGE_MAX_TOKENS = 200
RRF_K = 3
# Weights of the three rankings in the fusion. Chosen from a stable plateau on the dev set (recall@5 0.89-0.94
# for K 1-10 and weights within 2x of these); see docs/retrieval.md.
WEIGHT_DENSE_PASSAGE, WEIGHT_DENSE_SENTENCE, WEIGHT_LEXICAL = 1.0, 1.0, 1.5
# Besides its rank, each ranking adds this share of its standardised score (ranking.standardised: how many
# standard deviations an item stands above the ranked items' mean), split 0.5 / 0.2 / 0.3. Ranks still decide;
# the scores settle what the ranks leave close, e.g. one dense ranking far ahead against BM25 barely ahead.
# With the BM25 below: PubMedQA R@1 0.980 -> 0.986 (the same for shares 0.1-0.5), article dev recall@5
# 0.923 -> 0.942, MRR 0.788 -> 0.790; see docs/pubmedqa.md.
SCORE_SHARE = 0.3
SCORE_WEIGHTS = (SCORE_SHARE * 0.5, SCORE_SHARE * 0.2, SCORE_SHARE * 0.3)
# BM25 of the passages: Anserini's defaults (k1 0.9, b 0.4) rather than 1.2 / 0.75; see docs/pubmedqa.md.
LEXICAL_K1, LEXICAL_B = 0.9, 0.4
# What each signal sees of its source's context header (assistant/context.py): passages are embedded bare,
# sentences and the lexical index carry the header, so a question can name its source in either language.
PASSAGE_HEADER, SENTENCE_HEADER, LEXICAL_HEADER = "none", "full", "full"


@dataclass(frozen=True)
class Passage:
    text: str
    source_id: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict:
        return {"text": self.text, "source_id": self.source_id, "start": self.start, "end": self.end,
                "score": round(self.score, 6)}


def expected_manifest(corpus: Corpus, embedder: Embedder) -> dict:
    return {"corpus_hash": corpus.content_hash, "model_id": embedder.model_id, "dim": embedder.dim,
            "chunking": {"unit": "sentence", "passage_max_tokens": PASSAGE_MAX_TOKENS,
                         "tokenizer": "tiktoken/cl100k_base", "overlap_sentences": 1},
            "context_header": {"passages": PASSAGE_HEADER, "sentences": SENTENCE_HEADER,
                               "version": CONTEXT_VERSION}}


def build_index(corpus: Corpus, embedder: Embedder, directory: Path, progress: bool = True) -> int:
    """Build the index into `directory`; returns how many vectors were reused from the previous one."""
    sentences = corpus_sentences(corpus)
    passages = corpus_passages(corpus, sentences, PASSAGE_MAX_TOKENS)
    headers = source_headers(corpus)
    texts = ([_with_header(s, headers, SENTENCE_HEADER) for s in sentences]
             + [_with_header(p, headers, PASSAGE_HEADER) for p, _ in passages])
    # Sources whose embedded texts are unchanged keep their vectors from the previous index here.
    units = [*sentences, *(p for p, _ in passages)]
    keys = source_keys(embedder.model_id, units, texts)
    with build_lock(directory):  # two builds of one index never interleave (index_store.build_lock)
        matrix, reused = embed_units(directory, embedder.dim, units, texts, keys, embedder.embed_passages, progress)
        write_index(directory, {**expected_manifest(corpus, embedder), KEYS_FIELD: keys}, passages, sentences,
                    matrix[len(sentences):], matrix[:len(sentences)], corpus=corpus)
    return reused


class Retriever:
    fallback: str | None = None  # why the last good index is serving instead of a fresh one (Retriever.open)

    def __init__(self, corpus: Corpus, embedder: Embedder, stored: StoredIndex) -> None:
        self.corpus = corpus
        self.embedder = embedder
        self.index = stored
        self._languages = frozenset(source.language for source in corpus.quotable_sources)
        headers = source_headers(corpus)
        self.lexical = LexicalIndex([_with_header(p, headers, LEXICAL_HEADER) for p in stored.passages],
                                    k1=LEXICAL_K1, b=LEXICAL_B)
        # Bare sentences, for choosing quotes inside the retrieved passages (a header would tie them).
        self.sentence_lexical = LexicalIndex([s.text for s in stored.sentences])
        self._sentence_owner = np.zeros(len(stored.sentences), dtype=np.int64)
        for p, sentence_range in enumerate(stored.passage_sentences):
            self._sentence_owner[sentence_range.start:sentence_range.stop] = p

    @classmethod
    def open(cls, corpus: Corpus, embedder: Embedder, directory: Path, rebuild: str = "auto") -> Retriever:
        """Load the index; rebuild="auto" rebuilds a missing, mismatched or corrupt one, "never" raises instead.

        If that rebuild fails (disk full, read-only, lock timeout), the last good index keeps serving together
        with the corpus it was built from (its snapshot), and `fallback` says why; with no intact last good
        index the build error is raised. `retriever.corpus` is then that snapshot, not `corpus`.
        """
        try:
            return cls._checked(corpus, embedder, directory)
        except (IndexMissingError, IndexMismatchError, IndexCorruptError):
            if rebuild == "never":
                raise
        with build_lock(directory):
            try:  # another process may have rebuilt it while this one waited for the lock
                return cls._checked(corpus, embedder, directory)
            except (IndexMissingError, IndexMismatchError, IndexCorruptError) as problem:
                reason = str(problem)
            try:
                build_index(corpus, embedder, directory)
                return cls._checked(corpus, embedder, directory)
            except (OSError, ExoqaError) as failure:
                return cls._last_good(embedder, directory, f"{reason} The rebuild failed: {failure}", failure)

    @classmethod
    def _checked(cls, corpus: Corpus, embedder: Embedder, directory: Path) -> Retriever:
        stored = read_index(directory, corpus)
        check_manifest(stored.manifest, expected_manifest(corpus, embedder))
        return cls(corpus, embedder, stored)

    @classmethod
    def _last_good(cls, embedder: Embedder, directory: Path, reason: str, failure: Exception) -> Retriever:
        try:
            corpus, stored = read_last_good(directory)
            check_manifest(stored.manifest, expected_manifest(corpus, embedder))
        except ExoqaError as unusable:
            raise IndexBuildError(f"{reason}. No last good index to fall back on ({unusable}).") from failure
        note = (f"serving the last good index (built for corpus {stored.manifest['corpus_hash'][:12]}) "
                f"because {reason}")
        log.warning("exoqa: %s", note)
        stored.manifest = {**stored.manifest, "fallback": note}
        retriever = cls(corpus, embedder, stored)
        retriever.fallback = note
        return retriever

    def query_text(self, query: str) -> str:
        """What is embedded and matched for a query: it plus the glossary's other-language terms, which help e5
        across languages as much as they help BM25 (only in languages the corpus has)."""
        return expand(query, self._languages)

    def score(self, query: str, timings: dict[str, float] | None = None,
              query_vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(fused passage scores, dense sentence similarities) for a query.

        `query_vector`: the caller's embedding of `query_text(query)`, shape (1, dim), to skip embedding it here.
        """
        timings = timings if timings is not None else {}
        t0 = time.perf_counter()
        expanded = self.query_text(query)
        vector = self.embedder.embed_queries([expanded]) if query_vector is None else query_vector
        t1 = time.perf_counter()
        # Every vector is scored up to ranking.CANDIDATES of them (the shipped corpus: exact, as a full sort);
        # a larger index is searched for its nearest CANDIDATES only, and fusion ranks only those.
        dense = ranking.dense_rankings(self.index.passage_vectors, self.index.sentence_vectors,
                                       self._sentence_owner, vector)
        t2 = time.perf_counter()
        lexical = self.lexical.scores(expanded)
        t3 = time.perf_counter()
        fused = ranking.fuse(dense, lexical, (WEIGHT_DENSE_PASSAGE, WEIGHT_DENSE_SENTENCE, WEIGHT_LEXICAL), RRF_K,
                             score_weights=SCORE_WEIGHTS)
        sentence_dense = dense.sentence_similarity
        t4 = time.perf_counter()
        if query_vector is None:
            timings["embed_ms"] = (t1 - t0) * 1e3
        timings.update(dense_ms=(t2 - t1) * 1e3, lexical_ms=(t3 - t2) * 1e3, fusion_ms=(t4 - t3) * 1e3)
        return fused, sentence_dense

    def sentence_lexical_scores(self, query: str) -> np.ndarray:
        """BM25 of each sentence for the glossary-expanded query."""
        return self.sentence_lexical.scores(self.query_text(query))

    def search(self, query: str, k: int = 5) -> list[Passage]:
        fused, _ = self.score(query)
        order = ranking.top_ids(fused, k)
        return [self._passage(int(i), float(fused[i])) for i in order]

    def _passage(self, i: int, score: float) -> Passage:
        span: Span = self.index.passages[i]
        return Passage(span.text, span.source_id, span.start, span.end, score)


def _with_header(span: Span, headers: dict[str, str], mode: str) -> str:
    """The text that represents a span for retrieval: with its source header ("full") or bare ("none")."""
    header = headers.get(span.source_id, "")
    return f"{header}\n{span.text}" if mode == "full" and header else span.text

