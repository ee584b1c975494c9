"""Which sentences are content a reply may quote: page metadata is not.

A notice or paper carries lines that describe the page rather than say anything: a field label with a list
("AUDIENCE: Health Professional, Patient, Consumer", "Keywords: ...", "Subject terms: ...", "关键词：..."),
a byline ("By Jane Doe and John Roe"), navigation text ("Skip to main content", "返回顶部"), a title line ("Public Safety Notification on Exosome Products"). They stay in the
passages (their words still help find the passage) but are never quoted. A dateline ("Date: July 22, 2020",
"[Posted 12/09/2019]") is kept: it answers "when".
"""
from __future__ import annotations

import re

_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,30}|[\u4e00-\u9fff]{1,6})\s*[:：]\s*(.+?)\s*$", re.DOTALL)
_LIST_SEPARATORS = re.compile(r"\s*[,;，；、]\s*")
_ALWAYS_METADATA_LABELS = {"keywords", "key words", "subject terms", "audience", "tags", "author", "authors",
                           "关键词", "关键字", "标签", "作者", "责任编辑", "编辑", "来源"}
_BYLINE = re.compile(r"^\s*(by|written by|posted by|reviewed by)\s+[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){0,3}"
                     r"((\s*,\s*|\s+and\s+)[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){0,3})*\s*$", re.IGNORECASE)
_NAVIGATION = re.compile(r"^\s*(skip to (main )?content|back to top|return to top|main menu|menu|share|print|"
                         r"email|home|next|previous|返回顶部|返回首页|首页|分享|打印|上一篇|下一篇)\s*[|>»/]*\s*$",
                         re.IGNORECASE)
MAX_LIST_ITEM_WORDS = 6


def is_heading(text: str) -> bool:
    """An English title line: three or more words, mostly capitalised, no sentence punctuation at the end."""
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    if len(words) < 3 or re.search(r"[.!?:;。！？]\s*$", text.strip()):
        return False
    small = {"a", "an", "the", "of", "on", "in", "for", "and", "or", "to", "due", "with", "by", "about", "at"}
    content = [w for w in words if w.lower() not in small]
    return bool(content) and sum(w[0].isupper() for w in content) >= 0.8 * len(content)


def is_metadata(text: str) -> bool:
    """True for a line that describes the page (label with a list, byline, navigation, a title), not its
    content."""
    if _NAVIGATION.match(text) or _BYLINE.match(text) or is_heading(text):
        return True
    labelled = _LABEL.match(text)
    if not labelled:
        return False
    label, value = labelled.group(1).strip().lower(), labelled.group(2)
    if label in _ALWAYS_METADATA_LABELS:
        return True
    items = [item for item in _LIST_SEPARATORS.split(value.rstrip("。.")) if item]
    # A list of three or more short items without sentence punctuation: a field, not a statement.
    return len(items) >= 3 and all(len(item.split()) <= MAX_LIST_ITEM_WORDS and not re.search(r"[.。!?！？]", item)
                                   and not re.search(r"\d", item) for item in items)
