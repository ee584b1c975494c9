"""HTML for the web page: replies with openable quotes, source cards, the ISEV panel and the sources list.

Everything shown comes from the library's Answer, corpus and warnings; this module only lays it out.
Source text is always escaped. Reply HTML holds no blank lines, so the chat's Markdown renderer keeps it
as one HTML block.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from markdown_it import MarkdownIt

from assistant import Answer, Quote
from assistant.safety.policy import message
from assistant.corpus.sources import Corpus, Source
from assistant.reply.isev import ARTICLE_ID, NOTICE_URL, IsevWarning, warnings_for

from .i18n import OTHER_LANGUAGE_LABEL, language_of, role_name, t

# A "paragraph" longer than this (the article separates paragraphs by single line breaks) is narrowed to the
# lines around the quote, then to a window of CONTEXT_CHARS on each side.
MAX_PARAGRAPH_CHARS = 900
CONTEXT_CHARS = 300

_markdown = MarkdownIt("commonmark", {"html": False})


def _md(text: str) -> str:
    """The library's Markdown (refusal and emergency messages) as HTML, on one line."""
    return _markdown.render(text).replace("\n", "")


def _text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """[a, b) of the paragraph around text[start:end]: the text between the blank lines around it.

    Very long paragraphs are narrowed to the quote's lines, then to a window around the quote.
    """
    a = text.rfind("\n\n", 0, start)
    a = 0 if a < 0 else a + 2
    b = text.find("\n\n", end)
    b = len(text) if b < 0 else b
    if b - a > MAX_PARAGRAPH_CHARS:
        a = max(a, text.rfind("\n", 0, start) + 1)
        line_end = text.find("\n", end)
        b = min(b, len(text) if line_end < 0 else line_end)
    if b - a > MAX_PARAGRAPH_CHARS:
        a = max(a, start - CONTEXT_CHARS)
        b = min(b, end + CONTEXT_CHARS)
    while a < start and text[a].isspace():
        a += 1
    while b > end and text[b - 1].isspace():
        b -= 1
    return a, b


def quote_in_paragraph_html(source: Source, quote: Quote) -> str:
    """The quote highlighted with <mark> inside its paragraph; the marked text is exactly text[start:end]."""
    text = source.text
    a, b = paragraph_bounds(text, quote.start, quote.end)
    before, marked, after = text[a:quote.start], text[quote.start:quote.end], text[quote.end:b]
    lead = "…" if a > 0 and text[a - 1] not in "\n" else ""
    tail = "…" if b < len(text) and text[b] not in "\n" else ""
    return (f'<div class="exoqa-paragraph" lang="{html.escape(source.language)}">{lead}{_text(before)}'
            f'<mark class="exoqa-highlight">{_text(marked)}</mark>{_text(after)}{tail}</div>')


def _link(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        return html.escape(url)
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{html.escape(url)}</a>'


def source_card_html(card: dict, language: str) -> str:
    """Title, role, year, licence, link and completeness of one source."""
    rows = [(t(language, "role"), html.escape(role_name(language, card.get("role", "")))),
            (t(language, "year"), html.escape(card.get("year", ""))),
            (t(language, "licence"), html.escape(card.get("license", ""))),
            (t(language, "link"), _link(card.get("url", ""))),
            (t(language, "completeness"), html.escape(card.get("completeness", "")))]
    cells = "".join(f"<dt>{name}</dt><dd>{value or '—'}</dd>" for name, value in rows)
    return (f'<div class="exoqa-card">'
            f'<div class="exoqa-card-title">{html.escape(card.get("title", ""))}</div><dl>{cells}</dl></div>')


def _shown_warnings(warnings: Sequence[IsevWarning], language: str) -> list[IsevWarning]:
    """The warnings in `language` (the Chinese text for zh, the labelled English summary for en)."""
    return warnings_for(tuple(warnings), language)


def _lead(answer: Answer) -> str:
    """The library's first words for this decision: its emergency referral, refusal or abstention."""
    if answer.decision in ("emergency", "refuse"):
        return _md(message(answer.language, answer.safety_category))
    if answer.decision == "no_answer":
        # The library's abstention sentence is the first paragraph of its reply (no lead precedes it).
        return f"<p>{_text(answer.text.split(chr(10) * 2, 1)[0])}</p>"
    return ""


def reply_html(answer: Answer, corpus: Corpus) -> str:
    """One chat reply: a badge for the decision, the lead, numbered quotes that open in context, warnings."""
    language = answer.language
    decision = answer.decision
    # The chat's sanitizer drops data-* and role attributes, so the decision is a class.
    parts = [f'<div class="exoqa-reply exoqa-{decision}" lang="{language}">',
             f'<div class="exoqa-badge">{html.escape(t(language, "badge_" + decision))}</div>']
    lead = _lead(answer)
    if lead:
        parts.append(f'<div class="exoqa-lead">{lead}</div>')
    for quote in answer.quotes:
        source = corpus[quote.source_id]
        other = ""
        if source.language != language:
            other = (f' <span class="exoqa-other-language">'
                     f'({html.escape(OTHER_LANGUAGE_LABEL[language][source.language])})</span>')
        title = html.escape(source.title)
        parts.append(
            f'<details class="exoqa-quote exoqa-quote-{quote.n}">'
            f'<summary><span class="exoqa-quote-text">{_text(quote.text)}</span> '
            f'<sup class="exoqa-cite">[{quote.n}]</sup>{other}'
            f'<span class="exoqa-quote-source"> — {title} · {html.escape(t(language, "open_quote"))}</span></summary>'
            f'{quote_in_paragraph_html(source, quote)}{source_card_html(source.card(), language)}</details>')
    if answer.quotes:
        cited = "; ".join(f"[{q.n}] {html.escape(corpus[q.source_id].title)}" for q in answer.quotes)
        parts.append(f'<div class="exoqa-citations">{cited}</div>')
    warning_text = "".join(f"<p>{_text(w.text)}</p>" for w in _shown_warnings(answer.warnings, language))
    parts.append(f'<details class="exoqa-reply-warnings"><summary>{html.escape(t(language, "warnings_in_reply"))}'
                 f'</summary>{warning_text}</details></div>')
    return "".join(parts)


def message_html(kind: str, text: str) -> str:
    """A short notice in the chat (not ready, busy, invalid question)."""
    return f'<div class="exoqa-reply exoqa-notice exoqa-{kind}"><p>{_text(text)}</p></div>'


def isev_panel_html(warnings: Sequence[IsevWarning], language: str) -> str:
    """The always-visible ISEV panel in the page's language, with its source links."""
    language = language_of(language)
    body = "".join(f"<p>{_text(w.text)}</p>" for w in _shown_warnings(warnings, language))
    links = [f'<a href="{html.escape(NOTICE_URL, quote=True)}" target="_blank" rel="noopener noreferrer">'
             f'{html.escape(t(language, "isev_link"))}</a>']
    note = html.escape(t(language, "isev_note"))
    return (f'<section class="exoqa-isev" lang="{language}" aria-label="{html.escape(t(language, "isev_heading"))}">'
            f'<h3>{html.escape(t(language, "isev_heading"))}</h3><p class="exoqa-isev-note">{note}</p>{body}'
            f'<p class="exoqa-isev-source">{" · ".join(links)} ({html.escape(ARTICLE_ID)})</p></section>')


def sources_table_html(cards: Iterable[dict], language: str) -> str:
    """Every corpus source with its metadata and completeness."""
    language = language_of(language)
    heads = ("ref", "source_title", "role", "year", "language_col", "licence", "completeness", "link")
    head = "".join(f"<th>{html.escape(t(language, h))}</th>" for h in heads)
    rows = []
    for card in cards:
        cells = (html.escape(card.get("ref", "") or "—"), html.escape(card.get("title", "")),
                 html.escape(role_name(language, card.get("role", ""))), html.escape(card.get("year", "")),
                 html.escape(card.get("language", "")), html.escape(card.get("license", "")),
                 html.escape(card.get("completeness", "")), _link(card.get("url", "")))
        rows.append(f'<tr data-source="{html.escape(card["source_id"])}">'
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (f'<div class="exoqa-sources"><p>{html.escape(t(language, "sources_intro"))}</p>'
            f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def status_html(status: dict, language: str) -> str:
    """Empty when ready; otherwise what the server is doing (loading, building the index with progress, error)."""
    state = status["status"]
    if state == "ready":
        return ""
    if state == "building":
        done, total = status["progress"]["done"], status["progress"]["total"]
        if total:
            percent = min(100, int(100 * done / total))
            text = t(language, "status_building", done=done, total=total, percent=percent)
            bar = f'<progress max="{total}" value="{min(done, total)}"></progress>'
        else:
            text, bar = t(language, "status_building_count", done=done), "<progress></progress>"
    elif state == "error":
        text, bar = t(language, "status_error", message=status.get("error", "")), ""
    else:
        text, bar = t(language, "status_loading"), "<progress></progress>"
    return f'<div class="exoqa-status" data-status="{state}" role="status"><p>{html.escape(text)}</p>{bar}</div>'
