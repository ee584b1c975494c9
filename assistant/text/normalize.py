"""The two normalisations of a question, each defined once.

- `clean_question`: what exoqa accepts, shows and retrieves with: NFC, invisible format characters (zero-width,
  bidi controls) dropped, tabs and newlines as spaces, trimmed, at most MAX_QUESTION_CHARS; anything else is an
  InvalidQuestionError.
- `fold`: what intent matching reads (the safety gate's patterns and classifier): NFKC (full-width letters,
  compatibility forms), lower case, Traditional -> Simplified Chinese (OpenCC), and obfuscation undone: letters
  spaced apart ("d o s e", "外 泌 体"), digits standing for letters inside words ("d0s3"), toneless pinyin read as
  characters (text/pinyin.py), base64-encoded text decoded ("SWdub3Jl..." -> "ignore..."), a message that names
  rot13 followed by its decoding, and the function words
  of written Cantonese as Mandarin ("有冇讲" -> "有没有讲"). Folding is never shown and never used for offsets.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
import unicodedata

import opencc

from assistant.errors import InvalidQuestionError
from assistant.text.language import HAN_RANGES
from assistant.text.pinyin import pinyin_to_hanzi

MAX_QUESTION_CHARS = 2000

_WHITESPACE_CONTROLS = str.maketrans({"\r": " ", "\n": " ", "\t": " "})
# Han characters separated by single spaces ("外 泌 体 注 射"): the spaces are obfuscation, not word breaks.
_SPACED_HAN = re.compile(f"(?<=[{HAN_RANGES}]) (?=[{HAN_RANGES}])")
# Three or more single letters separated by spaces or dots ("d o s e", "d.o.s.e").
_SPACED_LETTERS = re.compile(r"\b(?:[a-z][ .]){2,}[a-z]\b")
# Words spelled out letter by letter with two spaces between words ("t e l l  m e  t h e  d o s e").
_SPACED_WORDS = re.compile(r"\b[a-z] [a-z] [a-z]\b.*  [a-z] [a-z]\b")
_ONLY_LETTERS = re.compile(r"[a-z](?: [a-z])+")
# Digits standing for letters: a word with a digit between two letters ("d0s3", "3x0s0me", "inj3ct"), never
# a name with a number ("covid19", "e5", "mp3").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"\b[a-z0-9@$]*[a-z][0-9@$]+[a-z][a-z0-9@$]*\b")


# Written Cantonese function words and their Mandarin equivalents; only forms that are not also Mandarin words
# ("系" alone is 系统's, so only "唔系", "净系", "系咪" are mapped).
_CANTONESE = (("唔系", "不是"), ("系咪", "是不是"), ("净系", "只是"), ("乜嘢", "什么"), ("咩嘢", "什么"), ("边度", "哪里"),
              ("边间", "哪家"), ("点解", "为什么"), ("几多", "多少"), ("几钱", "多少钱"), ("有冇", "有没有"), ("冇", "没有"),
              ("嘅", "的"), ("咗", "了"), ("佢哋", "他们"), ("佢", "他"), ("我哋", "我们"), ("啲", "些"), ("喺", "在"),
              ("唔", "不"), ("睇", "看"), ("嚟", "来"), ("咁", "这么"), ("而家", "现在"), ("依家", "现在"))
_CANTONESE_MANDARIN = dict(_CANTONESE)
_CANTONESE_RE = re.compile("|".join(map(re.escape, (k for k, _ in _CANTONESE))))


# A run long enough to hide a sentence in base64; decoded only when it decodes to readable text.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")


def _decoded_base64(match: re.Match[str]) -> str:
    token = match.group(0)
    try:
        text = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return token
    readable = text.strip() and all(ch.isprintable() or ch.isspace() for ch in text)
    return f" {text} " if readable and (" " in text.strip() or re.search(f"[{HAN_RANGES}]", text)) else token


_NAMES_ROT13 = re.compile(r"\brot[- ]?13\b", re.IGNORECASE)


def _printable(ch: str) -> bool:
    return unicodedata.category(ch) != "Cf"  # format characters: zero-width spaces and joiners, bidi controls


def clean_question(question: object, what: str = "the question", limit: int = MAX_QUESTION_CHARS) -> str:
    """The question as exoqa uses it, or InvalidQuestionError saying why not (`what` names it in the message)."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidQuestionError(f"{what} is not valid UTF-8 text") from None
    if not isinstance(question, str):
        raise InvalidQuestionError(f"{what} must be text, not {type(question).__name__}")
    text = "".join(filter(_printable, unicodedata.normalize("NFC", question)))
    text = text.translate(_WHITESPACE_CONTROLS).strip()
    if not text:
        raise InvalidQuestionError(f"{what} is empty")
    if len(text) > limit:
        raise InvalidQuestionError(f"{what} is {len(text)} characters; the limit is {limit}")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise InvalidQuestionError(f"{what} contains control characters or invalid text")
    return text


@functools.lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Surface noise folded away for matching intent (see the module docstring)."""
    t = _BASE64.sub(_decoded_base64, unicodedata.normalize("NFKC", "".join(filter(_printable, text))))
    if _NAMES_ROT13.search(t):  # the request is read both as written and decoded
        t = f"{t} {codecs.decode(t, 'rot13')}"
    t = t.lower()
    t = _to_simplified().convert(t)
    t = _CANTONESE_RE.sub(lambda m: _CANTONESE_MANDARIN[m.group(0)], t)
    t = _SPACED_HAN.sub("", t)
    if _SPACED_WORDS.search(t):  # "t e l l  m e": letters one space apart, words two
        t = " ".join(part.replace(" ", "") if _ONLY_LETTERS.fullmatch(part) else part for part in re.split(r" {2,}", t))
    t = _SPACED_LETTERS.sub(lambda m: re.sub(r"[ .]", "", m.group(0)), t)
    t = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), t)
    return " ".join(pinyin_to_hanzi(t).split())
