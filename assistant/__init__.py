"""exoqa: answers questions about the exosome article and its sources with verbatim, cited quotes."""
from .answer import Answer, Quote
from .core import Assistant
from .errors import ExoqaError, InvalidQuestionError
from .retriever import Passage, Retriever

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "ExoqaError", "InvalidQuestionError", "Passage", "Quote", "Retriever"]
