"""The HTTP JSON API against the real app: real model, real FAISS index, same answers as the library."""
from __future__ import annotations

import asyncio
import json
import shutil
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.paths import PROJECT_ROOT
from ui.present import answer_markdown, question_html, reply_html, status_html
from ui.server import MAX_API_BODY_BYTES, MAX_PAGE_BODY_BYTES, create_app
from ui.service import Service

ZH_FACTUAL = "外泌体是怎么提取分离的?"
TREATMENT = "Should I get exosome injections for my knee?"
EMERGENCY = "I had an exosome injection yesterday and now I have a high fever and can't breathe"


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(Service(assistant=assistant))) as test_client:
        yield test_client


def without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_health_reports_model_index_and_corpus(client, assistant):
    response = client.get("/api/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ready"
    assert health["model"] == assistant.retriever.embedder.model_id
    assert health["index"]["corpus_hash"] == assistant.corpus.content_hash
    assert health["corpus"]["sources"] == len(assistant.sources())


@pytest.mark.parametrize("question", [ZH_FACTUAL, "Did the FDA approve any exosome product?", TREATMENT,
                                      EMERGENCY, "What is the capital of France?"])
def test_ask_returns_what_the_library_returns(client, assistant, question):
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200
    body = response.json()
    assert without_timings(body) == without_timings(json.loads(json.dumps(assistant.ask(question).to_dict())))
    for quote in body["quotes"]:
        assert assistant.corpus[quote["source_id"]].text[quote["start"]:quote["end"]] == quote["text"]
    assert body["warnings"], "every reply carries the ISEV warnings"


def test_decisions_over_http(client):
    decisions = {q: client.post("/api/ask", json={"question": q}).json()["decision"]
                 for q in (ZH_FACTUAL, TREATMENT, EMERGENCY)}
    assert decisions == {ZH_FACTUAL: "answer", TREATMENT: "refuse", EMERGENCY: "emergency"}


def test_history_is_passed_to_the_library(client, assistant):
    history = [{"role": "user", "content": TREATMENT}, {"role": "assistant", "content": "(a refusal)"}]
    follow_up = "那我该不该做？"
    with_history = client.post("/api/ask", json={"question": follow_up, "history": history}).json()
    assert with_history["decision"] == assistant.ask(follow_up, history).decision == "refuse"
    assert without_timings(with_history) == without_timings(
        json.loads(json.dumps(assistant.ask(follow_up, history).to_dict())))


@pytest.mark.parametrize("body, status, says", [
    ({"question": ""}, 400, "empty"),
    ({"question": "   "}, 400, "empty"),
    ({"question": "x" * 2001}, 400, "limit"),
    ({"question": "bad\x00byte"}, 400, "control"),
    ({"question": 42}, 422, "question"),
    ({"question": ["a"]}, 422, "question"),
    ({}, 422, "question"),
    ({"question": "ok", "history": "not a list"}, 422, "history"),
    ({"question": "ok", "history": [{"role": "doctor", "content": "x"}]}, 422, "role"),
    ({"question": "ok", "history": [{"role": "user", "content": 3}]}, 422, "content"),
    ({"question": "ok", "surprise": 1}, 422, "surprise"),
    ([1, 2], 422, "JSON object"),
])
def test_bad_requests_get_a_clear_json_error(client, body, status, says):
    response = client.post("/api/ask", json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert says in response.json()["error"]
    assert "Traceback" not in response.text


def test_malformed_and_missing_bodies(client):
    for content, content_type in ((b'{"question": ', "application/json"), (b"\xff\xfe", "application/json"),
                                  (b"question=hi", "text/plain"), (b"", "application/json")):
        response = client.post("/api/ask", content=content, headers={"content-type": content_type})
        assert 400 <= response.status_code < 500, content
        assert response.json()["error"]


def test_body_over_the_limit_is_413(client):
    big = json.dumps({"question": "a" * (MAX_API_BODY_BYTES + 10)})
    response = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["error"]

    def chunks():  # no Content-Length: the limit holds for a streamed body too
        for _ in range(20):
            yield b"x" * 8192

    response = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    # The page's own endpoints have a larger bound, but a bound all the same.
    huge = b"x" * (MAX_PAGE_BODY_BYTES + 1)
    response = client.post("/gradio_api/queue/join", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_search_and_sources(client, assistant):
    response = client.get("/api/search", params={"q": "endotoxin", "k": 3})
    assert response.status_code == 200
    assert response.json() == [json.loads(json.dumps(p.to_dict())) for p in assistant.search("endotoxin", 3)]
    assert client.get("/api/search", params={"q": "x", "k": 0}).status_code == 422
    assert client.get("/api/search", params={"q": "x", "k": "many"}).status_code == 422
    assert client.get("/api/search", params={"q": ""}).status_code == 400
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/sources").json() == assistant.sources()


def test_openapi_schema_and_unknown_paths(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/sources", "/api/health"} <= set(schema["paths"])
    response = client.get("/api/nowhere")
    assert response.status_code == 404 and "nowhere" in response.json()["error"]


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/ask"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_requests_beyond_capacity_get_503_and_slow_ones_504(assistant):
    """One worker, almost no queue wait: of many simultaneous questions some are turned away, none hang."""
    service = Service(assistant=assistant, workers=1, queue_wait=0.001, time_limit=60)
    app = create_app(service)

    async def burst():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(*[http.post("/api/ask", json={"question": ZH_FACTUAL}) for _ in range(6)])

    statuses = sorted(r.status_code for r in asyncio.run(burst()))
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}

    impatient = Service(assistant=assistant, workers=1, queue_wait=5, time_limit=0.000001)
    with TestClient(create_app(impatient)) as http:
        response = http.post("/api/ask", json={"question": ZH_FACTUAL})
    assert response.status_code == 504 and "too long" in response.json()["error"]


def test_not_ready_is_503_with_status():
    service = Service()  # never started: the model and index are not loaded
    http = TestClient(create_app(service))  # no lifespan, so nothing starts loading
    health = http.get("/api/health")
    assert health.status_code == 503 and health.json()["status"] == "loading"
    response = http.post("/api/ask", json={"question": ZH_FACTUAL})
    assert response.status_code == 503 and "starting" in response.json()["error"]
    assert http.get("/api/sources").status_code == 200  # the corpus is there from the start


def test_rebuild_at_startup_reports_progress(tmp_path):
    """A corpus without an index: the server answers at once and reports the build's progress until ready."""
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    for name in ("guangdong-mpa-2022.txt", "oh-2018.txt", "ha-2020.txt"):
        shutil.copy(PROJECT_ROOT / "corpus" / name, corpus_dir / name)
    service = Service(corpus_dir=corpus_dir, index_dir=tmp_path / "index")
    seen = []
    with TestClient(create_app(service)) as http:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            health = http.get("/api/health").json()
            seen.append((health["status"], health["progress"]["done"], health["progress"]["total"]))
            if health["status"] == "building" and health["progress"]["done"]:
                assert "Building the search index" in status_html(health, "en")  # what the page shows
            if health["status"] in ("ready", "error"):
                break
            time.sleep(0.02)
        assert health["status"] == "ready", health
        building = [s for s in seen if s[0] == "building"]
        assert building, seen
        assert any(0 < done < total for _, done, total in building), building
        answer = http.post("/api/ask", json={"question": "Did Guangdong warn about exosome products?"}).json()
        assert answer["decision"] in ("answer", "no_answer")
        assert answer["warnings"]
        for quote in answer["quotes"]:
            assert service.corpus[quote["source_id"]].text[quote["start"]:quote["end"]] == quote["text"]


def test_a_quote_gloss_is_shown_labelled_as_exoqa_s_translation(assistant):
    """A quote from a source in the other language may carry exoqa's translation (`gloss`): shown under the quote,
    labelled as a translation and not source text, and kept out of the quote itself."""
    answer = assistant.ask("What did the article say about how exosomes are extracted?").to_dict()
    quote = next(q for q in answer["quotes"] if assistant.corpus[q["source_id"]].language == "zh")
    quote["gloss"] = "Exosomes are separated by ultracentrifugation <b>(exoqa's words)</b>."
    html = reply_html(answer, assistant.corpus)
    gloss = ('<span class="exoqa-gloss" lang="en"><span class="exoqa-gloss-label">Translation by exoqa, not source '
             "text:</span> Exosomes are separated by ultracentrifugation &lt;b&gt;(exoqa&#x27;s words)&lt;/b&gt;.</span>")
    assert gloss in html
    assert '<span class="exoqa-quote-text" lang="zh">' in html
    markdown = answer_markdown(answer, assistant.corpus)
    assert "> *Translation by exoqa, not source text:* Exosomes are separated" in markdown


def test_typed_html_is_escaped_in_the_question_bubble():
    typed = '<img src=x onerror=alert(1)><b>bold</b>'
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;bold&lt;/b&gt;" in question_html(typed, "en")
    assert "<img" not in question_html(typed, "en")
