"""Distributed index builds on a real two-node Ray cluster that the test starts on loopback: the vectors and
manifest equal a local build's, a worker killed mid-build is survived, and a failed build resumes from its
Parquet shards (`exoqa build --ray ADDRESS`)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import faiss
import numpy as np
import psutil
import pytest

from assistant.corpus.sources import load_corpus, serialize_source
from assistant.retrieval.index_store import IndexBuildError
from assistant.paths import default_index_dir
from assistant.retrieval.distributed import ACTOR_NAME, build_index_ray, shard_folder
from assistant.retrieval.embeddings import DEFAULT_MODEL, load_embedder
from assistant.retrieval.retriever import build_index
from assistant.settings import Settings
from ui.cli import main as exoqa

RAY = str(Path(sys.executable).with_name("ray"))
SHARD_ROWS = 16  # small shards, so that a build has several rounds of them to interrupt
WORDS = ("exosome vesicle membrane protein marker culture serum plasma therapy clinic trial dose safety purity "
         "yield isolation filtration centrifuge potency batch label").split()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, 2 CPUs each (with 1 CPU per node a job's actors stayed pending)."""
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    try:
        subprocess.run([RAY, "start", "--head", f"--port={port}", "--num-cpus=2", "--object-store-memory=300000000",
                        "--include-dashboard=false", "--disable-usage-stats"], check=True, env=env,
                       capture_output=True, timeout=180)
        subprocess.run([RAY, "start", f"--address=127.0.0.1:{port}", "--num-cpus=2"], check=True, env=env,
                       capture_output=True, timeout=180)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """Eight synthetic documents of short sentences (with titles, so sentences carry context headers)."""
    folder = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(7)
    for d in range(8):
        sentences = [" ".join(rng.choice(WORDS, 6)).capitalize() + f" {d}-{s}." for s in range(12)]
        (folder / f"doc{d}.txt").write_bytes(serialize_source({"id": f"doc{d}", "title": f"Synthetic report {d}"},
                                                              " ".join(sentences)))
    return folder


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def local_index(corpus_dir, embedder, tmp_path_factory):
    directory = tmp_path_factory.mktemp("local") / "index"
    build_index(load_corpus(corpus_dir), embedder, directory, Settings.from_env(), progress=False)
    return directory


def _vectors(directory: Path) -> dict[str, np.ndarray]:
    out = {}
    for name in ("passages", "sentences"):
        index = faiss.read_index(str(directory / f"{name}.faiss"))
        out[name] = index.reconstruct_n(0, index.ntotal)
    return out


def _manifest(directory: Path, files: bool = True) -> dict:
    manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    return manifest if files else {k: v for k, v in manifest.items() if k != "files"}


def _assert_same_index(built: Path, local: Path) -> None:
    ours, theirs = _vectors(built), _vectors(local)
    for name in ours:
        assert ours[name].shape == theirs[name].shape
        np.testing.assert_allclose(ours[name], theirs[name], atol=1e-5)
    assert _manifest(built, files=False) == _manifest(local, files=False)
    assert json.loads((built / "units.json").read_text()) == json.loads((local / "units.json").read_text())


def _text_count(directory: Path) -> int:
    units = json.loads((directory / "units.json").read_text("utf-8"))
    return len(units["sentences"]) + len(units["passages"])


def _embedding_workers() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if (" ".join(process.info["cmdline"] or ())).startswith(f"ray::{ACTOR_NAME}"):
            found.append(process)
    return found


class WorkerKiller(threading.Thread):
    """Kills one embedding actor's worker process (SIGKILL) once the first shard is on disk, mid-build."""

    def __init__(self, shards: Path) -> None:
        super().__init__(daemon=True)
        self.shards, self.killed, self.stop = shards, None, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            if any(self.shards.glob("*.parquet")):
                workers = _embedding_workers()
                if workers:
                    self.killed = (workers[0].pid, sum(1 for _ in self.shards.glob("*.parquet")))
                    os.kill(workers[0].pid, signal.SIGKILL)
                    return
            time.sleep(0.02)


def test_ray_build_equals_a_local_build_and_survives_a_killed_worker(cluster, corpus_dir, embedder, local_index,
                                                                     tmp_path):
    directory = tmp_path / "index"
    killer = WorkerKiller(shard_folder(directory))
    killer.start()
    try:
        built = build_index_ray(load_corpus(corpus_dir), embedder, directory, Settings.from_env(), address=cluster,
                                model=DEFAULT_MODEL, shard_rows=SHARD_ROWS, progress=False, keep_shards=True)
    finally:
        killer.stop.set()
    assert killer.killed is not None, "no embedding worker was found to kill during the build"
    pid, shards_on_disk = killer.killed
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert shards_on_disk < built.shards  # it was killed with shards still to embed
    assert built.actors == 4 and built.shards_resumed == 0 and built.reused == 0
    assert built.embedded == _text_count(local_index)  # every text once, the killed worker's shard included
    assert len(list(shard_folder(directory).glob("*.parquet"))) == built.shards
    _assert_same_index(directory, local_index)


def test_a_failed_ray_build_resumes_from_its_shards(cluster, corpus_dir, embedder, local_index, capsys):
    import pyarrow.parquet as pq

    corpus = load_corpus(corpus_dir)
    directory = default_index_dir(DEFAULT_MODEL, corpus_dir)
    folder = shard_folder(directory)
    killer = WorkerKiller(folder)
    killer.start()
    try:  # no restarts: the killed worker's shard fails, and with it the build
        with pytest.raises(IndexBuildError, match="resumes"):
            build_index_ray(corpus, embedder, directory, Settings.from_env(), address=cluster, shard_rows=SHARD_ROWS,
                            max_restarts=0, progress=False)
    finally:
        killer.stop.set()
    assert killer.killed is not None
    assert not (directory / "manifest.json").exists()  # nothing half-built where a reader could see it
    saved = {path.name: pq.read_metadata(path).num_rows for path in folder.glob("*.parquet")}
    assert saved and not list(folder.glob("*.partial"))

    resumed = build_index_ray(corpus, embedder, directory, Settings.from_env(), address=cluster,
                              shard_rows=SHARD_ROWS, progress=False)
    assert resumed.shards_resumed == len(saved) < resumed.shards
    assert resumed.embedded == _text_count(local_index) - sum(saved.values())  # only the missing shards
    _assert_same_index(directory, local_index)
    assert not folder.exists()  # the shards are removed once the index is written

    # `exoqa build --ray ADDRESS`: the corpus is unchanged, so every vector is reused and nothing goes to Ray
    assert exoqa(["build", "--ray", cluster, "--corpus", str(corpus_dir)]) == 0
    out = capsys.readouterr().out
    assert "0 texts embedded on Ray" in out and f"{_text_count(local_index)} vectors reused" in out
    _assert_same_index(directory, local_index)
