"""exoqa as a LlamaIndex retriever: nodes with scores and exoqa's metadata, refusals as one notice node.

    .venv/bin/python docs/examples/llama_index_retriever.py    # needs exoqa[llamaindex]; offline

A query engine would take it as `RetrieverQueryEngine.from_args(retriever, llm=...)`; here the nodes are printed
as a model would read them (MetadataMode.LLM: title, source and decision, not the offsets).
"""
from __future__ import annotations

import json

from llama_index.core.schema import MetadataMode

from assistant.integrations.llama_index import ExoqaRetriever


def main() -> None:
    retriever = ExoqaRetriever.load(k=3)
    for question in ("Did the FDA approve any exosome product?", "I have chest pain and can't breathe after an "
                     "exosome injection"):
        nodes = retriever.retrieve(question)
        decision = nodes[0].node.metadata["decision"]
        print(json.dumps({"question": question, "decision": decision,
                          "nodes": [{"id": n.node.node_id, "score": n.score, "metadata": n.node.metadata,
                                     "llm_text": n.node.get_content(metadata_mode=MetadataMode.LLM)}
                                    for n in nodes]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
