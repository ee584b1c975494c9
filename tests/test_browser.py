"""End-to-end: Debian's Chromium (headless, via Playwright) drives the page of a live `exoqa serve`."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from assistant.paths import PROJECT_ROOT
from assistant.reply.isev import NOTICE_URL
from live_server import live_server

CHROMIUM = "/usr/bin/chromium"
# `make screenshot` sets this to docs/screenshot.png; otherwise a test run leaves the committed picture alone.
SCREENSHOT_ENV = "EXOQA_SCREENSHOT"
ANSWER_TIMEOUT_MS = 120_000  # a loaded 2-core machine; the wait ends as soon as the reply is there


def decision(name: str) -> re.Pattern:
    """The reply's decision is a class (the chat's sanitizer keeps classes, not data-* attributes)."""
    return re.compile(rf"\bexoqa-{name}\b")


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):  # fail, never skip: a run without the browser tests is not a passing run
        pytest.fail(f"Chromium missing at {CHROMIUM}: `make test` and .ci/run install Debian's chromium "
                    "(apt-get install chromium fonts-noto-cjk)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


class Visit:
    """A page in a fresh browser context that records every request and console error."""

    def __init__(self, browser, url: str, locale: str) -> None:
        self.context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 960})
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url)
        expect(self.page.locator(".exoqa-isev")).to_be_visible(timeout=60_000)

    def ask(self, question: str):
        """Type a question, send it, and return the locator of its reply."""
        replies = self.page.locator("#exoqa-chat .exoqa-reply")
        before = replies.count()
        self.page.locator("#exoqa-question textarea").fill(question)
        self.page.locator("#exoqa-send").click()
        expect(replies).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
        return replies.nth(before)

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"]


@pytest.fixture
def visit(browser, live_url):
    visits: list[Visit] = []

    def open_page(locale: str = "en-US") -> Visit:
        visits.append(Visit(browser, live_url, locale))
        return visits[-1]

    yield open_page
    for v in visits:
        assert v.outside_requests() == [], "the page must work offline"
        assert not [e for e in v.console_errors if "Content Security Policy" in e], v.console_errors
        v.context.close()


def test_page_shows_isev_panel_follows_language_and_lists_sources(visit, assistant):
    english = visit("en-US")
    page = english.page
    panel = page.locator(".exoqa-isev")
    expect(panel.locator("h3")).to_have_text("ISEV patient safety warnings")
    expect(panel.locator(f'a[href="{NOTICE_URL}"]')).to_be_visible()
    expect(panel).to_contain_text("Summary in exoqa's own words")
    expect(page.locator("#exoqa-about")).to_contain_text("not medical advice".split()[0])

    page.get_by_label("中文").check()  # the toggle: panel and page switch to Chinese
    expect(panel.locator("h3")).to_have_text("ISEV 患者安全提醒")
    zh_warning = next(w for w in assistant.warnings if w.language == "zh")
    expect(panel).to_contain_text(zh_warning.text.splitlines()[0])

    page.get_by_role("tab", name="来源").click()
    rows = page.locator("#exoqa-sources tbody tr")
    expect(rows).to_have_count(len(assistant.sources()))
    for card in assistant.sources():
        expect(page.locator(f'#exoqa-sources tr[data-source="{card["source_id"]}"]')).to_contain_text(card["year"])

    chinese = visit("zh-CN")  # the page follows the browser's language
    expect(chinese.page.locator(".exoqa-isev h3")).to_have_text("ISEV 患者安全提醒")


def test_chinese_factual_question_shows_highlighted_quote_with_citation(visit, assistant, tmp_path):
    question = "外泌体是怎么提取分离的?"
    expected = assistant.ask(question)
    assert expected.decision == "answer"
    v = visit("zh-CN")
    reply = v.ask(question)
    expect(reply).to_have_class(decision("answer"))
    first = reply.locator("details.exoqa-quote").first
    expect(first.locator("sup.exoqa-cite")).to_have_text("[1]")
    expect(first.locator(".exoqa-quote-text")).to_have_text(expected.quotes[0].text)
    highlight = first.locator("mark.exoqa-highlight")
    expect(highlight).to_be_hidden()
    first.locator("summary").click()  # open the quote: highlighted inside its paragraph, with its source card
    expect(highlight).to_be_visible()
    expect(highlight).to_have_text(expected.quotes[0].text)
    source = assistant.corpus[expected.quotes[0].source_id]
    paragraph = first.locator(".exoqa-paragraph").inner_text()
    assert len(paragraph) > len(expected.quotes[0].text)
    card = first.locator(".exoqa-card")
    expect(card).to_contain_text(source.title)
    expect(card).to_contain_text(source.meta["year"])
    expect(card).to_contain_text(source.meta["license"])
    expect(card.locator(f'a[href="{source.meta["url"]}"]')).to_be_visible()
    expect(v.page.locator(".exoqa-isev")).to_be_visible()
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
    v.page.evaluate("window.scrollTo(0, 0)")
    v.page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_english_question_on_a_chinese_source_is_labelled(visit, assistant):
    question = "What did the article say about how exosomes are extracted?"
    expected = assistant.ask(question)
    other = [q for q in expected.quotes if assistant.corpus[q.source_id].language != "en"]
    if not other:
        pytest.skip("no cross-language quote for this question with the current retriever")
    reply = visit("en-US").ask(question)
    labelled = reply.locator(f"details.exoqa-quote-{other[0].n} .exoqa-other-language")
    expect(labelled).to_contain_text("Chinese source")


def test_treatment_question_is_refused_and_cannot_be_talked_around(visit):
    v = visit("en-US")
    reply = v.ask("Should I get exosome injections for my knee?")
    expect(reply).to_have_class(decision("refuse"))
    expect(reply.locator(".exoqa-badge")).to_have_text("Not medical advice")
    expect(reply).to_contain_text("I can't give personal medical advice")
    expect(reply.locator("details.exoqa-quote")).to_have_count(0)
    expect(v.page.locator(".exoqa-isev")).to_be_visible()
    follow_up = v.ask("那我该不该做？")
    expect(follow_up).to_have_class(decision("refuse"))
    answer = v.ask("Did the FDA approve any exosome product?")
    expect(answer).to_have_class(decision("answer"))
    refused_background = reply.evaluate("e => getComputedStyle(e).backgroundColor")
    answered_background = answer.evaluate("e => getComputedStyle(e).backgroundColor")
    assert refused_background != answered_background  # refusals look different from answers


def test_emergency_referral_comes_first(visit):
    v = visit("en-US")
    reply = v.ask("I had an exosome injection yesterday and now I have a high fever and can't breathe")
    expect(reply).to_have_class(decision("emergency"))
    lines = [line for line in reply.inner_text().splitlines() if line.strip()]
    assert lines[0] == "Emergency"
    assert lines[1].startswith("Seek emergency care now"), lines[:3]
    expect(v.page.locator(".exoqa-isev")).to_be_visible()


def test_example_question_and_abstention(visit):
    v = visit("en-US")
    replies = v.page.locator("#exoqa-chat .exoqa-reply")
    v.page.get_by_role("button", name="Did the FDA approve any exosome product?").click()
    expect(replies).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(replies.first).to_have_class(decision("answer"))
    v.page.locator("#exoqa-clear").click()  # a new conversation: nothing before the next question
    expect(replies).to_have_count(0)
    off_topic = v.ask("What is the capital of France?")
    expect(off_topic).to_have_class(decision("no_answer"))
    expect(off_topic).to_contain_text("The sources do not cover this question")


def test_page_shows_index_build_progress_then_answers(browser, tmp_path):
    """A corpus without an index: the page opens at once, shows the build's progress, then answers."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("guangdong-mpa-2022.txt", "oh-2018.txt", "ha-2020.txt"):
        shutil.copy(PROJECT_ROOT / "corpus" / name, corpus / name)
    with live_server("--corpus", str(corpus), wait_until_ready=False) as url:
        v = Visit(browser, f"{url}/?lang=en", "zh-CN")  # ?lang= wins over the browser's language
        try:
            expect(v.page.locator(".exoqa-isev h3")).to_have_text("ISEV patient safety warnings")
            status = v.page.locator("#exoqa-status .exoqa-status")
            expect(status).to_contain_text(re.compile(r"Building the search index… \d+ of \d+ texts embedded"),
                                           timeout=120_000)
            expect(status.locator("progress")).to_be_visible()
            expect(v.page.locator("#exoqa-status .exoqa-status")).to_have_count(0, timeout=600_000)
            reply = v.ask("Did Guangdong warn about exosome products?")
            expect(reply).to_have_class(re.compile(r"\bexoqa-(answer|no_answer)\b"))
            assert v.outside_requests() == []
        finally:
            v.context.close()
