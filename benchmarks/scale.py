"""Scale study: build time, memory, query latency and recall@10 against exact search for the FAISS index
kinds at growing sizes, and BM25 (bm25s) build and query time over the same number of documents.

    .venv/bin/python -m benchmarks.scale --sizes 10000 100000 1000000   # the full study (run once, ~1 h)
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import bm25s
import faiss
import numpy as np

from assistant.retrieval import fusion as ranking
from assistant.retrieval import vector_index
from assistant.settings import Settings
from assistant.retrieval.lexical import tokenize

from . import synthetic
from .common import RESULTS_DIR, current_rss_mib, machine, peak_rss_mib, summary, write_json

RECALL_AT = 10


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f[f >= 0]) & set(e)) / len(e) for f, e in zip(found, exact)]))


def index_bytes(index: faiss.Index) -> int:
    """Size of the index as FAISS writes it: what it occupies on disk and, loaded, in memory."""
    with tempfile.NamedTemporaryFile(suffix=".faiss") as handle:
        faiss.write_index(index, handle.name)
        return os.path.getsize(handle.name)


def time_queries(index: faiss.Index, queries: np.ndarray, repeats: int) -> list[float]:
    """One query at a time, as a chat serves them; milliseconds each."""
    samples = []
    for _ in range(repeats):
        for row in range(len(queries)):
            t0 = time.perf_counter()
            index.search(queries[row:row + 1], RECALL_AT)
            samples.append((time.perf_counter() - t0) * 1e3)
    return samples


# Search-time settings tried for each kind: recall against latency (the defaults are in vector_index).
SWEEPS = {
    "flat": [{}],
    "hnsw": [{"ef_search": ef} for ef in (64, 128, 256, 512)],
    "ivfpq": [{"nprobe": 32, "k_factor": 16}, {"nprobe": 64, "k_factor": 32}, {"nprobe": 128, "k_factor": 64},
              {"nprobe": 256, "k_factor": 64}, {"nprobe": 512, "k_factor": 128},
              {"nprobe": 1024, "k_factor": 256}, {"nprobe": 2048, "k_factor": 512}, {"nprobe": 2048, "k_factor": 1024},
              {"nprobe": 4096, "k_factor": 1024}],
}


def vector_study(base: np.ndarray, queries: np.ndarray, kinds: list[str], repeats: int,
                 keep: str | None = None) -> tuple[dict, faiss.Index | None]:
    """Figures per kind; also returns the index of kind `keep` (for the hybrid measurement)."""
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    _, truth = exact.search(queries, RECALL_AT)
    del exact
    results, kept = {}, None
    for kind in kinds:
        gc.collect()
        rss_before = current_rss_mib()
        t0 = time.perf_counter()
        index = vector_index.build(base, kind)
        build_s = time.perf_counter() - t0
        rss_after = current_rss_mib()
        entry = {"build_s": round(build_s, 2), "vectors_per_s": round(len(base) / build_s),
                 "index_mib": round(index_bytes(index) / 2 ** 20, 1),
                 "rss_growth_mib": round(rss_after - rss_before, 1), "settings": []}
        for setting in SWEEPS[kind]:
            vector_index.configure_search(index, **setting)
            _, found = index.search(queries, RECALL_AT)
            entry["settings"].append({**setting, "query_ms": summary(time_queries(index, queries, repeats)),
                                      f"recall@{RECALL_AT}": round(recall_at_k(found, truth), 4)})
        vector_index.configure_search(index)
        _, found = index.search(queries, RECALL_AT)
        entry["default"] = {"query_ms": summary(time_queries(index, queries, repeats)),
                            f"recall@{RECALL_AT}": round(recall_at_k(found, truth), 4)}
        results[kind] = entry
        print(f"  {kind}: {entry}", flush=True)
        if kind == keep:
            kept = index
        del index
    return results, kept


def lexical_study(sentences: list[str], count: int, query_texts: list[str], repeats: int):
    """BM25 figures, and the index itself (for the hybrid measurement)."""
    documents = synthetic.token_lists(sentences, count)
    t0 = time.perf_counter()
    settings = Settings.from_env()
    bm25 = bm25s.BM25(k1=settings.lexical_k1, b=settings.lexical_b)
    bm25.index(documents, show_progress=False)
    build_s = time.perf_counter() - t0
    del documents
    vocab = set(bm25.vocab_dict)
    samples = []
    for _ in range(repeats):
        for text in query_texts:
            t0 = time.perf_counter()
            tokens = [t for t in tokenize(text) if t in vocab]
            if tokens:
                ranking.top_ids(bm25.get_scores(tokens), RECALL_AT)
            samples.append((time.perf_counter() - t0) * 1e3)
    return {"build_s": round(build_s, 2), "docs_per_s": round(count / build_s), "query_ms": summary(samples)}, bm25


def hybrid_study(index: faiss.Index, bm25, queries: np.ndarray, query_texts: list[str], repeats: int) -> dict:
    """The whole retrieval step after embedding, at this size: dense shortlist, BM25, fusion, top 5.

    The same vectors stand in for passages and sentences (each sentence its own passage)."""
    vocab = set(bm25.vocab_dict)
    owner = np.arange(index.ntotal)
    settings = Settings.from_env()  # the retriever's own fusion settings
    weights = settings.fusion_weights
    samples = []
    for _ in range(repeats):
        for row, text in enumerate(query_texts):
            t0 = time.perf_counter()
            tokens = [t for t in tokenize(text) if t in vocab]
            lexical = np.asarray(bm25.get_scores(tokens), np.float32) if tokens else np.zeros(index.ntotal, np.float32)
            fused, _ = ranking.hybrid_scores(index, index, owner, lexical, queries[row:row + 1], weights, settings.rrf_k,
                                             score_weights=settings.score_weights)
            ranking.top_ids(fused, 5)
            samples.append((time.perf_counter() - t0) * 1e3)
    return {"index": vector_index.kind_of(index), "candidates": ranking.CANDIDATES, "query_ms": summary(samples)}


def run(sizes: list[int], kinds: list[str], repeats: int, index_dir: Path, queries: np.ndarray,
        query_texts: list[str], sentences: list[str]) -> dict:
    seeds = synthetic.seed_vectors(index_dir)
    out = {}
    for size in sizes:
        print(f"scale: {size:,} chunks", flush=True)
        t0 = time.perf_counter()
        base = synthetic.vectors(seeds, size, seed=size)
        auto = vector_index.choose_kind(size)
        entry = {"generate_s": round(time.perf_counter() - t0, 2), "auto_kind": auto}
        entry["vectors"], index = vector_study(base, queries, kinds, repeats, keep=auto)
        del base
        gc.collect()
        entry["bm25"], bm25 = lexical_study(sentences, size, query_texts, repeats)
        print(f"  bm25: {entry['bm25']}", flush=True)
        if index is not None:
            entry["hybrid"] = hybrid_study(index, bm25, queries, query_texts, repeats)
            print(f"  hybrid: {entry['hybrid']}", flush=True)
        del index, bm25
        gc.collect()
        entry["peak_rss_mib"] = peak_rss_mib()
        out[str(size)] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    from .inputs import dev_questions, embed_queries, shipped

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--kinds", nargs="+", default=list(vector_index.KINDS), choices=vector_index.KINDS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "scale.json")
    args = parser.parse_args(argv)
    corpus, index_dir, sentences = shipped()
    texts = dev_questions()
    queries = embed_queries(texts)
    arguments = sys.argv[1:] if argv is None else argv
    result = {"machine": machine(), "command": "python -m benchmarks.scale " + " ".join(arguments),
              "sigma": synthetic.SIGMA, "noise_rank": synthetic.NOISE_RANK, "queries": len(texts),
              "sizes": run(args.sizes, args.kinds, args.repeats, index_dir, queries, texts, sentences)}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
