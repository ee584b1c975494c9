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


# ----- 2. a different document never silently replaces one under the same id ----------------------------------

def test_a_different_document_under_an_existing_id_is_refused_unless_replace_is_given(tmp_path):
    corpus_dir = tmp_path / "corpus"
    first, second = tmp_path / "a" / "zebra.txt", tmp_path / "b" / "zebra.txt"
    for path, text in ((first, "Zebras carry stripes that confuse biting flies.\n"),
                       (second, "Vesicle products are shipped frozen on dry ice.\n")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    assert ingest([first], corpus_dir).added == ["zebra"]
    before = (corpus_dir / "zebra.txt").read_bytes()

    clash = ingest([second], corpus_dir)
    assert clash.updated == clash.replaced == [] and clash.added == []
    reason = dict(clash.skipped)["zebra.txt"]
    assert "different document" in reason and "--replace" in reason and str(first) in reason
    assert (corpus_dir / "zebra.txt").read_bytes() == before  # the first document is still there

    (tmp_path / "x.txt").write_text("Plain notes about ultracentrifugation.\n", encoding="utf-8")
    (tmp_path / "x.html").write_text("<p>A different page about tangential flow filtration.</p>", encoding="utf-8")
    assert ingest([tmp_path / "x.txt"], corpus_dir).added == ["x"]
    assert "different document" in dict(ingest([tmp_path / "x.html"], corpus_dir).skipped)["x.html"]
    assert "ultracentrifugation" in load_corpus(corpus_dir)["x"].text

    first.write_text("Zebras carry stripes that confuse biting flies and horseflies.\n", encoding="utf-8")
    assert ingest([first], corpus_dir).updated == ["zebra"]  # the same file, edited: an update
    copy = tmp_path / "c" / "zebra.txt"
    copy.parent.mkdir()
    shutil.copy(first, copy)
    assert ingest([copy], corpus_dir).unchanged == ["zebra"]  # the same bytes elsewhere lose nothing

    refused = _cli("ingest", str(second), "--corpus", str(corpus_dir), "--no-index")
    assert refused.returncode == 2 and "--replace" in refused.stderr and "0 replaced" in refused.stdout
    replaced = _cli("ingest", str(second), "--corpus", str(corpus_dir), "--no-index", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "replaced: zebra" in replaced.stdout and "1 replaced" in replaced.stdout
    assert "dry ice" in load_corpus(corpus_dir)["zebra"].text


# ----- 5. ingest is bounded by what indexing costs, and says the estimate first -----------------------------------

def test_ingest_is_bounded_by_indexing_cost_and_prints_the_estimate_before_building(tmp_path):
    corpus_dir, docs = tmp_path / "corpus", tmp_path / "docs"
    docs.mkdir()
    sentence = "Exosome products must be stored frozen and shipped on dry ice to the clinic. "
    (docs / "huge.txt").write_text(sentence * 14_000, encoding="utf-8")  # 1.1 MB: under 20 MB, over the budget
    result = ingest([docs / "huge.txt"], corpus_dir)
    reason = dict(result.skipped)["huge.txt"]
    size = len((sentence * 14_000).strip()) + 1  # the text as stored: trimmed, one final newline
    assert f"{size:,} characters" in reason and "to index" in reason and "--max-chars" in reason
    assert result.added == [] and not list(corpus_dir.glob("*.txt"))

    for name in ("half-a.txt", "half-b.txt"):
        (docs / name).write_text(sentence * 8_000, encoding="utf-8")  # 616,000 characters each
    half = len((sentence * 8_000).strip()) + 1
    both = ingest([docs / "half-a.txt", docs / "half-b.txt"], corpus_dir)
    assert both.added == ["half-a"] and f"this run already adds {half:,}" in dict(both.skipped)["half-b.txt"]
    assert both.characters == half

    small = tmp_path / "small"
    small.mkdir()
    (small / "cold-chain.md").write_text("# Cold chain\n\n" + sentence + "\n", encoding="utf-8")
    over = _cli("ingest", str(small / "cold-chain.md"), "--corpus", str(tmp_path / "c2"), "--max-chars", "20")
    assert over.returncode == 2 and "indexing limit" in over.stderr
    built = _cli("ingest", str(small / "cold-chain.md"), "--corpus", str(tmp_path / "c2"))
    assert built.returncode == 0, built.stderr
    lines = built.stdout.splitlines()
    estimate = next(i for i, line in enumerate(lines) if line.startswith("indexing: "))
    done = next(i for i, line in enumerate(lines) if line.startswith("index updated at"))
    assert estimate < done and "texts to embed" in lines[estimate] and "estimated" in lines[estimate]


# ----- live servers on loopback ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """`exoqa serve --corpus DIR` on a free loopback port, with extra environment; stopped on exit."""

    def __init__(self, corpus_dir: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(self.port), "--corpus", str(corpus_dir)],
            cwd=ROOT, env={**ENV, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def health(self) -> dict:
        return httpx.get(f"{self.url}/api/health", timeout=30).json()

    def wait(self, condition, limit_s: float = 600) -> dict:
        """Poll /api/health until `condition(health)` holds."""
        deadline = time.monotonic() + limit_s
        while True:
            assert self.process.poll() is None, self.process.stdout.read().decode(errors="replace")
            try:
                health = self.health()
                if condition(health):
                    return health
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server never reached the expected state"
            time.sleep(0.3)

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.stdout.read().decode(errors="replace")


HOSTILE_MARKDOWN = """# <img src=x onerror=alert(1)> Cold chain [guide](javascript:alert(2))

Exosome products must be stored frozen at minus eighty degrees <script>alert(document.cookie)</script> before they are shipped to the clinic.
Read [the storage guide](javascript:alert(3)) before shipping frozen exosome products on dry ice.
<img src=x onerror=alert(4)> Frozen exosome vials thaw within minutes once they leave the freezer.
"""
SPOOFED_NAME = "invoice\u202efdp.md"  # shows as "invoicedm.pdf" where bidi controls are honoured


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder):
    """A corpus with two shipped sources, a hostile Markdown document and a file name with a bidi override, its
    index built, served by one `exoqa serve` with short read timeouts and a configured proxy host."""
    root = tmp_path_factory.mktemp("integrity-site")
    corpus_dir = _small_corpus(root / "corpus")
    docs = root / "docs"
    docs.mkdir()
    (docs / "cold-chain.md").write_text(HOSTILE_MARKDOWN, encoding="utf-8")
    (docs / SPOOFED_NAME).write_text("Notes on vesicle invoices and shipping costs for clinics.\n", encoding="utf-8")
    result = ingest([docs], corpus_dir)
    assert sorted(result.added) == ["cold-chain", "invoicefdp"], result.skipped
    build_index(load_corpus(corpus_dir), embedder, _index(corpus_dir), progress=False)
    uploads = root / "gradio-tmp"
    uploads.mkdir()
    server = LiveServer(corpus_dir, EXOQA_ALLOWED_HOSTS="proxy.example", EXOQA_HEADER_TIMEOUT="2",
                        EXOQA_BODY_TIMEOUT="2", GRADIO_TEMP_DIR=str(uploads))
    try:
        server.wait(lambda h: h["status"] == "ready")
        yield {"url": server.url, "port": server.port, "uploads": uploads, "corpus": corpus_dir, "root": root}
    finally:
        server.stop()


# ----- 3. no anonymous uploads -----------------------------------------------------------------------------------

def test_uploads_are_refused_and_nothing_is_kept(site):
    url = site["url"]
    for path in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/process_recording"):
        response = httpx.post(f"{url}{path}", files={"files": ("blob.bin", os.urandom(48_000))}, timeout=30)
        assert response.status_code == 403 and "no file uploads" in response.json()["error"], (path, response.text)
    assert [p for p in site["uploads"].rglob("*") if p.is_file()] == []
    assert httpx.get(f"{url}/api/health", timeout=30).status_code == 200  # everything else still works


# ----- 4. only this server's own host names; no CORS grant --------------------------------------------------------

def test_only_the_bound_and_configured_hosts_are_answered(site):
    url, port = site["url"], site["port"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "proxy.example", "proxy.example:443"):
        assert httpx.get(f"{url}/api/sources", headers={"host": host}, timeout=30).status_code == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
        response = httpx.get(f"{url}/api/sources", headers={"host": host}, timeout=30)
        assert response.status_code == 400 and "host" in response.json()["error"], host
        assert httpx.get(f"{url}/", headers={"host": host}, timeout=30).status_code == 400
    forwarded = httpx.get(f"{url}/config", headers={"x-forwarded-host": "evil.example"}, timeout=30)
    assert forwarded.status_code == 400  # Gradio would build its root URL from it
    config = httpx.get(f"{url}/config", timeout=30)
    assert config.status_code == 200 and "evil.example" not in config.text


def test_no_origin_is_granted_cors_on_the_api_or_the_gradio_call(site):
    url = site["url"]
    for origin in ("http://localhost:9999", "http://127.0.0.1:1234", "null", "http://evil.example"):
        call = httpx.post(f"{url}/gradio_api/call/ask", json={"data": ["What is an exosome?", [], "en"]},
                          headers={"origin": origin}, timeout=30)
        preflight = httpx.options(f"{url}/gradio_api/call/ask", timeout=30, headers={
            "origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type"})
        api = httpx.post(f"{url}/api/ask", json={"question": "What is an exosome?"}, headers={"origin": origin},
                         timeout=60)
        for response in (call, preflight, api):
            assert "access-control-allow-origin" not in response.headers, (origin, response.headers)
            assert "access-control-allow-credentials" not in response.headers, (origin, response.headers)


# ----- 6. smaller: escaping, bidi controls, empty questions, history turns, read timeouts --------------------------

def test_api_markdown_never_carries_document_html_or_javascript_links(site):
    from markdown_it import MarkdownIt
    import html as html_module
    import re

    answer = httpx.post(f"{site['url']}/api/ask", timeout=60, json={
        "question": "How must exosome products be stored before they are shipped to the clinic?"}).json()
    hostile = [q for q in answer["quotes"] if q["source_id"] == "cold-chain"]
    assert hostile, answer["quotes"]
    assert any("<script>" in q["text"] or "<img" in q["text"] or "](javascript:" in q["text"] for q in hostile)
    rendered = MarkdownIt("commonmark", {"html": True}).render(answer["text"])  # a client with HTML switched on
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered, rendered
    assert "javascript:" not in "".join(re.findall(r'(?:href|src)="([^"]*)"', rendered))
    shown = html_module.unescape(re.sub(r"<[^>]+>", "", rendered))
    for quote in answer["quotes"]:  # the reader still sees each quote character for character
        assert quote["text"] in shown, quote["text"]
    assert "<img src=x onerror=alert(1)> Cold chain" in shown  # the title too, as text


def test_bidi_controls_are_stripped_from_ingested_titles_and_file_names(site):
    corpus = load_corpus(site["corpus"])
    spoofed = corpus["invoicefdp"]
    assert spoofed.title == "invoicefdp" and spoofed.meta["source_file"] == "invoicefdp.md"
    assert "\u202e" not in (site["corpus"] / "invoicefdp.txt").read_text(encoding="utf-8")
    cards = httpx.get(f"{site['url']}/api/sources", timeout=30).json()
    assert not any(ch in json.dumps(cards, ensure_ascii=False) for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_a_question_of_only_zero_width_characters_is_rejected(site):
    for question in ("\u200b\u200c\u200d", "\ufeff\u2060 \u200b", "\u202e\u2066\u2069"):
        response = httpx.post(f"{site['url']}/api/ask", json={"question": question}, timeout=30)
        assert response.status_code == 400 and "the question is empty" in response.json()["error"], question


def test_history_turns_up_to_20000_characters_are_accepted_and_errors_name_the_turn(site):
    from assistant.query import Query

    url = site["url"]
    long_turn = ("Exosome products are shipped frozen. " * 600)[:20_000]
    # Accepted by the library: the turn is kept whole (embedding one that long is slow: see docs/reliability.md).
    query = Query.build("How are they stored?", [{"role": "user", "content": long_turn}])
    assert query.history == (long_turn,)
    # Accepted over HTTP (a pasted reply as a long assistant turn costs nothing: only user turns are read).
    response = httpx.post(f"{url}/api/ask", timeout=120, json={"question": "How are exosome products stored?",
                          "history": [{"role": "user", "content": "Tell me about storage."},
                                      {"role": "assistant", "content": long_turn}]})
    assert response.status_code == 200 and response.json()["warnings"], response.text[:300]
    too_long = httpx.post(f"{url}/api/ask", timeout=30, json={
        "question": "How are they stored?", "history": [{"role": "user", "content": "a" * 20_001}]})
    assert too_long.status_code == 422 and "history" in too_long.json()["error"]
    control = httpx.post(f"{url}/api/ask", timeout=30, json={
        "question": "How are they stored?", "history": [{"role": "user", "content": "ok \x07 bell"}]})
    error = control.json()["error"]
    assert control.status_code == 400 and "history turn 0" in error and "the question" not in error


def _raw_exchange(port: int, data: bytes, wait_s: float) -> tuple[bytes, float]:
    """Send `data` and read until the server closes the connection (or `wait_s` passes)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as connection:
        connection.sendall(data)
        received = b""
        try:
            while chunk := connection.recv(4096):
                received += chunk
        except TimeoutError:
            pass
    return received, time.monotonic() - started


def test_slow_clients_are_timed_out_on_headers_and_body(site):
    port = site["port"]
    idle, idle_s = _raw_exchange(port, b"", wait_s=10)
    assert idle.startswith(b"HTTP/1.1 408") and idle_s < 8, (idle, idle_s)
    partial_headers, headers_s = _raw_exchange(port, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", wait_s=10)
    assert partial_headers.startswith(b"HTTP/1.1 408") and headers_s < 8, (partial_headers, headers_s)
    partial_body, body_s = _raw_exchange(port, (
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        "content-length: 200\r\n\r\n{\"question\": ").encode(), wait_s=10)
    assert b" 408 " in partial_body.split(b"\r\n")[0] and body_s < 8, (partial_body, body_s)
    assert b"did not arrive" in partial_body
    whole, _ = _raw_exchange(port, f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nconnection: close\r\n\r\n"
                             .encode(), wait_s=30)
    assert whole.startswith(b"HTTP/1.1 200")  # a prompt client is served as before


# ----- 5 and 6: the last good index serves while a rebuild runs, and when it cannot ---------------------------------

HOLD_LOCK = """
import sys
from pathlib import Path
from assistant.retrieval.index_store import build_lock

with build_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.readline()
"""
ADDED = "\nThe integrity test added this sentence about cryogenic courier logistics for vesicle vials.\n"
QUESTION = "How should adverse events from exosome products be reported to the FDA?"


def _stale_site(tmp_path: Path, embedder) -> tuple[Path, dict[str, str]]:
    """A corpus whose index was built, then one source edited: the index is stale, its snapshot intact."""
    corpus_dir = _small_corpus(tmp_path / "corpus")
    build_index(load_corpus(corpus_dir), embedder, _index(corpus_dir), progress=False)
    old_texts = {s.id: s.text for s in load_corpus(corpus_dir).sources}
    with open(corpus_dir / "isev-2020.txt", "a", encoding="utf-8") as handle:
        handle.write(ADDED)
    return corpus_dir, old_texts


def _asks_from(url: str, texts: dict[str, str]) -> dict:
    response = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["quotes"] and answer["warnings"]
    for quote in answer["quotes"]:
        assert texts[quote["source_id"]][quote["start"]:quote["end"]] == quote["text"]
    return answer


def test_a_server_keeps_serving_the_last_good_index_while_a_rebuild_runs(tmp_path, embedder):
    corpus_dir, old_texts = _stale_site(tmp_path, embedder)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(_index(corpus_dir))], cwd=ROOT, env=ENV,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    server = None
    try:
        assert holder.stdout.readline().strip() == "holding"  # the rebuild will have to wait for this lock
        server = LiveServer(corpus_dir)
        health = server.wait(lambda h: h["status"] != "loading")
        assert health["status"] == "ready", health  # not "building" for as long as the build takes
        assert health["rebuild"]["status"] == "building" and "last good index" in health["index"]["fallback"]
        assert str(tmp_path) not in json.dumps(health)
        _asks_from(server.url, old_texts)  # answered from the last good index and its own corpus text
        holder.stdin.write("release\n")
        holder.stdin.flush()
        health = server.wait(lambda h: (h.get("rebuild") or {}).get("status") != "building")
        assert health["rebuild"] == {"status": "done"} and "fallback" not in health["index"], health
        found = httpx.get(f"{server.url}/api/search", params={"q": "cryogenic courier logistics", "k": 3},
                          timeout=60).json()
        assert any("cryogenic courier" in p["text"] for p in found)
        _asks_from(server.url, {s.id: s.text for s in load_corpus(corpus_dir).sources})
    finally:
        holder.kill()
        holder.wait()
        if server is not None:
            server.stop()


def test_a_lock_path_that_is_a_directory_does_not_stop_a_server_with_a_good_index(tmp_path, embedder):
    from assistant.retrieval.index_store import lock_path

    corpus_dir, old_texts = _stale_site(tmp_path, embedder)
    lock_path(_index(corpus_dir)).unlink(missing_ok=True)  # the lock file the build left behind
    lock_path(_index(corpus_dir)).mkdir()
    server = LiveServer(corpus_dir)
    try:
        health = server.wait(lambda h: h["status"] in ("ready", "error")
                             and (h.get("rebuild") or {}).get("status") != "building")
        assert health["status"] == "ready", health
        assert health["rebuild"]["status"] == "failed" and "is a directory" in health["rebuild"]["error"]
        assert str(tmp_path) not in json.dumps(health)  # no absolute path reaches an HTTP client
        _asks_from(server.url, old_texts)
    finally:
        log = server.stop()
    assert "is a directory" in log  # the operator's log has the whole story


def test_errors_for_http_clients_lose_their_absolute_paths():
    from ui.service import without_paths

    message = ("cannot take the build lock beside /tmp/x/corpus/.exoqa-index/e5-small: /tmp/x/corpus/.exoqa-index/"
               ".e5-small.lock is a directory. See https://example.org/a/b and 1/2 of 'C:/x'.")
    shown = without_paths(message)
    assert "/tmp" not in shown and "…/e5-small:" in shown and "…/.e5-small.lock is a directory." in shown
    assert "https://example.org/a/b" in shown and "1/2" in shown


def test_allowed_hosts_follow_the_bind_address_and_the_configuration(monkeypatch):
    from ui.server import allowed_hosts_for

    monkeypatch.delenv("EXOQA_ALLOWED_HOSTS", raising=False)
    assert allowed_hosts_for("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts_for("[::1]") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts_for("192.168.1.5") == {"192.168.1.5"}  # not reachable as localhost anyway
    wildcard = allowed_hosts_for("0.0.0.0", extra=["Proxy.Example:443"])
    assert {"localhost", "proxy.example", socket.gethostname().lower()} <= wildcard and "0.0.0.0" not in wildcard
    monkeypatch.setenv("EXOQA_ALLOWED_HOSTS", "a.example, b.example:8443")
    assert {"a.example", "b.example"} <= allowed_hosts_for("127.0.0.1")
