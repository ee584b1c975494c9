"""Integrity and exposure (issue 15): damaged vectors, name clashes, uploads, hosts, ingest cost, smaller leaks.

Real model, real FAISS files in temporary corpora, and real `exoqa serve` processes on loopback ports.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import faiss
import httpx
import numpy as np
import pytest

from assistant import Assistant
from assistant.corpus.ingest import ingest
from assistant.corpus.sources import load_corpus
from assistant.paths import default_index_dir
from assistant.retrieval.embeddings import DEFAULT_MODEL
from assistant.retrieval.retriever import build_index

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("fda-2020-adverse-event-reporting", "isev-2020")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def embedder(assistant):
    return assistant.retriever.embedder


def _small_corpus(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for source_id in SOURCES:
        shutil.copy(ROOT / "corpus" / f"{source_id}.txt", directory)
    return directory


def _index(corpus_dir: Path) -> Path:
    return default_index_dir(DEFAULT_MODEL, corpus_dir)


def _vectors(path: Path) -> np.ndarray:
    index = faiss.read_index(str(path))
    return index.reconstruct_n(0, index.ntotal)


def _flip_bytes(path: Path) -> None:
    """Damage vector data in the middle of a FAISS file (what a bad disk or a stray write does)."""
    data = bytearray(path.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


# ----- 1. damaged vectors are never reused ----------------------------------------------------------------------

def test_damaged_vectors_are_rebuilt_not_reused_and_the_damage_is_reported(tmp_path, embedder):
    corpus_dir = _small_corpus(tmp_path / "corpus")
    build_index(load_corpus(corpus_dir), embedder, _index(corpus_dir), progress=False)
    fresh = {name: _vectors(_index(corpus_dir) / name) for name in ("sentences.faiss", "passages.faiss")}
    _flip_bytes(_index(corpus_dir) / "sentences.faiss")

    # A real process: the automatic rebuild says on stderr, in one line, what was damaged and what was rebuilt.
    search = _cli("search", "adverse event reporting", "-k", "1", "--json", "--corpus", str(corpus_dir))
    assert search.returncode == 0, search.stderr
    damage_lines = [line for line in search.stderr.splitlines() if "sentences.faiss" in line]
    assert damage_lines and any("embedded again" in line for line in damage_lines), search.stderr
    assert any("rebuil" in line for line in search.stderr.splitlines()), search.stderr

    for name, expected in fresh.items():
        rebuilt = _vectors(_index(corpus_dir) / name)
        assert np.allclose(np.linalg.norm(rebuilt, axis=1), 1.0, atol=1e-3), name  # no norm-1,864 rows
        assert np.allclose(rebuilt, expected, atol=1e-5), name  # the same vectors a clean build gives
    served = Assistant.load(corpus_dir=corpus_dir, rebuild="never", embedder=embedder)
    answer = served.ask("How should adverse events from exosome products be reported to the FDA?")
    assert answer.quotes and all(served.corpus[q.source_id].text[q.start:q.end] == q.text for q in answer.quotes)


def test_vectors_that_are_not_unit_length_are_embedded_again_even_if_the_manifest_agrees(tmp_path, embedder):
    """Damage the manifest does not see (it was rewritten to match): reused rows are still checked."""
    corpus_dir = _small_corpus(tmp_path / "corpus")
    index_dir = _index(corpus_dir)
    build_index(load_corpus(corpus_dir), embedder, index_dir, progress=False)
    expected = _vectors(index_dir / "sentences.faiss")
    index = faiss.read_index(str(index_dir / "sentences.faiss"))
    damaged = expected.copy()
    damaged[3] *= 1864.0
    damaged[5] = np.nan
    index.reset()
    index.add(damaged)
    faiss.write_index(index, str(index_dir / "sentences.faiss"))
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["sentences.faiss"] = hashlib.sha256((index_dir / "sentences.faiss").read_bytes()).hexdigest()
    manifest["corpus_hash"] = "stale"  # force a rebuild that would reuse every row
    (index_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    reused = build_index(load_corpus(corpus_dir), embedder, index_dir, progress=False)
    rebuilt = _vectors(index_dir / "sentences.faiss")
    assert np.allclose(rebuilt, expected, atol=1e-5)
    total = len(expected) + faiss.read_index(str(index_dir / "passages.faiss")).ntotal
    assert reused == total - 2  # only the two bad rows were embedded again
