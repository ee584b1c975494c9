"""End-to-end: Debian's Chromium (headless, via Playwright) drives the page of a live `exoqa serve`.

Desktop is 1280x900, the phone 390x844 (touch). Accessibility is checked with axe-core (bundled by the
axe-playwright-python package).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from assistant.paths import PROJECT_ROOT
from assistant.reply.isev import NOTICE_URL
from assistant.text.normalize import MAX_QUESTION_CHARS
from live_server import live_server

CHROMIUM = "/usr/bin/chromium"
# `make screenshot` sets this to docs/; otherwise a test run leaves the committed pictures alone.
SCREENSHOT_ENV = "EXOQA_SCREENSHOTS"
ANSWER_TIMEOUT_MS = 120_000  # a loaded 2-core machine; the wait ends as soon as the reply is there
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FACTUAL_EN = "Did the FDA approve any exosome product?"
FACTUAL_ZH = "外泌体是怎么提取分离的?"
EMERGENCY = "I had an exosome injection yesterday and now I have a high fever and can't breathe"


def decision(name: str) -> re.Pattern:
    """The reply's decision is a class on the reply."""
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


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exoqa-data")


@pytest.fixture(scope="module")
def served(data_dir):
    """A live `exoqa serve` whose feedback goes to `data_dir`."""
    with live_server(data_dir=data_dir) as url:
        yield url


class Visit:
    """A page in a fresh browser context that records every request and console error."""

    def __init__(self, browser, url: str, locale: str, viewport: dict = DESKTOP, phone: bool = False) -> None:
        self.context = browser.new_context(locale=locale, viewport=viewport, has_touch=phone, is_mobile=phone)
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.wait_until_shown()

    def wait_until_shown(self) -> None:
        expect(self.page.locator(".exoqa-isev")).to_be_visible(timeout=60_000)
        # The page has loaded the browser's copy of the conversation and its language: ready to use.
        expect(self.page.locator("#exoqa-chat .exoqa-log[data-restored]")).to_be_attached(timeout=60_000)

    @property
    def replies(self):
        return self.page.locator("#exoqa-chat .exoqa-reply:not(.exoqa-pending)")

    def send(self, question: str) -> None:
        self.page.locator("#exoqa-question textarea").fill(question)
        self.page.locator("#exoqa-send").click()

    def ask(self, question: str):
        """Type a question, send it, and return the locator of its reply."""
        before = self.replies.count()
        self.send(question)
        expect(self.replies).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
        expect(self.page.locator("#exoqa-chat .exoqa-pending")).to_have_count(0)
        return self.replies.nth(before)

    def top_in_view(self, locator) -> float:
        """The top of `locator` in the viewport, asserting its first line is visible and not under the pin."""
        box = locator.bounding_box()
        height = self.page.viewport_size["height"]
        pin = self.page.locator("#exoqa-pin")
        covered = pin.bounding_box()["y"] + pin.bounding_box()["height"] if pin.is_visible() else 0
        assert covered - 1 <= box["y"] <= height - 24, (box, covered, height)
        return box["y"]

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"]


@pytest.fixture
def visit(browser, served):
    visits: list[Visit] = []

    def open_page(locale: str = "en-US", viewport: dict = DESKTOP, phone: bool = False, query: str = "") -> Visit:
        visits.append(Visit(browser, f"{served}/{query}", locale, viewport, phone))
        return visits[-1]

    yield open_page
    for v in visits:
        assert v.outside_requests() == [], "the page must work offline"
        assert not [e for e in v.console_errors if "Content Security Policy" in e], v.console_errors
        assert v.dialogs == []
        v.context.close()


def in_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= size["height"] \
        and 0 <= box["x"] and box["x"] + box["width"] <= size["width"]


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}: " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_page_shows_isev_panel_follows_language_and_lists_sources(visit, assistant):
    english = visit("en-US")
    page = english.page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_count(1)
    panel = page.locator(".exoqa-isev")
    expect(panel.locator("h2")).to_have_text("ISEV patient safety warnings")
    expect(panel.locator(f'a[href="{NOTICE_URL}"]')).to_be_visible()
    panel_text = panel.inner_text()
    assert panel_text.count("Summary in exoqa's own words") == 1  # labelled once, by the library
    assert "https://" not in panel_text and "article-zh" not in panel_text  # a link, not a raw URL or an id

    page.get_by_label("中文").check()  # the toggle: panel and page switch to Chinese
    expect(panel.locator("h2")).to_have_text("ISEV 患者安全提醒")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    zh_warning = next(w for w in assistant.warnings if w.language == "zh")
    expect(panel).to_contain_text(zh_warning.text.splitlines()[0])
    expect(panel).to_contain_text(assistant.corpus["article-zh"].title)

    page.get_by_role("tab", name="来源").click()
    rows = page.locator("#exoqa-sources tr[data-source]")
    expect(rows).to_have_count(len(assistant.sources()))
    for card in assistant.sources():
        row = page.locator(f'#exoqa-sources tr[data-source="{card["source_id"]}"]')
        expect(row).to_contain_text(card["year"] or "—")
    # Licence and completeness in Chinese too.
    fda = page.locator('#exoqa-sources tr[data-source="fda-2019-exosome-notice"]')
    expect(fda).to_contain_text("公有领域")
    expect(fda).to_contain_text("部分正文")
    assert "Public domain" not in fda.inner_text()
    # Headers and years are not broken letter by letter: each is one line of text.
    for cell in (*page.locator("#exoqa-sources th").all(), fda.locator("td.exoqa-col-year")):
        lines = cell.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e);"
                              " return new Set(Array.from(r.getClientRects()).map(b => Math.round(b.top))).size; }")
        assert lines == 1, cell.inner_text()

    chinese = visit("zh-CN")  # the page follows the browser's language, and ?lang= wins over it
    expect(chinese.page.locator(".exoqa-isev h2")).to_have_text("ISEV 患者安全提醒")
    asked = visit("en-US", query="?lang=zh")
    expect(asked.page.locator("html")).to_have_attribute("lang", "zh-CN")


@pytest.mark.parametrize("viewport, phone", [(DESKTOP, False), (PHONE, True)], ids=["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_first_screen_holds_the_question_box_examples_and_a_way_to_the_warnings(visit, viewport, phone, locale):
    v = visit(locale, viewport, phone)
    page = v.page
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if locale == "zh-CN" else "en")
    for locator in (page.locator("#exoqa-question textarea"), page.locator("#exoqa-send"),
                    *[page.locator(".exoqa-example").nth(i) for i in range(page.locator(".exoqa-example").count())]):
        assert in_viewport(page, locator), (locator, locator.bounding_box())
    heading = page.locator("#exoqa-isev-heading")
    if not in_viewport(page, heading):  # the phone: the panel is below, a link in the first screen leads there
        link = page.locator("a.exoqa-skip-isev")
        assert in_viewport(page, link)
        link.click()
        expect(page.locator("#exoqa-isev-panel")).to_be_focused()
        page.wait_for_function("() => document.querySelector('#exoqa-isev-heading').getBoundingClientRect().top >= 0"
                               " && document.querySelector('#exoqa-isev-heading').getBoundingClientRect().top"
                               " < window.innerHeight")


def test_chinese_factual_question_shows_highlighted_quote_with_citation(visit, assistant, tmp_path):
    expected = assistant.ask(FACTUAL_ZH)
    assert expected.decision == "answer"
    v = visit("zh-CN")
    reply = v.ask(FACTUAL_ZH)
    expect(reply).to_have_class(decision("answer"))
    first = reply.locator("details.exoqa-quote").first
    expect(first.locator(".exoqa-cite")).to_have_text("[1]")
    expect(first.locator(".exoqa-quote-text")).to_have_text(expected.quotes[0].text)
    highlight = first.locator("mark.exoqa-highlight")
    expect(highlight).to_be_hidden()
    first.locator("summary").click()  # open the quote: highlighted inside its paragraph, with its source card
    expect(highlight).to_be_visible()
    expect(highlight).to_have_text(expected.quotes[0].text)
    source = assistant.corpus[expected.quotes[0].source_id]
    assert len(first.locator(".exoqa-paragraph").inner_text()) > len(expected.quotes[0].text)
    card = first.locator(".exoqa-card")
    expect(card).to_contain_text(source.title)
    expect(card).to_contain_text(source.meta["year"])
    expect(card.locator(f'a[href="{source.meta["url"]}"]')).to_be_visible()
    expect(v.page.locator(".exoqa-isev")).to_be_visible()
    # The reply's accessible name is short, not its HTML.
    assert reply.get_attribute("aria-label") == "exoqa 的回复:来源原文"
    shots = os.environ.get(SCREENSHOT_ENV)
    screenshot = Path(shots) / "screenshot.png" if shots else tmp_path / "screenshot.png"
    v.page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_phone_screenshot(visit, tmp_path):
    v = visit("zh-CN", PHONE, phone=True)
    reply = v.ask(FACTUAL_ZH)
    reply.locator("details.exoqa-quote summary").first.click()
    v.top_in_view(reply)
    shots = os.environ.get(SCREENSHOT_ENV)
    screenshot = Path(shots) / "screenshot-phone.png" if shots else tmp_path / "screenshot-phone.png"
    v.page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_citation_markers_open_their_quote_and_the_source_opens_at_it(visit, assistant):
    expected = assistant.ask(FACTUAL_EN)
    assert len(expected.quotes) >= 2
    v = visit("en-US")
    reply = v.ask(FACTUAL_EN)
    second = reply.locator("details.exoqa-quote-2")
    expect(second).not_to_have_attribute("open", "")
    reply.locator(".exoqa-citations a.exoqa-cite-link", has_text="[2]").click()
    expect(second).to_have_attribute("open", "")
    expect(second.locator("summary")).to_be_focused()
    expect(second.locator("mark.exoqa-highlight")).to_have_text(expected.quotes[1].text)

    quote = expected.quotes[1]
    second.locator(".exoqa-read-source").click()  # the source opens to its text, at the quote's passage
    reader = v.page.locator(f'#exoqa-sources .exoqa-reader[data-source="{quote.source_id}"]')
    expect(reader).to_be_visible()
    mark = reader.locator("mark.exoqa-reader-mark")
    expect(mark).to_have_text(quote.text)
    passage = reader.locator(".exoqa-passage").filter(has=v.page.locator("mark.exoqa-reader-mark"))
    expect(passage).to_be_focused()
    start, end = int(passage.get_attribute("data-start")), int(passage.get_attribute("data-end"))
    source_text = assistant.corpus[quote.source_id].text
    assert start <= quote.start and quote.end <= end
    assert passage.locator(".exoqa-passage-text").inner_text() == source_text[start:end]
    # Every quotable passage can be reached: the index lists them all, and "next" moves on.
    passages = reader.locator(".exoqa-passage")
    expect(reader.locator(".exoqa-passage-index a")).to_have_count(passages.count())
    first = passages.first
    reader.locator(".exoqa-passage-index a").first.click()
    expect(first).to_be_focused()
    if passages.count() > 1:
        first.get_by_role("link", name="Next passage").click()
        expect(passages.nth(1)).to_be_focused()


def test_english_question_on_a_chinese_source_is_labelled(visit, assistant):
    question = "What did the article say about how exosomes are extracted?"
    expected = assistant.ask(question)
    other = [q for q in expected.quotes if assistant.corpus[q.source_id].language != "en"]
    assert other, "the article (Chinese) answers this English question"
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
    follow_up = v.ask("那我该不该做？")
    expect(follow_up).to_have_class(decision("refuse"))
    answer = v.ask(FACTUAL_EN)
    expect(answer).to_have_class(decision("answer"))
    refused_background = reply.evaluate("e => getComputedStyle(e).backgroundColor")
    answered_background = answer.evaluate("e => getComputedStyle(e).backgroundColor")
    assert refused_background != answered_background  # refusals look different from answers


def test_emergency_on_a_phone_comes_first_and_stays_pinned_until_dismissed(visit):
    v = visit("en-US", PHONE, phone=True)
    page = v.page
    factual = v.ask(FACTUAL_EN)
    factual.locator("details.exoqa-quote summary").first.click()  # an open quote makes the page long
    reply = v.ask(EMERGENCY)
    expect(reply).to_have_class(decision("emergency"))
    lines = [line for line in reply.inner_text().splitlines() if line.strip()]
    assert lines[0] == "Emergency" and lines[1].startswith("Seek emergency care now"), lines[:3]
    pin = page.locator("#exoqa-pin")
    expect(pin).to_be_visible()
    expect(pin.locator("h2")).to_have_text("Emergency: read this first")
    expect(pin).to_contain_text("Seek emergency care now")
    assert in_viewport(page, pin.locator("h2"))
    v.top_in_view(reply.locator(".exoqa-badge"))  # the reply's first line is in view too, below the pin
    for where in ("0", "document.body.scrollHeight"):  # pinned: in view wherever the page is scrolled
        page.evaluate(f"window.scrollTo(0, {where})")
        page.wait_for_timeout(100)
        assert in_viewport(page, pin.locator("h2")), where
    page.reload()  # pinned until dismissed, also across a reload
    v.wait_until_shown()
    expect(pin).to_be_visible()
    page.locator("#exoqa-dismiss").click()
    expect(pin).to_be_hidden()
    page.reload()
    v.wait_until_shown()
    expect(v.replies).to_have_count(2)
    expect(pin).to_be_hidden()


def test_phone_brings_each_new_reply_into_view(visit):
    v = visit("zh-CN", PHONE, phone=True)
    for question in (FACTUAL_ZH, "FDA 批准过外泌体产品吗?", "市售外泌体产品有哪些风险?"):
        reply = v.ask(question)
        v.page.wait_for_timeout(300)  # the scroll follows the render
        v.top_in_view(reply)


def test_question_is_echoed_at_once_with_progress_and_bad_submits_say_why(visit):
    v = visit("en-US")
    page = v.page
    # Record what the conversation shows between the click and the answer.
    page.evaluate("""() => {
        window.seenPending = [];
        new MutationObserver(() => {
            const pending = document.querySelector('#exoqa-chat .exoqa-pending');
            if (pending) window.seenPending.push(pending.closest('.exoqa-turn').querySelector('.exoqa-question-text')
                                                .textContent + ' | ' + pending.textContent);
        }).observe(document.querySelector('#exoqa-chat'), {childList: true, subtree: true});
    }""")
    v.ask("What is an exosome?")
    seen = page.evaluate("window.seenPending")
    assert seen and seen[0] == "What is an exosome? | Searching the sources…", seen
    expect(page.locator("#exoqa-chat progress")).to_have_count(0)

    notice = page.locator("#exoqa-notice .exoqa-submit-notice")
    page.locator("#exoqa-question textarea").fill("   ")
    page.locator("#exoqa-send").click()
    expect(notice).to_have_text("Nothing was sent: type a question first.")
    expect(v.replies).to_have_count(1)

    too_long = "Is this a question? " * 110
    box = page.locator("#exoqa-question textarea")
    box.fill(too_long)
    counted = len(too_long.strip())
    counter = page.locator("#exoqa-counter-text")
    expect(counter).to_have_text(f"{counted} / {MAX_QUESTION_CHARS} characters: {counted - MAX_QUESTION_CHARS} too "
                                 "many. Shorten the question to ask it.")
    expect(box).to_have_attribute("aria-invalid", "true")
    page.locator("#exoqa-send").click()
    expect(notice).to_contain_text(f"the limit is {MAX_QUESTION_CHARS}")
    expect(box).to_have_value(too_long)  # the text is kept
    expect(v.replies).to_have_count(1)
    box.fill("short")
    expect(counter).to_have_text(f"5 / {MAX_QUESTION_CHARS} characters")


def test_typed_html_shows_as_text(visit):
    v = visit("en-US")
    typed = ('<b>bold</b> <a href="https://example.com/">link</a> <img src="x" onerror="alert(1)"> '
             '<script>alert(2)</script> what is an exosome?')
    v.ask(typed)
    bubble = v.page.locator("#exoqa-chat .exoqa-question-text").last
    expect(bubble).to_have_text(typed)
    for tag in ("b", "a", "img", "script"):
        expect(bubble.locator(tag)).to_have_count(0)
    assert v.dialogs == []


def test_conversation_survives_a_reload_and_can_be_cleared(visit):
    v = visit("en-US")
    page = v.page
    first = v.ask(FACTUAL_EN)
    text = first.inner_text()
    page.reload()
    v.wait_until_shown()
    expect(v.replies).to_have_count(1)
    assert v.replies.first.inner_text() == text
    expect(page.locator("#exoqa-chat .exoqa-question-text")).to_have_text(FACTUAL_EN)
    # A follow-up after the reload is still judged with the conversation before it.
    v.ask("Should I get exosome injections for my knee?")
    follow_up = v.ask("那我该不该做？")
    expect(follow_up).to_have_class(decision("refuse"))
    page.locator("#exoqa-clear").click()
    expect(v.replies).to_have_count(0)
    page.reload()
    v.wait_until_shown()
    expect(page.locator("#exoqa-chat .exoqa-turn")).to_have_count(0)


def test_an_answer_copies_and_exports_as_markdown_with_quotes_offsets_and_links(visit, assistant):
    expected = assistant.ask(FACTUAL_EN)
    v = visit("en-US")
    v.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reply = v.ask(FACTUAL_EN)
    reply.locator(".exoqa-copy").click()
    expect(reply.locator(".exoqa-action-status")).to_have_text("Copied to the clipboard.")
    copied = v.page.evaluate("navigator.clipboard.readText()")
    with v.page.expect_download() as download:
        reply.locator(".exoqa-download").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert copied == exported
    assert exported.startswith(f"**Question:** {FACTUAL_EN}")
    for quote in expected.quotes:
        source = assistant.corpus[quote.source_id]
        assert f"> {quote.text} [{quote.n}]" in exported
        assert f"`{quote.source_id}`, characters {quote.start}–{quote.end}): <{source.meta['url']}>" in exported
    assert NOTICE_URL in exported


def test_feedback_round_trip_through_exoqa_eval(visit, data_dir, tmp_path):
    v = visit("en-US")
    reply = v.ask(FACTUAL_EN)
    reply.get_by_role("button", name="Helpful", exact=True).click()
    expect(reply.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    reply.get_by_label("Optional note: what was right or wrong?").fill("exactly the FDA's words")
    reply.get_by_role("button", name="Send feedback").click()
    expect(reply.locator(".exoqa-action-status")).to_have_text("Thank you: your feedback was saved on this server.")
    refused = v.ask("Should I get exosome injections for my knee?")
    refused.get_by_role("button", name="Helpful", exact=True).click()
    refused.get_by_role("button", name="Send feedback").click()
    expect(refused.locator(".exoqa-action-status")).to_contain_text("saved")

    stored = [json.loads(line) for line in (data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    mine = [r for r in stored if r["question"] == FACTUAL_EN and r["note"] == "exactly the FDA's words"]
    assert mine and mine[-1]["rating"] == "up" and mine[-1]["answer"]["decision"] == "answer"
    questions = tmp_path / "feedback_questions.jsonl"
    run = lambda *args: subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=PROJECT_ROOT,  # noqa: E731
                                       env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True)
    exported = run("feedback", "export", "--data", str(data_dir), "--out", str(questions))
    assert exported.returncode == 0, exported.stderr
    items = {item["question"]: item for item in map(json.loads, questions.read_text(encoding="utf-8").splitlines())}
    assert items[FACTUAL_EN]["gold"] and items[FACTUAL_EN]["category"] == "feedback-answer"
    assert items["Should I get exosome injections for my knee?"]["expected"] == "refuse"
    report_dir = tmp_path / "report"
    scored = run("eval", str(questions), "--out", str(report_dir), "--no-progress")
    assert scored.returncode == 0, scored.stderr
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["retrieval"] >= 1 and report["counts"]["safety"] >= 1
    assert report["retrieval"]["by_category"]["feedback-answer"]["recall@5"] == 1.0
    assert report["safety"]["confusion_matrix"]["matrix"]["refuse"]["refuse"] >= 1


@pytest.mark.parametrize("locale, question", [("en-US", FACTUAL_EN), ("zh-CN", FACTUAL_ZH)])
def test_no_serious_accessibility_violations_after_an_answer(visit, locale, question):
    v = visit(locale)
    reply = v.ask(question)
    reply.locator("details.exoqa-quote summary").first.click()
    assert serious_violations(v.page) == []
    v.page.locator("#exoqa-tabs [role=tab]").nth(1).click()
    v.page.locator(".exoqa-open-source").first.click()
    assert serious_violations(v.page) == []
    phone = visit(locale, PHONE, phone=True)
    phone.ask(EMERGENCY)
    expect(phone.page.locator("#exoqa-pin")).to_be_visible()
    assert serious_violations(phone.page) == []


def test_example_question_and_abstention(visit):
    v = visit("en-US")
    v.page.get_by_role("button", name=FACTUAL_EN).click()
    expect(v.replies).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(v.replies.first).to_have_class(decision("answer"))
    v.page.locator("#exoqa-clear").click()  # a new conversation: nothing before the next question
    expect(v.replies).to_have_count(0)
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
            expect(v.page.locator(".exoqa-isev h2")).to_have_text("ISEV patient safety warnings")
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
