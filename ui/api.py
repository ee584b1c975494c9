"""The HTTP JSON API: /api/ask, /api/search, /api/sources, /api/health, /api/feedback. Every error is JSON with a
message."""
from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import ExoqaError, InvalidQuestionError
from assistant.corpus.chunking import Span
from assistant.query import MAX_HISTORY_TURN_CHARS, MAX_HISTORY_TURNS
from assistant.reply.answer import verify_quote
from assistant.text.normalize import MAX_QUESTION_CHARS, clean_question

from .feedback import MAX_NOTE_CHARS, FeedbackFull, FeedbackStore
from .service import Busy, NotReady, Service, TooSlow

MAX_SEARCH_K = 20
log = logging.getLogger("exoqa.ui")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=MAX_HISTORY_TURN_CHARS)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    question: str = Field(description=f"the question, 1 to {MAX_QUESTION_CHARS} characters after trimming")
    history: list[Message] | None = Field(
        default=None, max_length=4 * MAX_HISTORY_TURNS,
        description="earlier turns, oldest first; user turns are used to understand follow-up questions")


class QuoteSeen(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    n: int = Field(ge=1, le=100)
    source_id: str = Field(max_length=100)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(max_length=4 * MAX_QUESTION_CHARS)


class AnswerSeen(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    language: Literal["zh", "en"]
    decision: Literal["answer", "no_answer", "refuse", "emergency"]
    safety_category: str = Field(default="", max_length=64)
    quotes: list[QuoteSeen] = Field(default_factory=list, max_length=20)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    rating: Literal["up", "down"]
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    question: str = Field(description=f"the question rated, 1 to {MAX_QUESTION_CHARS} characters")
    history: list[str] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                               description="the questions asked before it in the conversation, oldest first")
    answer: AnswerSeen = Field(description="the reply that was rated, as Answer.to_dict() gave it")


def error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _describe(errors: list[dict]) -> str:
    parts = []
    for item in errors[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors for the API paths (a clear message, never a traceback)."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error(400, "the request body is not valid JSON")
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                   for e in errors]
        if any(tuple(e.get("loc", ())) == ("body",) for e in errors):
            return error(422, 'the request body must be a JSON object like {"question": "..."}', detail=details)
        return error(422, "invalid request: " + _describe(errors), detail=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error(500, "internal error; the server log has the details")


async def _call(service: Service, method: str, *args):
    """Run a library call, mapping its failures to HTTP statuses."""
    try:
        return await getattr(service, method)(*args)
    except InvalidQuestionError as exc:
        return error(400, str(exc))
    except NotReady as exc:
        status = exc.args[0]
        message = ("exoqa could not load: " + status["error"]) if status["status"] == "error" \
            else f"exoqa is still starting ({status['status']}); try again shortly"
        return error(503, message, state=status)
    except Busy:
        return JSONResponse({"error": "the server is busy; try again shortly"}, status_code=503,
                            headers={"Retry-After": "5"})
    except TooSlow:
        return error(504, "the question took too long to answer")
    except ExoqaError as exc:
        return error(500, str(exc))


def api_router(service: Service, feedback: FeedbackStore | None = None) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["exoqa"])
    feedback = feedback or FeedbackStore()

    @router.post("/ask", summary="Answer a question with verbatim, cited quotes (Answer.to_dict())")
    async def ask(body: AskRequest):
        history = [m.model_dump() for m in body.history or []]
        answer = await _call(service, "ask", body.question, history)
        return answer if isinstance(answer, JSONResponse) else answer.to_dict()

    @router.get("/search", summary="The best passages for a query")
    async def search(q: Annotated[str, Query(description="the query")],
                     k: Annotated[int, Query(ge=1, le=MAX_SEARCH_K)] = 5):
        passages = await _call(service, "search", q, k)
        return passages if isinstance(passages, JSONResponse) else [p.to_dict() for p in passages]

    @router.get("/sources", summary="Every corpus source with its metadata and completeness")
    async def sources():
        return service.sources()

    @router.post("/feedback", status_code=201,
                 summary="Store a 👍/👎 (and an optional note) on a reply; `exoqa feedback export` makes eval items")
    async def give_feedback(body: FeedbackRequest):
        try:
            question = clean_question(body.question)
            history = [clean_question(q, "a history question", MAX_HISTORY_TURN_CHARS) for q in body.history]
        except InvalidQuestionError as exc:
            return error(400, str(exc))
        for quote in body.answer.quotes:  # only replies exoqa could have given: every quote verbatim
            if not verify_quote(service.corpus, Span(quote.source_id, quote.start, quote.end, quote.text)):
                return error(400, f"quote [{quote.n}] is not the text of {quote.source_id!r} at {quote.start}-{quote.end}")
        record = {"rating": body.rating, "note": body.note.strip(), "question": question, "history": history,
                  "answer": body.answer.model_dump(), "corpus_hash": service.corpus.content_hash}
        try:
            stored = feedback.append(record)
        except FeedbackFull as exc:
            return error(507, str(exc))
        except OSError:
            log.exception("could not store feedback in %s", feedback.path)
            return error(500, "the feedback could not be written; the server log has the details")
        return JSONResponse({"id": stored["id"], "stored": True}, status_code=201)

    @router.get("/health", summary="Status (loading / building / ready / error), model, index manifest, corpus")
    async def health():
        report = service.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown(path: str):
        return error(404, f"no such API endpoint: /api/{path}")

    return router
