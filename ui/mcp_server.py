"""`exoqa mcp`: exoqa as a Model Context Protocol server on stdio (`pip install 'exoqa[mcp]'`).

Three tools with typed input and output schemas: `ask` (exoqa's reply: decision, verbatim quotes with offsets,
sources, ISEV warnings), `search` (the best passages, behind the same safety gate) and `sources` (the corpus
cards). A client model should relay quotes verbatim, cite them, and honour a decision other than "answer":
"refuse", "emergency" and "no_answer" come with exoqa's own message and no evidence.

The Assistant loads on the first call, so the server answers `initialize` at once. Only JSON-RPC goes to stdout;
logs go to stderr.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from assistant import __version__
from assistant.core import Assistant
from assistant.errors import InvalidQuestionError
from assistant.integrations.gated import gated_retrieve
from assistant.reply.isev import warnings_for
from assistant.settings import Settings

INSTRUCTIONS = (
    "exoqa answers questions about commercial exosome therapies (the Chinese article 外泌体 and its cited sources) "
    "only with verbatim, cited quotes. Relay quotes exactly as given with their source, never as medical advice. "
    "When `decision` is not 'answer', do not answer from elsewhere: 'refuse' means exoqa declined a personal "
    "medical request and 'emergency' means the person should seek emergency care now; show `text` as it is.")
MAX_SEARCH_K = 20

DecisionName = Literal["answer", "no_answer", "refuse", "emergency"]


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class QuoteOut(BaseModel):
    n: int = Field(description="citation number [n] in `text`")
    text: str = Field(description="verbatim source text: sources[source_id] text[start:end]")
    source_id: str
    start: int
    end: int
    score: float
    gloss: str | None = Field(None, description="exoqa's translation when the source is in the other language")


class SourceRef(BaseModel):
    source_id: str
    title: str
    url: str
    role: str
    license: str


class WarningOut(BaseModel):
    id: str
    language: str
    text: str
    verbatim: bool = Field(description="true: ISEV text quoted from the article; false: exoqa's summary")


class AskResult(BaseModel):
    decision: DecisionName
    safety_category: str
    language: Literal["zh", "en"]
    text: str = Field(description="exoqa's reply in Markdown, with [n] citations and the ISEV warnings")
    quotes: list[QuoteOut]
    sources: list[SourceRef]
    warnings: list[WarningOut]


class PassageOut(BaseModel):
    text: str
    source_id: str
    start: int
    end: int
    score: float
    title: str
    url: str
    license: str
    role: str
    language: str


class SearchResult(BaseModel):
    decision: DecisionName
    safety_category: str
    message: str | None = Field(description="exoqa's reply when it does not answer (no passages then)")
    passages: list[PassageOut]


class SourceCard(BaseModel):
    source_id: str
    ref: str
    title: str
    authors: str
    year: str
    url: str
    language: str
    role: str
    license: str
    completeness: str


class SourcesResult(BaseModel):
    sources: list[SourceCard]


def build_server(assistant: Assistant | None = None, **load_options) -> MCPServer:
    """The MCP server over `assistant`, or over `Assistant.load(**load_options)` loaded on the first call."""
    loaded: list[Assistant] = [assistant] if assistant is not None else []
    loading = threading.Lock()

    def current() -> Assistant:
        with loading:
            if not loaded:
                loaded.append(Assistant.load(**load_options))
            return loaded[0]

    # Warnings (such as an index rebuild) still reach stderr; the SDK's per-call INFO lines would drown them.
    server = MCPServer("exoqa", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def ask(question: Annotated[str, Field(description="the question, in Chinese or English", max_length=2000)],
            history: Annotated[list[Turn], Field(description="earlier turns, oldest first")] = []  # noqa: B006
            ) -> AskResult:
        """Answer a question with verbatim, cited quotes from exoqa's sources, or refuse / refer to emergency
        care. Follow-ups ("should I do it then?") are judged with `history`."""
        try:
            answer = current().ask(question, [t.model_dump() for t in history])
        except InvalidQuestionError as exc:
            raise ToolError(str(exc)) from None
        data = answer.to_dict()
        return AskResult(decision=data["decision"], safety_category=data["safety_category"],
                         language=data["language"], text=data["text"], quotes=data["quotes"],
                         sources=data["sources"],
                         warnings=[w.to_dict() for w in warnings_for(answer.warnings, answer.language)])

    @server.tool()
    def search(query: Annotated[str, Field(description="what to look for", max_length=2000)],
               k: Annotated[int, Field(ge=1, le=MAX_SEARCH_K, description="passages to return")] = 5
               ) -> SearchResult:
        """The k best passages for a query, each with its source's metadata and offsets. Behind the same gate as
        `ask`: when exoqa would not answer (a personal medical request, an emergency, or a question the sources
        do not cover) the result has its message and no passages."""
        try:
            result = gated_retrieve(current(), query, k, "passages")
        except InvalidQuestionError as exc:
            raise ToolError(str(exc)) from None
        answer = result.answer
        passages = [PassageOut(**{key: e.metadata[key] for key in PassageOut.model_fields if key != "text"},
                               text=e.text) for e in result.evidence] if result.answered else []
        return SearchResult(decision=str(answer.decision), safety_category=answer.safety_category,
                            message=None if result.answered else answer.text, passages=passages)

    @server.tool()
    def sources() -> SourcesResult:
        """Every source of the corpus: title, authors, year, link, licence, role and how complete its text is."""
        return SourcesResult(sources=[{key: card.get(key, "") for key in SourceCard.model_fields}
                                      for card in current().sources()])

    return server


def run(corpus_dir: Path | None = None, model: str | None = None, allow_download: bool = False,
        settings: Settings | None = None) -> None:
    """Serve on stdio until the client closes the connection."""
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
    options = {"corpus_dir": corpus_dir, "allow_download": allow_download, "settings": settings}
    if model:
        options["model"] = model
    build_server(**options).run("stdio")
