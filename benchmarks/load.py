"""Loopback load test of `exoqa serve` (1 process) against the multi-worker mode (ui.serve_workers).

    .venv/bin/python -m benchmarks.load --workers 1 2 --requests 200 --concurrency 4

Sends dev questions to POST /api/ask on 127.0.0.1 only, a bounded number of requests with a time limit,
and reports throughput, latency and the memory of the serving processes (RSS, and PSS, which splits
shared pages such as the memory-mapped index and model between the processes that map them).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .common import PROJECT_ROOT, RESULTS_DIR, machine, summary, write_json
from .inputs import dev_questions
from .run import SAMPLE_QUESTION, _free_port, _post_ask

TIME_LIMIT_S = 300.0


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    children = [int(p) for p in out]
    return children + [d for c in children for d in _descendants(c)]


def _memory_mib(pids: list[int]) -> dict:
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_sum_mib": round(rss / 1024, 1), "pss_sum_mib": round(pss / 1024, 1)}


async def _load(port: int, questions: list[str], requests: int, concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(questions[n % len(questions)])
    deadline = time.perf_counter() + TIME_LIMIT_S

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty() and time.perf_counter() < deadline:
            question = queue.get_nowait()
            t0 = time.perf_counter()
            response = await client.post(f"http://127.0.0.1:{port}/api/ask", json={"question": question})
            if response.status_code == 200:
                latencies.append((time.perf_counter() - t0) * 1e3)
            else:
                failures += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60.0) as client:
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
    return latencies, failures, time.perf_counter() - started


def wait_until_ready(port: int, process: subprocess.Popen, workers: int, limit_s: float = 180.0) -> None:
    """Until `10 x workers` answers in a row succeed: each worker loads on its own and answers 503 until then,
    and each request is a new connection that any worker may accept."""
    deadline = time.perf_counter() + limit_s
    streak = 0
    while streak < 10 * workers:
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"the server with {workers} workers did not come up within {limit_s:.0f} s")
        ok = _post_ask(port, SAMPLE_QUESTION, timeout=10)[0] == 200
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.2)


def measure(workers: int, requests: int, concurrency: int) -> dict:
    port = _free_port()
    if workers == 1:
        command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "ui.serve_workers", "--workers", str(workers), "--port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(port, process, workers)
        latencies, failures, seconds = asyncio.run(_load(port, dev_questions(), requests, concurrency))
        memory = _memory_mib([process.pid, *_descendants(process.pid)])
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"workers": workers, "concurrency": concurrency, "requests_ok": len(latencies), "failures": failures,
            "seconds": round(seconds, 2), "requests_per_s": round(len(latencies) / seconds, 2),
            "latency_ms": summary(latencies), **memory}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "load.json")
    args = parser.parse_args(argv)
    runs = []
    for workers in args.workers:
        runs.append(measure(workers, args.requests, args.concurrency))
        print(runs[-1], flush=True)
    arguments = sys.argv[1:] if argv is None else argv
    write_json(args.out, {"machine": machine(), "command": "python -m benchmarks.load " + " ".join(arguments),
                          "runs": runs})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
