"""`exoqa ingest` and any-corpus retrieval with the real model and FAISS index, always in a temporary corpus."""
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from assistant import Assistant, Retriever
from assistant.corpus.sources import Corpus, load_corpus
from assistant.retrieval.embeddings import load_embedder
from assistant.corpus.ingest import ingest, source_id_for
from assistant.retrieval.retriever import build_index

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MANIFEST = ROOT / "index" / "e5-small" / "manifest.json"

HTML = """<!doctype html><html><head><title>Clinic &amp; regulator notes</title>
<style>body { color: red }</style><script>var tracking = "do not index me";</script></head>
<body><h1>Notes</h1><p>The regulator sent a warning letter to the clinic in 2023.</p>
<p>Unapproved <b>exosome</b> injections were advertised online.</p></body></html>"""
MARKDOWN = "# Cold chain of vesicle products\n\nVesicle products must be stored at minus eighty degrees.\n"
TEXT = "Ultracentrifugation separates vesicles by density.\nSize exclusion is gentler.\n"


def _pdf(path: Path, lines: list[str], title: str) -> Path:
    with plt.rc_context({"pdf.fonttype": 42}):  # TrueType text, which PDF readers can extract
        figure = plt.figure(figsize=(8.5, 11))
        for n, line in enumerate(lines):
            figure.text(0.08, 0.9 - 0.04 * n, line, fontsize=11)
        figure.savefig(path, metadata={"Title": title})
        plt.close(figure)
    return path


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture()
def documents(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "Clinic Notes.html").write_text(HTML, encoding="utf-8")
    (folder / "cold_chain.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "isolation.txt").write_text(TEXT, encoding="utf-8")
    _pdf(folder / "Sterility Report.pdf", ["Endotoxin testing of exosome products is rarely reported.",
                                            "Clinics seldom publish sterility data."], "Sterility of exosome products")
    return folder


def test_documents_become_corpus_files_with_metadata(documents, tmp_path):
    corpus_dir = tmp_path / "corpus"
    result = ingest([documents], corpus_dir, license="CC BY 4.0")
    assert sorted(result.added) == ["clinic-notes", "cold_chain", "isolation", "sterility-report"]
    assert result.skipped == [] and result.updated == result.unchanged == []
    corpus = load_corpus(corpus_dir)
    html, md, txt, pdf = (corpus[i] for i in ("clinic-notes", "cold_chain", "isolation", "sterility-report"))
    assert html.title == "Clinic & regulator notes" and md.title == "Cold chain of vesicle products"
    assert txt.title == "isolation" and pdf.title == "Sterility of exosome products"
    assert "warning letter to the clinic in 2023" in html.text and "tracking" not in html.text
    assert "color: red" not in html.text and "Clinic & regulator notes" not in html.text
    assert "Endotoxin testing of exosome products is rarely reported." in pdf.text
    assert "minus eighty degrees" in md.text and txt.text.startswith("Ultracentrifugation")
    for source, name in ((html, "Clinic Notes.html"), (pdf, "Sterility Report.pdf")):
        assert source.meta["source_file"] == name
        assert source.meta["sha256"] == hashlib.sha256((documents / name).read_bytes()).hexdigest()
        assert source.meta["license"] == "CC BY 4.0" and source.quotable
    assert ingest([documents / "isolation.txt"], tmp_path / "other").added == ["isolation"]
    assert load_corpus(tmp_path / "other")["isolation"].meta["license"] == "unknown"


def test_bad_files_are_reported_and_skipped_leaving_the_corpus_intact(documents, tmp_path):
    corpus_dir = tmp_path / "corpus"
    ingest([documents], corpus_dir)
    before = {p.name: p.read_bytes() for p in corpus_dir.iterdir()}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "notes.docx").write_bytes(b"PK\x03\x04 not accepted")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without xref")
    (bad / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (bad / "empty.md").write_text("   \n\n", encoding="utf-8")
    (bad / "huge.txt").write_bytes(b"a" * 2048)
    result = ingest([bad / "notes.docx", bad / "broken.pdf", bad / "latin1.txt", bad / "empty.md",
                     bad / "huge.txt", bad / "missing.txt"], corpus_dir, max_bytes=1024)
    reasons = dict(result.skipped)
    assert set(reasons) == {"notes.docx", "broken.pdf", "latin1.txt", "empty.md", "huge.txt", "missing.txt"}
    assert "not accepted" in reasons["notes.docx"] and "PDF" in reasons["broken.pdf"]
    assert "UTF-8" in reasons["latin1.txt"] and "no text" in reasons["empty.md"]
    assert "limit" in reasons["huge.txt"] and "no such file" in reasons["missing.txt"]
    assert result.added == result.updated == []
    assert {p.name: p.read_bytes() for p in corpus_dir.iterdir()} == before  # nothing written, no temp files


def test_shipped_sources_are_never_replaced(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    shutil.copy(ROOT / "corpus" / "tan-2024.txt", corpus_dir)
    (tmp_path / "tan-2024.md").write_text("# Impostor\n\nNot the paper.\n", encoding="utf-8")
    result = ingest([tmp_path / "tan-2024.md"], corpus_dir)
    assert result.added == [] and "ingest did not add" in result.skipped[0][1]
    assert (corpus_dir / "tan-2024.txt").read_bytes() == (ROOT / "corpus" / "tan-2024.txt").read_bytes()


def test_ids_come_from_file_names():
    assert source_id_for(Path("My Report (final) v2.PDF")) == "my-report-final-v2"
    assert source_id_for(Path("Ötzi_über.md")) == "otzi_uber"
    with pytest.raises(Exception, match="cannot derive a corpus id"):
        source_id_for(Path("外泌体.txt"))


def test_incremental_index_reuses_unchanged_sources(documents, tmp_path, embedder):
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    ingest([documents], corpus_dir)
    assert build_index(load_corpus(corpus_dir), embedder, index_dir, progress=False) == 0  # nothing to reuse
    (documents / "isolation.txt").write_text(TEXT + "Polymer precipitation is cheap but impure.\n",
                                             encoding="utf-8")
    result = ingest([documents], corpus_dir)
    assert result.updated == ["isolation"] and len(result.unchanged) == 3
    corpus = load_corpus(corpus_dir)
    reused = build_index(corpus, embedder, index_dir, progress=False)
    fresh_dir = tmp_path / "fresh"
    build_index(corpus, embedder, fresh_dir, progress=False)
    incremental = Retriever.open(corpus, embedder, index_dir, rebuild="never").index
    fresh = Retriever.open(corpus, embedder, fresh_dir, rebuild="never").index
    unchanged_units = sum(s.source_id != "isolation" for s in incremental.sentences) + \
        sum(p.source_id != "isolation" for p in incremental.passages)
    assert reused == unchanged_units > 0
    for name in ("passage_vectors", "sentence_vectors"):
        a, b = getattr(incremental, name), getattr(fresh, name)
        assert np.allclose(a.reconstruct_n(0, a.ntotal), b.reconstruct_n(0, b.ntotal), atol=1e-5)


def test_retriever_over_documents_in_memory(tmp_path, embedder):
    documents = [{"id": "letters", "text": "The regulator sent warning letters to three clinics.", "title": "L"},
                 {"id": "storage", "text": "Vesicles degrade unless they are frozen.", "title": "S"}]
    corpus = Corpus.from_documents(documents)
    retriever = Retriever.open(corpus, embedder, tmp_path / "index")
    assert retriever.search("Do vesicles degrade at room temperature?", 1)[0].source_id == "storage"
    assert retriever.search("warning letters to clinics", 1)[0].source_id == "letters"
    folder = tmp_path / "files"
    folder.mkdir()
    for source in corpus.sources:  # the same documents as files hash the same, so they share an index
        (folder / f"{source.id}.txt").write_text(f"id: {source.id}\ntitle: {source.title}\n\n{source.text}",
                                                 encoding="utf-8")
    assert load_corpus(folder).content_hash == corpus.content_hash
    with pytest.raises(Exception, match="invalid id"):
        Corpus.from_documents([{"id": "Bad Id", "text": "x"}])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})


def test_cli_ingest_then_search_and_ask_that_corpus(documents, tmp_path):
    shipped_before = SHIPPED_MANIFEST.read_bytes()
    corpus_dir = tmp_path / "my corpus"
    (documents / "slides.pptx").write_bytes(b"nope")
    result = _cli("ingest", str(documents), "--corpus", str(corpus_dir), "--license", "CC0")
    assert result.returncode == 2, result.stderr  # one file skipped; the rest is in
    assert "skipped: slides.pptx" in result.stderr and "4 added, 0 updated, 0 replaced, 0 unchanged, 1 skipped" in result.stdout
    assert "0 vectors reused" in result.stdout
    assert (corpus_dir / ".exoqa-index" / "e5-small" / "manifest.json").exists()
    again = _cli("ingest", str(documents / "cold_chain.md"), "--corpus", str(corpus_dir), "--license", "CC0")
    assert again.returncode == 0 and "unchanged: cold_chain" in again.stdout
    reused = int(again.stdout.split("(")[-1].split()[0])
    assert reused > 0  # nothing changed: every vector reused
    search = _cli("search", "endotoxin sterility testing", "-k", "2", "--json", "--corpus", str(corpus_dir))
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)[0]["source_id"] == "sterility-report"
    ask = _cli("ask", "How must vesicle products be stored?", "--json", "--corpus", str(corpus_dir))
    data = json.loads(ask.stdout)
    assert data["quotes"] and data["quotes"][0]["source_id"] == "cold_chain" and data["warnings"]
    text = (corpus_dir / "cold_chain.txt").read_text(encoding="utf-8").partition("\n\n")[2]
    assert text[data["quotes"][0]["start"]:data["quotes"][0]["end"]] == data["quotes"][0]["text"]
    assert SHIPPED_MANIFEST.read_bytes() == shipped_before  # the shipped index is untouched
    assert Assistant.load(corpus_dir=corpus_dir, rebuild="never").corpus["isolation"].title == "isolation"
