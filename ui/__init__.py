"""exoqa's interfaces: the `exoqa` command line, the web page (Gradio) and HTTP JSON API served together by
`exoqa serve`, and the MCP server; they only call `assistant`.

Nothing heavy is imported here: `exoqa ask` must not pay for the web stack it does not use.
"""
from __future__ import annotations

__all__ = ["Service", "create_app", "serve"]


def __getattr__(name: str):
    if name in ("create_app", "serve"):
        from ui import server

        return getattr(server, name)
    if name == "Service":
        from ui.service import Service

        return Service
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
