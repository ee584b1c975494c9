"""Decide whether a text is Chinese or English, for reply language and labels."""
from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]

# The one definition of a Han character: CJK Unified Ideographs, Extension A and the compatibility block.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN = re.compile(f"[{HAN_RANGES}]")
_HAN = HAN
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> Language:
    """'zh' when Han characters carry a fair share of the text, else 'en'.

    Code-switched questions ("Should I do 外泌体 injection?") follow the language
    of most of their words: each Han character counts as one word-sized unit
    against each Latin word.
    """
    han = len(_HAN.findall(text))
    latin_words = len(_LATIN_WORD.findall(text))
    if han == 0:
        return "en"
    # Two Han characters make roughly one English word.
    return "zh" if han / 2 >= latin_words * 0.5 else "en"
