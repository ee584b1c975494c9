"""Index faults: damaged, foreign or stale indexes, failed and killed builds, concurrent builds.

Each case is detected with a clear message; the last good index keeps serving (with the corpus snapshot it
was built from) when a rebuild cannot be written; a rebuild recovers. Everything runs on a temporary copy of
two small shipped sources with the real model and real FAISS files; the shipped corpus and index are never
touched.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.retrieval import index_store
from assistant.reply.answer import verify_quote
from assistant.paths import default_index_dir
from assistant.corpus.sources import load_corpus
from assistant.retrieval.embeddings import DEFAULT_MODEL
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.retrieval.index_store import IndexBuildError, read_index
from assistant.retrieval.retriever import Retriever, build_index, expected_manifest
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("fda-2020-adverse-event-reporting", "isev-2020")
EDITED_SOURCE = "isev-2020"
ADDED_SENTENCE = "\nThe fault test added this sentence about cryogenic courier logistics for vesicle vials.\n"
QUESTION = "How should adverse events from exosome products be reported to the FDA?"
SUBPROCESS_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def embedder(assistant):
    return assistant.retriever.embedder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    """A small corpus with a good index (built once per module), copied by each test."""
    corpus_dir = tmp_path_factory.mktemp("fault-site") / "corpus"
    corpus_dir.mkdir()
    for source_id in SOURCES:
        shutil.copy(ROOT / "corpus" / f"{source_id}.txt", corpus_dir)
    build_index(load_corpus(corpus_dir), embedder, default_index_dir(DEFAULT_MODEL, corpus_dir), progress=False)
    return corpus_dir


@pytest.fixture()
def corpus_dir(pristine, tmp_path) -> Path:
    copy = tmp_path / "corpus"
    shutil.copytree(pristine, copy)
    return copy


def _index(corpus_dir: Path) -> Path:
    return default_index_dir(DEFAULT_MODEL, corpus_dir)


def _fingerprint(index_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(index_dir.iterdir())}


def _leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.parent.iterdir() if p.name.startswith(f".{index_dir.name}.")
                  and not p.name.endswith(".lock"))


def _edit_corpus(corpus_dir: Path) -> None:
    with open(corpus_dir / f"{EDITED_SOURCE}.txt", "a", encoding="utf-8") as handle:
        handle.write(ADDED_SENTENCE)


def _assert_serves(assistant: Assistant) -> None:
    """Answers with verbatim quotes (checked against the corpus the assistant serves) and the ISEV warnings."""
    answer = assistant.ask(QUESTION)
    assert answer.decision == "answer" and answer.quotes and answer.warnings
    assert all(verify_quote(assistant.corpus, q) for q in answer.quotes)
    assert all(assistant.corpus[q.source_id].text[q.start:q.end] == q.text for q in answer.quotes)


def _assert_index_fits(corpus_dir: Path, embedder) -> None:
    corpus = load_corpus(corpus_dir)
    stored = read_index(_index(corpus_dir), corpus)
    index_store.check_manifest(stored.manifest, expected_manifest(corpus, embedder, Settings.from_env()))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated sentence vectors": (lambda d: _truncate(d / "sentences.faiss"), IndexCorruptError,
                                   "does not match its manifest"),
    "corrupted passage vectors": (lambda d: _flip_bytes(d / "passages.faiss"), IndexCorruptError,
                                  "does not match its manifest"),
    "garbage units": (lambda d: (d / "units.json").write_text("{not json", encoding="utf-8"), IndexCorruptError,
                      "does not match its manifest"),
    "missing vectors file": (lambda d: (d / "passages.faiss").unlink(), IndexCorruptError, "is missing"),
    "garbage manifest": (lambda d: (d / "manifest.json").write_bytes(b"\x00\xff garbage"), IndexCorruptError,
                         "manifest"),
    "missing manifest": (lambda d: (d / "manifest.json").unlink(), IndexMissingError, "no index"),
    "missing index": (lambda d: shutil.rmtree(d), IndexMissingError, "no index"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_detected_with_a_clear_message(corpus_dir, embedder, damage):
    harm, error, says = DAMAGE[damage]
    harm(_index(corpus_dir))
    with pytest.raises(error) as raised:
        Assistant.load(corpus_dir=corpus_dir, rebuild="never", embedder=embedder)
    message = str(raised.value)
    assert says in message and "exoqa build" in message and "Traceback" not in message


@pytest.mark.parametrize("damage", ["truncated sentence vectors", "missing manifest"])
def test_damaged_index_is_rebuilt(corpus_dir, embedder, damage):
    DAMAGE[damage][0](_index(corpus_dir))
    recovered = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert recovered.retriever.fallback is None
    _assert_serves(recovered)
    _assert_index_fits(corpus_dir, embedder)


def test_index_from_another_model_is_detected_and_rebuilt(corpus_dir, embedder):
    manifest_path = _index(corpus_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model_id"] = "sentence-transformers/all-MiniLM-L6-v2"  # what that model's build records
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="model_id: index has 'sentence-transformers/all-MiniLM-L6-v2'"):
        Assistant.load(corpus_dir=corpus_dir, rebuild="never", embedder=embedder)
    _assert_serves(Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder))
    _assert_index_fits(corpus_dir, embedder)


def test_index_from_another_corpus_is_detected_and_rebuilt(corpus_dir, embedder):
    shutil.rmtree(_index(corpus_dir))
    shutil.copytree(ROOT / "index" / "e5-small", _index(corpus_dir))  # the shipped corpus's index
    with pytest.raises(IndexMismatchError, match="corpus_hash"):
        Assistant.load(corpus_dir=corpus_dir, rebuild="never", embedder=embedder)
    recovered = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert {s.id for s in recovered.corpus.sources} == set(SOURCES)
    _assert_serves(recovered)
    _assert_index_fits(corpus_dir, embedder)


def test_corpus_edited_after_the_build_is_detected_and_rebuilt(corpus_dir, embedder):
    _edit_corpus(corpus_dir)
    with pytest.raises(IndexMismatchError, match="corpus_hash"):
        Assistant.load(corpus_dir=corpus_dir, rebuild="never", embedder=embedder)
    rebuilt = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert rebuilt.retriever.fallback is None
    assert any("cryogenic courier" in p.text for p in rebuilt.search("cryogenic courier logistics", k=3))


def _fail_writes(monkeypatch, error_number: int) -> None:
    """Make the index writer fail partway: the first vectors file is half written, then the disk gives out."""
    real_write = index_store.faiss.write_index

    def half_then_fail(index, path):
        real_write(index, path)
        _truncate(Path(path))
        raise OSError(error_number, os.strerror(error_number), path)

    monkeypatch.setattr(index_store.faiss, "write_index", half_then_fail)


@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EROFS])
def test_failed_build_keeps_the_last_good_index_serving_and_a_rebuild_recovers(corpus_dir, embedder, monkeypatch,
                                                                                error_number):
    index_dir = _index(corpus_dir)
    before = _fingerprint(index_dir)
    _edit_corpus(corpus_dir)
    _fail_writes(monkeypatch, error_number)

    served = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    note = served.retriever.fallback
    assert note and "last good index" in note and os.strerror(error_number) in note and "corpus_hash" in note
    assert served.retriever.index.manifest["fallback"] == note  # what /api/health shows
    # It serves the corpus the index was built from, so every quote is verbatim at its offsets in that text.
    assert ADDED_SENTENCE.strip() not in served.corpus[EDITED_SOURCE].text
    _assert_serves(served)
    assert _fingerprint(index_dir) == before and _leftovers(index_dir) == []

    from ui.cli import main
    assert main(["build", "--corpus", str(corpus_dir)]) == 1  # the CLI says why, in one line (exit 1)
    assert _fingerprint(index_dir) == before

    monkeypatch.undo()
    recovered = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert recovered.retriever.fallback is None
    assert ADDED_SENTENCE.strip() in recovered.corpus[EDITED_SOURCE].text
    _assert_index_fits(corpus_dir, embedder)


def test_failed_build_without_a_last_good_index_says_so(corpus_dir, embedder, monkeypatch, capsys):
    shutil.rmtree(_index(corpus_dir))
    _fail_writes(monkeypatch, errno.ENOSPC)
    with pytest.raises(IndexBuildError) as raised:
        Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    message = str(raised.value)
    assert "No space left on device" in message and "No last good index" in message
    assert not _index(corpus_dir).exists() and _leftovers(_index(corpus_dir)) == []


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, env=SUBPROCESS_ENV,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _exoqa_build(corpus_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ui.cli", "build", "--corpus", str(corpus_dir)], cwd=ROOT,
                            env=SUBPROCESS_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(stream, marker: str, process: subprocess.Popen, limit_s: float = 300) -> str:
    """Read a child's output until `marker` appears (a generous bound only guards against a hung child)."""
    seen = ""
    deadline = time.monotonic() + limit_s
    while marker not in seen:
        char = stream.read(1)
        if not char:
            raise AssertionError(f"child ended (rc={process.poll()}) before printing {marker!r}:\n{seen}")
        seen += char
        if time.monotonic() > deadline:
            raise AssertionError(f"no {marker!r} from the child:\n{seen}")
    return seen


def test_build_killed_while_embedding_leaves_the_last_good_index(corpus_dir, embedder):
    index_dir = _index(corpus_dir)
    before = _fingerprint(index_dir)
    for source in corpus_dir.glob("*.txt"):  # every source changed: the build embeds everything
        with open(source, "a", encoding="utf-8") as handle:
            handle.write(f"\nAppended to {source.stem} so that it must be embedded again.\n")
    build = _exoqa_build(corpus_dir)
    _read_until(build.stderr, "embedding", build)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert build.returncode == -signal.SIGKILL
    assert _fingerprint(index_dir) == before  # untouched: the new index was never renamed in
    corpus, stored = index_store.read_last_good(index_dir)
    assert stored.manifest["corpus_hash"] == corpus.content_hash != load_corpus(corpus_dir).content_hash
    recovered = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert recovered.retriever.fallback is None and _leftovers(index_dir) == []
    _assert_serves(recovered)
    _assert_index_fits(corpus_dir, embedder)


KILL_BETWEEN_RENAMES = """
    import os, signal, sys
    from pathlib import Path
    from assistant.retrieval import index_store
    from assistant.corpus.sources import load_corpus
    from assistant.retrieval.embeddings import load_embedder
    from assistant.retrieval.retriever import build_index

    real_replace = os.replace
    calls = []

    def replace_then_die(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:  # the old index has just been moved aside; the new one is not in place yet
            os.kill(os.getpid(), signal.SIGKILL)

    index_store.os.replace = replace_then_die
    build_index(load_corpus(Path(sys.argv[1])), load_embedder(), Path(sys.argv[2]), progress=False)
"""


def test_build_killed_between_its_renames_is_repaired(corpus_dir, embedder):
    index_dir = _index(corpus_dir)
    before = _fingerprint(index_dir)
    _edit_corpus(corpus_dir)
    killed = _spawn(KILL_BETWEEN_RENAMES, str(corpus_dir), str(index_dir))
    killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL
    assert not index_dir.exists() and _leftovers(index_dir)  # the old index is aside, a staging dir remains
    # Any reader repairs it under the build lock: the previous index is back, whole, and the staging is gone.
    corpus, stored = index_store.read_last_good(index_dir)
    assert _fingerprint(index_dir) == before and _leftovers(index_dir) == []
    recovered = Assistant.load(corpus_dir=corpus_dir, rebuild="auto", embedder=embedder)
    assert recovered.retriever.fallback is None
    _assert_index_fits(corpus_dir, embedder)


HOLD_LOCK = """
    import sys
    from pathlib import Path
    from assistant.retrieval.index_store import build_lock

    with build_lock(Path(sys.argv[1])):
        print("holding", flush=True)
        sys.stdin.readline()  # until the test says release
"""


def test_two_builds_cannot_interleave(corpus_dir, embedder):
    index_dir = _index(corpus_dir)
    _edit_corpus(corpus_dir)
    holder = _spawn(HOLD_LOCK, str(index_dir))
    try:
        _read_until(holder.stdout, "holding", holder)
        build = _exoqa_build(corpus_dir)
        waited = _read_until(build.stderr, "waiting for it", build)
        assert "another build of" in waited
        # While the other process holds the lock this build has written nothing.
        assert build.poll() is None and _leftovers(index_dir) == []
        with pytest.raises(IndexMismatchError):
            Retriever.open(load_corpus(corpus_dir), embedder, index_dir, rebuild="never")
        holder.stdin.write("release\n")
        holder.stdin.flush()
        out, err = build.communicate(timeout=600)
        assert build.returncode == 0, err
    finally:
        holder.kill()
        holder.wait()
    _assert_index_fits(corpus_dir, embedder)

    # Two real builds started together: one waits for the other; both succeed and the index is whole.
    with open(corpus_dir / f"{EDITED_SOURCE}.txt", "a", encoding="utf-8") as handle:
        handle.write("\nA second edit so that both builds have work to do.\n")
    builds = [_exoqa_build(corpus_dir) for _ in range(2)]
    results = [b.communicate(timeout=600) for b in builds]
    assert [b.returncode for b in builds] == [0, 0], results
    _assert_index_fits(corpus_dir, embedder)
    assert _leftovers(index_dir) == []


def test_lock_timeout_is_a_clear_error(corpus_dir):
    index_dir = _index(corpus_dir)
    holder = _spawn(HOLD_LOCK, str(index_dir))
    try:
        _read_until(holder.stdout, "holding", holder)
        with pytest.raises(index_store.IndexLockedError, match="held its lock"):
            with index_store.build_lock(index_dir, timeout=0.5, on_wait=lambda message: None):
                pass
    finally:
        holder.kill()
        holder.wait()
