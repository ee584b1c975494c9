"""Sentences and passages with exact offsets into their source.

Sentences are the answer units. Passages group consecutive sentences of one
quotable region up to a token budget (counted with tiktoken), with a
one-sentence overlap so an answer near a boundary is found in either passage.
"""
from __future__ import annotations

from dataclasses import dataclass

from .corpus import Corpus
from .segment import split_sentences
from .tokens import count_tokens


@dataclass(frozen=True)
class Span:
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


def corpus_passages(corpus: Corpus, sentences: list[Span], max_tokens: int = 120) -> list[tuple[Span, range]]:
    """Passages as (span, range of sentence indices it covers)."""
    passages: list[tuple[Span, range]] = []
    i = 0
    while i < len(sentences):
        j, tokens = i, 0
        while j < len(sentences) and sentences[j].source_id == sentences[i].source_id:
            if _region_break(corpus, sentences[j - 1], sentences[j]) and j > i:
                break
            cost = count_tokens(sentences[j].text)
            if j > i and tokens + cost > max_tokens:
                break
            tokens += cost
            j += 1
        first, last = sentences[i], sentences[j - 1]
        text = corpus[first.source_id].text[first.start:last.end]
        passages.append((Span(first.source_id, first.start, last.end, text), range(i, j)))
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
