"""Load on a live `exoqa serve` (short CI mode of scripts/load_test.py) and overload on a real uvicorn server.

The full run (50 clients, 60 s) is `scripts/load_test.py --clients 50 --seconds 60`; its figures are in
docs/reliability.md. Here: EXOQA_LOAD_CLIENTS (default 10) clients for EXOQA_LOAD_SECONDS (default 10) s.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from load_test import LONG_QUESTION, QUESTIONS, _server_pid, run_load  # noqa: E402

CLIENTS = int(os.environ.get("EXOQA_LOAD_CLIENTS", "10"))
SECONDS = float(os.environ.get("EXOQA_LOAD_SECONDS", "10"))
# RSS may rise while caches fill; a leak shows as steady growth. Allowed rise from the first to the last third.
RSS_GROWTH_ALLOWANCE_MIB = 40.0


def test_concurrent_clients_in_both_languages_through_api_and_gradio(live_url):
    report = run_load(live_url, _server_pid(live_url), CLIENTS, SECONDS, warmup_requests=10)
    print(report)  # the figures, in the test log
    assert report["errors"] == 0, report["error_examples"]
    assert report["latency_ms"]["api"]["n"] > 0 and report["latency_ms"]["gradio"]["n"] > 0
    assert report["by_language"]["zh"] > 0 and report["by_language"]["en"] > 0
    assert report["requests_per_s"] > 0 and report["rss"]["samples"] >= 3
    rss = report["rss"]
    assert rss["last_third_median_mib"] - rss["first_third_median_mib"] < RSS_GROWTH_ALLOWANCE_MIB, rss
    health = httpx.get(f"{live_url}/api/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ready"


def test_long_questions_do_not_block_short_ones(live_url):
    """Maximum-length questions in flight on every worker: short questions still get answered, none time out."""

    async def mixed():
        async with httpx.AsyncClient(timeout=120) as http:
            async def ask(question):
                return await http.post(f"{live_url}/api/ask", json={"question": question})
            long = [ask(LONG_QUESTION) for _ in range(4)]
            short = [ask(q) for q, _ in QUESTIONS]
            return await asyncio.gather(*long, *short)

    responses = asyncio.run(mixed())
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert all(r.json()["warnings"] for r in responses)


@pytest.fixture()
def overloadable_server(assistant):
    """A real uvicorn server on loopback with one worker and almost no queue wait, in a thread."""
    import uvicorn

    from live_server import free_port
    from ui.server import create_app
    from ui.service import Service

    port = free_port()
    service = Service(assistant=assistant, workers=1, queue_wait=0.05, time_limit=60)
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=30)


def test_beyond_capacity_is_a_clear_503_and_the_server_stays_healthy(overloadable_server):
    url = overloadable_server

    async def burst():
        async with httpx.AsyncClient(timeout=120) as http:
            return await asyncio.gather(*[http.post(f"{url}/api/ask", json={"question": q})
                                          for q, _ in QUESTIONS * 3])

    responses = asyncio.run(burst())
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses, statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == {"error": "the server is busy; try again shortly"}
            assert response.headers["retry-after"] == "5"
    health = httpx.get(f"{url}/api/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ready"
    after = httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0][0]}, timeout=60)
    assert after.status_code == 200 and after.json()["decision"] == "answer"
