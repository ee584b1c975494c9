"""PubMedQA retrieval benchmark: does each question find its own abstract first?

Indexes the 1,000 PubMedQA-L abstracts (CONTEXTS, one document per PubMed id) with exoqa's own
Retriever (same chunking, embedder, BM25 and fusion as the assistant), asks every QUESTION and scores
where the question's own abstract ranks (a document's score is its best passage's score).
BM25-only, dense-only and exoqa's hybrid run side by side on the same index, with per-stage timings,
followed by a table of alternative fusion rules computed from the same per-query scores.

    .venv/bin/python benchmarks/pubmedqa.py                        # full set, from ../shared
    .venv/bin/python benchmarks/pubmedqa.py --data FILE --limit 50 --json out.json

The index is cached in --cache (default ~/.cache/exoqa/pubmedqa) and reused while the abstracts,
model and build recipe are unchanged; embedding all 1,000 abstracts takes several minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus.context import source_headers  # noqa: E402
from assistant.corpus.sources import Corpus  # noqa: E402
from assistant.retrieval.embeddings import DEFAULT_MODEL, load_embedder  # noqa: E402
from assistant.errors import ExoqaError  # noqa: E402
from assistant.retrieval.index_store import check_manifest, read_manifest  # noqa: E402
from assistant.retrieval import fusion as ranking  # noqa: E402
from assistant.evaluation.metrics import matrix_figures  # noqa: E402
from assistant.query import Query  # noqa: E402
from assistant.retrieval import retriever as shipped  # noqa: E402
from assistant.retrieval.lexical import LexicalIndex  # noqa: E402
from assistant.retrieval.retriever import Retriever, expected_manifest  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "pubmedqa" / "ori_pqal.json"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "exoqa" / "pubmedqa"
BATCH = 32


def load_instances(path: Path, limit: int | None = None) -> dict[str, dict]:
    """{pmid: instance} from ori_pqal.json (or a sample in the same format), in file order."""
    if not path.exists():
        raise SystemExit(f"pubmedqa: data file not found: {path}\n"
                         "Pass --data path/to/ori_pqal.json (PubMedQA-L, MIT licence; see docs/pubmedqa.md).")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise SystemExit(f"pubmedqa: {path} is not a PubMedQA json object keyed by PubMed id")
    items = list(data.items())[:limit] if limit else list(data.items())
    for pmid, inst in items:
        if not isinstance(inst.get("QUESTION"), str) or not isinstance(inst.get("CONTEXTS"), list):
            raise SystemExit(f"pubmedqa: instance {pmid} lacks QUESTION or CONTEXTS")
    return dict(items)


def build_corpus(instances: dict[str, dict]) -> Corpus:
    # No title: the QUESTION is the article's title turned into a question, so it must not enter the index.
    return Corpus.from_documents({"id": f"pmid-{pmid}", "text": "\n".join(inst["CONTEXTS"])}
                                 for pmid, inst in instances.items())


def figures(doc_scores: np.ndarray, gold: np.ndarray) -> dict:
    """R@1/5/10 and MRR of each query's own document, from the shared metrics (ir-measures)."""
    relevant = np.zeros(doc_scores.shape, dtype=bool)
    relevant[np.arange(len(gold)), gold] = True
    f = matrix_figures(doc_scores, relevant, ks=(1, 5, 10), depth=min(100, doc_scores.shape[1]))
    return {"R@1": f["recall@1"], "R@5": f["recall@5"], "R@10": f["recall@10"], "MRR": f["mrr"]}


def doc_max(passage_scores: np.ndarray, owner: np.ndarray, n_docs: int) -> np.ndarray:
    """Per query, each document's best passage score."""
    out = np.full((passage_scores.shape[0], n_docs), -np.inf, np.float32)
    for d in range(n_docs):
        out[:, d] = passage_scores[:, owner == d].max(axis=1)
    return out


def rrf(scores: np.ndarray, k: float) -> np.ndarray:
    """Reciprocal-rank transform along each row (rank 1 = highest score)."""
    ranks = np.empty_like(scores)
    order = np.argsort(-scores, axis=1, kind="stable")
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1, dtype=scores.dtype)[None, :], axis=1)
    return 1.0 / (k + ranks)


def minmax(scores: np.ndarray) -> np.ndarray:
    low, high = scores.min(axis=1, keepdims=True), scores.max(axis=1, keepdims=True)
    return (scores - low) / np.maximum(high - low, 1e-9)


def zscore(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / np.maximum(scores.std(axis=1, keepdims=True), 1e-9)


def fusion_variants(dense: np.ndarray, sentence: np.ndarray, bm25: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    """Alternative rules over document-level scores (dense cosine, best-sentence cosine, BM25)."""
    variants: dict[str, Callable[[], np.ndarray]] = {}
    for k in (5, 20, 60):
        variants[f"RRF k={k}: dense + BM25"] = lambda k=k: rrf(dense, k) + rrf(bm25, k)
        for w in (0.5, 0.33, 0.2):
            variants[f"RRF k={k}: dense + {w}*BM25"] = lambda k=k, w=w: rrf(dense, k) + w * rrf(bm25, k)
        variants[f"RRF k={k}: dense + sentence + BM25"] = lambda k=k: rrf(dense, k) + rrf(sentence, k) + rrf(bm25, k)
        variants[f"RRF k={k}: dense + sentence + 3*BM25"] = (
            lambda k=k: rrf(dense, k) + rrf(sentence, k) + 3 * rrf(bm25, k))
    for alpha in (0.5, 0.6, 0.7, 0.8, 0.9):
        variants[f"convex min-max: {alpha}*dense + {1 - alpha:.1f}*BM25"] = (
            lambda a=alpha: a * minmax(dense) + (1 - a) * minmax(bm25))
        variants[f"convex z-score: {alpha}*dense + {1 - alpha:.1f}*BM25"] = (
            lambda a=alpha: a * zscore(dense) + (1 - a) * zscore(bm25))
    variants["convex z-score: 0.4*dense + 0.4*sentence + 0.2*BM25"] = (
        lambda: 0.4 * zscore(dense) + 0.4 * zscore(sentence) + 0.2 * zscore(bm25))
    for share in (0.02, 0.05, 0.1):
        # dense ranking, BM25 only reorders documents within `share` cosine of each other
        variants[f"dense, BM25 breaks near-ties (cosine buckets of {share})"] = (
            lambda s=share: np.floor(dense / s) * 1e3 + minmax(bm25))
    variants["dense + 0.1*BM25/max(BM25)"] = lambda: dense + 0.1 * bm25 / np.maximum(bm25.max(axis=1, keepdims=True), 1e-9)
    return variants


def _expanded(retriever: Retriever, question: str) -> str:
    """What the retriever embeds and matches for a question (its Query's expanded text)."""
    return Query.build(question, (), retriever.languages).expanded


def fusion_ablations(retriever: Retriever, vectors: np.ndarray, query_texts: list[str]) -> dict[str, np.ndarray]:
    """Passage scores of exoqa's fusion with one part at a time taken back (query vectors given, one per row).

    "before" is the fusion up to commit 9ab90ca: ranks only, BM25 k1 1.2 / b 0.75."""
    stored = retriever.index
    headers = source_headers(retriever.corpus)
    old_bm25 = LexicalIndex([shipped._with_header(p, headers, shipped.LEXICAL_HEADER) for p in stored.passages],
                            k1=1.2, b=0.75)
    settings = retriever.settings
    rules = {"ranks only (no score term)": (False, None), "BM25 k1 1.2 / b 0.75 (before)": (True, old_bm25),
             "before: ranks only, BM25 k1 1.2 / b 0.75": (False, old_bm25)}
    out = {name: np.zeros((len(query_texts), len(stored.passages)), np.float32) for name in rules}
    for q, text in enumerate(query_texts):
        dense = ranking.dense_rankings(stored.passage_vectors, stored.sentence_vectors, retriever._sentence_owner,
                                       vectors[q:q + 1])
        for name, (score_term, bm25) in rules.items():
            lexical = (bm25 or retriever.lexical).scores(text)
            out[name][q] = ranking.fuse(dense, lexical, settings.fusion_weights, settings.rrf_k,
                                        score_weights=settings.score_weights if score_term else None)
    return out


def _index_is_current(corpus: Corpus, embedder, index_dir: Path) -> bool:
    try:
        check_manifest(read_manifest(index_dir), expected_manifest(corpus, embedder, Settings.from_env()))
        return True
    except ExoqaError:
        return False


def run(data: Path, cache: Path, limit: int | None, model: str, variants: bool) -> dict:
    instances = load_instances(data, limit)
    corpus = build_corpus(instances)
    doc_ids = [s.id for s in corpus.sources]
    doc_index = {sid: i for i, sid in enumerate(doc_ids)}
    gold = np.array([doc_index[f"pmid-{pmid}"] for pmid in instances])
    questions = [inst["QUESTION"] for inst in instances.values()]
    embedder = load_embedder(model)
    index_dir = cache / f"index-{''.join(c if c.isalnum() else '-' for c in embedder.model_id)[-60:]}-{len(doc_ids)}"
    cached = _index_is_current(corpus, embedder, index_dir)
    started = time.perf_counter()
    retriever = Retriever.open(corpus, embedder, index_dir)
    open_s = time.perf_counter() - started
    stored = retriever.index
    owner = np.array([doc_index[p.source_id] for p in stored.passages])
    sentence_doc = np.array([doc_index[s.source_id] for s in stored.sentences])
    passage_matrix = stored.passage_vectors.reconstruct_n(0, stored.passage_vectors.ntotal)
    sentence_matrix = stored.sentence_vectors.reconstruct_n(0, stored.sentence_vectors.ntotal)
    n_docs, n_q = len(doc_ids), len(questions)

    # exoqa's hybrid, exactly as the assistant runs it, one query at a time, with its stage timings
    hybrid = np.zeros((n_q, len(stored.passages)), np.float32)
    bm25 = np.zeros_like(hybrid)
    stage_ms: dict[str, list[float]] = {}
    for q, question in enumerate(tqdm(questions, desc="hybrid queries", unit="q")):
        query = retriever.query(question)
        retrieval = retriever.retrieve(query)
        hybrid[q] = retrieval.fused
        for name, value in {"embed_ms": query.embed_ms, **retrieval.timings_ms}.items():
            stage_ms.setdefault(name, []).append(value)
        bm25[q] = retriever.lexical.scores(query.expanded)  # BM25 input of the hybrid, alone
    # its dense inputs, from the same (glossary-expanded) query text, and dense on the raw question too
    expanded_vectors, raw_vectors = [], []
    for b in tqdm(range(0, n_q, BATCH), desc="dense queries", unit="batch"):
        expanded_vectors.append(embedder.embed_queries([_expanded(retriever, q) for q in questions[b:b + BATCH]]))
        raw_vectors.append(embedder.embed_queries(questions[b:b + BATCH]))
    expanded_q, raw_q = np.vstack(expanded_vectors), np.vstack(raw_vectors)

    docs_dense = doc_max(expanded_q @ passage_matrix.T, owner, n_docs)
    docs_dense_raw = doc_max(raw_q @ passage_matrix.T, owner, n_docs)
    docs_sentence = doc_max(expanded_q @ sentence_matrix.T, sentence_doc, n_docs)
    docs_bm25 = doc_max(bm25, owner, n_docs)
    docs_hybrid = doc_max(hybrid, owner, n_docs)
    ablations = {f"exoqa hybrid, {name}": doc_max(scores, owner, n_docs) for name, scores in
                 fusion_ablations(retriever, expanded_q, [_expanded(retriever, q) for q in questions]).items()}
    ms = {name: float(np.median(values)) for name, values in stage_ms.items()}
    main = {
        "BM25 only (exoqa LexicalIndex)": (docs_bm25, ms.get("lexical_ms")),
        "dense only: e5 passages, glossary-expanded query": (docs_dense, ms.get("embed_ms", 0) + ms.get("dense_ms", 0)),
        "dense only: e5 passages, raw question": (docs_dense_raw, None),
        "dense only: e5 best sentence": (docs_sentence, None),
        "exoqa hybrid (retriever.score)": (docs_hybrid, sum(ms.values())),
        **{name: (scores, None) for name, scores in ablations.items()},
    }
    report = {
        "data": data.name, "questions": n_q, "documents": n_docs, "passages": len(stored.passages),
        "sentences": len(stored.sentences), "model": embedder.model_id, "index_dir": str(index_dir),
        "index_cached": cached, "index_open_s": round(open_s, 2), "median_stage_ms": {k: round(v, 3) for k, v in ms.items()},
        "methods": {name: {**figures(scores, gold), "median_ms": None if t is None else round(t, 3)}
                    for name, (scores, t) in main.items()},
    }
    if variants:
        report["fusion_variants"] = {name: figures(rule(), gold)
                                     for name, rule in fusion_variants(docs_dense, docs_sentence, docs_bm25).items()}
    return report


def markdown(report: dict) -> str:
    lines = [f"PubMedQA-L ({report['data']}): {report['questions']} questions, {report['documents']} abstracts, "
             f"{report['passages']} passages, {report['sentences']} sentences; model {report['model']}; "
             f"index {'loaded from cache' if report['index_cached'] else 'built'} in {report['index_open_s']} s", "",
             "| method | R@1 | R@5 | R@10 | MRR | median ms/query |", "|---|---|---|---|---|---|"]
    for name, f in report["methods"].items():
        t = "" if f["median_ms"] is None else f"{f['median_ms']:.1f}"
        lines.append(f"| {name} | {f['R@1']:.3f} | {f['R@5']:.3f} | {f['R@10']:.3f} | {f['MRR']:.3f} | {t} |")
    if "fusion_variants" in report:
        lines += ["", "Fusion variants over document scores (dense = passages with the expanded query):", "",
                  "| rule | R@1 | R@5 | R@10 | MRR |", "|---|---|---|---|---|"]
        ranked = sorted(report["fusion_variants"].items(), key=lambda kv: (-kv[1]["R@1"], -kv[1]["MRR"], kv[0]))
        for name, f in ranked:
            lines.append(f"| {name} | {f['R@1']:.3f} | {f['R@5']:.3f} | {f['R@10']:.3f} | {f['MRR']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EXOQA_PUBMEDQA", DEFAULT_DATA)),
                        help="ori_pqal.json (default: ../shared/benchmarks/pubmedqa/ori_pqal.json)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the benchmark's index is kept")
    parser.add_argument("--limit", type=int, default=None, help="only the first N instances")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--no-variants", action="store_true", help="skip the fusion-variant table")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    report = run(args.data, args.cache, args.limit, args.model, not args.no_variants)
    print(markdown(report))
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
