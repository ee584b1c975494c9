"""`exoqa mcp` driven by the MCP SDK's own client over stdio: typed tool schemas, verbatim quotes, the same safety
decisions as the library, and input errors reported as tool errors."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
EXOQA = str(Path(sys.executable).with_name("exoqa"))
FACTUAL = "Did the FDA approve any exosome product?"
DOSING = "我该打多少外泌体针?"
EMERGENCY = "I have chest pain and can't breathe after an exosome injection"


def _server(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=EXOQA, args=["mcp", *args], env={"HF_HUB_OFFLINE": "1"}, cwd="/")


async def _session(calls):
    """Run `calls(client, tools)` against a fresh `exoqa mcp`; returns what it returns."""
    async with Client(_server()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        return await calls(client, tools)


def _check_schemas(tools) -> None:
    assert set(tools) == {"ask", "search", "sources"}
    ask, search = tools["ask"].input_schema, tools["search"].input_schema
    assert ask["required"] == ["question"] and ask["properties"]["question"]["type"] == "string"
    assert ask["properties"]["question"]["maxLength"] == 2000 and ask["properties"]["history"]["type"] == "array"
    k = search["properties"]["k"]
    assert (k["type"], k["minimum"], k["maximum"], k["default"]) == ("integer", 1, 20, 5)
    decision = tools["ask"].output_schema["properties"]["decision"]
    assert set(decision["enum"]) == {"answer", "no_answer", "refuse", "emergency"}
    assert {"quotes", "sources", "warnings", "text"} <= set(tools["ask"].output_schema["properties"])
    assert {"passages", "message", "decision"} <= set(tools["search"].output_schema["properties"])
    assert "sources" in tools["sources"].output_schema["properties"]
    for tool in tools.values():
        assert tool.description  # what an LLM reads to pick the tool


def test_typed_tools_ask_search_and_sources_over_stdio(assistant):
    async def calls(client, tools):
        _check_schemas(tools)
        out = {}
        for name, arguments in [("factual", ("ask", {"question": FACTUAL})),
                                ("dosing", ("ask", {"question": DOSING})),
                                ("follow_up", ("ask", {"question": "那我该不该做？", "history": [
                                    {"role": "user", "content": "外泌体注射能抗衰老吗?"}]})),
                                ("search", ("search", {"query": "超速离心", "k": 3})),
                                ("search_emergency", ("search", {"query": EMERGENCY})),
                                ("sources", ("sources", {})),
                                ("k_too_big", ("search", {"query": "超速离心", "k": 50})),
                                ("empty", ("ask", {"question": "   "}))]:
            result = await client.call_tool(*arguments)
            out[name] = result
            if not result.is_error:  # the structured result matches the schema the tool advertises
                jsonschema.validate(result.structured_content, tools[arguments[0]].output_schema)
        return out

    results = asyncio.run(_session(calls))
    factual = results["factual"].structured_content
    assert factual["decision"] == "answer" and factual["quotes"]
    for quote in factual["quotes"]:
        assert assistant.corpus[quote["source_id"]].text[quote["start"]:quote["end"]] == quote["text"]
    assert factual["text"] == assistant.ask(FACTUAL).text  # the library's reply, unchanged
    assert [w["language"] for w in factual["warnings"]] == ["en"]
    assert {s["source_id"] for s in factual["sources"]} == {q["source_id"] for q in factual["quotes"]}

    dosing = results["dosing"].structured_content
    assert dosing["decision"] == "refuse" and dosing["quotes"] == [] and dosing["text"] == assistant.ask(DOSING).text
    follow_up = results["follow_up"].structured_content
    library = assistant.ask("那我该不该做？", [{"role": "user", "content": "外泌体注射能抗衰老吗?"}])
    assert (follow_up["decision"], follow_up["safety_category"]) == (str(library.decision), library.safety_category)
    assert follow_up["decision"] == "refuse"  # the history makes it a personal request

    search = results["search"].structured_content
    assert search["decision"] == "answer" and search["message"] is None
    assert [f"{p['source_id']}:{p['start']}-{p['end']}" for p in search["passages"]] == \
        [f"{p.source_id}:{p.start}-{p.end}" for p in assistant.ask("超速离心", k=3).passages]
    for passage in search["passages"]:
        source = assistant.corpus[passage["source_id"]]
        assert source.text[passage["start"]:passage["end"]] == passage["text"]
        assert passage["title"] == source.card()["title"]
    withheld = results["search_emergency"].structured_content
    assert withheld["decision"] == "emergency" and withheld["passages"] == [] and withheld["message"]

    cards = results["sources"].structured_content["sources"]
    assert [c["source_id"] for c in cards] == [c["source_id"] for c in assistant.sources()]
    assert cards[0]["license"] == assistant.sources()[0]["license"]

    assert results["k_too_big"].is_error and "less than or equal to 20" in results["k_too_big"].content[0].text
    assert results["empty"].is_error and "empty" in results["empty"].content[0].text


def test_mcp_serves_another_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lactase.txt").write_text("id: lactase\ntitle: Lactase\nlicense: CC0\n\n"
                                        "Lactase is the enzyme that breaks down lactose in milk.\n", encoding="utf-8")

    async def calls():
        async with Client(_server("--corpus", str(corpus))) as client:
            return (await client.call_tool("sources", {}),
                    await client.call_tool("search", {"query": "Which enzyme breaks down lactose in milk?"}))

    sources, search = asyncio.run(calls())
    assert [c["source_id"] for c in sources.structured_content["sources"]] == ["lactase"]
    passages = search.structured_content["passages"]
    assert passages and passages[0]["source_id"] == "lactase" and passages[0]["license"] == "CC0"


def test_mcp_example_in_docs_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("EXOQA_CORPUS_DIR", "EXOQA_INDEX_DIR")}
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "mcp_client.py")], cwd=tmp_path,
                            env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["tool"] for line in lines[:3]] == ["ask", "search", "sources"]
    answer, search, refused = lines[3:]
    assert answer["ask"] == "answer" and "FDA-approved" in answer["quote"]
    assert search["search"] == "answer" and len(search["passages"]) == 3
    assert refused["ask"] == "refuse" and refused["message"]
