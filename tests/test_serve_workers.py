"""Multi-worker serving: two real worker processes on one loopback port answer like the library does."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import _descendants, wait_until_ready
from benchmarks.run import _free_port, _post_ask

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workers_port():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "ui.serve_workers", "--workers", "2", "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(port, process, workers=2)
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def test_two_worker_processes_each_map_the_one_index_file(workers_port):
    _, process = workers_port
    mapping = [pid for pid in _descendants(process.pid) if "passages.faiss" in _maps(pid)]
    assert len(mapping) == 2  # memory-mapped read-only from disk, not read into each worker's heap


def test_workers_answer_like_the_library(workers_port, assistant):
    port, _ = workers_port
    for question in ("Did the FDA approve any exosome product?", "外泌体是怎么提取分离的?"):
        status, body = _post_ask(port, question)
        assert status == 200
        expected = assistant.ask(question).to_dict()
        assert body["decision"] == expected["decision"]
        assert [q["text"] for q in body["quotes"]] == [q["text"] for q in expected["quotes"]]


def test_workers_refuse_a_host_they_were_not_bound_to(workers_port):
    import httpx

    port, _ = workers_port
    url = f"http://127.0.0.1:{port}/api/health"
    assert httpx.get(url, timeout=30).status_code == 200
    # a DNS-rebinding page reaches the port under its own name: the workers answer it no more than `serve` does
    assert httpx.get(url, headers={"Host": "attacker.example"}, timeout=30).status_code == 400
