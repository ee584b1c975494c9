"""exoqa's web page (Gradio) and HTTP JSON API, served together by `exoqa serve`; they only call `assistant`."""
from .server import create_app, serve
from .service import Service

__all__ = ["Service", "create_app", "serve"]
