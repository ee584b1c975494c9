"""Multi-worker serving: N `exoqa serve` worker processes behind one port, sharing one read-only index.

    .venv/bin/python -m ui.serve_workers --workers 2 --port 7860

uvicorn's supervisor binds the port once and starts N workers; the kernel spreads connections between them.
Each worker is the ordinary app (web chat + /api) with its own Assistant, but nothing big is copied per
worker: the index is opened with EXOQA_MMAP_INDEX=1 (flat FAISS vectors mapped read-only from disk, one
copy in the page cache for all; HNSW/IVF-PQ files cannot be mapped by FAISS and are read per worker), and the
e5 model file is memory-mapped by its engine. Each worker runs OpenMP with one thread (OMP_NUM_THREADS=1) so
N workers on N cores do not fight over them. The index must exist before start (`exoqa build`): workers only
read it, and none rebuilds it.
"""
from __future__ import annotations

import argparse
import os
import sys


_BIND_HOST_ENV = "EXOQA_WORKERS_BIND_HOST"


def _worker_environment(workers: int, host: str) -> None:
    os.environ[_BIND_HOST_ENV] = host
    os.environ.setdefault("EXOQA_MMAP_INDEX", "1")
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


def app():
    """The ASGI app of one worker (uvicorn calls this in each worker process)."""
    from ui.server import WILDCARD_BINDS, allowed_hosts_for, create_app
    from ui.service import Service

    # The supervisor's --host reaches its workers through the environment (uvicorn calls this factory bare).
    host = os.environ.get(_BIND_HOST_ENV, "127.0.0.1")
    return create_app(Service(rebuild="never"), allowed_hosts=allowed_hosts_for(host),
                      any_ip=host.strip() in WILDCARD_BINDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.serve_workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    import subprocess

    import uvicorn

    _worker_environment(args.workers, args.host)
    # Build or check the index once, before the workers read it, in a short-lived process (so this
    # supervisor does not keep a model and index of its own).
    check = subprocess.run([sys.executable, "-c", "from assistant import Assistant; Assistant.load()"])
    if check.returncode != 0:
        return 1
    print(f"exoqa: {args.workers} workers serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run("ui.serve_workers:app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=os.environ.get("EXOQA_LOG_LEVEL", "warning"), timeout_graceful_shutdown=5,
                # A worker imports the web stack and loads the model before it answers the supervisor's pings;
                # on 2 busy cores that takes longer than uvicorn's default 5 s, which kills and restarts it.
                timeout_worker_healthcheck=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
