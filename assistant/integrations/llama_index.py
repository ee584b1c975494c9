"""A LlamaIndex retriever over exoqa (`pip install 'exoqa[llamaindex]'`).

    from assistant.integrations.llama_index import ExoqaRetriever
    retriever = ExoqaRetriever.load()                 # the shipped corpus; or ExoqaRetriever(assistant)
    nodes = retriever.retrieve("Did the FDA approve any exosome product?")
    nodes[0].node.metadata["decision"]                # "answer"; a refusal comes back as one notice node

Nodes (TextNode in NodeWithScore) carry exoqa's metadata (source_id, start, end, title, url, license, role,
language, gloss, score, decision, safety_category); what is returned for each decision is described in
assistant/integrations/gated.py. A model reading a node sees its title, source and decision, not the offsets.
"""
from __future__ import annotations

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.core import Assistant
from assistant.integrations.gated import Unit, gated_retrieve

# Metadata a language model does not need to read (LlamaIndex puts the rest into the node's LLM text).
HIDDEN_FROM_LLM = ["start", "end", "score", "citation", "question_language", "kind", "gloss"]


class ExoqaRetriever(BaseRetriever):
    """exoqa's gated retrieval as a LlamaIndex retriever (retrieve, aretrieve, query engines)."""

    def __init__(self, assistant: Assistant, k: int | None = None, unit: Unit = "passages", **kwargs) -> None:
        self.assistant = assistant
        self.k = k
        self.unit = unit
        super().__init__(**kwargs)

    @classmethod
    def load(cls, k: int | None = None, unit: Unit = "passages", **load_options) -> ExoqaRetriever:
        """An adapter over `Assistant.load(**load_options)` (corpus_dir=..., settings=..., ...)."""
        return cls(Assistant.load(**load_options), k=k, unit=unit)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = gated_retrieve(self.assistant, query_bundle.query_str, self.k, self.unit)
        return [NodeWithScore(node=TextNode(id_=e.id, text=e.text, metadata=e.metadata,
                                            excluded_llm_metadata_keys=HIDDEN_FROM_LLM,
                                            excluded_embed_metadata_keys=list(e.metadata)),
                              score=e.score)
                for e in result.evidence]
