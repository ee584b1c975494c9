"""exoqa: answers questions about the exosome article and its sources with verbatim, cited quotes.

The package map (README "Layout"): text/ (language, normalisation, segmentation, glossary, tokens),
corpus/ (sources, ingest, chunking, context headers), retrieval/ (embeddings, vector and lexical indexes, fusion,
the stored index, the retriever), safety/ (the gate, its policy and examples), reply/ (quotes, ISEV warnings,
rendering), evaluation/ (question sets, metrics, reports); query.py, settings.py and core.py tie them together.
"""
import os

# Before faiss and the embedding engine load OpenMP (docs/performance.md). GNU OpenMP's idle threads spin
# 300,000 rounds by default: when two processes share the cores, a query embedding then takes over a second.
# Not spinning puts the threads to sleep between the engine's many parallel regions per query. A short spin
# keeps them awake between regions only: warm ask p50 19 ms instead of 32 ms on idle cores, 41 instead of 37 ms
# when two processes share them. Explicit settings win; other OpenMP runtimes read the passive wait policy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from assistant.core import Assistant  # noqa: E402
from assistant.corpus.sources import Corpus, load_corpus  # noqa: E402
from assistant.errors import ExoqaError, InvalidQuestionError  # noqa: E402
from assistant.query import Query  # noqa: E402
from assistant.reply.answer import Answer, Quote  # noqa: E402
from assistant.retrieval.embeddings import load_embedder  # noqa: E402
from assistant.retrieval.retriever import Passage, Retriever  # noqa: E402
from assistant.safety.policy import Decision  # noqa: E402
from assistant.settings import Settings  # noqa: E402

__version__ = "0.2.0"
__all__ = ["Answer", "Assistant", "Corpus", "Decision", "ExoqaError", "InvalidQuestionError", "Passage", "Query",
           "Quote", "Retriever", "Settings", "load_corpus", "load_embedder"]
