"""Toneless pinyin in a message read as Chinese characters, for intent matching ("wo ying bu ying gai mai" -> "我应不应该买").

A message is taken to carry pinyin when it has a run of at least MIN_RUN_TOKENS consecutive words that are all
pinyin syllables (or joined syllables, "waimiti"), at least MIN_PLAIN_SYLLABLES of them not also English words
("a", "he", "can", "long"). Every run of at least two such words in that message is then converted with a unigram
language model, as a simple input method does: jieba's dictionary (MIT) gives the words and their frequencies,
pypinyin (MIT) each word's reading in context (和 as "he", 暖和 as "nuan huo"), and a dynamic programme picks the
most probable segmentation. A few words of this field that jieba lacks (外泌体) are added. Used only by
`normalize.fold`: never shown, never quoted.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from pathlib import Path

MIN_RUN_TOKENS = 3
MIN_PLAIN_SYLLABLES = 2
MAX_WORD_SYLLABLES = 6
MAX_SYLLABLE_LETTERS = 6  # "zhuang", "shuang"
UNKNOWN_SYLLABLE_PENALTY = 5.0  # log-probability below the rarest word, for a syllable no word reads
MIN_WORD_FREQ = 20  # jieba words rarer than this are left out: they cost load time and win only by accident
# Words of the field, and the words an emergency turns on, at least as frequent as a common word: jieba lacks some
# (外泌体, 不想活了) and would read others as a more frequent homophone. Keys are syllables, joined or spaced.
FIELD_WORDS = {
    "waimiti": "外泌体", "zhensuo": "诊所", "yiyuan": "医院", "jiliang": "剂量", "zhushe": "注射",
    "najia": "哪家", "nali": "哪里", "duoshaoqian": "多少钱", "duoshao": "多少", "gaibugai": "该不该", "yaobuyao": "要不要",
    "zhiliao": "治疗", "yimei": "医美", "linchuang shiyan": "临床试验", "shiyan": "试验", "yanjiu": "研究", "wenzhang": "文章",
    "ziliao": "资料", "zhuce": "注册", "jianguan": "监管", "pizhun": "批准", "fengxian": "风险", "xianzai": "现在",
    "turan": "突然", "gangcai": "刚才", "kanbujian": "看不见", "kanbuqing": "看不清", "huxi kunnan": "呼吸困难",
    "chuan bu shang qi": "喘不上气", "chuan bu guo qi": "喘不过气", "houlong": "喉咙", "yundao": "晕倒", "yun guo qu": "晕过去",
    "jiaobuxing": "叫不醒", "hunmi": "昏迷", "chouchu": "抽搐", "fashao": "发烧", "gaoshao": "高烧", "tuxue": "吐血",
    "chuxue": "出血", "fazi": "发紫", "fahei": "发黑", "yi pian hei": "一片黑", "mei zhi jue": "没知觉",
    "shuo bu chu hua": "说不出话", "bu xiang huo le": "不想活了", "zisha": "自杀", "yishu": "遗书", "haizi": "孩子",
    "baobao": "宝宝",
    "gan xi bao": "干细胞", "jing hua ye": "精华液", "dong gan fen": "冻干粉",
}
FIELD_WORD_FREQ = 20000
# Pinyin syllables that are also English words: they alone never make a message pinyin.
_ENGLISH_HOMOGRAPHS = frozenset(
    "a an e o er ban bang bin bing bun can chi die fan fang gang gun hang he hen hong kong long man me men "
    "pan pen pin ping ran run sun tan tang tie wan you yo ye pi mi lie ma pa mu nu la le di ha ben ken gen "
    "zen wen ding dong ling ming ting shun hun lai mai pai tai bo lu "
    # English words of the same shape, for the cheap screen
    "i go to so no do we be she in hi win sin tin kin fin din fun nun pun shin chin ring king sing wing pie sue "
    "ten den yen ho lo mo dan rang sang song".split())
_WORD = re.compile(r"[a-z]+|[^a-z]+")
# The shape of one toneless syllable (over-generates a little: only a screen before the lexicon is loaded).
_SYLLABLE = re.compile(r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
                       r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|uai|uan|iao|ian|uen|ai|ei|ao|ou|an|en|er|in|un|vn|"
                       r"ia|ie|iu|ua|uo|ui|ue|ve|a|o|e|i|u|v)")


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], dict[str, tuple[str, float]], float]:
    """(the toneless syllables, reading -> (most frequent word with that reading, its log probability), the log
    probability given to a syllable that no word reads)."""
    import jieba
    from pypinyin import lazy_pinyin

    counts: dict[str, int] = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as lines:
        for line in lines:
            word, count, *_ = line.split()
            counts[word] = int(count)
    total = sum(counts.values())
    syllables: set[str] = set()
    best: dict[str, tuple[str, int]] = {}
    for word, count in counts.items():
        if count < MIN_WORD_FREQ:
            continue
        reading = [s.replace("ü", "v") for s in lazy_pinyin(word)]
        if not all(s.isascii() and s.isalpha() for s in reading):
            continue  # a word with Latin letters or digits
        syllables.update(reading)
        key = " ".join(reading)
        if key not in best or count > best[key][1]:
            best[key] = (word, count)
    known = frozenset(syllables)
    for key, word in FIELD_WORDS.items():
        reading = " ".join(s for part in key.split() for s in _syllables_of(part, known) or [part])
        best[reading] = (word, max(counts.get(word, 0), FIELD_WORD_FREQ))
    words = {k: (w, math.log(c / total)) for k, (w, c) in best.items()}
    return known, words, min(logp for _, logp in words.values()) - UNKNOWN_SYLLABLE_PENALTY


@functools.lru_cache(maxsize=1)
def _field_tokens() -> frozenset[str]:
    """Field words written as one token ("zisha", "waimiti"): one of them alone marks a message as pinyin."""
    return frozenset(key for key in FIELD_WORDS if " " not in key)


def _syllables_of(token: str, syllables: frozenset[str]) -> list[str] | None:
    """A word split into the fewest pinyin syllables ("waimiti" -> wai mi ti), or None."""
    best: list[list[str] | None] = [[]] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(max(0, end - MAX_SYLLABLE_LETTERS), end):
            if best[start] is not None and token[start:end] in syllables:
                candidate = best[start] + [token[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1]


def _to_hanzi(syllables: list[str], words: dict[str, tuple[str, float]], unknown: float) -> str:
    """The most probable characters for a syllable sequence (unknown syllables kept as they are, at log
    probability `unknown`)."""
    score = [0.0] + [-math.inf] * len(syllables)
    back: list[tuple[int, str]] = [(0, "")] * (len(syllables) + 1)
    for end in range(1, len(syllables) + 1):
        for start in range(max(0, end - MAX_WORD_SYLLABLES), end):
            found = words.get(" ".join(syllables[start:end]))
            if found is None and end - start > 1:
                continue
            word, logp = found if found is not None else (syllables[start] + " ", unknown)
            if score[start] + logp > score[end]:
                score[end], back[end] = score[start] + logp, (start, word)
    out, end = [], len(syllables)
    while end:
        start, word = back[end]
        out.append(word)
        end = start
    return "".join(reversed(out)).strip()


def _runs(pieces: list[str], is_pinyin: Callable[[str], bool]) -> list[list[int]]:
    """Indices of the pieces in each run of pinyin words (spaces between them; anything else ends a run)."""
    runs, current = [], []
    for i, piece in enumerate(pieces):
        if piece[0].isalpha() and is_pinyin(piece):
            current.append(i)
        elif piece != " ":
            if current:
                runs.append(current)
            current = []
    return runs + [current] if current else runs


def _carries_pinyin(pieces: list[str], runs: list[list[int]]) -> bool:
    return any(pieces[i] in _field_tokens() for run in runs for i in run) or any(
        len(run) >= MIN_RUN_TOKENS and sum(pieces[i] not in _ENGLISH_HOMOGRAPHS for i in run) >= MIN_PLAIN_SYLLABLES
        for run in runs)


def pinyin_to_hanzi(text: str) -> str:
    """`text` (lower case) with its pinyin runs as Chinese characters; unchanged when it carries no pinyin."""
    pieces = _WORD.findall(text)
    # Cheap screen by the shape of a syllable, so that English text never loads the lexicon.
    if not _carries_pinyin(pieces, _runs(pieces, lambda p: bool(_SYLLABLE.fullmatch(p)) or p in _field_tokens())):
        return text
    syllables, words, unknown = _lexicon()
    runs = _runs(pieces, lambda p: _syllables_of(p, syllables) is not None)
    if not _carries_pinyin(pieces, runs):
        return text
    for run in runs:
        if len(run) < 2 and pieces[run[0]] not in _field_tokens():
            continue
        pieces[run[0]] = _to_hanzi([s for i in run for s in _syllables_of(pieces[i], syllables)], words, unknown)
        for i in range(run[0] + 1, run[-1] + 1):
            pieces[i] = ""
    return "".join(pieces)
