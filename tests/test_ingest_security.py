"""Ingest refuses what it should, says why, writes only inside the corpus, and loses nothing already indexed."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from ui.cli import main
from assistant.paths import default_index_dir
from assistant.retrieval.embeddings import DEFAULT_MODEL
from assistant.corpus.ingest import MAX_BYTES, ingest

ROOT = Path(__file__).resolve().parent.parent
GOOD = "# Cold chain\n\nVesicle products must be stored at minus eighty degrees before shipping.\n"


def _tree(directory: Path) -> dict[str, str]:
    """Every file under `directory` (hidden ones too) with its sha256, symlinks as their target."""
    found = {}
    for path in sorted(directory.rglob("*")):
        key = str(path.relative_to(directory))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file() and not path.name.endswith(".lock"):
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture()
def site(tmp_path) -> dict[str, Path]:
    corpus_dir, outside, docs = tmp_path / "corpus", tmp_path / "outside", tmp_path / "docs"
    for folder in (corpus_dir, outside, docs):
        folder.mkdir()
    shutil.copy(ROOT / "corpus" / "isev-2020.txt", corpus_dir)
    (outside / "secret.txt").write_text("A private note that must never enter the corpus.\n", encoding="utf-8")
    (outside / "victim.txt").write_text("must not be overwritten\n", encoding="utf-8")
    return {"corpus": corpus_dir, "outside": outside, "docs": docs}


def test_symlinks_are_refused_with_a_reason(site):
    docs, outside = site["docs"], site["outside"]
    (docs / "link.txt").symlink_to(outside / "secret.txt")
    (docs / "linked-folder").symlink_to(outside, target_is_directory=True)
    result = ingest([docs, docs / "linked-folder", docs / "link.txt"], site["corpus"])
    reasons = dict(result.skipped)
    assert "symbolic link" in reasons["link.txt"] and "symbolic link" in reasons["linked-folder"]
    assert result.added == [] and "private note" not in "".join(p.read_text() for p in site["corpus"].glob("*.txt"))


def test_writes_stay_inside_the_corpus_whatever_the_file_name(site):
    docs = site["docs"]
    nested = docs / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "victim.md").write_text(GOOD, encoding="utf-8")
    sneaky = docs / "a" / ".." / "a" / "b" / "victim.md"  # a path with '..' in it
    result = ingest([sneaky], site["corpus"])
    assert result.added == ["victim"]
    assert (site["corpus"] / "victim.txt").exists()
    assert (site["outside"] / "victim.txt").read_text() == "must not be overwritten\n"
    (docs / "...md").write_text(GOOD, encoding="utf-8")
    assert "cannot derive a corpus id" in dict(ingest([docs / "...md"], site["corpus"]).skipped)["...md"]


def test_planted_symlinks_in_the_corpus_are_never_followed(site):
    corpus_dir, outside, docs = site["corpus"], site["outside"], site["docs"]
    (docs / "victim.md").write_text(GOOD, encoding="utf-8")
    (corpus_dir / "victim.txt").symlink_to(outside / "victim.txt")  # the target name is a link out of the corpus
    result = ingest([docs / "victim.md"], corpus_dir)
    assert "symbolic link" in dict(result.skipped)["victim.md"]
    (corpus_dir / "victim.txt").unlink()
    (corpus_dir / ".victim.txt.tmp").symlink_to(outside / "victim.txt")  # the old predictable temp name
    assert ingest([docs / "victim.md"], corpus_dir).added == ["victim"]
    assert (outside / "victim.txt").read_text() == "must not be overwritten\n"
    assert not (corpus_dir / "victim.txt").is_symlink()


def test_wrong_types_sizes_encodings_and_malformed_files_are_refused(site):
    docs = site["docs"]
    files = {
        "gbk.txt": "外泌体是细胞分泌的囊泡。".encode("gbk"),
        "utf16.md": "exosomes are vesicles".encode("utf-16"),
        "binary.html": bytes(range(256)) * 3,
        "truncated.pdf": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        "image.pdf": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "script.sh": b"#!/bin/sh\nrm -rf /\n",
        "archive.zip": b"PK\x03\x04",
        "big.txt": b"exosome " * 200,
        "empty.html": b"<html><body>   </body></html>",
    }
    for name, data in files.items():
        (docs / name).write_bytes(data)
    before = _tree(site["corpus"])
    result = ingest([docs], site["corpus"], max_bytes=1024)
    reasons = dict(result.skipped)
    assert set(reasons) == set(files) and result.added == []
    assert "UTF-8" in reasons["gbk.txt"] and "UTF-8" in reasons["utf16.md"]
    assert "not valid text" in reasons["binary.html"]
    assert "PDF" in reasons["truncated.pdf"] and "PDF" in reasons["image.pdf"]
    assert "not accepted" in reasons["script.sh"] and "not accepted" in reasons["archive.zip"]
    assert "limit" in reasons["big.txt"] and "no text" in reasons["empty.html"]
    assert _tree(site["corpus"]) == before  # nothing written, no temporary files left
    assert MAX_BYTES == 20 * 1024 * 1024  # the documented default (SECURITY.md)


def test_a_bad_ingest_loses_nothing_already_indexed(site):
    corpus_dir, docs = site["corpus"], site["docs"]
    (docs / "cold-chain.md").write_text(GOOD, encoding="utf-8")
    assert main(["ingest", str(docs / "cold-chain.md"), "--corpus", str(corpus_dir)]) == 0
    index_dir = default_index_dir(DEFAULT_MODEL, corpus_dir)
    before_corpus, before_index = _tree(corpus_dir), _tree(index_dir)

    bad = site["outside"] / "bad"
    bad.mkdir()
    (bad / "cold-chain.md").symlink_to(site["outside"] / "secret.txt")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (bad / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    assert main(["ingest", str(bad), "--corpus", str(corpus_dir)]) == 2  # exit 2: some files were refused
    assert _tree(corpus_dir) == before_corpus and _tree(index_dir) == before_index

    served = Assistant.load(corpus_dir=corpus_dir, rebuild="never")
    answer = served.ask("At what temperature must vesicle products be stored?")
    assert "cold-chain" in {q.source_id for q in answer.quotes} and answer.warnings
