"""HTML for the web page: the conversation, replies with openable quotes, the emergency pin, the ISEV panel, the
sources list with readable source texts, and a reply as Markdown.

Everything shown comes from the library's answers (`Answer.to_dict()`, which is also what the browser keeps
between visits), corpus and warnings; this module only lays it out. Every text from a person or a source is
escaped, so typed HTML shows as text.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

from assistant import Answer
from assistant.corpus.sources import Corpus, Source
from assistant.reply.isev import ARTICLE_ID, NOTICE_URL, IsevWarning
from assistant.safety.policy import message
from assistant.text.normalize import MAX_QUESTION_CHARS

from .i18n import (HTML_LANG, OTHER_LANGUAGE_LABEL, completeness_name, language_name, language_of, licence_name,
                   role_name, t)

# A "paragraph" longer than this (the article separates paragraphs by single line breaks) is narrowed to the
# lines around the quote, then to a window of CONTEXT_CHARS on each side.
MAX_PARAGRAPH_CHARS = 900
CONTEXT_CHARS = 300
# The source reader groups a quotable region's paragraphs into passages of about this many characters.
PASSAGE_CHARS = 600

# 👍 / 👎 drawn as SVG (a machine without an emoji font would show empty boxes).
THUMB_UP = ('<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M2 21h4V9H2v12zm20-11a2 2 0 '
            '0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 '
            '1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"/></svg>')
THUMB_DOWN = ('<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M22 3h-4v12h4V3zM2 14a2 2 '
              '0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 '
              '0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z"/></svg>')

_markdown = MarkdownIt("commonmark", {"html": False})
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _md(text: str) -> str:
    """The library's Markdown (refusal and emergency messages) as HTML."""
    return _markdown.render(text).replace("\n", "")


def _text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def dom_id(*parts: object) -> str:
    """An HTML id built from source ids and numbers (anything outside [A-Za-z0-9_-] becomes '_')."""
    return "-".join(_ID_UNSAFE.sub("_", str(p)) for p in parts)


def answer_dict(answer: Answer | Mapping[str, Any]) -> dict:
    return answer.to_dict() if isinstance(answer, Answer) else dict(answer)


def _quote_is_verbatim(corpus: Corpus, quote: Mapping[str, Any]) -> bool:
    """A stored answer's quote still matches the corpus at its offsets (the corpus may have changed since)."""
    source_id = quote.get("source_id")
    return (isinstance(source_id, str) and source_id in corpus
            and corpus[source_id].text[quote.get("start", 0):quote.get("end", 0)] == quote.get("text"))


# ----- quotes in context -------------------------------------------------------------------------------------

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


def quote_in_paragraph_html(source: Source, start: int, end: int) -> str:
    """The quote highlighted with <mark> inside its paragraph; the marked text is exactly text[start:end]."""
    text = source.text
    a, b = paragraph_bounds(text, start, end)
    before, marked, after = text[a:start], text[start:end], text[end:b]
    lead = "…" if a > 0 and text[a - 1] not in "\n" else ""
    tail = "…" if b < len(text) and text[b] not in "\n" else ""
    return (f'<div class="exoqa-paragraph" lang="{_attr(source.language)}">{lead}{_text(before)}'
            f'<mark class="exoqa-highlight">{_text(marked)}</mark>{_text(after)}{tail}</div>')


def _link(url: str, label: str | None = None) -> str:
    if not url.startswith(("https://", "http://")):
        return html.escape(url)
    return (f'<a href="{_attr(url)}" target="_blank" rel="noopener noreferrer">'
            f'{html.escape(label or url)}</a>')


def _host(url: str) -> str:
    match = re.match(r"https?://([^/]+)", url)
    return match.group(1) if match else url


def source_card_html(card: Mapping[str, str], language: str) -> str:
    """Title, role, year, licence, link and completeness of one source, in the page's words."""
    url = card.get("url", "")
    rows = [(t(language, "role"), html.escape(role_name(language, card.get("role", "")))),
            (t(language, "year"), html.escape(card.get("year", ""))),
            (t(language, "licence"), html.escape(licence_name(language, card.get("license", "")))),
            (t(language, "link"), _link(url, _host(url)) if url else ""),
            (t(language, "completeness"), html.escape(completeness_name(language, card.get("completeness", ""))))]
    cells = "".join(f"<dt>{name}</dt><dd>{value or '—'}</dd>" for name, value in rows)
    return (f'<div class="exoqa-card">'
            f'<p class="exoqa-card-title">{html.escape(card.get("title", ""))}</p><dl>{cells}</dl></div>')


def _shown_warnings(warnings: Sequence[IsevWarning | Mapping[str, Any]], language: str) -> list[dict]:
    """The warnings in `language` (the Chinese text for zh, the labelled English summary for en), as dicts."""
    as_dicts = [w.to_dict() if isinstance(w, IsevWarning) else dict(w) for w in warnings]
    return [w for w in as_dicts if w.get("language") == language] or as_dicts


def _warning_body(warning: Mapping[str, Any]) -> str:
    """A warning's text; the trailing notice URL of the English summary is left out (the panel links it)."""
    text = str(warning.get("text", ""))
    text = re.sub(r"\s*Notice:\s*" + re.escape(NOTICE_URL) + r"\s*$", "", text)
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


# ----- replies -----------------------------------------------------------------------------------------------

def _lead(answer: Mapping[str, Any]) -> str:
    """The library's first words for this decision: its emergency referral, refusal, note or abstention."""
    decision = answer.get("decision")
    if decision == "no_answer":
        # The library's abstention sentence is the first paragraph of its reply (no lead precedes it).
        return f"<p>{_text(str(answer.get('text', '')).split(chr(10) * 2, 1)[0])}</p>"
    lead = message(answer.get("language", "en"), answer.get("safety_category", ""))
    if decision == "answer" and answer.get("safety_category") in ("", "factual"):
        return ""
    return _md(lead) if lead else ""


def _lead_markdown(answer: Mapping[str, Any]) -> str:
    if answer.get("decision") == "no_answer":
        return str(answer.get("text", "")).split("\n\n", 1)[0]
    if answer.get("decision") == "answer" and answer.get("safety_category") in ("", "factual"):
        return ""
    return message(answer.get("language", "en"), answer.get("safety_category", ""))


def _quote_html(quote: Mapping[str, Any], corpus: Corpus, language: str, turn_id: str) -> str:
    n = int(quote["n"])
    verbatim = _quote_is_verbatim(corpus, quote)
    source = corpus[quote["source_id"]] if verbatim else None
    source_language = source.language if source else language
    other = ""
    if source and source.language != language:
        other = (f' <span class="exoqa-other-language">'
                 f'({html.escape(OTHER_LANGUAGE_LABEL[language].get(source.language, source.language))})</span>')
    gloss = ""
    if quote.get("gloss"):
        gloss = (f'<span class="exoqa-gloss" lang="{_attr(language)}"><span class="exoqa-gloss-label">'
                 f'{html.escape(t(language, "gloss_label"))}</span> {_text(str(quote["gloss"]))}</span>')
    title = html.escape(source.title) if source else html.escape(str(quote.get("source_id", "")))
    summary = (f'<summary><span class="exoqa-quote-text" lang="{_attr(source_language)}">{_text(quote["text"])}'
               f'</span> <span class="exoqa-cite">[{n}]</span>{other}{gloss}'
               f'<span class="exoqa-quote-source">{title} · {html.escape(t(language, "open_quote"))}</span>'
               f'</summary>')
    body = ""
    if source:
        body = (quote_in_paragraph_html(source, quote["start"], quote["end"])
                + source_card_html(source.card(), language)
                + f'<button type="button" class="exoqa-read-source" data-source="{_attr(source.id)}" '
                  f'data-start="{int(quote["start"])}" data-end="{int(quote["end"])}">'
                  f'{html.escape(t(language, "read_in_source"))}</button>')
    return (f'<li><details class="exoqa-quote exoqa-quote-{n}" id="{dom_id("exoqa-quote", turn_id, n)}">'
            f'{summary}{body}</details></li>')


def feedback_payload(answer: Mapping[str, Any], history: Sequence[str] = ()) -> dict:
    """What the page sends with a 👍/👎: the question, the questions before it, and the reply it saw."""
    return {"question": answer.get("question", ""), "history": list(history),
            "answer": {"language": answer.get("language", "en"), "decision": answer.get("decision", ""),
                       "safety_category": answer.get("safety_category", ""),
                       "quotes": [{k: q[k] for k in ("n", "source_id", "start", "end", "text")}
                                  for q in answer.get("quotes", [])]}}


def _actions_html(answer: Mapping[str, Any], corpus: Corpus, turn_id: str, history: Sequence[str]) -> str:
    language = answer.get("language", "en")
    form_id = dom_id("exoqa-feedback", turn_id)
    note_id = dom_id("exoqa-note", turn_id)
    copy = (f'<button type="button" class="exoqa-copy">{html.escape(t(language, "copy_md"))}</button>'
            f'<button type="button" class="exoqa-download" data-file="{_attr(dom_id("exoqa", turn_id))}.md">'
            f'{html.escape(t(language, "download_md"))}</button>')
    rate = "".join(f'<button type="button" class="exoqa-rate" data-rating="{rating}" aria-pressed="false" '
                   f'aria-controls="{form_id}">{icon}{html.escape(t(language, "rate_" + rating))}</button>'
                   for rating, icon in (("up", THUMB_UP), ("down", THUMB_DOWN)))
    form = (f'<form class="exoqa-feedback" id="{form_id}" hidden>'
            f'<label for="{note_id}">{html.escape(t(language, "feedback_note"))}</label>'
            f'<textarea id="{note_id}" class="exoqa-note" rows="2" maxlength="1000"></textarea>'
            f'<button type="submit" class="exoqa-feedback-send">{html.escape(t(language, "feedback_send"))}</button>'
            f'</form><p class="exoqa-action-status" role="status"></p>')
    payload = _attr(json.dumps(feedback_payload(answer, history), ensure_ascii=False))
    markdown = html.escape(answer_markdown(answer, corpus))
    return (f'<div class="exoqa-actions" role="group" aria-label="{_attr(t(language, "feedback_legend"))}" '
            f'data-feedback="{payload}" data-saved="{_attr(t(language, "feedback_saved"))}" '
            f'data-failed="{_attr(t(language, "feedback_failed", message="{message}"))}" '
            f'data-copied="{_attr(t(language, "copied"))}" data-copy-failed="{_attr(t(language, "copy_failed"))}">'
            f'{copy}<span class="exoqa-rating">{rate}</span>{form}'
            f'<pre class="exoqa-markdown" hidden>{markdown}</pre></div>')


def reply_html(answer: Answer | Mapping[str, Any], corpus: Corpus, turn_id: str = "reply",
               history: Sequence[str] = ()) -> str:
    """One reply: a badge for the decision, the lead, numbered quotes that open in context, the warnings, and
    copy/export and feedback controls. `history` is the questions asked before it (sent with feedback)."""
    answer = answer_dict(answer)
    language = language_of(answer.get("language"))
    decision = str(answer.get("decision", "answer"))
    badge = t(language, "badge_" + decision)
    parts = [f'<article class="exoqa-reply exoqa-{_attr(decision)}" lang="{language}" '
             f'id="{dom_id("exoqa-reply", turn_id)}" aria-label="{_attr(t(language, "reply_label", badge=badge))}">',
             f'<p class="exoqa-badge">{html.escape(badge)}</p>']
    lead = _lead(answer)
    if lead:
        parts.append(f'<div class="exoqa-lead">{lead}</div>')
    quotes = answer.get("quotes", [])
    if quotes:
        parts.append('<ol class="exoqa-quotes">'
                     + "".join(_quote_html(q, corpus, language, turn_id) for q in quotes) + "</ol>")
        cites = []
        for q in quotes:
            title = corpus[q["source_id"]].title if q.get("source_id") in corpus else q.get("source_id", "")
            target = dom_id("exoqa-quote", turn_id, q["n"])
            cites.append(f'<li><a class="exoqa-cite-link" href="#{target}" aria-controls="{target}" '
                         f'aria-label="{_attr(t(language, "cite_label", n=q["n"]))}">[{int(q["n"])}]</a> '
                         f'{html.escape(title)}</li>')
        parts.append(f'<div class="exoqa-citations"><span>{html.escape(t(language, "sources_line"))}</span>'
                     f'<ul>{"".join(cites)}</ul></div>')
    warning_text = "".join(_warning_body(w) for w in _shown_warnings(answer.get("warnings", []), language))
    parts.append(f'<details class="exoqa-reply-warnings"><summary>{html.escape(t(language, "warnings_in_reply"))}'
                 f'</summary>{warning_text}</details>')
    parts.append(_actions_html(answer, corpus, turn_id, history))
    parts.append("</article>")
    return "".join(parts)


def answer_markdown(answer: Answer | Mapping[str, Any], corpus: Corpus) -> str:
    """A reply as Markdown: the question, the lead, each quote with its offsets and source link, the warnings."""
    answer = answer_dict(answer)
    language = language_of(answer.get("language"))
    decision = str(answer.get("decision", "answer"))
    lines = [f"**{t(language, 'md_question')}:** {answer.get('question', '')}", "",
             f"**{t(language, 'md_reply')}** ({t(language, 'badge_' + decision)}):", ""]
    lead = _lead_markdown(answer)
    if lead:
        lines += [lead, ""]
    quotes = answer.get("quotes", [])
    for q in quotes:
        lines += ["> " + line if line else ">" for line in f"{q['text']} [{q['n']}]".splitlines()]
        if q.get("gloss"):
            lines += [">", f"> *{t(language, 'gloss_label')}* {q['gloss']}"]
        lines.append("")
    if quotes:
        lines += [f"**{t(language, 'md_sources')}:**", ""]
        for q in quotes:
            source = corpus[q["source_id"]] if q.get("source_id") in corpus else None
            title = source.title if source else q.get("source_id", "")
            url = source.meta.get("url", "") if source else ""
            where = t(language, "md_characters", start=q["start"], end=q["end"])
            lines.append(f"- [{q['n']}] {title} (`{q['source_id']}`, {where})" + (f": <{url}>" if url else ""))
        lines.append("")
    warnings = _shown_warnings(answer.get("warnings", []), language)
    if warnings:
        lines += [f"**{t(language, 'warnings_in_reply')}:**", ""]
        for w in warnings:
            lines += [str(w.get("text", "")), ""]
        lines += [f"<{NOTICE_URL}>", ""]
    lines.append(f"*{t(language, 'md_footer')}*")
    return "\n".join(lines) + "\n"


def notice_html(kind: str, text: str, language: str) -> str:
    """A short notice in the chat (not ready, busy, invalid question, no reply received)."""
    language = language_of(language)
    badge = t(language, "badge_notice")
    return (f'<article class="exoqa-reply exoqa-notice exoqa-{_attr(kind)}" lang="{language}" '
            f'aria-label="{_attr(t(language, "reply_label", badge=badge))}"><p>{_text(text)}</p></article>')


def pending_html(language: str) -> str:
    """The reply's place while exoqa is answering: a progress bar without a time estimate."""
    language = language_of(language)
    label = t(language, "pending")
    return (f'<div class="exoqa-reply exoqa-pending" lang="{language}" aria-busy="true">'
            f'<p>{html.escape(label)}</p><progress aria-label="{_attr(label)}"></progress></div>')


def question_html(question: str, language: str) -> str:
    """The person's own words, escaped: typed HTML shows as text."""
    language = language_of(language)
    return (f'<div class="exoqa-question-turn" aria-label="{_attr(t(language, "question_turn_label"))}" '
            f'role="group"><p class="exoqa-speaker">{html.escape(t(language, "you"))}</p>'
            f'<p class="exoqa-question-text">{_text(question)}</p></div>')


def conversation_html(turns: Sequence[Mapping[str, Any]], corpus: Corpus, language: str,
                      restored: bool = False) -> str:
    """The whole conversation, oldest first: each question, then its reply, notice or progress. `restored` marks
    the rendering made once the page has loaded the browser's copy of the conversation."""
    language = language_of(language)
    marker = ' data-restored="true"' if restored else ""
    if not turns:
        return (f'<section class="exoqa-log exoqa-empty" aria-label="{_attr(t(language, "chat_label"))}"{marker}>'
                f'<p>{html.escape(t(language, "chat_empty"))}</p></section>')
    parts, asked = [], []
    for turn in turns:
        turn_id = str(turn["id"])
        parts.append(f'<li class="exoqa-turn" id="{dom_id("exoqa-turn", turn_id)}">')
        parts.append(question_html(turn["question"], turn.get("language", language)))
        if turn.get("answer"):
            parts.append(reply_html(turn["answer"], corpus, turn_id, history=asked))
        elif turn.get("notice"):
            notice = turn["notice"]
            parts.append(notice_html(notice.get("kind", "notice"), notice.get("text", ""),
                                     notice.get("language", language)))
        else:
            parts.append(pending_html(turn.get("language", language)))
        parts.append("</li>")
        asked = [*asked, turn["question"]]
    return (f'<section class="exoqa-log" aria-label="{_attr(t(language, "chat_label"))}"{marker}>'
            f'<ol class="exoqa-turns">{"".join(parts)}</ol></section>')


def emergency_pin_html(answer: Mapping[str, Any]) -> str:
    """The emergency referral, pinned at the top of the page until dismissed."""
    language = language_of(answer.get("language"))
    lead = _md(message(language, answer.get("safety_category", "")))
    return (f'<section class="exoqa-pin" lang="{language}" role="alert" aria-labelledby="exoqa-pin-heading">'
            f'<h2 id="exoqa-pin-heading">{html.escape(t(language, "pin_heading"))}</h2>{lead}</section>')


# ----- the page around the chat ------------------------------------------------------------------------------

def header_html(language: str) -> str:
    """The page's h1, what exoqa is in one line (the rest folded), and a link to the ISEV warnings."""
    language = language_of(language)
    about = _markdown.render(t(language, "about"))
    return (f'<header class="exoqa-header" lang="{HTML_LANG[language]}"><h1>{html.escape(t(language, "title"))}</h1>'
            f'<p class="exoqa-tagline">{html.escape(t(language, "tagline"))} '
            f'<a class="exoqa-skip-isev" href="#exoqa-isev-panel">⚠ {html.escape(t(language, "skip_to_isev"))}</a>'
            f'</p><details class="exoqa-about"><summary>{html.escape(t(language, "about_summary"))}</summary>'
            f'{about}</details></header>')


def counter_html(language: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """The question box's live character count (the page's script fills in the count as one types)."""
    language = language_of(language)
    return (f'<p class="exoqa-counter" id="exoqa-counter-text" data-limit="{limit}" '
            f'data-format="{_attr(t(language, "counter", count="{count}", limit="{limit}"))}" '
            f'data-format-over="{_attr(t(language, "counter_over", count="{count}", limit="{limit}", over="{over}"))}"'
            f'>{html.escape(t(language, "counter", count=0, limit=limit))}</p>')


def submit_notice_html(text: str = "", kind: str = "info") -> str:
    """Why a submit did nothing, or what is happening with it; empty when there is nothing to say."""
    if not text:
        return '<p class="exoqa-submit-notice"></p>'
    return f'<p class="exoqa-submit-notice exoqa-submit-{_attr(kind)}">{html.escape(text)}</p>'


def isev_panel_html(warnings: Sequence[IsevWarning], language: str, corpus: Corpus | None = None) -> str:
    """The always-visible ISEV panel in the page's language, with its source links."""
    language = language_of(language)
    shown = _shown_warnings(warnings, language)
    body = "".join(_warning_body(w) for w in shown)
    note = t(language, "isev_note") if any(w.get("verbatim") for w in shown) else ""
    note_html = f'<p class="exoqa-isev-note">{html.escape(note)}</p>' if note else ""
    links = [f'<a href="{_attr(NOTICE_URL)}" target="_blank" rel="noopener noreferrer">'
             f'{html.escape(t(language, "isev_link"))}</a>']
    if corpus is not None and ARTICLE_ID in corpus and any(w.get("source_id") == ARTICLE_ID for w in shown):
        links.append(html.escape(t(language, "isev_from_article", title=corpus[ARTICLE_ID].title)))
    heading = html.escape(t(language, "isev_heading"))
    return (f'<section class="exoqa-isev" id="exoqa-isev-panel" tabindex="-1" lang="{language}" '
            f'aria-labelledby="exoqa-isev-heading"><h2 id="exoqa-isev-heading">{heading}</h2>{note_html}{body}'
            f'<p class="exoqa-isev-source">{" · ".join(links)}</p></section>')


def source_passages(source: Source) -> list[tuple[int, int]]:
    """[start, end) of each passage of the source reader: the quotable regions' paragraphs (split at line breaks),
    joined up to PASSAGE_CHARS, never across a section line or a gap."""
    passages: list[tuple[int, int]] = []
    text = source.text
    for region in source.regions:
        current: tuple[int, int] | None = None
        for match in re.finditer(r"[^\n]+", text[region.start:region.end]):
            a, b = region.start + match.start(), region.start + match.end()
            if not text[a:b].strip():
                continue
            if current and b - current[0] <= PASSAGE_CHARS:
                current = (current[0], b)
            else:
                if current:
                    passages.append(current)
                current = (a, b)
        if current:
            passages.append(current)
    return passages


def source_reader_html(source: Source, language: str) -> str:
    """A source's text as numbered passages, each with its offsets, links to the ones before and after it, and a
    list of all of them; what lies between passages (section lines, gaps) is shown as an editorial note."""
    language = language_of(language)
    passages = source_passages(source)
    n = len(passages)
    ids = [dom_id("exoqa-src", source.id, k) for k in range(1, n + 1)]
    nav = "".join(f'<li><a href="#{ids[k]}">{k + 1}</a></li>' for k in range(n))
    parts = [f'<nav class="exoqa-passage-index" aria-label="{_attr(t(language, "passages_nav"))}"><ol>{nav}</ol>'
             f'</nav>']
    cursor = 0
    for k, (a, b) in enumerate(passages):
        between = source.text[cursor:a].strip()
        if between:
            parts.append(f'<p class="exoqa-editorial"><span>{html.escape(t(language, "editorial"))}</span> '
                         f'{html.escape(between)}</p>')
        links = []
        if k > 0:
            links.append(f'<a href="#{ids[k - 1]}">{html.escape(t(language, "prev_passage"))}</a>')
        if k + 1 < n:
            links.append(f'<a href="#{ids[k + 1]}">{html.escape(t(language, "next_passage"))}</a>')
        label = t(language, "passage_label", k=k + 1, n=n, start=a, end=b)
        # One text node holding exactly text[a:b] (white-space: pre-wrap), so offsets map onto it.
        parts.append(f'<section class="exoqa-passage" id="{ids[k]}" tabindex="-1" data-start="{a}" data-end="{b}" '
                     f'aria-label="{_attr(label)}"><p class="exoqa-passage-label">{html.escape(label)} '
                     f'{" ".join(links)}</p><p class="exoqa-passage-text" lang="{_attr(source.language)}">'
                     f'{html.escape(source.text[a:b])}</p></section>')
        cursor = b
    tail = source.text[cursor:].strip()
    if tail:
        parts.append(f'<p class="exoqa-editorial"><span>{html.escape(t(language, "editorial"))}</span> '
                     f'{html.escape(tail)}</p>')
    return (f'<div class="exoqa-reader" id="{dom_id("exoqa-reader", source.id)}" data-source="{_attr(source.id)}" '
            f'><h3 tabindex="-1">{html.escape(source.title)}</h3>{"".join(parts)}</div>')


def sources_table_html(corpus: Corpus, language: str) -> str:
    """Every corpus source with its metadata and completeness (a table, cards on narrow screens); a quotable
    source opens to its text."""
    language = language_of(language)
    heads = ("ref", "source_title", "role", "year", "language_col", "licence", "completeness", "text_col")
    head = "".join(f'<th scope="col" class="exoqa-col-{h}">{html.escape(t(language, h))}</th>' for h in heads)
    rows = []
    for source in corpus.sources:
        card = source.card()
        url = card.get("url", "")
        title = html.escape(card.get("title", ""))
        title_cell = f'{title}<br><span class="exoqa-source-link">{_link(url, _host(url))}</span>' if url else title
        if source.quotable:
            reader_id = dom_id("exoqa-reader", source.id)
            text_cell = (f'<button type="button" class="exoqa-open-source" data-source="{_attr(source.id)}" '
                         f'aria-expanded="false" aria-controls="{reader_id}">'
                         f'{html.escape(t(language, "read_source"))}</button>')
        else:
            text_cell = html.escape(t(language, "no_text"))
        cells = ((heads[0], html.escape(card.get("ref", "") or "—")), (heads[1], title_cell),
                 (heads[2], html.escape(role_name(language, card.get("role", "")))),
                 (heads[3], html.escape(card.get("year", "") or "—")),
                 (heads[4], html.escape(language_name(language, card.get("language", "")))),
                 (heads[5], html.escape(licence_name(language, card.get("license", "")))),
                 (heads[6], html.escape(completeness_name(language, card.get("completeness", "")))),
                 (heads[7], text_cell))
        tds = "".join(f'<td class="exoqa-col-{key}" data-label="{_attr(t(language, key))}">{value}</td>'
                      for key, value in cells)
        rows.append(f'<tr data-source="{_attr(source.id)}">{tds}</tr>')
        if source.quotable:
            rows.append(f'<tr class="exoqa-reader-row" data-reader="{_attr(source.id)}" hidden>'
                        f'<td colspan="{len(heads)}">{source_reader_html(source, language)}</td></tr>')
    return (f'<div class="exoqa-sources" lang="{language}"><p>{html.escape(t(language, "sources_intro"))}</p>'
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
            bar = f'<progress max="{total}" value="{min(done, total)}" aria-label="{_attr(text)}"></progress>'
        else:
            text = t(language, "status_building_count", done=done)
            bar = f'<progress aria-label="{_attr(text)}"></progress>'
    elif state == "error":
        text, bar = t(language, "status_error", message=status.get("error", "")), ""
    else:
        text = t(language, "status_loading")
        bar = f'<progress aria-label="{_attr(text)}"></progress>'
    return f'<div class="exoqa-status" data-status="{state}" role="status"><p>{html.escape(text)}</p>{bar}</div>'
