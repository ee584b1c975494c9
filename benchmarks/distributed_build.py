"""Index build throughput on Ray with one and two nodes, against the local in-process build.

Starts its own Ray cluster on loopback (a head node, then a second node; 2 CPUs each), builds a fresh index of
the first PubMedQA abstracts several times per configuration and reports texts/s and characters/s (median of the
repeats; the actors' start, which loads the model once each, is included, as in a real build):

    .venv/bin/python -m benchmarks.distributed_build --abstracts 10 --repeats 3   # -> results/distributed_build.json

On this 2-core machine two nodes share the same two cores, so the figure that transfers to a real cluster is the
per-actor (one core each) throughput; docs/scale.md sizes a cluster from it.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS_DIR, machine, write_json
from benchmarks.pubmedqa import DEFAULT_DATA, build_corpus, load_instances

RAY = str(Path(sys.executable).with_name("ray"))
SAMPLE = Path(__file__).resolve().parent / "data" / "pubmedqa_sample.json"
SHARD_ROWS = 32  # small enough that a few hundred texts keep every actor busy (a real build uses 512)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ray(*args: str) -> None:
    subprocess.run([RAY, *args], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})


def run(abstracts: int, repeats: int) -> dict:
    from assistant.retrieval.distributed import build_index_ray
    from assistant.retrieval.embeddings import load_embedder
    from assistant.retrieval.retriever import build_index, plan_index
    from assistant.settings import Settings

    data = DEFAULT_DATA if DEFAULT_DATA.exists() else SAMPLE
    corpus = build_corpus(load_instances(data, abstracts))
    embedder = load_embedder()
    settings = Settings.from_env()
    plan = plan_index(corpus, embedder, settings)
    texts, characters = len(plan.texts), sum(len(t) for t in plan.texts)
    results: dict[str, dict] = {}

    def measure(name: str, build, actors: int) -> None:
        seconds = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as scratch:
                started = time.perf_counter()
                build(Path(scratch) / "index")
                seconds.append(time.perf_counter() - started)
        median = float(np.median(seconds))
        results[name] = {"actors": actors, "seconds": [round(s, 2) for s in seconds], "median_s": round(median, 2),
                         "texts_per_s": round(texts / median, 2), "chars_per_s": round(characters / median, 1),
                         "chars_per_s_per_actor": round(characters / median / max(actors, 1), 1)}
        print(f"{name}: {results[name]}", flush=True)

    measure("local, in process (2 OpenMP threads)", lambda d: build_index(corpus, embedder, d, settings,
                                                                          progress=False), 1)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    try:
        _ray("start", "--head", f"--port={port}", "--num-cpus=2", "--object-store-memory=300000000",
             "--include-dashboard=false", "--disable-usage-stats")
        for actors in (1, 2):
            measure(f"Ray, 1 node, {actors} actor(s)",
                    lambda d, a=actors: build_index_ray(corpus, embedder, d, settings, address=address, actors=a,
                                                        shard_rows=SHARD_ROWS, progress=False), actors)
        _ray("start", f"--address={address}", "--num-cpus=2")
        for actors in (2, 4):
            measure(f"Ray, 2 nodes, {actors} actors (SPREAD)",
                    lambda d, a=actors: build_index_ray(corpus, embedder, d, settings, address=address, actors=a,
                                                        shard_rows=SHARD_ROWS, progress=False), actors)
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
    return {"machine": machine(), "data": data.name, "abstracts": abstracts, "texts": texts,
            "characters": characters, "repeats": repeats, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--abstracts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "distributed_build.json")
    args = parser.parse_args(argv)
    report = run(args.abstracts, args.repeats)
    print(f"written to {write_json(args.out, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
