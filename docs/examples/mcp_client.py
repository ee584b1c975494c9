"""exoqa as an MCP server, driven by the MCP SDK's own client over stdio (what an LLM app does).

    .venv/bin/python docs/examples/mcp_client.py     # needs exoqa[mcp]; runs `exoqa mcp` as a subprocess

Prints the tools with their input schemas, then one answer, one search and one refusal as JSON lines.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters


def exoqa_command() -> str:
    """The `exoqa` next to this Python (a venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).with_name("exoqa")
    return str(beside) if beside.exists() else (shutil.which("exoqa") or "exoqa")


async def main() -> None:
    server = StdioServerParameters(command=exoqa_command(), args=["mcp"],
                                   env={"HF_HUB_OFFLINE": "1", **{k: os.environ[k] for k in ("EXOQA_CORPUS_DIR",)
                                                                if k in os.environ}})
    async with Client(server) as client:
        for tool in (await client.list_tools()).tools:
            print(json.dumps({"tool": tool.name, "input": tool.input_schema.get("properties", {}),
                              "output": sorted((tool.output_schema or {}).get("properties", {}))}))
        answer = await client.call_tool("ask", {"question": "Did the FDA approve any exosome product?"})
        reply = answer.structured_content
        print(json.dumps({"ask": reply["decision"], "quote": reply["quotes"][0]["text"],
                          "source_id": reply["quotes"][0]["source_id"]}, ensure_ascii=False))
        found = await client.call_tool("search", {"query": "超速离心", "k": 3})
        print(json.dumps({"search": found.structured_content["decision"],
                          "passages": [p["source_id"] for p in found.structured_content["passages"]]}))
        refused = await client.call_tool("ask", {"question": "我该打多少外泌体针?"})
        # An app honours the decision: it shows exoqa's message and does not answer from elsewhere.
        print(json.dumps({"ask": refused.structured_content["decision"],
                          "message": refused.structured_content["text"].split("\n")[0]}, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
