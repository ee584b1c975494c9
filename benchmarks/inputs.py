"""What the benchmarks run on: the shipped corpus and index, and the dev questions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import PROJECT_ROOT

DEV_QUESTIONS = PROJECT_ROOT / "eval" / "article_qa_dev.jsonl"


def dev_questions() -> list[str]:
    with open(DEV_QUESTIONS, encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


def shipped():
    """(corpus, index directory, sentence texts) of the shipped corpus and its prebuilt index."""
    from assistant.corpus.chunking import corpus_sentences
    from assistant.paths import default_corpus_dir, default_index_dir
    from assistant.corpus.sources import load_corpus
    from assistant.retrieval.embeddings import DEFAULT_MODEL

    corpus = load_corpus(default_corpus_dir())
    return corpus, default_index_dir(DEFAULT_MODEL), [s.text for s in corpus_sentences(corpus)]


def embed_queries(texts: list[str], embedder=None) -> np.ndarray:
    """Query vectors as the retriever makes them (glossary-expanded, e5 query prefix)."""
    from assistant.retrieval.embeddings import load_embedder
    from assistant.text.glossary import expand

    embedder = embedder or load_embedder()
    return np.vstack([embedder.embed_queries([expand(t)]) for t in texts])
