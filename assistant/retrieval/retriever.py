"""Hybrid retrieval: dense passage and sentence scores from FAISS fused with BM25 by weighted reciprocal rank.

`Retriever.retrieve(query)` returns a `Retrieval`: the fused passage scores, the sentence similarities and BM25
scores that quote choice reads, and the time each stage took, as values.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.corpus.chunking import Span, corpus_passages, corpus_sentences
from assistant.corpus.context import CONTEXT_VERSION, source_headers
from assistant.corpus.sources import Corpus
from assistant.corpus.translations import NONE as NO_TRANSLATIONS, OTHER_LANGUAGE, Translations, load_translations
from assistant.errors import ExoqaError, IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.query import Query
from assistant.retrieval import fusion
from assistant.retrieval.embeddings import Embedder
from assistant.retrieval.incremental import MANIFEST_KEY as KEYS_FIELD, embed_units, source_keys
from assistant.retrieval.index_store import (IndexBuildError, StoredIndex, build_lock, check_manifest, read_index,
                                             read_last_good, write_index)
from assistant.retrieval.lexical import LexicalIndex, tokenize
from assistant.settings import Settings
from assistant.text.tokens import count_tokens as count_llm_tokens

log = logging.getLogger("exoqa")

# What each signal sees of its source's context header (corpus/context.py): passages are embedded bare,
# sentences and the lexical index carry the header, so a question can name its source in either language.
PASSAGE_HEADER, SENTENCE_HEADER, LEXICAL_HEADER = "none", "full", "full"


@dataclass(frozen=True)
class Passage(Span):
    """A retrieved passage: its span and fused score."""

    score: float

    def to_dict(self) -> dict:
        return {"text": self.text, "source_id": self.source_id, "start": self.start, "end": self.end,
                "score": round(self.score, 6)}


def translation_layer(corpus: Corpus, settings: Settings) -> Translations:
    """The corpus's translations when the translation layer is on (none otherwise, or for a corpus without)."""
    return load_translations(corpus) if settings.translation_layer else NO_TRANSLATIONS


def expected_manifest(corpus: Corpus, embedder: Embedder, settings: Settings,
                      translations: Translations | None = None) -> dict:
    translations = translation_layer(corpus, settings) if translations is None else translations
    return {"corpus_hash": corpus.content_hash, "translations": translations.manifest(),
            "model_id": embedder.model_id, "dim": embedder.dim,
            "chunking": {"unit": "sentence", "passage_max_tokens": settings.passage_max_tokens,
                         "passage_max_tokens_zh": settings.passage_max_tokens_zh,
                         "tokenizer": embedder.model_id, "overlap_sentences": 1},
            "context_header": {"passages": PASSAGE_HEADER, "sentences": SENTENCE_HEADER,
                               "version": CONTEXT_VERSION}}


@dataclass(frozen=True)
class IndexPlan:
    """What an index build embeds: sentences, their glosses, passages, theirs; and the text sent for each.

    A gloss is an item's translation (corpus/translations.py): (item id, translated text)."""

    sentences: list[Span]
    passages: list[tuple[Span, range]]
    texts: list[str]
    sentence_glosses: list[tuple[int, str]] = field(default_factory=list)
    passage_glosses: list[tuple[int, str]] = field(default_factory=list)

    @property
    def units(self) -> list[Span]:
        return [*self.sentences, *(self.sentences[i] for i, _ in self.sentence_glosses),
                *(p for p, _ in self.passages), *(self.passages[i][0] for i, _ in self.passage_glosses)]

    @property
    def sentence_rows(self) -> int:
        return len(self.sentences) + len(self.sentence_glosses)


def plan_index(corpus: Corpus, embedder: Embedder, settings: Settings,
               translations: Translations | None = None) -> IndexPlan:
    translations = translation_layer(corpus, settings) if translations is None else translations
    sentences = corpus_sentences(corpus)
    passages = corpus_passages(corpus, sentences, settings.passage_budget, embedder.count_tokens)
    headers = source_headers(corpus)
    sentence_glosses = [(i, g) for i, s in enumerate(sentences)
                        if (g := translations.of(s.source_id, s.start, s.end)) is not None]
    passage_glosses = [(i, g) for i, (p, r) in enumerate(passages)
                       if (g := _passage_gloss(corpus, sentences, r, translations)) is not None]
    texts = ([_with_header(s, headers, SENTENCE_HEADER) for s in sentences]
             + [_with_header(sentences[i], headers, SENTENCE_HEADER, g) for i, g in sentence_glosses]
             + [_with_header(p, headers, PASSAGE_HEADER) for p, _ in passages]
             + [_with_header(passages[i][0], headers, PASSAGE_HEADER, g) for i, g in passage_glosses])
    return IndexPlan(sentences, passages, texts, sentence_glosses, passage_glosses)


def _passage_gloss(corpus: Corpus, sentences: list[Span], sentence_range: range,
                   translations: Translations) -> str | None:
    """A passage's translation: its sentences' translations joined, when every one of them has one."""
    parts = [translations.of(s.source_id, s.start, s.end) for s in (sentences[i] for i in sentence_range)]
    if not parts or any(p is None for p in parts):
        return None
    target = OTHER_LANGUAGE.get(corpus[sentences[sentence_range.start].source_id].language, "en")
    return ("" if target == "zh" else " ").join(parts)


def _token_stats(plan: IndexPlan, embedder: Embedder) -> dict:
    """Passage sizes in the model's tokens (what the budget bounds) and in cl100k tokens (what an LLM is fed)."""
    model = [embedder.count_tokens(p.text) for p, _ in plan.passages]
    llm = [count_llm_tokens(p.text) for p, _ in plan.passages]
    return {"passages": len(model),
            "model_tokens": {"total": sum(model), "max": max(model, default=0)},
            "cl100k_tokens": {"total": sum(llm), "max": max(llm, default=0)}}


def build_index(corpus: Corpus, embedder: Embedder, directory: Path, settings: Settings | None = None,
                progress: bool = True, on_progress=None) -> int:
    """Build the index into `directory`; returns how many vectors were reused from the previous one.

    `on_progress(done, total)` is called as texts are embedded (total: the texts this build must embed).
    """
    settings = settings or Settings.from_env()
    translations = translation_layer(corpus, settings)
    plan = plan_index(corpus, embedder, settings, translations)
    units = plan.units
    # Sources whose embedded texts are unchanged keep their vectors from the previous index here.
    keys = source_keys(embedder.model_id, units, plan.texts)
    with build_lock(directory):  # two builds of one index never interleave (index_store.build_lock)
        matrix, reused = embed_units(directory, embedder.dim, units, plan.texts, keys, embedder.embed_passages,
                                     progress, on_progress)
        manifest = {**expected_manifest(corpus, embedder, settings, translations), KEYS_FIELD: keys,
                    "token_counts": _token_stats(plan, embedder)}
        write_index(directory, manifest, plan.passages, plan.sentences, matrix[plan.sentence_rows:],
                    matrix[:plan.sentence_rows], corpus=corpus, kind=settings.vector_index,
                    glosses={"passages": plan.passage_glosses, "sentences": plan.sentence_glosses})
    return reused


@dataclass(frozen=True)
class Retrieval:
    """One query's scores: fused passage scores, each sentence's dense similarity and BM25, and stage times."""

    query: Query
    fused: np.ndarray
    sentence_similarity: np.ndarray
    sentence_lexical: np.ndarray
    timings_ms: dict[str, float] = field(default_factory=dict)


class Retriever:
    fallback: str | None = None  # why the last good index is serving instead of a fresh one (Retriever.open)

    def __init__(self, corpus: Corpus, embedder: Embedder, stored: StoredIndex, settings: Settings | None = None
                 ) -> None:
        self.corpus = corpus
        self.embedder = embedder
        self.index = stored
        self.settings = settings or Settings.from_env()
        self.languages = frozenset(source.language for source in corpus.quotable_sources)
        headers = source_headers(corpus)
        self.lexical = LexicalIndex([_with_header(p, headers, LEXICAL_HEADER) for p in stored.passages],
                                    k1=self.settings.lexical_k1, b=self.settings.lexical_b)
        # Bare sentences, for choosing quotes inside the retrieved passages (a header would tie them).
        self.sentence_lexical = LexicalIndex([s.text for s in stored.sentences])
        self._sentence_owner = np.zeros(len(stored.sentences), dtype=np.int64)
        for p, sentence_range in enumerate(stored.passage_sentences):
            self._sentence_owner[sentence_range.start:sentence_range.stop] = p
        # The translation layer, as the index stored it (so a fallback index brings its own).
        self.sentence_gloss = dict(stored.sentence_glosses)
        self._passages = _GlossSide(stored.passages, stored.passage_glosses, corpus,
                                    lambda i, text: _with_header(stored.passages[i], headers, LEXICAL_HEADER, text),
                                    self.settings)
        self._sentences = _GlossSide(stored.sentences, stored.sentence_glosses, corpus, lambda i, text: text,
                                     self.settings)

    @classmethod
    def open(cls, corpus: Corpus, embedder: Embedder, directory: Path, rebuild: str = "auto",
             settings: Settings | None = None, on_progress=None) -> Retriever:
        """Load the index; rebuild="auto" rebuilds a missing, mismatched or corrupt one, "never" raises instead.

        Every automatic rebuild says why in one line on the log. If the rebuild fails (disk full, read-only,
        lock timeout), the last good index keeps serving together with the corpus it was built from (its
        snapshot), and `fallback` says why; with no intact last good index the build error is raised.
        `retriever.corpus` is then that snapshot, not `corpus`.
        """
        settings = settings or Settings.from_env()
        try:
            return cls._checked(corpus, embedder, directory, settings)
        except (IndexMissingError, IndexMismatchError, IndexCorruptError):
            if rebuild == "never":
                raise
        with build_lock(directory):
            try:  # another process may have rebuilt it while this one waited for the lock
                return cls._checked(corpus, embedder, directory, settings)
            except (IndexMissingError, IndexMismatchError, IndexCorruptError) as problem:
                reason = str(problem)
            log.warning("exoqa: rebuilding the index at %s because %s", directory, reason)
            try:
                reused = build_index(corpus, embedder, directory, settings, on_progress=on_progress)
                log.warning("exoqa: index rebuilt at %s (%d vectors reused from unchanged sources)", directory, reused)
                return cls._checked(corpus, embedder, directory, settings)
            except (OSError, ExoqaError) as failure:
                return cls._last_good(embedder, directory, settings, f"{reason} The rebuild failed: {failure}",
                                      failure)

    @classmethod
    def _checked(cls, corpus: Corpus, embedder: Embedder, directory: Path, settings: Settings) -> Retriever:
        stored = read_index(directory, corpus)
        check_manifest(stored.manifest, expected_manifest(corpus, embedder, settings))
        return cls(corpus, embedder, stored, settings)

    @classmethod
    def _last_good(cls, embedder: Embedder, directory: Path, settings: Settings, reason: str,
                   failure: Exception) -> Retriever:
        try:
            corpus, stored = read_last_good(directory)
            check_manifest(stored.manifest, expected_manifest(corpus, embedder, settings))
        except ExoqaError as unusable:
            raise IndexBuildError(f"{reason}. No last good index to fall back on ({unusable}).") from failure
        note = (f"serving the last good index (built for corpus {stored.manifest['corpus_hash'][:12]}) "
                f"because {reason}")
        log.warning("exoqa: %s", note)
        stored.manifest = {**stored.manifest, "fallback": note}
        retriever = cls(corpus, embedder, stored, settings)
        retriever.fallback = note
        return retriever

    def query(self, text: str, history=()) -> Query:
        """A Query for this corpus, embedded (the gate's vector too only when it costs nothing extra)."""
        query = Query.build(text, history, self.languages)
        return query.embedded(self.embedder, embed_gate=query.gate_text == query.expanded)

    def retrieve(self, query: Query) -> Retrieval:
        """Scores of every passage and sentence for `query` (embedded here if it has no vector yet)."""
        timings: dict[str, float] = {}
        if query.vector is None:
            query = query.embedded(self.embedder, embed_gate=False)
            timings["embed_ms"] = query.embed_ms
        t1 = time.perf_counter()
        # Every vector is scored up to fusion.CANDIDATES of them (the shipped corpus: exact, as a full sort);
        # a larger index is searched for its nearest CANDIDATES only, and fusion ranks only those.
        language = query.language
        dense = fusion.dense_rankings(self.index.passage_vectors, self.index.sentence_vectors,
                                      self._sentence_owner, query.vector, passage_rows=self._passages.rows(language),
                                      sentence_rows=self._sentences.rows(language))
        t2 = time.perf_counter()
        tokens = tokenize(query.expanded)
        translated = self._dictionary_tokens(query)
        lexical = self._passages.better_lexical(_weighted_scores(self.lexical, tokens, translated,
                                                                 self.settings.dictionary_weight), tokens, language)
        t3 = time.perf_counter()
        fused = fusion.fuse(dense, lexical, self.settings.fusion_weights, self.settings.rrf_k,
                            score_weights=self.settings.score_weights)
        t4 = time.perf_counter()
        sentence_lexical = self._sentences.better_lexical(
            _weighted_scores(self.sentence_lexical, tokens, translated, self.settings.dictionary_weight), tokens,
            language)
        t5 = time.perf_counter()
        timings.update(dense_ms=(t2 - t1) * 1e3, lexical_ms=(t3 - t2 + t5 - t4) * 1e3, fusion_ms=(t4 - t3) * 1e3)
        return Retrieval(query, fused, dense.sentence_similarity, sentence_lexical, timings)

    def _dictionary_tokens(self, query: Query) -> list[str]:
        """BM25 tokens of the question translated word by word (CC-CEDICT), for a corpus that has sources in
        another language than the question's but no translation layer to bridge them; else none."""
        if (not self.settings.dictionary_translation or self._passages.lexical is not None
                or not self.languages - {query.language}):
            return []
        from assistant.text.cedict import dictionary  # loaded on first use only

        into = "en" if query.language == "zh" else "zh"
        return tokenize(dictionary().translate(query.context, into))

    def top_passages(self, retrieval: Retrieval, k: int) -> list[Passage]:
        order = fusion.top_ids(retrieval.fused, k)
        return [self.passage(int(i), float(retrieval.fused[i])) for i in order]

    def search(self, text: str, k: int | None = None) -> list[Passage]:
        """The k best passages for a question (k defaults to settings.search_k)."""
        return self.top_passages(self.retrieve(self.query(text)), k or self.settings.search_k)

    def gloss(self, sentences: range, language: str) -> str | None:
        """exoqa's translation of the sentences `sentences` (one quote) for a reader of `language`, when their
        source is in the other language and each has one (never source text); else None."""
        span = self.index.sentences[sentences.start]
        source = self.corpus[span.source_id] if span.source_id in self.corpus else None
        parts = [self.sentence_gloss.get(i) for i in sentences]
        if source is None or source.language == language or None in parts:
            return None
        return "\n".join(parts)

    def passage(self, i: int, score: float) -> Passage:
        span: Span = self.index.passages[i]
        return Passage(source_id=span.source_id, start=span.start, end=span.end, text=span.text, score=score)


def _weighted_scores(index: LexicalIndex, tokens: list[str], translated: list[str], weight: float) -> np.ndarray:
    """BM25 of the question's tokens plus `weight` times that of its dictionary translation (if any): the
    translation adds evidence but, at weight < 1, cannot outweigh an equal match of the question's own terms."""
    scores = index.scores(tokens)
    return scores + np.float32(weight) * index.scores(translated) if translated else scores


class _GlossSide:
    """One kind of item (passages or sentences) with its glosses: which vector rows count for a question's
    language, and BM25 as the better of the original's and the gloss's in that language."""

    def __init__(self, items: list[Span], glosses: list[tuple[int, str]], corpus: Corpus, lexical_text,
                 settings: Settings) -> None:
        self.items = len(items)
        owners = [i for i, _ in glosses]
        self.owner = np.concatenate([np.arange(len(items)), np.asarray(owners, np.int64)]).astype(np.int64)
        # A gloss is in the other language than its source's.
        self.gloss_language = np.array([OTHER_LANGUAGE.get(_language(corpus, items[i]), "") for i in owners],
                                       dtype=object)
        self._rows: dict[str, fusion.Rows | None] = {}
        self.lexical = None
        if glosses:
            texts = [""] * len(items)
            for i, text in glosses:
                texts[i] = lexical_text(i, text)
            self.lexical = LexicalIndex(texts, k1=settings.lexical_k1, b=settings.lexical_b)
            self.item_gloss_language = np.full(len(items), "", dtype=object)
            self.item_gloss_language[owners] = self.gloss_language

    def rows(self, language: str) -> fusion.Rows | None:
        if self.lexical is None:
            return None  # one row per item
        if language not in self._rows:
            usable = np.concatenate([np.ones(self.items, bool), self.gloss_language == language])
            self._rows[language] = fusion.Rows(self.owner, self.items, usable)
        return self._rows[language]

    def better_lexical(self, original: np.ndarray, tokens: list[str], language: str) -> np.ndarray:
        if self.lexical is None:
            return original
        gloss = self.lexical.scores(tokens)
        return np.maximum(original, np.where(self.item_gloss_language == language, gloss, 0.0)).astype(np.float32)


def _language(corpus: Corpus, span: Span) -> str:
    return corpus[span.source_id].language if span.source_id in corpus else ""


def _with_header(span: Span, headers: dict[str, str], mode: str, text: str | None = None) -> str:
    """The text that represents a span (or `text`, its gloss) for retrieval: with its source header ("full")
    or bare ("none")."""
    header = headers.get(span.source_id, "")
    text = span.text if text is None else text
    return f"{header}\n{text}" if mode == "full" and header else text

