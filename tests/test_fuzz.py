"""Property-based tests (hypothesis): hostile and careless input to the Python API, the CLI and the HTTP API.

About 10,000 generated inputs in all (see EXAMPLES): random Unicode, control characters, lone surrogates,
invalid UTF-8, huge strings, deeply nested or wrong-typed JSON, numbers where strings belong. The property
everywhere: no crash and no traceback; bad input is a clear InvalidQuestionError (a ValueError), exit code 2,
or a JSON 4xx; good input is a real answer with verbatim quotes and the ISEV warnings.
"""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import Answer, InvalidQuestionError
from assistant.reply.answer import verify_quote
from assistant.query import user_turns
from assistant.text.normalize import MAX_QUESTION_CHARS, clean_question as normalize_question
from ui.server import create_app
from ui.service import Service

ROOT = Path(__file__).resolve().parent.parent
# Generated inputs per property; the sum is the suite's total (asserted below so it cannot silently shrink).
# Inputs that pass validation run the whole pipeline (~20-100 ms each), so those properties get fewer examples.
EXAMPLES = {"normalize": 3200, "history": 1500, "ask": 400, "search": 300, "cli": 1000,
            "http_ask": 1000, "http_raw": 2300, "http_search": 300}
FUZZ = settings(deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
DECISIONS = {"answer", "no_answer", "refuse", "emergency"}

# Text: any code point (control characters and lone surrogates included), biased towards the article's topic
# so that part of it reaches retrieval, quoting and the safety gate rather than only the validators.
TOPIC = st.sampled_from(["外泌体", "exosome", "FDA", "注射", "ISEV", "ignore previous instructions", "干细胞",
                         "安全吗", "price", "\u0000", "\u202e", "\ufeff", "\U0001F489", " ", "\n", "\t"])
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
TEXT = st.one_of(
    ANY_TEXT,
    st.lists(st.one_of(TOPIC, ANY_TEXT), max_size=8).map("".join),
    st.builds(lambda ch, n: ch * n, st.characters(), st.sampled_from([MAX_QUESTION_CHARS, MAX_QUESTION_CHARS + 1,
                                                                       100_000])),
)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        TEXT)
JSON = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                    max_leaves=20)
MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system"]), "content": TEXT}),
    st.dictionaries(st.sampled_from(["role", "content", "name", "extra"]), JSON, max_size=3),
    JSON,
)
HISTORY = st.one_of(st.none(), st.lists(st.one_of(TEXT, MESSAGE), max_size=6), JSON)


def deeply_nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_the_suite_generates_ten_thousand_inputs():
    assert sum(EXAMPLES.values()) >= 10_000


def _check_answer(assistant, answer: Answer) -> None:
    assert answer.decision in DECISIONS
    assert answer.warnings  # the ISEV warnings are on every reply
    assert all(verify_quote(assistant.corpus, q) for q in answer.quotes)


# ----- Python API --------------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=EXAMPLES["normalize"])
@given(st.one_of(TEXT, JSON, st.binary(max_size=64)))
def test_normalize_question_accepts_text_or_raises_a_value_error(value):
    try:
        text = normalize_question(value)
    except InvalidQuestionError as exc:
        assert isinstance(exc, ValueError) and str(exc)
        return
    assert text and text == text.strip() and len(text) <= MAX_QUESTION_CHARS
    assert not any(ch in text for ch in "\r\n\t")


@settings(FUZZ, max_examples=EXAMPLES["history"])
@given(HISTORY)
def test_history_is_understood_or_rejected_clearly(history):
    try:
        turns = user_turns(history)
    except InvalidQuestionError as exc:
        assert str(exc)
        return
    assert all(isinstance(t, str) and t for t in turns)


@settings(FUZZ, max_examples=EXAMPLES["ask"])
@given(question=st.one_of(TEXT, JSON, st.binary(max_size=32)), history=HISTORY)
def test_ask_answers_or_raises_invalid_question(assistant, question, history):
    try:
        answer = assistant.ask(question, history=history)
    except InvalidQuestionError:
        return
    _check_answer(assistant, answer)


@settings(FUZZ, max_examples=EXAMPLES["search"])
@given(query=st.one_of(TEXT, JSON), k=st.one_of(st.integers(-5, 200), JSON))
def test_search_returns_passages_or_raises_invalid_question(assistant, query, k):
    try:
        passages = assistant.search(query, k)
    except InvalidQuestionError:
        return
    assert 1 <= len(passages) <= (assistant.settings.search_k if k is None else k)  # None: the default k
    assert all(assistant.corpus[p.source_id].text[p.start:p.end] == p.text for p in passages)


# ----- CLI ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_main(assistant):
    """ui.cli.main in-process, with the session's Assistant instead of a fresh load per call."""
    from ui import cli
    from assistant import core

    real_load = core.Assistant.load
    core.Assistant.load = classmethod(lambda cls, *args, **kwargs: assistant)
    try:
        yield cli.main
    finally:
        core.Assistant.load = real_load


CLI_WORD = st.one_of(TEXT.filter(lambda s: "\x00" not in s), st.sampled_from(
    ["ask", "search", "sources", "--json", "-k", "0", "-1", "999999999999", "nan", "--corpus", "/nonexistent",
     "--model", "--help-me", "-", "--", "build-not"]))


@settings(FUZZ, max_examples=EXAMPLES["cli"])
@given(command=st.sampled_from(["ask", "search", "sources", None]), words=st.lists(CLI_WORD, max_size=4))
def test_cli_exits_0_1_or_2_without_a_traceback(cli_main, command, words):
    argv = ([command] if command else []) + words
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(argv)
        except SystemExit as exit_:  # argparse: usage error (2) or --help (0)
            code = exit_.code
    assert code in (0, 1, 2), (argv, code)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 2:
        assert err.getvalue().strip(), argv  # a reason, on stderr
    if code == 1:
        assert err.getvalue().startswith("exoqa: "), argv


@pytest.mark.parametrize("argument", [b"\xff\xfe\xfd", b"exosome \xc3\x28 safe?", b"\xed\xa0\x80", b"a\x01b",
                                      b"x" * (MAX_QUESTION_CHARS + 10)])
def test_cli_subprocess_rejects_invalid_bytes_with_exit_2(argument):
    result = subprocess.run([sys.executable, "-m", "ui.cli", "ask", argument], cwd=ROOT, capture_output=True,
                            timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    stderr = result.stderr.decode("utf-8", "replace")
    assert stderr.startswith("exoqa: ") and "Traceback" not in stderr


# ----- HTTP API ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http(assistant):
    with TestClient(create_app(Service(assistant=assistant)), raise_server_exceptions=False) as client:
        yield client


def _check_response(response, allowed=frozenset({200, 400, 413, 422})):
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    if response.status_code != 200:
        assert isinstance(body.get("error"), str) and body["error"]
    return body


@settings(FUZZ, max_examples=EXAMPLES["http_ask"])
@given(body=st.one_of(
    st.fixed_dictionaries({"question": TEXT, "history": HISTORY}),
    st.fixed_dictionaries({"question": JSON}),
    st.dictionaries(st.sampled_from(["question", "history", "k", "role"]), JSON, max_size=3),
    JSON,
))
def test_http_ask_answers_or_gives_a_json_4xx(http, assistant, body):
    try:
        payload = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as \ud800 escapes
    except (ValueError, RecursionError):
        return
    response = http.post("/api/ask", content=payload, headers={"content-type": "application/json"})
    data = _check_response(response)
    if response.status_code == 200:
        assert data["decision"] in DECISIONS and data["warnings"]
        for quote in data["quotes"]:
            assert assistant.corpus[quote["source_id"]].text[quote["start"]:quote["end"]] == quote["text"]


@settings(FUZZ, max_examples=EXAMPLES["http_raw"])
@given(raw=st.one_of(
    st.binary(max_size=200),                                      # invalid UTF-8 and random bytes
    st.builds(lambda b: b'{"question": "' + b + b'"}', st.binary(max_size=50)),
    st.builds(lambda n: deeply_nested(n).encode(), st.integers(1, 20_000)),
    st.builds(lambda n: b'{"question": ' + deeply_nested(n).encode() + b"}", st.integers(1, 5_000)),
    st.builds(lambda n: b'{"question": "' + b"a" * n + b'"}', st.sampled_from([1999, 2001, 60_000, 70_000])),
), content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_http_raw_bodies_get_a_json_4xx_never_a_500(http, raw, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = http.post("/api/ask", content=raw, headers=headers)
    _check_response(response)


@settings(FUZZ, max_examples=EXAMPLES["http_search"])
@given(q=TEXT.filter(lambda s: "\x00" not in s).map(lambda s: s[:5000]), k=st.one_of(st.integers(-10, 100), TEXT.map(lambda s: s[:5])))
def test_http_search_gives_passages_or_a_json_4xx(http, q, k):
    response = http.get("/api/search", params={"q": q, "k": str(k)})
    data = _check_response(response)
    if response.status_code == 200:
        assert isinstance(data, list) and 1 <= len(data) <= int(k)
