"""Quote choice: the best distinct sentences of the top retrieved passages, and the evidence they give."""
from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from assistant.corpus.chunking import Span
from assistant.corpus.sources import Corpus
from assistant.corpus.quotable import is_metadata
from assistant.reply.answer_cues import answer_cue, has_cue, is_question, restates
from assistant.retrieval.fusion import rrf, top_ids
from assistant.retrieval.retriever import Retrieval
from assistant.settings import Settings


def select_sentences(sentences: list[Span], passage_sentences: list[range], retrieval: Retrieval,
                     settings: Settings, glosses: Mapping[int, str] | None = None) -> list[tuple[int, Span, float]]:
    """Best distinct sentences of the top passages, as (sentence id, sentence, dense similarity).

    Sentences are ordered by reciprocal-rank fusion of their dense similarity, their BM25 score and
    their passage's rank (equal weights; dev gold-in-quotes 62 -> 69 of 104 against dense alone), plus a bonus
    for having the kind of answer the question asks for (a date for "when": answer_cues) and a penalty for a
    sentence that is itself a question. Page metadata (corpus/quotable.py) is never quoted.
    """
    top_passages = top_ids(retrieval.fused, settings.passages_considered)  # partial sort: millions possible
    passage_rank: dict[int, int] = {}
    for rank, p in enumerate(top_passages):
        for s in passage_sentences[int(p)]:
            passage_rank.setdefault(s, rank)
    if not passage_rank:
        return []
    ids = np.array([s for s in passage_rank if not is_metadata(sentences[s].text)], dtype=np.int64)
    if not len(ids):
        return []
    k = settings.sentence_rrf_k
    top = 1.0 / (k + 1)  # what rank 1 of one ranking is worth
    question = retrieval.query.text.strip()
    cue = answer_cue(question)
    texts = [sentences[int(s)].text for s in ids]
    glosses = glosses or {}
    order_score = (rrf(retrieval.sentence_similarity[ids], k, depth=len(ids))
                   + rrf(retrieval.sentence_lexical[ids], k, zero_is_unranked=True, depth=len(ids))
                   + 1.0 / (k + 1 + np.array([passage_rank[int(s)] for s in ids], dtype=np.float64))
                   - settings.quote_question_penalty * top * np.array([is_question(t) for t in texts])
                   - settings.quote_restatement_penalty * top * np.array([restates(question, t) for t in texts]))
    if cue is not None:
        # the sentence or its translation (a Chinese question's definition may be an English sentence)
        order_score += settings.quote_cue_weight * top * np.array(
            [has_cue(t, cue) or has_cue(glosses.get(int(s), ""), cue) for s, t in zip(ids, texts)])
    chosen: list[tuple[int, Span, float]] = []
    seen: set[str] = set()
    for j in np.argsort(-order_score, kind="stable"):
        span = sentences[int(ids[j])]
        if len(span.text) < settings.min_quote_chars or span.text in seen:
            continue
        seen.add(span.text)
        chosen.append((int(ids[j]), span, float(retrieval.sentence_similarity[ids[j]])))
        if len(chosen) == settings.max_quotes:
            break
    return chosen


def evidence_strength(chosen: list[tuple[int, Span, float]]) -> float:
    """The best dense similarity among the chosen quotes: what the abstention threshold compares."""
    return max((score for _, _, score in chosen), default=-1.0)


def lead_then_by_source(chosen: list[tuple]) -> list[tuple]:
    """The order a reply shows its quotes in: the best first (the answer), then the others grouped by source,
    each source's in their order of choice, the lead's source first. Items are tuples whose second field is
    the span."""
    if not chosen:
        return []
    lead, rest = chosen[0], chosen[1:]
    sources = list(dict.fromkeys([lead[1].source_id, *(item[1].source_id for item in rest)]))
    return [lead, *sorted(rest, key=lambda item: sources.index(item[1].source_id))]  # stable within a source


LIST_ITEM = re.compile(r"^\s*([✖✔✗✘•·▪◦*\-–—]|\d{1,2}[.)、]|[（(]?\d{1,2}[）)])\s*")
MAX_LIST_ITEMS = 4
MAX_LIST_QUOTE_CHARS = 500


def with_list_items(corpus: Corpus, sentences: list[Span], chosen: list[tuple[int, Span, float]]
                    ) -> list[tuple[int, Span, float, range]]:
    """A chosen sentence that introduces a list ("风险包括:", "The most important information ... is:") says
    nothing without it: its quote runs on over the list items that follow it (verbatim, one span). Returns
    (first sentence id, span, score, the sentence ids the span covers); a later quote already inside an
    earlier one is dropped."""
    out: list[tuple[int, Span, float, range]] = []
    for i, span, score in chosen:
        end = i + 1
        if span.text.rstrip().endswith((":", "：")):
            while (end < len(sentences) and end - i <= MAX_LIST_ITEMS
                   and sentences[end].source_id == span.source_id and LIST_ITEM.match(sentences[end].text)
                   and sentences[end].end - span.start <= MAX_LIST_QUOTE_CHARS):
                end += 1
        if end > i + 1:
            text = corpus[span.source_id].text
            span = Span(span.source_id, span.start, sentences[end - 1].end, text[span.start:sentences[end - 1].end])
        if any(o.source_id == span.source_id and o.start <= span.start and span.end <= o.end for _, o, _, _ in out):
            continue
        out.append((i, span, score, range(i, end)))
    return out
