"""Retrieval context for each source: a header of its metadata and the article's sentences that cite it.

A passage alone often lacks the words a question uses to name its source ("the 2021 FDA consumer
page", "维德拉团队的论文"). Prefixing the header to what is embedded and lexically indexed lets
retrieval find the source; the article's citing paragraph (Chinese) bridges Chinese questions to
English sources. The header is never quoted: quotes come from the passage's own offsets.
"""
from __future__ import annotations

import re

from assistant.corpus.sources import Corpus, Source

ROLE_LABELS = {
    "article": "article 科普文章",
    "regulator": "regulator notice 监管机构 通知 页面",
    "study": "research study 研究论文",
    "review": "review 综述",
    "statement": "statement 声明",
}
_LEADING_NUMBER = re.compile(r"^\s*(\d+)")
MAX_CITING_CHARS = 400
CONTEXT_VERSION = 1  # bump when the header's content changes: the index must be rebuilt


def source_headers(corpus: Corpus) -> dict[str, str]:
    """Header text per quotable source id."""
    article = next((s for s in corpus.sources if s.meta.get("role") == "article" and s.quotable), None)
    return {s.id: _header(s, article) for s in corpus.quotable_sources}


def _header(source: Source, article: Source | None) -> str:
    meta = source.meta
    parts = [meta.get("title", ""), meta.get("authors", ""), meta.get("year", ""),
             ROLE_LABELS.get(meta.get("role", ""), meta.get("role", ""))]
    if article is not None and source is not article:
        parts.append(citing_paragraph(article, meta.get("ref", "")))
    return " | ".join(p for p in parts if p)


def citing_paragraph(article: Source, ref: str) -> str:
    """The article paragraph that carries the citation marker [ref], or ""."""
    number = _LEADING_NUMBER.match(ref or "")
    if not number:
        return ""
    marker = re.compile(r"\[(?:\d+\s*[,，]\s*)*" + number.group(1) + r"(?:\s*[,，]\s*\d+)*\]")
    hit = marker.search(article.text)
    if not hit:
        return ""
    start = article.text.rfind("\n", 0, hit.start()) + 1
    end = article.text.find("\n", hit.end())
    paragraph = article.text[start:end if end >= 0 else len(article.text)].strip()
    return paragraph[:MAX_CITING_CHARS]
