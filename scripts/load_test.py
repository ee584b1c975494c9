"""Load test of a live `exoqa serve` on loopback: concurrent clients mixing /api/ask and the Gradio chat.

    .venv/bin/python scripts/load_test.py --clients 50 --seconds 60            # starts its own server
    .venv/bin/python scripts/load_test.py --url http://127.0.0.1:7860 --clients 10 --seconds 10

Bounded in clients and time, loopback only. Each client sends questions in Chinese and English, half of them
through POST /api/ask and half through Gradio's HTTP API (/gradio_api/call/ask, the page's own chat
endpoint), with a few maximum-length (2,000-character) questions mixed in. It reports errors, p50/p95/p99
latency per endpoint, throughput, and the server's RSS (psutil, sampled every half second) with its trend.
Any response other than a complete answer (HTTP 200 / Gradio "complete") counts as an error.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    ("外泌体是怎么提取分离的?", "zh"),
    ("Did the FDA approve any exosome product?", "en"),
    ("美国FDA对外泌体产品发出过什么警告?", "zh"),
    ("What adverse events were reported after exosome injections?", "en"),
    ("我应该去做外泌体注射吗?", "zh"),
    ("What did the FDA warn about in 2019?", "en"),
    ("广东省药监局对外泌体产品有什么通告?", "zh"),
    ("Should I get exosome injections for my knee?", "en"),
    ("What is ultracentrifugation used for?", "en"),
    ("外泌体化妆品安全吗?", "zh"),
]
# Every 25th request asks the longest question the API accepts: a large request must not block the others.
LONG_QUESTION = ("What do the sources say about exosome safety? " * 60)[:2000]
LONG_EVERY = 25
MAX_DECISIONS = {"answer", "no_answer", "refuse", "emergency"}


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"api": [], "gradio": []})
    errors: list[str] = field(default_factory=list)
    by_language: dict[str, int] = field(default_factory=lambda: {"zh": 0, "en": 0})
    long_ok: int = 0


async def _ask_api(http: httpx.AsyncClient, url: str, question: str) -> None:
    response = await http.post(f"{url}/api/ask", json={"question": question})
    if response.status_code != 200:
        raise RuntimeError(f"/api/ask {response.status_code}: {response.text[:200]}")
    if response.json().get("decision") not in MAX_DECISIONS or not response.json().get("warnings"):
        raise RuntimeError(f"/api/ask unexpected body: {response.text[:200]}")


async def _ask_gradio(http: httpx.AsyncClient, url: str, question: str, language: str) -> None:
    started = await http.post(f"{url}/gradio_api/call/ask", json={"data": [question, [], language]})
    if started.status_code != 200:
        raise RuntimeError(f"gradio call {started.status_code}: {started.text[:200]}")
    event_id = started.json()["event_id"]
    event = None
    async with http.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = line.split(":", 1)[1].strip()
                if event == "error":
                    raise RuntimeError(f"gradio error event: {data[:200]}")
                outputs = json.loads(data)
                # gr.api returns its (messages, box, answer) tuple as one output; event handlers return three
                answer = (outputs[0] if len(outputs) == 1 else outputs)[-1]
                if answer.get("decision") not in MAX_DECISIONS:
                    raise RuntimeError(f"gradio unexpected answer: {data[:200]}")
                return
    raise RuntimeError(f"gradio stream ended without a result (last event {event})")


async def _client(number: int, url: str, deadline: float, results: Results, endpoints: tuple[str, ...]) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as http:
        sent = 0
        while time.monotonic() < deadline:
            endpoint = endpoints[(number + sent) % len(endpoints)]
            long = (number * 7 + sent) % LONG_EVERY == 0
            question, language = (LONG_QUESTION, "en") if long else QUESTIONS[(number * 3 + sent) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                if endpoint == "api":
                    await _ask_api(http, url, question)
                else:
                    await _ask_gradio(http, url, question, language)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                results.errors.append(f"{endpoint}: {type(exc).__name__}: {exc}")
            else:
                results.latencies[endpoint].append((time.perf_counter() - t0) * 1e3)
                results.by_language[language] += 1
                results.long_ok += long
            sent += 1


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class RssSampler:
    """RSS of the server process (and any children) every `interval` seconds, in a thread."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss_mib(self) -> float:
        processes = [self.process, *self.process.children(recursive=True)]
        return sum(p.memory_info().rss for p in processes if p.is_running()) / 2**20

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, self._rss_mib()))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        values = [rss for _, rss in self.samples]
        third = max(1, len(values) // 3)
        times = [t for t, _ in self.samples]
        slope = 0.0
        if len(values) >= 2 and statistics.pvariance(times) > 0:
            slope = statistics.linear_regression(times, values).slope * 60  # MiB per minute
        return {"samples": len(values), "start_mib": round(values[0], 1), "end_mib": round(values[-1], 1),
                "max_mib": round(max(values), 1), "first_third_median_mib": round(statistics.median(values[:third]), 1),
                "last_third_median_mib": round(statistics.median(values[-third:]), 1),
                "slope_mib_per_min": round(slope, 2)}


def run_load(url: str, server_pid: int, clients: int, seconds: float, warmup_requests: int = 20,
             endpoints: tuple[str, ...] = ("api", "gradio")) -> dict:
    """Warm the server up, then `clients` concurrent clients for `seconds`; returns the report."""
    asyncio.run(_warm(url, warmup_requests))
    results = Results()
    with RssSampler(server_pid) as sampler:
        started = time.monotonic()
        deadline = started + seconds

        async def everyone() -> None:
            await asyncio.gather(*(_client(n, url, deadline, results, endpoints) for n in range(clients)))

        asyncio.run(everyone())
        elapsed = time.monotonic() - started
    every = results.latencies["api"] + results.latencies["gradio"]
    report = {
        "clients": clients, "seconds": round(elapsed, 1), "requests_ok": len(every), "errors": len(results.errors),
        "error_examples": results.errors[:5], "requests_per_s": round(len(every) / elapsed, 2),
        "by_language": results.by_language, "long_questions_ok": results.long_ok,
        "latency_ms": {name: {"n": len(values), "p50": round(_percentile(values, 50), 1),
                              "p95": round(_percentile(values, 95), 1), "p99": round(_percentile(values, 99), 1)}
                       for name, values in {**results.latencies, "all": every}.items()},
        "rss": sampler.summary(),
    }
    return report


async def _warm(url: str, count: int) -> None:
    async with httpx.AsyncClient(timeout=120.0) as http:
        for n in range(count):
            question, language = QUESTIONS[n % len(QUESTIONS)]
            await (_ask_api(http, url, question) if n % 2 == 0 else _ask_gradio(http, url, question, language))


def _server_pid(url: str) -> int:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise SystemExit(f"no local process listens on port {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", default=None, help="a running server on loopback (default: start one)")
    parser.add_argument("--endpoints", default="api,gradio", help="which of api,gradio to call (default both)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the measured run on the same server (memory: does RSS keep rising?)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600 or not 1 <= args.rounds <= 5:
        parser.error("--clients must be 1-200, --seconds 1-600 and --rounds 1-5 (a bounded test)")

    def rounds(url: str) -> dict:
        endpoints = tuple(e for e in args.endpoints.split(",") if e in ("api", "gradio")) or ("api", "gradio")
        runs = [run_load(url, _server_pid(url), args.clients, args.seconds, endpoints=endpoints)
                for _ in range(args.rounds)]
        return runs[0] if len(runs) == 1 else {"rounds": runs, "errors": sum(r["errors"] for r in runs)}

    if args.url:
        if not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error("loopback only: --url must be http://127.0.0.1:PORT")
        report = rounds(args.url.rstrip("/"))
    else:
        from live_server import live_server

        with live_server() as url:
            report = rounds(url)
    report["command"] = "python scripts/load_test.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
