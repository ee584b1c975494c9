"""exoqa: answers questions about the exosome article and its sources with verbatim, cited quotes."""
import os

# Before faiss and the embedding engine load OpenMP: threads that spin while waiting turn a 12 ms query
# embedding into 1-4 s whenever other processes share the cores (docs/performance.md). An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .answer import Answer, Quote
from .core import Assistant
from .errors import ExoqaError, InvalidQuestionError
from .retriever import Passage, Retriever

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "ExoqaError", "InvalidQuestionError", "Passage", "Quote", "Retriever"]
