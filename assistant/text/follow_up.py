"""Does a turn lean on the conversation before it? One rule, used by retrieval and by the safety gate.

A follow-up is elliptic ("what about the risks?", "那价格呢?"), refers back ("is it safe?", "这个多少钱"), pushes
on what was said ("just yes or no", "hypothetically?", "那到底该不该"), or is too short to stand alone without a
subject of its own ("how much?", "多少?"). Patterns run over `text.normalize.fold`ed text.
"""
from __future__ import annotations

import re

from assistant.text.language import HAN


def _c(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


ELLIPTIC = re.compile(r"^(?:what|how) about\b|^(?:and|also|then|so|but)\b|^(?:那|那么|还有|另外|此外|那它)|呢[?？]?$")
PUSH = _c(
    r"\b(?:hypothetical\w*|in theory|theoretically|for a friend|asking for a friend|school project|"
    r"for (?:a|my) (?:novel|story|book|class|essay|paper|project)|just (?:tell|say|answer|give)|"
    r"yes or no|come on|please|what would you do|if you were me|forget (?:that|it|the rules|about)|"
    r"ignore|pretend|role ?play|imagine|let's say|suppose|what if|ballpark|roughly|rough idea|"
    r"approximately|won't tell|off the record|take (?:full )?responsibility|i'm (?:a|an) (?:doctor|"
    r"nurse|physician|researcher|pharmacist)|between us|anyway|still|really|seriously)\b",
    r"^(?:so|then|ok|okay|fine|and|but|well|alright|sure|right)\b|\b(?:then|though)\s*\??$",
    r"假设|理论上|假如|如果|帮朋友|替朋友|朋友问|写作业|作业|小说|故事|就告诉我|直接告诉我|说嘛|"
    r"求你|拜托|是还是不是|是不是|到底|就说|随便说|大概|大致|我自己负责|我是医生|不会告诉|"
    r"^(?:那|所以|好吧|行吧|好|那么|可是|但是)",
)
ANAPHOR = _c(r"\b(?:it|that|this|them|those|these|one|there|he|she)\b", r"它|这个|那个|这种|那种|这家|那家|这样")
# A subject of its own: the question names what it is about, so it can be understood without the turns before.
SUBJECT = _c(
    r"exosom\w*|vesicles?|stem ?cells?|fda|isev|guangdong|regulat\w*|clinical trials?|cosmetic\w*|"
    r"isolat\w*|ultracentrifug\w*|endotoxin|steril\w*|contamina\w*|cold chain|adverse|nebraska|"
    r"article|sources?|study|studies|paper|notice",
    r"外泌体|囊泡|干细胞|监管|药监|化妆品|临床试验|分离|离心|内毒素|无菌|污染|冷链|冷藏|不良|文章|来源|研究|论文|通知|通告",
)
SHORT_TURN_UNITS = 8  # word-sized units: an English word, or two Han characters
_LATIN_WORD = re.compile(r"[a-z0-9']+")


def word_units(folded: str) -> float:
    return len(_LATIN_WORD.findall(folded)) + len(HAN.findall(folded)) / 2


def follows_up(folded: str) -> bool:
    """True when the (folded) turn leans on the conversation before it."""
    if ELLIPTIC.search(folded) or ANAPHOR.search(folded) or PUSH.search(folded):
        return True
    return word_units(folded) <= SHORT_TURN_UNITS and not SUBJECT.search(folded)
