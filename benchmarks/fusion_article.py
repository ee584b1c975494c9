"""The PubMedQA fusion variants, scored on the article dev set (passage level), so a rule is judged on both.

    .venv/bin/python benchmarks/fusion_article.py [--json out.json]

Uses the shipped corpus and index. Relevance as in `exoqa eval`: a passage containing a gold string.
The inputs are exactly those of exoqa's hybrid (glossary-expanded query; dense passage cosine, best dense
sentence cosine in the passage, BM25), so "dense only" and "BM25 only" here are the hybrid's own inputs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from assistant import Assistant  # noqa: E402
from assistant.evaluation.metrics import is_relevant, load_jsonl, matrix_figures  # noqa: E402
from pubmedqa import _expanded, fusion_ablations, fusion_variants  # noqa: E402

QA = ROOT / "eval" / "article_qa_dev.jsonl"


def figures(scores: np.ndarray, relevant: np.ndarray) -> dict:
    """R@1, R@5 and MRR from the shared metrics (assistant.evaluation.metrics, ir-measures)."""
    f = matrix_figures(scores, relevant, ks=(1, 5))
    return {"R@1": f["recall@1"], "R@5": f["recall@5"], "MRR": f["mrr"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    assistant = Assistant.load(rebuild="never")
    retriever = assistant.retriever
    index = retriever.index
    items = load_jsonl(QA)
    relevant = np.array([[is_relevant(p.text, p.source_id, item["gold"], None) for p in index.passages]
                         for item in items])
    owner = np.zeros(len(index.sentences), dtype=np.int64)
    for p, sentence_range in enumerate(index.passage_sentences):
        owner[sentence_range.start:sentence_range.stop] = p
    # the originals' rows only (their translations' rows follow them): these baselines score originals
    passage_matrix = index.passage_vectors.reconstruct_n(0, len(index.passages))
    sentence_matrix = index.sentence_vectors.reconstruct_n(0, len(index.sentences))
    expanded = [_expanded(retriever, i["question"]) for i in items]
    vectors = retriever.embedder.embed_queries(expanded)
    dense = vectors @ passage_matrix.T
    sentence_sims = vectors @ sentence_matrix.T
    sentence = np.full_like(dense, -1.0)
    for q in range(len(items)):
        np.maximum.at(sentence[q], owner, sentence_sims[q])
    bm25 = np.vstack([retriever.lexical.scores(text) for text in expanded])
    hybrid = np.vstack([retriever.retrieve(retriever.query(i["question"])).fused for i in items])
    results = {"BM25 only": figures(bm25, relevant),
               "dense only (passages)": figures(dense, relevant),
               "dense only (best sentence)": figures(sentence, relevant),
               "exoqa hybrid (retriever.retrieve)": figures(hybrid, relevant),
               **{f"exoqa hybrid, {name}": figures(scores, relevant) for name, scores in
                  fusion_ablations(retriever, vectors, expanded).items()}}
    variants = {name: figures(rule(), relevant)
                for name, rule in fusion_variants(dense, sentence, bm25).items()}
    print(f"article dev set: {len(items)} questions, {len(index.passages)} passages\n")
    print("| method | R@1 | R@5 | MRR |\n|---|---|---|---|")
    for name, f in [*results.items(), *sorted(variants.items(), key=lambda kv: (-kv[1]["R@5"], -kv[1]["MRR"]))]:
        print(f"| {name} | {f['R@1']:.3f} | {f['R@5']:.3f} | {f['MRR']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"methods": results, "fusion_variants": variants}, indent=2) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
