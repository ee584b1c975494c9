"""One FastAPI app: the JSON API under /api and the Gradio page at /, with hardening for both.

Besides the security headers and body limits: only the hosts the server was bound to (plus EXOQA_ALLOWED_HOSTS)
are answered, so a DNS-rebinding page cannot read it; no origin is granted CORS unless EXOQA_CORS_ORIGINS names
it; file uploads are refused because no component of the page takes files; a client that is slow to send its
headers (HEADER_TIMEOUT_SECONDS) or its body (BODY_TIMEOUT_SECONDS) is cut off.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import time
from collections.abc import Iterable, Sequence

# Before Gradio is imported: no usage analytics (the page and server make no outside requests).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import h11  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from starlette.middleware.cors import CORSMiddleware  # noqa: E402
from uvicorn.protocols.http.h11_impl import H11Protocol  # noqa: E402

from .api import api_router, install_error_handlers  # noqa: E402
from .chat import CSS, THEME, build_blocks  # noqa: E402
from .service import Service  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_API_BODY_BYTES = 64 * 1024
# The page's own requests carry the whole chat history (replies are HTML), so they get a larger bound.
MAX_PAGE_BODY_BYTES = 4 * 1024 * 1024
GRADIO_SESSION_CAPACITY = 256  # sessions whose Gradio state stays in memory (oldest evicted first)
# A client must send a request's headers within this many seconds of connecting (or of its first byte on a
# kept-alive connection), and its body within BODY_TIMEOUT_SECONDS; a slow one is cut off (slowloris).
HEADER_TIMEOUT_SECONDS = float(os.environ.get("EXOQA_HEADER_TIMEOUT", "10"))
BODY_TIMEOUT_SECONDS = float(os.environ.get("EXOQA_BODY_TIMEOUT", "30"))
ALLOWED_HOSTS_ENV = "EXOQA_ALLOWED_HOSTS"  # extra host names to answer (comma-separated), e.g. a proxy's name
CORS_ORIGINS_ENV = "EXOQA_CORS_ORIGINS"  # origins granted CORS (comma-separated); none by default
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
# Gradio endpoints that store files a client sends; refused unless a component of the page takes files.
UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/gradio_api/process_recording"})
UPLOAD_COMPONENTS = (gr.File, gr.UploadButton, gr.Image, gr.Audio, gr.Video, gr.Model3D, gr.Gallery,
                     gr.MultimodalTextbox, gr.ImageEditor, gr.ImageSlider)

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
        await _json_error(send, 413, f"the request body is over the {limit // 1024} KiB limit")


async def _json_error(send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


def _host_name(value: str) -> str:
    """The host of a Host / X-Forwarded-Host value without its port: 'localhost:7860' -> 'localhost',
    '[::1]:7860' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    host, _, port = value.rpartition(":")
    return (host if port.isdigit() and host and ":" not in host else value).rstrip(".")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_hosts_for(bind_host: str, extra: Iterable[str] | None = None) -> frozenset[str]:
    """The host names a server bound to `bind_host` answers to: that address, the loopback names when it is a
    loopback or wildcard address, this machine's names for a wildcard bind, and `extra` (default: the
    comma-separated EXOQA_ALLOWED_HOSTS, e.g. the public name of a reverse proxy)."""
    bind = _host_name(bind_host) if bind_host.startswith("[") else bind_host.strip().lower()
    hosts = {bind} - {""}
    loopback = bind in LOOPBACK_NAMES or (_is_ip_literal(bind) and ipaddress.ip_address(bind).is_loopback)
    if loopback or bind in WILDCARD_BINDS:
        hosts |= LOOPBACK_NAMES
    if bind in WILDCARD_BINDS:
        hosts |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    if extra is None:
        extra = os.environ.get(ALLOWED_HOSTS_ENV, "").split(",")
    hosts |= {_host_name(h) for h in extra if h.strip()}
    return frozenset(hosts - WILDCARD_BINDS)


class HostCheck:
    """Answers only requests whose Host (and X-Forwarded-Host, which Gradio builds its URLs from) names this
    server: a page on another domain that resolves to this machine (DNS rebinding) gets a 400. A wildcard bind
    also accepts any IP address (no page can rebind a name to an address it does not own)."""

    def __init__(self, app, allowed_hosts: Iterable[str], any_ip: bool = False) -> None:
        self.app = app
        self.allowed = frozenset(allowed_hosts)
        self.any_ip = any_ip

    def allows(self, value: str) -> bool:
        host = _host_name(value)
        return bool(host) and (host in self.allowed or (self.any_ip and _is_ip_literal(host)))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        forwarded = headers.get(b"x-forwarded-host", b"").decode("latin-1")
        if self.allows(host) and all(self.allows(h) for h in forwarded.split(",") if forwarded):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await _json_error(send, 400, "this server does not answer to that host name; a proxy in front of it "
                                     f"must be named in {ALLOWED_HOSTS_ENV}")


class RefuseUploads:
    """Refuses file uploads (403) when no component of the page takes files: Gradio would otherwise keep
    whatever anyone posts to its upload endpoints in its temporary folder."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
            if scope["path"].rstrip("/") in UPLOAD_PATHS or content_type.startswith(b"multipart/form-data"):
                return await _json_error(send, 403, "this server accepts no file uploads")
        await self.app(scope, receive, send)


def takes_files(blocks: gr.Blocks) -> bool:
    return any(isinstance(block, UPLOAD_COMPONENTS) for block in blocks.blocks.values())


class BodyTimeout:
    """Answers 408 when a request body does not arrive within `seconds` of the request (slow clients)."""

    def __init__(self, app, seconds: float = BODY_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline = time.monotonic() + self.seconds
        body_done = False
        responded = False

        async def timed_receive():
            nonlocal body_done
            if body_done:
                return await receive()  # after the body: waiting for a disconnect is not the client's fault
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise _SlowBody() from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def tracked_send(message):
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except _SlowBody:
            if not responded:
                await _json_error(send, 408, f"the request body did not arrive within {self.seconds:.0f} s",
                                  headers=[(b"connection", b"close")])


class _SlowBody(Exception):
    pass


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's headers, which uvicorn lacks: a connection that
    sends nothing, or trickles its request line and headers, is answered 408 and closed after
    HEADER_TIMEOUT_SECONDS (the deadline starts on connecting and again on a kept-alive connection's next byte)."""

    header_timeout = HEADER_TIMEOUT_SECONDS

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state is h11.IDLE
        if waiting and getattr(self, "_header_deadline", None) is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_deadline()

    def connection_lost(self, exc) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _cancel_header_deadline(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
                                 b"content-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()


def create_app(service: Service, allowed_hosts: Iterable[str] | None = None, any_ip: bool = False,
               cors_origins: Sequence[str] | None = None) -> FastAPI:
    """The API and the page for `service`; the model and index load in the background at startup.

    `allowed_hosts`: the Host names answered (`serve` passes allowed_hosts_for(its bind address)); None answers
    any, for in-process clients that never touch a network. `cors_origins` (default: EXOQA_CORS_ORIGINS) are
    the only origins granted CORS; by default none is."""

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
    if cors_origins is None:
        cors_origins = [o.strip() for o in os.environ.get(CORS_ORIGINS_ENV, "").split(",") if o.strip()]
    # A CORSMiddleware on the parent app also switches off Gradio's own, which grants any localhost origin.
    app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["content-type"], allow_credentials=False)
    app.add_middleware(BodyLimit)
    app.add_middleware(BodyTimeout)
    if not takes_files(blocks):
        app.add_middleware(RefuseUploads)
    if allowed_hosts is not None:
        app.add_middleware(HostCheck, allowed_hosts=allowed_hosts, any_ip=any_ip)
    app.add_middleware(SecurityHeaders)
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, corpus_dir=None, index_dir=None,
          model: str | None = None, allow_download: bool = False, settings=None) -> None:
    import uvicorn

    from assistant.retrieval.embeddings import DEFAULT_MODEL

    service = Service(corpus_dir=corpus_dir, index_dir=index_dir, model=model or DEFAULT_MODEL,
                      allow_download=allow_download, settings=settings)
    app = create_app(service, allowed_hosts=allowed_hosts_for(host), any_ip=host.strip() in WILDCARD_BINDS)
    print(f"exoqa: serving on http://{host}:{port}/ (API under /api; loading the model and index…)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5,
                http=HeaderTimeoutH11Protocol)
