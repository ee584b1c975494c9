"""exoqa as a LangChain retriever, in a chain that honours exoqa's safety decision.

    .venv/bin/python docs/examples/langchain_retriever.py      # needs exoqa[langchain]; offline

The chain is retriever | grounded_context: what a prompt would be given. With a model, add `| prompt | llm`.
"""
from __future__ import annotations

import json

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant.integrations.langchain import ExoqaRetriever


def grounded_context(documents: list[Document]) -> str:
    """Cited passages for a prompt, or exoqa's own reply when it did not answer (a refusal is passed on as is)."""
    if documents[0].metadata["decision"] != "answer":
        return documents[0].page_content
    return "\n\n".join(f"[{d.metadata['source_id']}:{d.metadata['start']}-{d.metadata['end']}] "
                       f"{d.metadata['title']} ({d.metadata['license']})\n{d.page_content}" for d in documents)


def main() -> None:
    retriever = ExoqaRetriever.load(k=3)
    for question in ("Did the FDA approve any exosome product?", "我该打多少外泌体针?"):
        documents = retriever.invoke(question)
        print(json.dumps({"question": question, "decision": documents[0].metadata["decision"],
                          "documents": [{"id": d.id, **{k: d.metadata.get(k) for k in ("source_id", "title", "url",
                                        "license", "role", "language", "gloss", "safety_category")}}
                                        for d in documents]}, ensure_ascii=False))
    chain = retriever | RunnableLambda(grounded_context)
    print(json.dumps({"context": chain.invoke("What did the FDA warn about in 2019?")}, ensure_ascii=False))
    quotes = ExoqaRetriever(assistant=retriever.assistant, unit="quotes").invoke("外泌体是怎么提取分离的?")
    print(json.dumps({"quotes": [{"citation": d.metadata["citation"], "text": d.page_content,
                                  "source_id": d.metadata["source_id"], "start": d.metadata["start"],
                                  "end": d.metadata["end"], "gloss": d.metadata["gloss"]} for d in quotes]},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
