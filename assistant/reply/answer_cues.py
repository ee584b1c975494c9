"""What kind of answer a question asks for, and whether a sentence has one: general features for quote order.

"What is X" wants a sentence defining X, "when" a date, "how many / how much" a number, "who" a person or team, "which regulator / organisation"
an organisation. A sentence that has the asked-for kind is preferred among equally relevant ones; a rhetorical
question ("这都啥玩意?") is not an answer and yields to a statement.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Cue(Enum):
    DEFINITION = "definition"
    DATE = "date"
    NUMBER = "number"
    HARM = "harm"
    PERSON = "person"
    ORGANISATION = "organisation"


_MONTHS = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
# "What is an exosome?", "what are exosomes", "外泌体是什么?", "什么是外泌体": the term being defined.
_DEFINITION_QUESTIONS = (
    re.compile(r"^\s*what(?:'s| is| are)\s+(?:an?\s+|the\s+)?([a-z][a-z -]{1,40}?)s?\s*\??\s*$", re.IGNORECASE),
    re.compile(r"^\s*(?:什么是|何为|何谓)\s*([\u4e00-\u9fffA-Za-z]{1,12}?)\s*[?？]?\s*$"),
    re.compile(r"^\s*([\u4e00-\u9fffA-Za-z]{1,12}?)\s*(?:是什么|是啥|指什么|是指什么)(?:东西)?\s*[?？]?\s*$"),
)
_CUES = (  # question patterns, first match wins
    (Cue.ORGANISATION, re.compile(r"\b(which|what) (regulator|agency|authority|organi[sz]ation|body|society|"
                                  r"government|department)|哪(个|家|些)?(监管|机构|部门|组织|协会|学会|政府|单位)|"
                                  r"(什么|哪个)(机构|部门|组织)", re.IGNORECASE)),
    (Cue.DATE, re.compile(r"\bwhen\b|\bwhat (year|date|month|day)\b|\bhow long ago\b|\bsince when\b|"
                          r"什么时候|何时|哪(一)?年|几月|哪天|哪一天|日期|时间是", re.IGNORECASE)),
    (Cue.NUMBER, re.compile(r"\bhow (many|much)\b|\bwhat (percentage|proportion|share|number|price|size)\b|"
                            r"\bhow (big|large|small)\b|多少|几(个|家|种|项|例|名|倍|国|年)|价格|价钱|多大|多小|"
                            r"比例|百分之", re.IGNORECASE)),
    (Cue.HARM, re.compile(r"\b(what|which) (risks?|dangers?|harms?|side effects?|adverse|problems?|injur)|"
                          r"\b(risks?|dangers?|side effects?) (of|do|does|are|is)\b|\bhow (risky|dangerous|safe)\b|"
                          r"(哪些|什么|有何|有啥)(风险|危害|副作用|危险|不良|问题)|(风险|危害|副作用)(是|有)", re.IGNORECASE)),
    (Cue.PERSON, re.compile(r"\bwho\b|\bwhich (researcher|scientist|expert|author|team|group)s?\b|"
                            r"谁|哪位|哪个(团队|课题组|研究者|专家|作者)", re.IGNORECASE)),
)
_HAS = {
    Cue.DATE: re.compile(rf"\b(1[89]|20)\d\d\b|{_MONTHS}|\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d+\s*(年|月|日)|"
                         r"(上|下|本|去|今|前)年|\d0年代"),
    Cue.NUMBER: re.compile(r"\d|[零一二两三四五六七八九十百千万亿]+\s*(个|家|种|项|例|名|倍|成|国|位)|"
                           r"\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|"
                           r"billion|dozens?)\b", re.IGNORECASE),
    Cue.HARM: re.compile(r"\b(risks?|harm\w*|adverse|infections?|injur\w*|blindness|tumou?r|death|contaminat\w*|"
                         r"pathogen\w*|impurit\w*|side effects?|dangerous)\b|风险|危害|危险|感染|不良|污染|杂质|病原体|"
                         r"致病|副作用|失明|肿瘤|死亡", re.IGNORECASE),
    Cue.PERSON: re.compile(r"\b[A-Z][a-z]+ (and|&) [A-Z][a-z]+\b|\bet al\b|\b(Dr|Prof|Professor)\.? [A-Z]|"
                           r"[\u4e00-\u9fff]{1,4}(教授|博士|研究员|团队|课题组|医生|主任|院士)|"
                           r"\b(researchers?|scientists?|investigators?|authors?)\b", re.IGNORECASE),
    Cue.ORGANISATION: re.compile(r"\b[A-Z]{2,6}\b|(Administration|Agency|Society|Centers?|Institute|Ministry|"
                                 r"Commission|Association)\b|[\u4e00-\u9fff]{1,10}(局|委员会|协会|学会|署|部|中心)"),
}
_RHETORICAL = re.compile(r"[?？]\s*[”\"」』)]?\s*$")


@dataclass(frozen=True)
class AnswerCue:
    kind: Cue
    term: str = ""  # the term a definition question asks about


def answer_cue(question: str) -> AnswerCue | None:
    for pattern in _DEFINITION_QUESTIONS:
        if found := pattern.match(question):
            return AnswerCue(Cue.DEFINITION, found.group(1).strip().lower())
    for cue, pattern in _CUES:
        if pattern.search(question):
            return AnswerCue(cue)
    return None


def has_cue(sentence: str, cue: AnswerCue) -> bool:
    if cue.kind is Cue.DEFINITION:
        # the term as the subject of "is/are" or "是指/指的是/是一种": a definition, not a mention
        term = re.escape(cue.term)
        return bool(re.search(rf"(?i)^\W*(the\s+)?{term}(e?s)?\b(\s*\([^)]*\))?\s+(is|are)\s+(an?|the)?\s*\w",
                              sentence)
                    or re.search(rf"(^|[,，:：])\s*{term}[^,，。;；]{{0,6}}(是指|指的是|是一种|是一类)", sentence))
    return bool(_HAS[cue.kind].search(sentence))


def is_question(sentence: str) -> bool:
    """A sentence that ends in a question mark: it asks rather than answers."""
    return bool(_RHETORICAL.search(sentence))


_WORDS = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


def restates(question: str, sentence: str) -> bool:
    """A question in the source that asks what the user asks ("外泌体是怎么提取分离的?" quoted back): it
    restates the question and answers nothing. Nearly all of the question's words and character pairs are in it."""
    if not is_question(sentence):
        return False
    def grams(text: str) -> set[str]:
        units = _WORDS.findall(text.lower())
        return set(units) | {a + b for a, b in zip(units, units[1:])}
    asked = grams(question)
    return len(asked) >= 4 and len(asked & grams(sentence)) >= 0.8 * len(asked)
