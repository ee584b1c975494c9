"""exoqa: answers questions about the exosome article and its sources with verbatim, cited quotes."""
import os

# Before faiss and the embedding engine load OpenMP (docs/performance.md). GNU OpenMP's idle threads spin
# 300,000 rounds by default: when two processes share the cores, a query embedding then takes over a second.
# Not spinning puts the threads to sleep between the engine's many parallel regions per query. A short spin
# keeps them awake between regions only: warm ask p50 19 ms instead of 32 ms on idle cores, 41 instead of 37 ms
# when two processes share them. Explicit settings win; other OpenMP runtimes read the passive wait policy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from .answer import Answer, Quote
from .core import Assistant
from .errors import ExoqaError, InvalidQuestionError
from .retriever import Passage, Retriever

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "ExoqaError", "InvalidQuestionError", "Passage", "Quote", "Retriever"]
