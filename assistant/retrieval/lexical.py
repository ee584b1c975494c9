"""BM25 over Chinese character uni+bigrams and stemmed English words."""
from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import snowballstemmer

from assistant.text.language import HAN_RANGES

_HAN_RUN = re.compile(f"[{HAN_RANGES}]+")
_WORD = re.compile(r"[a-z0-9]+")
_STEMMER = snowballstemmer.stemmer("english")
_STOP = {"the", "a", "an", "of", "to", "in", "and", "or", "is", "are", "was", "were", "be", "for", "on", "by",
         "with", "what", "which", "who", "how", "does", "do", "did", "that", "this", "it", "as", "at", "from",
         "about", "article", "say", "says", "said", "according"}
_ZH_STOP = {"的", "了", "是", "在", "和", "吗", "呢", "什么", "文章", "哪些", "怎么", "有", "说"}


def tokenize(text: str) -> list[str]:
    lowered = text.lower()
    tokens = [_STEMMER.stemWord(w) for w in _WORD.findall(lowered) if w not in _STOP]
    for run in _HAN_RUN.findall(lowered):
        chars = [c for c in run]
        tokens.extend(c for c in chars if c not in _ZH_STOP)
        tokens.extend(a + b for a, b in zip(chars, chars[1:]))
    return tokens


class LexicalIndex:
    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index([tokenize(t) or ["\u2400"] for t in texts], show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)
        self.size = len(texts)

    def scores(self, query: str | list[str]) -> np.ndarray:
        """BM25 of every text for a query, given as text or as its `tokenize`d tokens (tokenise once, score
        several indexes)."""
        tokens = [t for t in (tokenize(query) if isinstance(query, str) else query) if t in self._vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
