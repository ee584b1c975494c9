"""Evaluation in the formats other tools use: BEIR datasets in, TREC runs out, ir-measures metrics, and paired
significance between two runs.

A BEIR dataset is a directory with

    corpus.jsonl     {"_id", "title"?, "text"} per line
    queries.jsonl    {"_id", "text"} per line
    qrels/<split>.tsv   query-id <TAB> corpus-id <TAB> score, after a header line (TREC qrels files work too)

Any such corpus is indexed with exoqa's own retriever (same chunking, model, BM25 and fusion as the assistant; the
index is kept in <dataset>/.exoqa-index/), every judged query of the split is searched (retrieval only: the
safety gate decides replies, not rankings), and a document ranks by its best passage. The run is written as a
TREC run file (`qid Q0 docid rank score tag`, readable by trec_eval, ranx and ir-measures) and scored with
ir-measures from that file, so `exoqa eval` and `exoqa eval --compare` score a run identically.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ir_measures
import numpy as np
from scipy import stats
from tqdm import tqdm

from assistant.atomic import write_atomic
from assistant.corpus.sources import Corpus, is_valid_source_id
from assistant.errors import ExoqaError, InvalidQuestionError
from assistant.evaluation import metrics
from assistant.retrieval import fusion
from assistant.retrieval.embeddings import Embedder
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings
from assistant.text.language import detect_language

DEFAULT_MEASURES = ("nDCG@10", "RR@10", "R@10", "R@100", "Success@1", "Success@5")
DEFAULT_DEPTH = 100
DEFAULT_RESAMPLES = 10_000
RUN_FILE, REPORT_JSON, REPORT_MD = "run.trec", "report.json", "report.md"
COMPARE_JSON, COMPARE_MD = "compare.json", "compare.md"
_WHITESPACE = re.compile(r"\s")


class DatasetError(ExoqaError):
    """A BEIR dataset, qrels or run file that cannot be used (missing, malformed, or ids TREC cannot hold)."""


@dataclass(frozen=True)
class Dataset:
    directory: Path
    split: str
    documents: list[dict]            # {"_id", "title", "text"}, in file order
    queries: dict[str, str]          # query id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {document id: relevance}

    @property
    def name(self) -> str:
        return self.directory.name


def is_dataset(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "corpus.jsonl").is_file()


def _jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{path.name}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict) or not isinstance(row.get("_id"), (str, int)) \
                or not isinstance(row.get("text"), str):
            raise DatasetError(f"{path.name}:{number}: expected an object with '_id' and 'text'")
        row["_id"] = _trec_id(str(row["_id"]), f"{path.name}:{number}")
        yield number, row


def _trec_id(value: str, where: str) -> str:
    if not value or _WHITESPACE.search(value):
        raise DatasetError(f"{where}: id {value!r} is empty or has whitespace, which a TREC file cannot hold")
    return value


def read_qrels(path: Path, split: str = "test") -> dict[str, dict[str, int]]:
    """{query id: {document id: relevance}} from a BEIR TSV, a TREC qrels file, or a BEIR dataset directory."""
    path = Path(path)
    if path.is_dir():
        path = path / "qrels" / f"{split}.tsv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read qrels {path}: {exc}") from exc
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or (number == 1 and fields[:2] == ["query-id", "corpus-id"]):
            continue  # BEIR's header line
        if len(fields) not in (3, 4):
            raise DatasetError(f"{path.name}:{number}: expected 'query-id corpus-id score' (BEIR) or "
                               f"'qid iter docid rel' (TREC), got {line[:80]!r}")
        query_id, doc_id, relevance = (fields[0], fields[1], fields[2]) if len(fields) == 3 else \
            (fields[0], fields[2], fields[3])
        try:
            qrels.setdefault(query_id, {})[doc_id] = int(float(relevance))
        except ValueError:
            raise DatasetError(f"{path.name}:{number}: relevance {relevance!r} is not a number") from None
    if not qrels:
        raise DatasetError(f"no judgments in {path}")
    return qrels


def load_dataset(directory: Path, split: str = "test") -> Dataset:
    directory = Path(directory)
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (directory / name).is_file():
            raise DatasetError(f"{directory} is not a BEIR dataset: {name} is missing")
    documents = [{"_id": row["_id"], "title": str(row.get("title") or ""), "text": row["text"]}
                 for _, row in _jsonl(directory / "corpus.jsonl")]
    if not documents:
        raise DatasetError(f"no documents in {directory / 'corpus.jsonl'}")
    queries = {row["_id"]: row["text"] for _, row in _jsonl(directory / "queries.jsonl")}
    qrels = read_qrels(directory, split)
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise DatasetError(f"qrels/{split}.tsv judges queries that queries.jsonl lacks: {', '.join(unknown[:5])}")
    return Dataset(directory, split, documents, queries, qrels)


def source_id_for(doc_id: str) -> str:
    """exoqa source ids are lowercase file-name-safe words; other dataset ids get a readable, unique stand-in."""
    if is_valid_source_id(doc_id):
        return doc_id
    readable = re.sub(r"[^a-z0-9._-]+", "-", doc_id.lower()).strip("-._")[:60] or "doc"
    return f"{readable}-{hashlib.sha1(doc_id.encode()).hexdigest()[:10]}"


def dataset_corpus(dataset: Dataset) -> tuple[Corpus, dict[str, str]]:
    """The dataset's documents as an exoqa Corpus, and each source id's dataset id."""
    doc_of: dict[str, str] = {}
    documents = []
    for document in dataset.documents:
        source_id = source_id_for(document["_id"])
        if doc_of.setdefault(source_id, document["_id"]) != document["_id"]:
            raise DatasetError(f"documents {doc_of[source_id]!r} and {document['_id']!r} map to one exoqa id")
        meta = {"id": source_id, "text": document["text"]}
        if document["title"]:
            meta["title"] = document["title"]
        if detect_language(document["text"]) != "en":  # "en" is what a source without the field reads as
            meta["language"] = detect_language(document["text"])
        documents.append(meta)
    return Corpus.from_documents(documents), doc_of


def default_index_dir(dataset: Dataset, embedder: Embedder) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in embedder.model_id)[-60:]
    return dataset.directory / ".exoqa-index" / slug


def open_retriever(dataset: Dataset, embedder: Embedder, index_dir: Path | None = None,
                   settings: Settings | None = None, progress: bool = True) -> tuple[Retriever, dict[str, str]]:
    """exoqa's retriever over the dataset's corpus (its index built on first use, then reused)."""
    corpus, doc_of = dataset_corpus(dataset)
    bar = tqdm(desc="indexing", unit="text", disable=not progress)

    def on_progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        retriever = Retriever.open(corpus, embedder, index_dir or default_index_dir(dataset, embedder),
                                   settings=settings, on_progress=on_progress)
    finally:
        bar.close()
    return retriever, doc_of


def rank_documents(retriever: Retriever, doc_of: Mapping[str, str], queries: Mapping[str, str],
                   depth: int = DEFAULT_DEPTH, progress: bool = True
                   ) -> tuple[dict[str, list[tuple[str, float]]], list[dict], list[float]]:
    """(run {query id: [(doc id, score)] best first}, skipped queries, milliseconds per query).

    A document's score is its best passage's fused score; documents no ranking placed are left out. A query
    exoqa does not accept (empty, too long, control characters) is skipped with the reason and scores 0."""
    source_ids = sorted(doc_of)
    position = {source_id: n for n, source_id in enumerate(source_ids)}
    owner = np.array([position[p.source_id] for p in retriever.index.passages], dtype=np.int64)
    run: dict[str, list[tuple[str, float]]] = {}
    skipped, latency = [], []
    for query_id, text in tqdm(queries.items(), desc="searching", unit="q", disable=not progress):
        started = time.perf_counter()
        try:
            retrieval = retriever.retrieve(retriever.query(text))
        except InvalidQuestionError as exc:
            skipped.append({"query_id": query_id, "error": str(exc)})
            run[query_id] = []
            continue
        scores = np.zeros(len(source_ids), dtype=np.float64)
        np.maximum.at(scores, owner, retrieval.fused.astype(np.float64))
        top = [int(d) for d in fusion.top_ids(scores, depth) if scores[d] > 0]
        run[query_id] = [(doc_of[source_ids[d]], float(scores[d])) for d in top]
        latency.append((time.perf_counter() - started) * 1e3)
    return run, skipped, latency


def write_trec_run(run: Mapping[str, Sequence[tuple[str, float]]], path: Path, tag: str = "exoqa") -> Path:
    """`qid Q0 docid rank score tag` lines; scores strictly follow the ranks, as trec_eval sorts by score."""
    if not tag or _WHITESPACE.search(tag):
        raise DatasetError(f"run tag {tag!r} must be one word")
    lines = []
    for query_id, ranked in run.items():
        previous = None
        for rank, (doc_id, score) in enumerate(ranked, 1):
            written = f"{score:.9g}"
            if previous is not None and float(written) >= previous:  # a tie would let trec_eval reorder by docid
                written = f"{np.nextafter(previous, -np.inf):.17g}"
            previous = float(written)
            lines.append(f"{query_id} Q0 {doc_id} {rank} {written} {tag}\n")
    write_atomic(Path(path), "".join(lines))
    return Path(path)


def read_trec_run(path: Path) -> list:
    try:
        return list(ir_measures.read_trec_run(str(path)))
    except (OSError, ValueError, IndexError) as exc:
        raise DatasetError(f"cannot read TREC run {path}: {exc}") from exc


def parse_measures(names: Sequence[str]) -> dict[str, object]:
    out = {}
    for name in names:
        try:
            out[name] = ir_measures.parse_measure(name)
        except (ValueError, NameError, TypeError, SyntaxError) as exc:
            raise DatasetError(f"unknown measure {name!r} (ir-measures names such as nDCG@10, RR@10, R@100): "
                               f"{exc}") from None
    return out


def per_query(run: Sequence, qrels: Mapping[str, Mapping[str, int]], measures: Sequence[str] = DEFAULT_MEASURES
              ) -> dict[str, dict[str, float]]:
    """{query id: {measure: value}} over every judged query; a query the run lacks scores 0 (trec_eval would
    leave it out and flatter the run)."""
    parsed = parse_measures(measures)
    by_repr = {repr(m): name for name, m in parsed.items()}
    trec_qrels = [ir_measures.Qrel(q, d, rel) for q, docs in qrels.items() for d, rel in docs.items()]
    out = {q: {name: 0.0 for name in parsed} for q in qrels}
    for value in ir_measures.iter_calc(list(parsed.values()), trec_qrels, [d for d in run if d.query_id in out]):
        out[value.query_id][by_repr[repr(value.measure)]] = float(value.value)
    return out


def means(rows: Mapping[str, Mapping[str, float]], measures: Sequence[str]) -> dict[str, float]:
    return {name: float(np.mean([row[name] for row in rows.values()])) if rows else 0.0 for name in measures}


def evaluate_dataset(dataset: Dataset, embedder: Embedder, out_dir: Path, run_path: Path | None = None,
                     measures: Sequence[str] = DEFAULT_MEASURES, depth: int = DEFAULT_DEPTH,
                     index_dir: Path | None = None, settings: Settings | None = None, tag: str = "exoqa",
                     progress: bool = True) -> dict:
    """Index, search every judged query, write the TREC run and report.json/report.md; returns the report."""
    parse_measures(measures)  # fail before indexing
    if not 1 <= depth <= 1000:
        raise InvalidQuestionError("depth must be from 1 to 1000")
    retriever, doc_of = open_retriever(dataset, embedder, index_dir, settings, progress)
    judged = {q: dataset.queries[q] for q in dataset.qrels}
    run, skipped, latency = rank_documents(retriever, doc_of, judged, depth, progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_path = write_trec_run(run, Path(run_path) if run_path else out_dir / RUN_FILE, tag)
    rows = per_query(read_trec_run(run_path), dataset.qrels, measures)
    report = {
        "dataset": {"name": dataset.name, "path": str(dataset.directory), "split": dataset.split,
                    "documents": len(dataset.documents), "queries": len(dataset.queries),
                    "judged_queries": len(dataset.qrels)},
        "model": embedder.model_id,
        "index_manifest": {k: v for k, v in retriever.index.manifest.items() if k != "source_keys"},
        "settings": {"fusion_weights": list(retriever.settings.fusion_weights), "rrf_k": retriever.settings.rrf_k},
        "depth": depth, "run_file": str(run_path), "run_tag": tag,
        "skipped": skipped,
        "measures": means(rows, measures),
        "latency_ms": {f"p{q}": metrics.percentile(latency, q) for q in (50, 95)},
        "per_query": rows,
    }
    write_atomic(out_dir / REPORT_JSON, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out_dir / REPORT_MD, render_report(report))
    return report


def render_report(report: dict) -> str:
    data = report["dataset"]
    lines = [f"# exoqa on {data['name']} ({data['split']})", "",
             f"{data['documents']} documents, {data['judged_queries']} judged queries "
             f"({len(report['skipped'])} skipped), model `{report['model']}`, run `{report['run_file']}` "
             f"(depth {report['depth']}).", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in report["measures"].items()]
    latency = report["latency_ms"]
    if latency.get("p50") is not None:
        lines += ["", f"Search latency per query: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms."]
    lines += [f"- skipped {s['query_id']}: {s['error']}" for s in report["skipped"]]
    return "\n".join(lines) + "\n"


def _randomisation_p(differences: np.ndarray, resamples: int, seed: int) -> float:
    """Two-sided paired randomisation (sign-flip) test of the mean difference, by scipy."""
    if not differences.any():
        return 1.0
    result = stats.permutation_test((differences,), lambda d, axis: np.mean(d, axis=axis),
                                    permutation_type="samples", n_resamples=resamples, alternative="two-sided",
                                    vectorized=True, random_state=seed)
    return float(result.pvalue)


def compare_runs(run_a: Path, run_b: Path, qrels: Mapping[str, Mapping[str, int]],
                 measures: Sequence[str] = DEFAULT_MEASURES, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 ) -> dict:
    """Per measure: both means, B − A, a paired t-test and a paired randomisation test over per-query values
    (every judged query; one a run lacks scores 0), and how many queries B wins, loses and ties."""
    a = per_query(read_trec_run(run_a), qrels, measures)
    b = per_query(read_trec_run(run_b), qrels, measures)
    queries = sorted(qrels)
    rows = {}
    for name in measures:
        x = np.array([a[q][name] for q in queries])
        y = np.array([b[q][name] for q in queries])
        differences = y - x
        if differences.any():
            t = stats.ttest_rel(y, x)
            t_statistic, t_p = float(t.statistic), float(t.pvalue)
        else:  # identical per-query values: no difference to test (scipy would return nan)
            t_statistic, t_p = 0.0, 1.0
        rows[name] = {"mean_a": float(x.mean()), "mean_b": float(y.mean()), "difference": float(differences.mean()),
                      "t": t_statistic, "p_t_test": t_p,
                      "p_randomisation": _randomisation_p(differences, resamples, seed),
                      "b_better": int((differences > 0).sum()), "b_worse": int((differences < 0).sum()),
                      "ties": int((differences == 0).sum())}
    return {"run_a": str(run_a), "run_b": str(run_b), "queries": len(queries), "resamples": resamples,
            "seed": seed, "measures": rows}


def render_comparison(comparison: dict, alpha: float = 0.05) -> str:
    lines = [f"# B `{comparison['run_b']}` against A `{comparison['run_a']}`", "",
             f"{comparison['queries']} judged queries; paired t-test and paired randomisation test "
             f"({comparison['resamples']} resamples), two-sided; * marks p < {alpha} in both.", "",
             "| measure | A | B | B − A | t-test p | randomisation p | B better / worse / tied |", "|---" * 7 + "|"]
    for name, row in comparison["measures"].items():
        star = " *" if row["p_randomisation"] < alpha and row["p_t_test"] < alpha else ""
        lines.append(f"| {name} | {row['mean_a']:.4f} | {row['mean_b']:.4f} | {row['difference']:+.4f}{star} | "
                     f"{row['p_t_test']:.4g} | {row['p_randomisation']:.4g} | "
                     f"{row['b_better']} / {row['b_worse']} / {row['ties']} |")
    return "\n".join(lines) + "\n"


def write_comparison(comparison: dict, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / COMPARE_JSON, json.dumps(comparison, indent=2) + "\n")
    write_atomic(out_dir / COMPARE_MD, render_comparison(comparison))
    return [out_dir / COMPARE_JSON, out_dir / COMPARE_MD]

