"""The reply as Markdown: lead (refusal / emergency / abstention), quotes with citations, sources, ISEV warnings."""
from __future__ import annotations

import re

from assistant.corpus.sources import Corpus
from assistant.reply.answer import Quote
from assistant.reply.isev import IsevWarning, warnings_for

_LABELS = {
    "zh": {"intro": "来源中的相关原文:", "other": "(英文原文)", "none": "现有来源没有涉及这个问题,无法从中给出回答。",
           "sources": "来源", "warnings": "ISEV 患者安全提醒", "summary": "(摘要)", "more": "其他相关原文",
           "gloss": "exoqa 的翻译,不是来源原文:"},
    "en": {"intro": "What the sources say:", "other": "(quoted in Chinese)",
           "none": "The sources do not cover this question, so exoqa cannot answer it from them.",
           "sources": "Sources", "warnings": "ISEV patient safety warnings", "summary": "(summary)",
           "more": "Supporting quotes", "gloss": "Translation by exoqa, not source text:"},
}


_BRACKET_AT_LINE_START = re.compile(r"^([ \t>]*)\[", re.MULTILINE)


def markdown_safe(text: str) -> str:
    """Document text (a quote, a title) for the Markdown reply: it reads as the same characters, but never
    becomes HTML or a link for a client that renders Markdown with HTML on (a document's `<script>`, `<img
    onerror=...>` or `[x](javascript:...)`). `<` becomes `&lt;`; `](` and a `[` opening a line (a link
    definition) are backslash-escaped; citation marks such as "[14]" are left as they are."""
    text = text.replace("<", "&lt;").replace("](", "\\](")
    return _BRACKET_AT_LINE_START.sub(lambda m: m.group(1) + "\\[", text)


def render(language: str, lead: str | None, quotes: list[Quote], corpus: Corpus, warnings: tuple[IsevWarning, ...],
           abstained: bool = False) -> str:
    labels = _LABELS[language]
    parts: list[str] = []
    if lead:
        parts.append(lead)
    if abstained:
        parts.append(labels["none"])
    if quotes:
        # The best quote leads, in bold; the others follow grouped by source (core orders them so).
        parts.append(labels["intro"])
        parts.append(_quote_markdown(quotes[0], corpus, language, lead=True))
        if len(quotes) > 1:
            parts.append(f"*{labels['more']}:*")
        previous = None
        for q in quotes[1:]:
            if q.source_id != previous:
                parts.append(f"*{markdown_safe(corpus[q.source_id].title)}*")
                previous = q.source_id
            parts.append(_quote_markdown(q, corpus, language))
        parts.append(f"**{labels['sources']}:** " + "; ".join(
            f"[{q.n}] {markdown_safe(corpus[q.source_id].title)} ({q.source_id}, {q.start}–{q.end})" for q in quotes))
    shown = warnings_for(warnings, language)
    parts.append(f"**{labels['warnings']}:**\n\n" + "\n\n".join(w.text for w in shown))
    return "\n\n".join(parts)


def _quote_markdown(q: Quote, corpus: Corpus, language: str, lead: bool = False) -> str:
    labels = _LABELS[language]
    other = f" {labels['other']}" if corpus[q.source_id].language != language else ""
    lines = [markdown_safe(line) for line in q.text.splitlines() if line.strip()] or [""]
    if lead:
        lines = [f"**{line}**" for line in lines]
    lines[-1] += f" [{q.n}]{other}"
    if q.gloss:  # exoqa's translation, labelled as such: never presented as the source's words
        glossed = [markdown_safe(line) for line in q.gloss.splitlines() if line.strip()]
        lines += ["", f"*{labels['gloss']}* " + glossed[0], *glossed[1:]]
    return "\n".join(f"> {line}".rstrip() for line in lines)
