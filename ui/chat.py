"""The Gradio page: a conversation kept in the browser, quotes that open in context, an emergency pin, the ISEV
panel, a Sources tab with readable source texts, feedback, zh/en.

The conversation is rendered here from the library's answers (not by gr.Chatbot), so a reply's accessible name is
short, typed text is always escaped, and the page's script (PAGE_JS) can scroll, pin and export replies.
"""
from __future__ import annotations

import uuid
from typing import Any

import gradio as gr

from assistant import ExoqaError, InvalidQuestionError
from assistant.text.normalize import MAX_QUESTION_CHARS, clean_question

from .i18n import EXAMPLES, language_of, t
from .present import (conversation_html, counter_html, emergency_pin_html, header_html, isev_panel_html,
                      notice_html, reply_html, sources_table_html, status_html, submit_notice_html)
from .service import Busy, NotReady, Service, TooSlow, without_paths

CHAT_API_NAME = "ask"
# Where the browser keeps the conversation (localStorage, through gr.BrowserState); bump the version when the
# stored shape changes.
STORAGE_KEY = "exoqa-conversation-v1"
MAX_STORED_TURNS = 30  # older turns are dropped from the browser's copy
DECISIONS = ("answer", "no_answer", "refuse", "emergency")
NOTICE_KINDS = ("invalid", "not_ready", "busy", "stale", "error")

# Colours chosen for at least 4.5:1 contrast on their backgrounds (WCAG AA); system fonts only: the default
# themes fetch Google Fonts, and the page must work offline.
THEME = gr.themes.Default(
    primary_hue="blue",
    font=["system-ui", "-apple-system", "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
          "Microsoft YaHei", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
).set(
    button_primary_background_fill="#1d4ed8", button_primary_background_fill_hover="#1e40af",
    button_primary_text_color="#ffffff", button_primary_border_color="#1d4ed8",
    body_text_color_subdued="#4b5563", block_label_text_color="#374151", block_title_text_color="#1f2937",
    input_placeholder_color="#6b7280", checkbox_label_text_color="#1f2937", layout_gap="0.6rem",
)

CSS = """
/* ---- first screen: a compact header, the question box and the examples in view on desktop and phone ---- */
#exoqa-top { align-items: flex-start; gap: 0.4rem 1rem; flex-wrap: wrap; }
#exoqa-header { flex: 1 1 0; min-width: min(100%, 20rem); }
.exoqa-header h1 { font-size: 1.4rem; line-height: 1.25; margin: 0 0 0.3rem; }
.exoqa-tagline { margin: 0 0 0.2rem; }
.exoqa-skip-isev { white-space: nowrap; font-weight: 600; color: #92400e; }
.exoqa-about summary { cursor: pointer; color: #1f2937; }
#exoqa-language { flex: 0 0 12.5rem !important; max-width: 12.5rem; }
#exoqa-language label { padding: 0.3rem 0.6rem; }
#exoqa-chat { max-height: calc(100vh - 430px); min-height: 4rem; overflow-y: auto !important; padding: 0.2rem 0.3rem; }
.exoqa-feedback[hidden], .exoqa-markdown[hidden] { display: none !important; }
#exoqa-status:not(:has(.exoqa-status)) { display: none !important; }
#exoqa-notice { margin-top: -0.3rem; }
.exoqa-empty p { color: #374151; margin: 0.6rem 0; }
.exoqa-examples-title { font-size: 1rem; margin: 0.4rem 0 0.2rem; }
#exoqa-examples { gap: 0.4rem; flex-wrap: wrap; }
#exoqa-examples button { flex: 0 1 auto; min-width: 0; white-space: normal; text-align: left; }
.exoqa-counter { margin: 0.1rem 0 0; font-size: 0.85rem; color: #374151; }
.exoqa-counter.exoqa-over { color: #b91c1c; font-weight: 700; }
.exoqa-submit-notice { margin: 0.1rem 0; font-size: 0.9rem; color: #1f2937; min-height: 0; }
.exoqa-submit-warning { color: #92400e; font-weight: 600; }
@media (max-width: 767px) {
  .exoqa-header h1 { font-size: 1.05rem; }
  .exoqa-tagline { font-size: 0.88rem; line-height: 1.35; }
  #exoqa-chat { max-height: none; overflow: visible !important; min-height: 0; padding: 0; }
  .exoqa-empty { display: none; }
  #exoqa-buttons { flex-wrap: nowrap; }
  #exoqa-language { flex: 1 1 100% !important; max-width: none; }
  #exoqa-examples button { font-size: 0.8rem; }
}
#exoqa-tabs [role="tab"][aria-selected="true"] { color: #1d4ed8 !important; }
/* ---- keyboard focus: a clear ring everywhere ---- */
a:focus-visible, button:focus-visible, summary:focus-visible, textarea:focus-visible, input:focus-visible, .exoqa-passage:focus,
.exoqa-reader h3:focus, .exoqa-isev:focus, #exoqa-chat:focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
#exoqa-language label:has(input:focus-visible) { outline: 3px solid #1d4ed8; outline-offset: 2px; }
#exoqa-question textarea:focus { box-shadow: 0 0 0 3px #1d4ed8 !important; border-color: #1d4ed8 !important; }
/* ---- the conversation ---- */
.exoqa-turns { list-style: none; margin: 0; padding: 0; }
.exoqa-turn { margin: 0 0 0.9rem; }
.exoqa-question-turn { background: #eef2ff; border-radius: 10px; padding: 0.35rem 0.8rem; margin: 0 0 0.4rem auto;
  max-width: 88%; width: fit-content; }
.exoqa-speaker { font-size: 0.8rem; font-weight: 700; color: #374151; margin: 0; }
.exoqa-question-text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; color: #111827; }
.exoqa-reply { border-left: 4px solid #1d4ed8; padding: 0.2rem 0.8rem; color: #111827; scroll-margin-top: 1rem; }
.exoqa-reply.exoqa-no_answer { border-left-color: #4b5563; }
.exoqa-reply.exoqa-refuse { border-left-color: #92400e; background: #fff6e5; }
.exoqa-reply.exoqa-emergency { border-left-color: #b91c1c; background: #fdecea; }
.exoqa-reply.exoqa-notice, .exoqa-reply.exoqa-pending { border-left-color: #4b5563; }
.exoqa-pending progress { width: 12rem; max-width: 100%; }
.exoqa-badge { display: inline-block; font-weight: 700; font-size: 0.85rem; padding: 0.1rem 0.6rem;
  border-radius: 0.8rem; background: #1d4ed8; color: #fff; margin: 0.3rem 0; }
.exoqa-no_answer .exoqa-badge { background: #4b5563; }
.exoqa-refuse .exoqa-badge { background: #92400e; }
.exoqa-emergency .exoqa-badge { background: #b91c1c; font-size: 1rem; }
.exoqa-notice .exoqa-badge { background: #4b5563; }
.exoqa-emergency .exoqa-lead { font-size: 1.05rem; }
.exoqa-quotes { list-style: none; margin: 0.3rem 0; padding: 0; }
.exoqa-quote { margin: 0.5rem 0; padding: 0.3rem 0.6rem; border: 1px solid #cbd5e1; border-radius: 6px;
  background: #fff; scroll-margin-top: 1rem; }
.exoqa-quote summary { cursor: pointer; font-size: 1rem; }
/* the first quote is the answer (core orders it first); the rest support it, grouped by source */
.exoqa-quotes > li:first-child .exoqa-quote-text { font-weight: 700; }
.exoqa-quote-source, .exoqa-other-language { color: #4b5563; font-size: 0.85rem; }
.exoqa-quote-source { display: block; }
.exoqa-other-language { font-style: italic; }
.exoqa-cite { font-weight: 700; color: #1e3a8a; }
.exoqa-gloss { display: block; margin: 0.2rem 0; padding-left: 0.6rem; border-left: 3px solid #94a3b8; color: #1f2937; }
.exoqa-gloss-label { font-size: 0.85rem; font-weight: 700; color: #374151; }
.exoqa-paragraph { margin: 0.5rem 0; padding: 0.5rem; background: #f3f4f6; border-radius: 4px; color: #111827; }
mark.exoqa-highlight { background: #fde68a; color: #000; padding: 0 0.1em; }
.exoqa-card dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0; }
.exoqa-card dt { font-weight: 600; }
.exoqa-card dd { margin: 0; overflow-wrap: anywhere; }
.exoqa-card-title { font-weight: 700; margin: 0.3rem 0 0; }
.exoqa-citations { font-size: 0.9rem; color: #1f2937; margin-top: 0.4rem; }
.exoqa-citations ul { list-style: none; margin: 0.1rem 0; padding: 0; }
.exoqa-citations li { margin: 0; line-height: 1.6; }
.exoqa-cite-link { font-weight: 700; display: inline-block; min-width: 24px; text-align: center; }
.exoqa-actions svg { display: inline-block; width: 1em; height: 1em; vertical-align: -0.15em; margin-right: 0.25em;
  fill: currentColor; }
.exoqa-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; margin: 0.4rem 0 0.2rem; }
.exoqa-actions button { border: 1px solid #6b7280; border-radius: 6px; background: #fff; color: #111827;
  padding: 0.15rem 0.6rem; min-height: 28px; cursor: pointer; font-size: 0.9rem; }
.exoqa-actions button[aria-pressed="true"] { background: #dbeafe; border-color: #1d4ed8; }
.exoqa-rating { display: inline-flex; gap: 0.3rem; }
.exoqa-feedback { flex: 1 1 100%; display: flex; flex-wrap: wrap; gap: 0.3rem; align-items: flex-end; }
.exoqa-feedback label { flex: 1 1 100%; font-size: 0.9rem; }
.exoqa-feedback textarea { flex: 1 1 16rem; border: 1px solid #6b7280; border-radius: 6px; padding: 0.3rem;
  color: #111827; background: #fff; }
.exoqa-action-status { flex: 1 1 100%; margin: 0; font-size: 0.9rem; color: #1f2937; }
.exoqa-action-status:empty { display: none; }
/* ---- the emergency pin: first on the page, and it stays in view until dismissed ---- */
#exoqa-pin { position: sticky; top: 0; z-index: 60; background: #fdecea; border: 2px solid #b91c1c;
  border-radius: 8px; padding: 0.5rem 0.8rem; box-shadow: 0 2px 10px rgba(0, 0, 0, 0.25); max-height: 50vh;
  overflow-y: auto; gap: 0.3rem; }
#exoqa-pin h2 { font-size: 1.05rem; color: #7f1d1d; margin: 0 0 0.3rem; }
#exoqa-pin .exoqa-pin, #exoqa-pin p, #exoqa-pin li { color: #111827; }
#exoqa-pin p { margin: 0.2rem 0; }
#exoqa-dismiss { align-self: flex-start; width: auto; }
/* ---- the ISEV panel ---- */
.exoqa-isev { border: 2px solid #92400e; border-radius: 8px; padding: 0.6rem 0.9rem; background: #fffaf0;
  color: #111827; scroll-margin-top: 1rem; }
.exoqa-isev h2 { font-size: 1.1rem; margin: 0.2rem 0 0.4rem; }
.exoqa-isev p { margin: 0.25rem 0; }
.exoqa-isev-note { font-size: 0.9rem; color: #374151; }
@media (min-width: 768px) {
  #exoqa-side { position: sticky; top: 0.5rem; align-self: flex-start; max-height: calc(100vh - 1rem); overflow-y: auto; }
}
/* ---- the sources: a table on wide screens, cards on narrow ones; each quotable source opens to its text ---- */
.exoqa-sources { overflow-x: auto; }
.exoqa-sources table { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
.exoqa-sources th, .exoqa-sources td { border-bottom: 1px solid #d1d5db; padding: 0.35rem 0.45rem; text-align: left;
  vertical-align: top; overflow-wrap: normal; word-break: normal; hyphens: auto; }
.exoqa-sources th { white-space: nowrap; }
td.exoqa-col-year, td.exoqa-col-language_col, td.exoqa-col-role { white-space: nowrap; }
td.exoqa-col-ref { min-width: 3em; }
td.exoqa-col-source_title { min-width: 10rem; }
td.exoqa-col-licence { min-width: 5.5rem; }
.exoqa-source-link { font-size: 0.85rem; overflow-wrap: anywhere; }
.exoqa-sources [hidden] { display: none !important; }
.exoqa-read-source { border: 1px solid #1d4ed8; border-radius: 6px; background: #fff; color: #1d4ed8;
  padding: 0.15rem 0.5rem; margin: 0.2rem 0; cursor: pointer; font-size: 0.9rem; }
.exoqa-open-source { border: 1px solid #1d4ed8; border-radius: 6px; background: #fff; color: #1d4ed8;
  padding: 0.15rem 0.4rem; cursor: pointer; }
.exoqa-open-source[aria-expanded="true"] { background: #dbeafe; }
.exoqa-reader { border: 1px solid #cbd5e1; border-radius: 8px; padding: 0.5rem 0.8rem; background: #f9fafb; }
.exoqa-reader h3 { font-size: 1.05rem; margin: 0.2rem 0 0.4rem; }
.exoqa-passage-index ol { display: flex; flex-wrap: wrap; gap: 0.25rem; list-style: none; margin: 0 0 0.5rem; padding: 0; }
.exoqa-passage-index a { display: inline-block; min-width: 28px; min-height: 24px; text-align: center;
  border: 1px solid #cbd5e1; border-radius: 4px; background: #fff; }
.exoqa-passage { margin: 0.4rem 0; padding: 0.3rem 0.5rem; border-left: 3px solid #cbd5e1; scroll-margin-top: 1rem; }
.exoqa-passage-label { font-size: 0.82rem; color: #374151; margin: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 0.8rem; }
.exoqa-passage-text { white-space: pre-wrap; margin: 0.2rem 0; color: #111827; }
.exoqa-editorial { font-size: 0.85rem; color: #374151; font-style: italic; }
@media (max-width: 767px) {
  .exoqa-sources table, .exoqa-sources tbody, .exoqa-sources tr, .exoqa-sources td { display: block; width: auto; }
  .exoqa-sources thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  .exoqa-sources tr[data-source] { display: flex; flex-wrap: wrap; gap: 0.1rem 0.9rem; border: 1px solid #d1d5db;
    border-radius: 8px; margin: 0.5rem 0 0; padding: 0.45rem 0.7rem; }
  .exoqa-sources td { border: 0; padding: 0; }
  .exoqa-sources td::before { content: attr(data-label) ": "; font-weight: 600; color: #374151; }
  .exoqa-sources td.exoqa-col-source_title { flex: 1 1 100%; order: -1; min-width: 0; font-weight: 600; }
  .exoqa-sources td.exoqa-col-source_title::before, .exoqa-sources td.exoqa-col-text_col::before { content: none; }
  .exoqa-sources td.exoqa-col-licence { flex: 1 1 100%; }
  .exoqa-sources td.exoqa-col-text_col { flex: 1 1 100%; margin-top: 0.2rem; }
  .exoqa-sources tr.exoqa-reader-row td::before { content: none; }
}
.exoqa-status { padding: 0.5rem 0.8rem; border: 1px solid #1d4ed8; border-radius: 6px; }
"""

# Gradio scopes CSS to the app's content; the page's margins and footer lie outside it, so these rules go into
# <head> as they are.
HEAD_CSS = """<style>
@media (max-width: 767px) { .gradio-container .main { padding: 8px 10px !important; } }
footer a, footer button, footer span { color: #374151 !important; }
/* overflow: hidden here would make a scroll container and stop the emergency pin from sticking; clip does not */
.gradio-container { overflow: clip !important; }
</style>"""

# The page's behaviour, run once (from the header's js_on_load). Everything is delegated to the document, so the
# parts Gradio re-renders keep working: scrolling new replies into view below the emergency pin, [n] markers,
# copy/export, feedback, the live character count, the source reader and <html lang>.
PAGE_JS = r"""
if (!window.exoqaPage) {
  window.exoqaPage = true;
  const $ = (selector, root = document) => root.querySelector(selector);
  const settle = (fn) => { requestAnimationFrame(() => requestAnimationFrame(fn)); setTimeout(fn, 250); };

  const setHtmlLang = () => {
    const header = $('#exoqa-header header[lang]');
    if (header && document.documentElement.lang !== header.lang) document.documentElement.lang = header.lang;
  };

  // The bottom of the pinned emergency referral (0 when there is none): what lies above it is covered.
  const pinBottom = () => {
    const pin = $('#exoqa-pin');
    if (!pin || !pin.getClientRects().length) return 0;
    return Math.max(0, pin.getBoundingClientRect().bottom);
  };
  // Bring the first line of `node` into view: inside the chat's own scroll box (wide screens), then the page.
  const reveal = (node) => {
    if (!node || !node.isConnected) return;
    const box = $('#exoqa-chat');
    if (box && box.contains(node) && box.scrollHeight > box.clientHeight + 1
        && getComputedStyle(box).overflowY !== 'visible') {
      box.scrollTop += node.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
    const clear = pinBottom() + 8;
    const rect = node.getBoundingClientRect();
    if (rect.top < clear || rect.top > window.innerHeight - 120) window.scrollBy(0, rect.top - clear);
  };

  let waitingFor = null;
  const onChatChange = () => {
    const turns = document.querySelectorAll('#exoqa-chat .exoqa-turn');
    const last = turns[turns.length - 1];
    if (!last) { waitingFor = null; return; }
    if (last.querySelector('.exoqa-pending')) {
      if (waitingFor !== last.id) { waitingFor = last.id; settle(() => reveal(last)); }
    } else if (waitingFor === last.id) {
      waitingFor = null;
      settle(() => reveal(last.querySelector('.exoqa-reply')));
    }
  };

  const updateCounter = () => {
    const counter = $('#exoqa-counter-text');
    const box = $('#exoqa-question textarea');
    if (!counter || !box) return;
    const count = Array.from(box.value.trim()).length;
    const limit = Number(counter.dataset.limit);
    const over = count - limit;
    const text = (over > 0 ? counter.dataset.formatOver : counter.dataset.format)
      .replace('{count}', count).replace('{limit}', limit).replace('{over}', over);
    if (counter.textContent !== text) counter.textContent = text;
    counter.classList.toggle('exoqa-over', over > 0);
    if (box.getAttribute('aria-describedby') !== 'exoqa-counter-text') {
      box.setAttribute('aria-describedby', 'exoqa-counter-text');
    }
    if (over > 0) box.setAttribute('aria-invalid', 'true'); else box.removeAttribute('aria-invalid');
  };

  new MutationObserver((mutations) => {
    let chat = false;
    for (const m of mutations) {
      const target = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (target && target.closest('#exoqa-chat')) chat = true;
    }
    if (chat) onChatChange();
    setHtmlLang();
    settle(updateCounter);
  }).observe(document.body, {childList: true, subtree: true});
  document.addEventListener('input', (event) => {
    if (event.target.closest && event.target.closest('#exoqa-question')) updateCounter();
  });

  // ---- quotes, copy/export, feedback ----
  const openQuote = (id) => {
    const details = document.getElementById(id);
    if (!details) return;
    details.open = true;
    reveal(details);
    const summary = details.querySelector('summary');
    if (summary) summary.focus({preventScroll: true});
  };
  const say = (actions, text) => {
    const status = actions.querySelector('.exoqa-action-status');
    if (status) status.textContent = text;
  };
  const markdownOf = (actions) => actions.querySelector('.exoqa-markdown').textContent;
  const copyMarkdown = async (actions) => {
    const text = markdownOf(actions);
    try {
      await navigator.clipboard.writeText(text);
      say(actions, actions.dataset.copied);
    } catch (error) {  // no clipboard permission: the old way, through a selected textarea
      const area = document.createElement('textarea');
      area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      const copied = document.execCommand('copy');
      area.remove();
      say(actions, copied ? actions.dataset.copied : actions.dataset.copyFailed);
    }
  };
  const downloadMarkdown = (actions, button) => {
    const url = URL.createObjectURL(new Blob([markdownOf(actions)], {type: 'text/markdown;charset=utf-8'}));
    const link = document.createElement('a');
    link.href = url; link.download = button.dataset.file;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 2000);
  };
  const rate = (button) => {
    const actions = button.closest('.exoqa-actions');
    const form = actions.querySelector('.exoqa-feedback');
    actions.querySelectorAll('.exoqa-rate').forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
    form.dataset.rating = button.dataset.rating;
    form.hidden = false;
    form.querySelector('textarea').focus();
  };
  const feedbackUrl = () => new URL('api/feedback',
                                    window.location.origin + window.location.pathname.replace(/[^/]*$/, ''));
  const sendFeedback = async (form) => {
    const actions = form.closest('.exoqa-actions');
    const payload = {...JSON.parse(actions.dataset.feedback), rating: form.dataset.rating,
                     note: form.querySelector('textarea').value};
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const response = await fetch(feedbackUrl(), {method: 'POST', headers: {'content-type': 'application/json'},
                                                   body: JSON.stringify(payload)});
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || String(response.status));
      form.hidden = true;
      actions.classList.add('exoqa-rated');
      say(actions, actions.dataset.saved);
    } catch (error) {
      say(actions, actions.dataset.failed.replace('{message}', error.message));
    } finally {
      button.disabled = false;
    }
  };

  // ---- the source reader ----
  const readerRow = (id) => $(`#exoqa-sources tr.exoqa-reader-row[data-reader="${CSS.escape(id)}"]`);
  const readerButton = (id) => $(`#exoqa-sources .exoqa-open-source[data-source="${CSS.escape(id)}"]`);
  const goTo = (node) => {
    if (!node) return;
    node.scrollIntoView({block: 'start'});
    node.focus({preventScroll: true});
  };
  const openReader = (id) => {
    const row = readerRow(id);
    if (!row) return null;
    row.hidden = false;
    const button = readerButton(id);
    if (button) button.setAttribute('aria-expanded', 'true');
    return row.querySelector('.exoqa-reader');
  };
  const toggleReader = (button) => {
    const row = readerRow(button.dataset.source);
    if (!row) return;
    if (row.hidden) goTo(openReader(button.dataset.source).querySelector('h3'));
    else { row.hidden = true; button.setAttribute('aria-expanded', 'false'); }
  };
  // Python offsets count code points; the DOM counts UTF-16 units.
  const units = (text, points) => {
    let i = 0, n = 0;
    for (const ch of text) { if (n >= points) break; i += ch.length; n += 1; }
    return i;
  };
  const markInPassage = (passage, start, end) => {
    document.querySelectorAll('mark.exoqa-reader-mark').forEach((mark) => {
      const parent = mark.parentNode; mark.replaceWith(...mark.childNodes); parent.normalize();
    });
    const node = passage.querySelector('.exoqa-passage-text').firstChild;
    const base = Number(passage.dataset.start);
    if (!node) return;
    const range = document.createRange();
    range.setStart(node, units(node.data, start - base));
    range.setEnd(node, units(node.data, Math.min(end, Number(passage.dataset.end)) - base));
    const mark = document.createElement('mark');
    mark.className = 'exoqa-highlight exoqa-reader-mark';
    range.surroundContents(mark);
  };
  const sourcesTab = () => {
    const tabs = Array.from(document.querySelectorAll('#exoqa-tabs [role="tab"]'));
    return tabs.find((tab) => (tab.id || '').includes('exoqa-tab-sources')) || tabs[1];
  };
  const readInSource = (id, start, end, tries = 60) => {
    const tab = sourcesTab();
    if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();
    const row = readerRow(id);
    if (!row || !row.closest('#exoqa-sources').getClientRects().length) {
      if (tries > 0) setTimeout(() => readInSource(id, start, end, tries - 1), 50);
      return;
    }
    const reader = openReader(id);
    const passage = Array.from(reader.querySelectorAll('.exoqa-passage'))
      .find((p) => Number(p.dataset.start) <= start && start < Number(p.dataset.end));
    if (!passage) return goTo(reader.querySelector('h3'));
    markInPassage(passage, start, end);
    goTo(passage);
  };

  // [selector, action(element, event)]: the first that matches the clicked element's ancestors runs.
  const byId = (link) => document.getElementById(link.getAttribute('href').slice(1));
  const clicks = [
    ['a.exoqa-cite-link', (link, event) => { event.preventDefault(); openQuote(link.getAttribute('href').slice(1)); }],
    ['a.exoqa-skip-isev', (link, event) => { event.preventDefault(); goTo($('#exoqa-isev-panel')); }],
    ['.exoqa-reader a[href^="#"]', (link, event) => { event.preventDefault(); goTo(byId(link)); }],
    ['.exoqa-open-source', (button) => toggleReader(button)],
    ['.exoqa-read-source', (button) => readInSource(button.dataset.source, Number(button.dataset.start),
                                                    Number(button.dataset.end))],
    ['.exoqa-copy', (button) => copyMarkdown(button.closest('.exoqa-actions'))],
    ['.exoqa-download', (button) => downloadMarkdown(button.closest('.exoqa-actions'), button)],
    ['.exoqa-rate', (button) => rate(button)],
  ];
  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element)) return;
    for (const [selector, action] of clicks) {
      const hit = event.target.closest(selector);
      if (hit) { action(hit, event); return; }
    }
  });
  document.addEventListener('submit', (event) => {
    const form = event.target.closest && event.target.closest('.exoqa-feedback');
    if (form) { event.preventDefault(); sendFeedback(form); }
  });
  setHtmlLang();
  onChatChange();
  updateCounter();
}
"""

# Page language on load: ?lang=zh|en wins, else the browser's language.
DETECT_LANGUAGE_JS = """
(current, stored) => {
  const asked = new URLSearchParams(window.location.search).get("lang");
  const wanted = asked || navigator.language || "en";
  return [wanted.toLowerCase().startsWith("zh") ? "zh" : "en", stored];
}
"""


def _plain(content: Any) -> str:
    """Text of a chat message, whatever shape a client gives it (str, {"text"}, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, (list, tuple)):
        return " ".join(_plain(part) for part in content)
    return ""


def _valid_quote(quote: Any) -> bool:
    return (isinstance(quote, dict) and isinstance(quote.get("n"), int) and isinstance(quote.get("text"), str)
            and isinstance(quote.get("source_id"), str) and isinstance(quote.get("start"), int)
            and isinstance(quote.get("end"), int) and (quote.get("gloss") is None or isinstance(quote["gloss"], str)))


def load_turns(value: Any) -> list[dict]:
    """The conversation the browser kept, with anything malformed dropped (it is the browser's copy)."""
    turns = []
    for turn in value if isinstance(value, list) else []:
        if not (isinstance(turn, dict) and isinstance(turn.get("id"), str) and isinstance(turn.get("question"), str)):
            continue
        answer, notice = turn.get("answer"), turn.get("notice")
        if answer is not None and not (isinstance(answer, dict) and answer.get("decision") in DECISIONS
                                       and isinstance(answer.get("quotes", []), list)
                                       and all(_valid_quote(q) for q in answer.get("quotes", []))):
            continue
        if notice is not None and not (isinstance(notice, dict) and notice.get("kind") in NOTICE_KINDS):
            continue
        turns.append({"id": turn["id"][:40], "question": turn["question"][:4 * MAX_QUESTION_CHARS],
                      "language": language_of(turn.get("language")), "answer": answer, "notice": notice,
                      "pinned": bool(turn.get("pinned"))})
    return turns[-MAX_STORED_TURNS:]


def library_history(turns: list[dict]) -> list[dict]:
    """The turns before a question as the library reads them (it judges follow-ups by the user turns)."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": turn["question"]})
        if turn.get("answer"):
            history.append({"role": "assistant", "content": str(turn["answer"].get("text", ""))})
    return history


def box_note(language: str, text: str = "", kind: str = "info") -> str:
    """Under the question box: the character count, then what happened to the last submit (a live region)."""
    return (f'{counter_html(language)}<div role="status" aria-live="polite" class="exoqa-submit-status">'
            f'{submit_notice_html(text, kind)}</div>')


def build_blocks(service: Service) -> gr.Blocks:
    def render(turns: list[dict], language: str) -> str:
        return conversation_html(turns, service.corpus, language)

    def pin_updates(turns: list[dict]) -> tuple:
        """The newest emergency reply not yet dismissed, pinned at the top of the page."""
        pinned = [turn for turn in turns if turn.get("pinned") and turn.get("answer")]
        if not pinned:
            return gr.Column(visible=False), ""
        return gr.Column(visible=True), emergency_pin_html(pinned[-1]["answer"])

    def page_texts(language: str, stored: Any) -> tuple:
        language = language_of(language)
        examples = EXAMPLES[language]
        turns = load_turns(stored)
        return (
            header_html(language),
            isev_panel_html(service.warnings, language, service.corpus),
            sources_table_html(service.corpus, language),
            gr.Tab(label=t(language, "tab_chat")),
            gr.Tab(label=t(language, "tab_sources")),
            render(turns, language),
            gr.Textbox(placeholder=t(language, "placeholder"), label=t(language, "question_label")),
            box_note(language),
            gr.Button(value=t(language, "send")),
            gr.Button(value=t(language, "clear")),
            gr.Button(value=t(language, "dismiss")),
            f"<h2 class='exoqa-examples-title'>{t(language, 'examples')}</h2>",
            *[gr.Button(value=example) for example in examples],
            status_html(service.status(), language),
        )

    def open_page(language: str, stored: Any) -> tuple:
        """On (re)load: the page in the detected language and the conversation kept in the browser (a question
        left waiting gets a notice). The chat is marked restored, which is when the page is ready to use."""
        language = language_of(language)
        turns = load_turns(stored)
        for turn in turns:
            if not turn["answer"] and not turn["notice"]:
                turn["notice"] = {"kind": "stale", "text": t(turn["language"], "stale_reply"),
                                  "language": turn["language"]}
        texts = list(page_texts(language, turns))
        texts[page_outputs.index(chat)] = conversation_html(turns, service.corpus, language, restored=True)
        return (*texts, language, turns, *pin_updates(turns))

    def accept(text: str, stored: Any, language: str) -> tuple:
        """Echo the question at once with a progress state, or say why nothing was sent (the text is kept)."""
        language = language_of(language)
        turns = load_turns(stored)
        if any(not turn["answer"] and not turn["notice"] for turn in turns):
            return gr.skip(), gr.skip(), gr.skip(), box_note(language, t(language, "wait_submit"), "warning")
        try:
            question = clean_question(text or "")
        except InvalidQuestionError as exc:
            stripped = (text or "").strip()
            if not stripped:
                message = t(language, "empty_submit")
            elif len(stripped) > MAX_QUESTION_CHARS:
                message = t(language, "too_long_submit", count=len(stripped), limit=MAX_QUESTION_CHARS)
            else:
                message = t(language, "invalid_submit", message=str(exc))
            return gr.skip(), gr.skip(), gr.skip(), box_note(language, message, "warning")
        turns = [*turns, {"id": uuid.uuid4().hex[:12], "question": question, "language": language,
                          "answer": None, "notice": None, "pinned": False}][-MAX_STORED_TURNS:]
        return turns, render(turns, language), "", box_note(language, t(language, "status_waiting"))

    async def answer_pending(stored: Any, language: str) -> tuple:
        """Answer the question `accept` left waiting (if any) with the conversation before it."""
        language = language_of(language)
        turns = load_turns(stored)
        waiting = [i for i, turn in enumerate(turns) if not turn["answer"] and not turn["notice"]]
        if not waiting:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        index = waiting[-1]
        turn = turns[index]
        try:
            answer = await service.ask(turn["question"], library_history(turns[:index]))
            turn["answer"] = answer.to_dict()
            turn["pinned"] = turn["answer"]["decision"] == "emergency"
            badge = t(turn["answer"]["language"], "badge_" + turn["answer"]["decision"])
        except InvalidQuestionError as exc:
            turn["notice"] = {"kind": "invalid", "text": t(language, "invalid_reply", message=str(exc))}
        except NotReady as exc:
            turn["notice"] = {"kind": "not_ready", "text": t(language, "not_ready_reply",
                                                              status=exc.args[0]["status"])}
        except (Busy, TooSlow):
            turn["notice"] = {"kind": "busy", "text": t(language, "busy_reply")}
        except ExoqaError as exc:  # an index or model problem: say so, rather than leave the question waiting
            turn["notice"] = {"kind": "error", "text": t(language, "error_reply", message=without_paths(str(exc)))}
        if turn["notice"]:
            turn["notice"]["language"] = language
            badge = t(language, "badge_notice")
        return (turns, render(turns, language), box_note(language, t(language, "status_received", badge=badge)),
                *pin_updates(turns))

    def dismiss_pin(stored: Any) -> tuple:
        turns = load_turns(stored)
        for turn in turns:
            turn["pinned"] = False
        return turns, *pin_updates(turns)

    def clear_conversation(language: str) -> tuple:
        return [], render([], language), box_note(language), *pin_updates([])

    async def ask(question: str, history: list[dict], language: str) -> tuple[list[dict], str, dict | None]:
        """The chat for API clients: `history` is the messages so far ({"role", "content"}); returns the messages
        with this question and its reply (HTML) appended, an empty question box, and Answer.to_dict()."""
        history = list(history or [])
        page_language = language_of(language)
        prior = [{"role": m.get("role", "user"), "content": _plain(m.get("content"))}
                 for m in history if isinstance(m, dict)]
        answer_json = None
        try:
            answer = await service.ask(question or "", prior)
            reply = reply_html(answer, service.corpus)
            answer_json = answer.to_dict()
        except InvalidQuestionError as exc:
            reply = notice_html("invalid", t(page_language, "invalid_reply", message=str(exc)), page_language)
        except NotReady as exc:
            reply = notice_html("not_ready", t(page_language, "not_ready_reply", status=exc.args[0]["status"]),
                                page_language)
        except (Busy, TooSlow):
            reply = notice_html("busy", t(page_language, "busy_reply"), page_language)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
        return history, "", answer_json

    def poll_status(language: str):
        ready = service.status()["status"] in ("ready", "error")
        return status_html(service.status(), language_of(language)), gr.Timer(active=not ready)

    start = "en"
    private = {"api_visibility": "private", "show_progress": "hidden"}
    with gr.Blocks(title="exoqa", analytics_enabled=False) as demo:
        conversation = gr.BrowserState([], storage_key=STORAGE_KEY)
        # Shown first and pinned (sticky) at the top until dismissed: the newest emergency referral.
        with gr.Column(visible=False, elem_id="exoqa-pin") as pin_box:
            pin = gr.HTML("", elem_id="exoqa-pin-text")
            dismiss = gr.Button(t(start, "dismiss"), size="sm", elem_id="exoqa-dismiss")
        with gr.Row(elem_id="exoqa-top", equal_height=False):
            header = gr.HTML(header_html(start), elem_id="exoqa-header", js_on_load=PAGE_JS, head=HEAD_CSS)
            language = gr.Radio(choices=[("中文", "zh"), ("English", "en")], value=start, container=False,
                                label=t(start, "language"), elem_id="exoqa-language", scale=0, min_width=160)
        status = gr.HTML(status_html(service.status(), start), elem_id="exoqa-status")
        with gr.Row(elem_id="exoqa-main", equal_height=False):
            with gr.Column(scale=3, min_width=360):
                with gr.Tabs(elem_id="exoqa-tabs"):
                    with gr.Tab(t(start, "tab_chat"), id="chat", elem_id="exoqa-tab-chat") as chat_tab:
                        chat = gr.HTML(render([], start), elem_id="exoqa-chat", js_on_load=None)
                        box = gr.Textbox(placeholder=t(start, "placeholder"), show_label=False, container=False,
                                         label=t(start, "question_label"), lines=2, max_lines=6,
                                         elem_id="exoqa-question", autofocus=False)
                        # The live character count (the page's script keeps it current) and why a submit did nothing.
                        notice = gr.HTML(box_note(start), elem_id="exoqa-notice", js_on_load=None)
                        with gr.Row(elem_id="exoqa-buttons"):
                            send = gr.Button(t(start, "send"), variant="primary", elem_id="exoqa-send", scale=2,
                                             min_width=80)
                            clear = gr.Button(t(start, "clear"), elem_id="exoqa-clear", scale=1, min_width=80)
                        examples_title = gr.HTML(f"<h2 class='exoqa-examples-title'>{t(start, 'examples')}</h2>",
                                                 js_on_load=None)
                        with gr.Row(elem_id="exoqa-examples"):
                            example_buttons = [gr.Button(q, size="sm", elem_classes=["exoqa-example"])
                                               for q in EXAMPLES[start]]
                    with gr.Tab(t(start, "tab_sources"), id="sources", elem_id="exoqa-tab-sources") as sources_tab:
                        sources = gr.HTML(sources_table_html(service.corpus, start), elem_id="exoqa-sources",
                                          js_on_load=None)
            with gr.Column(scale=2, min_width=300, elem_id="exoqa-side"):
                isev = gr.HTML(isev_panel_html(service.warnings, start, service.corpus), elem_id="exoqa-isev",
                               js_on_load=None)
        timer = gr.Timer(1.0, active=service.status()["status"] not in ("ready", "error"))

        page_outputs = [header, isev, sources, chat_tab, sources_tab, chat, box, notice, send, clear, dismiss,
                        examples_title, *example_buttons, status]
        # .input: only the reader's own toggle (open_page sets the language too, and must not start it again).
        language.input(page_texts, inputs=[language, conversation], outputs=page_outputs, **private)
        demo.load(open_page, inputs=[language, conversation],
                  outputs=[*page_outputs, language, conversation, pin_box, pin], js=DETECT_LANGUAGE_JS, **private)
        demo.load(poll_status, inputs=language, outputs=[status, timer], **private)
        timer.tick(poll_status, inputs=language, outputs=[status, timer], **private)

        # Two steps: the question is echoed at once (no queue), then answered in the queue. The page shows its own
        # progress state, so Gradio's spinner and its time estimate are hidden.
        answer_step = {"fn": answer_pending, "inputs": [conversation, language],
                       "outputs": [conversation, chat, notice, pin_box, pin],
                       "concurrency_id": "exoqa-ask", "concurrency_limit": service.workers, **private}
        for trigger, source in [(send.click, box), (box.submit, box)] + [(b.click, b) for b in example_buttons]:
            trigger(accept, inputs=[source, conversation, language], outputs=[conversation, chat, box, notice],
                    queue=False, **private).then(**answer_step)
        dismiss.click(dismiss_pin, inputs=conversation, outputs=[conversation, pin_box, pin], queue=False,
                      **private)
        clear.click(clear_conversation, inputs=language, outputs=[conversation, chat, notice, pin_box, pin],
                    queue=False, **private)
        # API clients: the whole chat turn in one call (question, messages so far, page language).
        gr.api(ask, api_name=CHAT_API_NAME, concurrency_id="exoqa-ask", concurrency_limit=service.workers)
    return demo
