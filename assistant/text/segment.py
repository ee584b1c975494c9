"""Sentence segmentation for Chinese and English that keeps exact offsets.

Rules: a line break always ends a sentence (lines are paragraphs or bullets);
Chinese sentences end at 。！？；… and their ASCII forms, closing quotes and
brackets stay with the sentence they close; a ✔/✖/⚠️ bullet starts a new
sentence even in the middle of a line; English sentences end at . ? ! followed
by a space and a capital, a digit or an opening quote, except after known
abbreviations (decimals never split because no space follows their dot).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.text.language import HAN_RANGES

_CLOSERS = "”’\"')）】」』》"
# Chinese terminators end a sentence wherever they are.
# A citation marker right after the terminator ("…提升。[19]") belongs to the sentence.
_CITATION = r"(?:\s?\[\d+(?:[,-]\d+)*\])?"
_ZH_END = re.compile(rf"(?:[。！？；]|…+|\.{{3,}})[{_CLOSERS}]*{_CITATION}")
# ASCII terminators need a following space and a sentence-like start, or a Han character.
_EN_END = re.compile(rf"[.?!;][{_CLOSERS}]*{_CITATION}(?=\s+[\"“‘(\[A-Z0-9]|\s*[" + HAN_RANGES + "])")
_BULLET = re.compile(r"(?<=\S)(?=[✔✖⚠])")
_ABBREVIATIONS = {
    "e.g", "i.e", "dr", "mr", "mrs", "ms", "prof", "vs", "etc", "al", "fig", "figs", "no", "st", "jr",
    "sr", "inc", "ltd", "co", "u.s", "u.k", "dept", "approx", "ca", "vol", "ref", "refs", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "p", "pp",
}
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the '.' at `dot` closes an abbreviation or a single initial (J. Smith)."""
    match = _LAST_WORD.search(text, 0, dot)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _breaks(text: str, start: int, end: int) -> Iterator[int]:
    """Offsets (exclusive ends) where a sentence ends inside text[start:end]."""
    for match in _ZH_END.finditer(text, start, end):
        yield match.end()
    for match in _EN_END.finditer(text, start, end):
        if text[match.start()] == "." and _is_abbreviation(text, match.start()):
            continue
        yield match.end()
    for match in _BULLET.finditer(text, start, end):
        yield match.start()


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans [s, e) of text[start:end], trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline == -1 else newline
        cuts = sorted({line_start, line_end, *(b for b in _breaks(text, line_start, line_end))})
        for a, b in zip(cuts, cuts[1:]):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b and any(ch.isalnum() for ch in text[a:b]):
                spans.append((a, b))
        line_start = line_end + 1
    return spans
