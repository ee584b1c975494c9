"""One FastAPI app: the JSON API under /api and the Gradio page at /, with hardening for both."""
from __future__ import annotations

import contextlib
import json
import os

# Before Gradio is imported: no usage analytics (the page and server make no outside requests).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from .api import api_router, install_error_handlers  # noqa: E402
from .chat import CSS, THEME, build_blocks  # noqa: E402
from .service import Service  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_API_BODY_BYTES = 64 * 1024
# The page's own requests carry the whole chat history (replies are HTML), so they get a larger bound.
MAX_PAGE_BODY_BYTES = 4 * 1024 * 1024
GRADIO_SESSION_CAPACITY = 256  # sessions whose Gradio state stays in memory (oldest evicted first)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Same-origin only: the page may not load or send anything to another host, nor be framed.
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' data: blob:; "
     b"worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (API and page), replacing any set downstream."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        names = {name for name, _ in SECURITY_HEADERS}

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Rejects request bodies over the limit (64 KiB for /api, more for the page) with a 413 JSON error.

    Holds for a declared Content-Length and for a streamed body alike.
    """

    def __init__(self, app, api_limit: int = MAX_API_BODY_BYTES, page_limit: int = MAX_PAGE_BODY_BYTES) -> None:
        self.app = app
        self.api_limit = api_limit
        self.page_limit = page_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.api_limit if scope["path"].startswith("/api/") else self.page_limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._too_large(send, limit)
        chunks, size, more = [], 0, True
        while more:  # read the body here (bounded), then replay it to the app
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._too_large(send, limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(send, limit: int) -> None:
        payload = json.dumps({"error": f"the request body is over the {limit // 1024} KiB limit"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def create_app(service: Service) -> FastAPI:
    """The API and the page for `service`; the model and index load in the background at startup."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        yield
        service.close()

    app = FastAPI(title="exoqa", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Cited, verbatim answers about commercial exosome therapies. Information, "
                              "not medical advice. Every reply carries the ISEV 2020 patient warnings.")
    install_error_handlers(app)
    app.include_router(api_router(service))
    blocks = build_blocks(service)
    blocks.queue(default_concurrency_limit=service.workers, max_size=64)
    # Gradio keeps a copy of the page's state per session (~140 KB here), 10,000 sessions by default: under load
    # RSS grew ~25 MiB/min. The chat sends its history with every call, so a small LRU of sessions suffices.
    blocks.state_session_capacity = GRADIO_SESSION_CAPACITY
    app = gr.mount_gradio_app(app, blocks, path="/", theme=THEME, css=CSS, footer_links=["api"],
                              run_history=False, show_error=False, ssr_mode=False, max_file_size="64kb")
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, corpus_dir=None, index_dir=None,
          model: str | None = None, allow_download: bool = False, settings=None) -> None:
    import uvicorn

    from assistant.retrieval.embeddings import DEFAULT_MODEL

    service = Service(corpus_dir=corpus_dir, index_dir=index_dir, model=model or DEFAULT_MODEL,
                      allow_download=allow_download, settings=settings)
    app = create_app(service)
    print(f"exoqa: serving on http://{host}:{port}/ (API under /api; loading the model and index…)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
