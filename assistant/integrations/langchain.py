"""A LangChain retriever over exoqa (`pip install 'exoqa[langchain]'`).

    from assistant.integrations.langchain import ExoqaRetriever
    retriever = ExoqaRetriever.load()                 # the shipped corpus; or ExoqaRetriever(assistant=...)
    docs = retriever.invoke("Did the FDA approve any exosome product?")
    docs[0].metadata["decision"]                      # "answer"; a refusal comes back as one notice document

Documents carry exoqa's metadata (source_id, start, end, title, url, license, role, language, gloss, score,
decision, safety_category); what is returned for each decision is described in assistant/integrations/gated.py.
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.core import Assistant
from assistant.integrations.gated import Unit, gated_retrieve


class ExoqaRetriever(BaseRetriever):
    """exoqa's gated retrieval as a LangChain BaseRetriever (a Runnable: invoke, batch, ainvoke, chains)."""

    assistant: Any  # an assistant.Assistant; typed loosely because pydantic cannot validate it
    k: int | None = None  # passages per question (settings.search_k when None)
    unit: Unit = "passages"  # or "quotes": the verbatim sentences exoqa quotes, with their glosses

    @classmethod
    def load(cls, k: int | None = None, unit: Unit = "passages", **load_options) -> ExoqaRetriever:
        """An adapter over `Assistant.load(**load_options)` (corpus_dir=..., settings=..., ...)."""
        return cls(assistant=Assistant.load(**load_options), k=k, unit=unit)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        result = gated_retrieve(self.assistant, query, self.k, self.unit)
        return [Document(page_content=e.text, metadata=e.metadata, id=e.id) for e in result.evidence]
