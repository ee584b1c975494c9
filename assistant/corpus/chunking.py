"""Sentences and passages with exact offsets into their source.

Sentences are the answer units. Passages group consecutive sentences of one
quotable region up to a token budget, counted by the caller's `count_tokens` (the embedding model's own
tokenizer: its input limit is what the budget protects), with a one-sentence overlap so an answer near a
boundary is found in either passage.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.corpus.sources import Corpus
from assistant.text.segment import split_sentences


@dataclass(frozen=True)
class Span:
    """A slice of one source: `corpus[source_id].text[start:end] == text`. Passages and quotes are spans too."""

    source_id: str
    start: int
    end: int
    text: str


def corpus_sentences(corpus: Corpus) -> list[Span]:
    spans = []
    for source in corpus.quotable_sources:
        for region in source.regions:
            for start, end in split_sentences(source.text, region.start, region.end):
                spans.append(Span(source.id, start, end, source.text[start:end]))
    return spans


def corpus_passages(corpus: Corpus, sentences: list[Span], max_tokens: int | Callable[[str], int],
                    count_tokens: Callable[[str], int]) -> list[tuple[Span, range]]:
    """Passages as (span, range of sentence indices it covers): consecutive sentences whose token counts add up
    to at most `max_tokens` (a longer single sentence is a passage of its own).

    `count_tokens` counts what the model reads for a text, so its count of "" (prefix and special tokens) is
    taken off each sentence's count: the budget is the content's. `max_tokens` may depend on the source's
    language: a function of it."""
    overhead = count_tokens("")
    budget = max_tokens if callable(max_tokens) else (lambda language: max_tokens)
    passages: list[tuple[Span, range]] = []
    i = 0
    while i < len(sentences):
        j, tokens = i, 0
        source_text = corpus[sentences[i].source_id].text
        limit = budget(corpus[sentences[i].source_id].language)
        while j < len(sentences) and sentences[j].source_id == sentences[i].source_id:
            if _region_break(corpus, sentences[j - 1], sentences[j]) and j > i:
                break
            cost = count_tokens(sentences[j].text) - overhead
            if j > i and tokens + cost > limit:
                break
            tokens += cost
            j += 1
        first, last = sentences[i], sentences[j - 1]
        passages.append((Span(first.source_id, first.start, last.end, source_text[first.start:last.end]),
                         range(i, j)))
        i = j if j - i <= 1 or j >= len(sentences) or sentences[j].source_id != first.source_id \
            or _region_break(corpus, sentences[j - 1], sentences[j]) else j - 1
    return passages


def _region_break(corpus: Corpus, a: Span, b: Span) -> bool:
    """True when a section line or a gap lies between two sentences of one source."""
    if a.source_id != b.source_id:
        return True
    for region in corpus[a.source_id].regions:
        if region.start <= a.start < region.end:
            return not (region.start <= b.start < region.end)
    return True
