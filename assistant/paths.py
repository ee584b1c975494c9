"""Where the shipped corpus and its prebuilt index live, and where another corpus keeps its index."""
from __future__ import annotations

import os
from pathlib import Path

from assistant.retrieval.embeddings import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed wheel carries corpus/ and index/ inside the package (pyproject.toml maps them to assistant/shipped/);
# a checkout (or an editable install) has no such folder and uses its top-level corpus/ and index/.
PACKAGED_DATA = Path(__file__).resolve().parent / "shipped"
DATA_ROOT = PACKAGED_DATA if (PACKAGED_DATA / "corpus").is_dir() else PROJECT_ROOT
SHIPPED_CORPUS = DATA_ROOT / "corpus"
SHIPPED_INDEXES = DATA_ROOT / "index"


def default_corpus_dir() -> Path:
    return Path(os.environ.get("EXOQA_CORPUS_DIR", SHIPPED_CORPUS))


def is_shipped_corpus(corpus_dir: Path | None) -> bool:
    return corpus_dir is not None and Path(corpus_dir).resolve() == SHIPPED_CORPUS.resolve()


def default_index_dir(model: str, corpus_dir: Path | None = None) -> Path:
    """The shipped corpus's index lives in index/<model>; any other corpus keeps its own in <corpus>/.exoqa-index/."""
    if "EXOQA_INDEX_DIR" in os.environ:
        return Path(os.environ["EXOQA_INDEX_DIR"])
    slug = "e5-small" if model == DEFAULT_MODEL else "".join(c if c.isalnum() else "-" for c in model)[-60:]
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
    if not is_shipped_corpus(corpus_dir):
        return corpus_dir / ".exoqa-index" / slug
    return SHIPPED_INDEXES / slug
