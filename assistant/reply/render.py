"""The reply as Markdown: lead (refusal / emergency / abstention), quotes with citations, sources, ISEV warnings."""
from __future__ import annotations

from assistant.corpus.sources import Corpus
from assistant.reply.answer import Quote
from assistant.reply.isev import IsevWarning, warnings_for

_LABELS = {
    "zh": {"intro": "来源中的相关原文:", "other": "(英文原文)", "none": "现有来源没有涉及这个问题,无法从中给出回答。",
           "sources": "来源", "warnings": "ISEV 患者安全提醒", "summary": "(摘要)"},
    "en": {"intro": "What the sources say:", "other": "(quoted in Chinese)",
           "none": "The sources do not cover this question, so exoqa cannot answer it from them.",
           "sources": "Sources", "warnings": "ISEV patient safety warnings", "summary": "(summary)"},
}


def render(language: str, lead: str | None, quotes: list[Quote], corpus: Corpus, warnings: tuple[IsevWarning, ...],
           abstained: bool = False) -> str:
    labels = _LABELS[language]
    parts: list[str] = []
    if lead:
        parts.append(lead)
    if abstained:
        parts.append(labels["none"])
    if quotes:
        parts.append(labels["intro"])
        for q in quotes:
            source = corpus[q.source_id]
            other = f" {labels['other']}" if source.language != language else ""
            parts.append(f"> {q.text} [{q.n}]{other}")
        parts.append(f"**{labels['sources']}:** " + "; ".join(
            f"[{q.n}] {corpus[q.source_id].title} ({q.source_id}, {q.start}–{q.end})" for q in quotes))
    shown = warnings_for(warnings, language)
    parts.append(f"**{labels['warnings']}:**\n\n" + "\n\n".join(w.text for w in shown))
    return "\n\n".join(parts)
