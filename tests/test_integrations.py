"""The retriever adapters with the real langchain-core and llama-index-core, offline, over the shipped index:
exoqa's metadata on every document, verbatim text at the offsets, and the safety decision an app can honour."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever as LangChainRetriever
from llama_index.core.base.base_retriever import BaseRetriever as LlamaIndexRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

from assistant import InvalidQuestionError
from assistant.integrations.langchain import ExoqaRetriever as LangChainExoqa
from assistant.integrations.llama_index import ExoqaRetriever as LlamaIndexExoqa

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
FACTUAL = "Did the FDA approve any exosome product?"
DOSING = "我该打多少外泌体针?"
EMERGENCY = "I have chest pain and can't breathe after an exosome injection"
SOURCE_METADATA = ("source_id", "start", "end", "title", "url", "license", "role", "language", "gloss")


def _passage_ids(assistant, question: str, k: int) -> list[str]:
    return [f"{p.source_id}:{p.start}-{p.end}" for p in assistant.ask(question, k=k).passages]


def _assert_source_metadata(assistant, text: str, metadata: dict) -> None:
    assert set(SOURCE_METADATA) <= set(metadata)
    source = assistant.corpus[metadata["source_id"]]
    assert source.text[metadata["start"]:metadata["end"]] == text  # verbatim at its offsets
    card = source.card()
    for key in ("title", "url", "license", "role", "language"):
        assert metadata[key] == card[key]
    assert metadata["decision"] == "answer"


def test_langchain_retriever_returns_exoqa_passages_with_metadata(assistant):
    retriever = LangChainExoqa(assistant=assistant, k=4)
    assert isinstance(retriever, LangChainRetriever)
    documents = retriever.invoke(FACTUAL)
    assert all(isinstance(d, Document) for d in documents)
    assert [d.id for d in documents] == _passage_ids(assistant, FACTUAL, 4)  # exoqa's own ranking
    for document in documents:
        _assert_source_metadata(assistant, document.page_content, document.metadata)
        assert document.metadata["kind"] == "passage" and document.metadata["safety_category"] == "factual"
    assert documents[0].metadata["source_id"].startswith("fda-")


def test_langchain_quotes_are_the_replys_quotes_with_their_glosses(assistant):
    question = "外泌体是怎么提取分离的?"
    documents = LangChainExoqa(assistant=assistant, unit="quotes").invoke(question)
    quotes = assistant.ask(question).quotes
    assert [(d.page_content, d.metadata["citation"], d.metadata["gloss"]) for d in documents] == \
        [(q.text, q.n, q.gloss) for q in quotes]
    for document in documents:
        _assert_source_metadata(assistant, document.page_content, document.metadata)


@pytest.mark.parametrize(("question", "decision"), [(DOSING, "refuse"), (EMERGENCY, "emergency")])
def test_langchain_refusal_and_referral_come_back_as_one_notice(assistant, question, decision):
    documents = LangChainExoqa(assistant=assistant).invoke(question)
    assert len(documents) == 1
    notice = documents[0]
    assert notice.metadata["decision"] == decision and notice.metadata["kind"] == "notice"
    assert "source_id" not in notice.metadata  # no evidence to build an answer on
    assert notice.page_content == assistant.ask(question).text  # exoqa's own reply, passed on as is


def test_langchain_runnable_interface_batch_and_async(assistant):
    retriever = LangChainExoqa(assistant=assistant, k=2)
    factual, refused = retriever.batch([FACTUAL, DOSING])
    assert [d.metadata["decision"] for d in factual] == ["answer", "answer"]
    assert [d.metadata["decision"] for d in refused] == ["refuse"]
    asynchronous = asyncio.run(retriever.ainvoke(FACTUAL))
    assert [d.id for d in asynchronous] == [d.id for d in factual]
    with pytest.raises(InvalidQuestionError):
        retriever.invoke("   ")
    with pytest.raises(ValueError):
        LangChainExoqa(assistant=assistant, unit="pages").invoke(FACTUAL)


def test_llama_index_retriever_returns_nodes_with_scores_and_metadata(assistant):
    retriever = LlamaIndexExoqa(assistant, k=3)
    assert isinstance(retriever, LlamaIndexRetriever)
    nodes = retriever.retrieve(FACTUAL)
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [n.node.node_id for n in nodes] == _passage_ids(assistant, FACTUAL, 3)
    scores = [n.score for n in nodes]
    assert scores == sorted(scores, reverse=True) and scores == [n.node.metadata["score"] for n in nodes]
    for node in nodes:
        _assert_source_metadata(assistant, node.node.text, node.node.metadata)
        seen_by_model = node.node.get_content(metadata_mode=MetadataMode.LLM)
        assert node.node.metadata["title"] in seen_by_model and "decision: answer" in seen_by_model
        assert f"start: {node.node.metadata['start']}" not in seen_by_model  # offsets are for the app
        assert node.node.get_content(metadata_mode=MetadataMode.EMBED) == node.node.text
    again = asyncio.run(retriever.aretrieve(FACTUAL))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]


def test_llama_index_refusal_is_one_notice_node(assistant):
    (node,) = LlamaIndexExoqa(assistant).retrieve(EMERGENCY)
    assert node.score is None
    assert node.node.metadata == {"kind": "notice", "decision": "emergency",
                                  "safety_category": node.node.metadata["safety_category"],
                                  "question_language": "en"}
    assert node.node.text == assistant.ask(EMERGENCY).text


def _run_example(name: str, tmp_path: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("EXOQA_CORPUS_DIR", "EXOQA_INDEX_DIR")}
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env={**env, "HF_HUB_OFFLINE": "1"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_langchain_example_in_docs_runs(assistant, tmp_path):
    factual, refused, chained, quoted = _run_example("langchain_retriever.py", tmp_path)
    assert factual["decision"] == "answer" and len(factual["documents"]) == 3
    assert all(d["source_id"] and d["title"] and d["license"] for d in factual["documents"])
    assert refused["decision"] == "refuse" and refused["documents"][0]["safety_category"]
    # each passage cited as [source_id:start-end]; the FDA's 2019 warning, from the notice or the article's account
    assert re.match(r"\[(fda-2019-exosome-notice|article-zh):\d+-\d+\]", chained["context"]), chained["context"][:80]
    assert "2019" in chained["context"].split("\n\n")[0]
    for quote in quoted["quotes"]:
        assert assistant.corpus[quote["source_id"]].text[quote["start"]:quote["end"]] == quote["text"]


def test_llama_index_example_in_docs_runs(tmp_path):
    factual, emergency = _run_example("llama_index_retriever.py", tmp_path)
    assert factual["decision"] == "answer" and len(factual["nodes"]) == 3
    assert all(n["metadata"]["title"] in n["llm_text"] for n in factual["nodes"])
    assert emergency["decision"] == "emergency" and emergency["nodes"][0]["score"] is None
    assert "emergency" in emergency["nodes"][0]["llm_text"].lower()
