"""Hybrid retrieval: dense passage and sentence scores from FAISS fused with BM25 by weighted reciprocal rank."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .chunking import Span, corpus_passages, corpus_sentences
from .context import CONTEXT_VERSION, source_headers
from .corpus import Corpus
from .embeddings import Embedder
from .errors import IndexMismatchError, IndexMissingError
from .glossary import expand
from .incremental import MANIFEST_KEY as KEYS_FIELD, embed_units, source_keys
from .index_store import StoredIndex, check_manifest, read_index, write_index
from .lexical import LexicalIndex

PASSAGE_MAX_TOKENS = 200
RRF_K = 3
# Weights of the three rankings in the fusion. Chosen from a stable plateau on the dev set (recall@5 0.89-0.94
# for K 1-10 and weights within 2x of these); see docs/retrieval.md.
WEIGHT_DENSE_PASSAGE, WEIGHT_DENSE_SENTENCE, WEIGHT_LEXICAL = 1.0, 1.0, 1.5
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
    matrix, reused = embed_units(directory, embedder.dim, units, texts, keys, embedder.embed_passages, progress)
    write_index(directory, {**expected_manifest(corpus, embedder), KEYS_FIELD: keys}, passages, sentences,
                matrix[len(sentences):], matrix[:len(sentences)])
    return reused


class Retriever:
    def __init__(self, corpus: Corpus, embedder: Embedder, stored: StoredIndex) -> None:
        self.corpus = corpus
        self.embedder = embedder
        self.index = stored
        headers = source_headers(corpus)
        self.lexical = LexicalIndex([_with_header(p, headers, LEXICAL_HEADER) for p in stored.passages])
        # Bare sentences, for choosing quotes inside the retrieved passages (a header would tie them).
        self.sentence_lexical = LexicalIndex([s.text for s in stored.sentences])
        self._sentence_owner = np.zeros(len(stored.sentences), dtype=np.int64)
        for p, sentence_range in enumerate(stored.passage_sentences):
            self._sentence_owner[sentence_range.start:sentence_range.stop] = p

    @classmethod
    def open(cls, corpus: Corpus, embedder: Embedder, directory: Path, rebuild: str = "auto") -> Retriever:
        """Load the index; rebuild="auto" rebuilds a missing or mismatched one, "never" raises instead."""
        try:
            stored = read_index(directory, corpus)
            check_manifest(stored.manifest, expected_manifest(corpus, embedder))
        except (IndexMissingError, IndexMismatchError):
            if rebuild == "never":
                raise
            build_index(corpus, embedder, directory)
            stored = read_index(directory, corpus)
        return cls(corpus, embedder, stored)

    def score(self, query: str, timings: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(fused passage scores, dense sentence similarities) for a query."""
        timings = timings if timings is not None else {}
        t0 = time.perf_counter()
        # The glossary's other-language terms help e5 across languages as much as they help BM25.
        expanded = expand(query)
        vector = self.embedder.embed_queries([expanded])
        t1 = time.perf_counter()
        n_p, n_s = self.index.passage_vectors.ntotal, self.index.sentence_vectors.ntotal
        p_sim, p_ids = self.index.passage_vectors.search(vector, n_p)
        s_sim, s_ids = self.index.sentence_vectors.search(vector, n_s)
        passage_dense = np.empty(n_p, np.float32)
        passage_dense[p_ids[0]] = p_sim[0]
        sentence_dense = np.empty(n_s, np.float32)
        sentence_dense[s_ids[0]] = s_sim[0]
        best_sentence = np.full(n_p, -1.0, np.float32)
        np.maximum.at(best_sentence, self._sentence_owner, sentence_dense)
        t2 = time.perf_counter()
        lexical = self.lexical.scores(expanded)
        t3 = time.perf_counter()
        fused = (WEIGHT_DENSE_PASSAGE * _rrf(passage_dense) + WEIGHT_DENSE_SENTENCE * _rrf(best_sentence)
                 + WEIGHT_LEXICAL * _rrf(lexical, zero_is_unranked=True))
        t4 = time.perf_counter()
        timings.update(embed_ms=(t1 - t0) * 1e3, dense_ms=(t2 - t1) * 1e3, lexical_ms=(t3 - t2) * 1e3,
                       fusion_ms=(t4 - t3) * 1e3)
        return fused, sentence_dense

    def sentence_lexical_scores(self, query: str) -> np.ndarray:
        """BM25 of each sentence for the glossary-expanded query."""
        return self.sentence_lexical.scores(expand(query))

    def search(self, query: str, k: int = 5) -> list[Passage]:
        fused, _ = self.score(query)
        order = np.argsort(-fused, kind="stable")[:k]
        return [self._passage(int(i), float(fused[i])) for i in order]

    def _passage(self, i: int, score: float) -> Passage:
        span: Span = self.index.passages[i]
        return Passage(span.text, span.source_id, span.start, span.end, score)


def _with_header(span: Span, headers: dict[str, str], mode: str) -> str:
    """The text that represents a span for retrieval: its source header ("full"), title only, or none."""
    header = headers.get(span.source_id, "")
    if mode == "none" or not header:
        return span.text
    if mode == "title":
        header = header.split(" | ", 1)[0]
    return f"{header}\n{span.text}"


def _rrf(scores: np.ndarray, zero_is_unranked: bool = False) -> np.ndarray:
    ranks = np.empty(len(scores), np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    out = 1.0 / (RRF_K + ranks)
    if zero_is_unranked:
        out[scores <= 0] = 0.0
    return out
