"""Text normaliser and intent pattern tables for the safety gate (assistant.safety).

Everything here is general: stems and phrasings of a *kind* of request in
English and Chinese, never one particular question.  `normalise()` folds the
surface noise (width, case, traditional characters, common typos, pinyin,
hyphens) so the patterns only have to describe intent.
"""
from __future__ import annotations

import functools
import re

from assistant.text.normalize import fold

# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

# Traditional -> simplified, for the characters the patterns use.
_TRAD = (
    "體体 嗎吗 療疗 劑剂 診诊 醫医 藥药 買买 賣卖 價价 錢钱 該该 應应 議议 薦荐 這这 個个 針针 幾几 說说 麼么 們们 會会 "
    "為为 還还 發发 燒烧 腫肿 嚨咙 緊紧 氣气 頭头 臉脸 識识 話话 視视 覺觉 殺杀 試试 費费 貴贵 無无 網网 購购 選选 擇择 "
    "機机 構构 問问 題题 風风 險险 術术 腦脑 髮发 脫脱 時时 後后 輸输 靜静 脈脉 暈晕 難难 過过 讓让 給给 開开 準准 確确 "
    "號号 碼码 擔担 種种 歲岁 孫孙 爺爷 媽妈 兒儿 護护 鬆松 細细 幹干 痙痉 攣挛 顆颗 億亿 絡络 線线 鏈链 據据 資资 麗丽 "
    "膚肤 傷伤 殘残 車车 內内 紅红 膿脓 顏颜 癒愈 淨净 從从 處处 東东 國国 韓韩 島岛 龍龙 歡欢 與与 門门 節节 關关 軟软 "
    "痠酸 區区 鄰邻 譜谱 壓压 喚唤 濃浓 釋释 凍冻 乾干 複复 換换 樣样 邊边 癲癫 癇痫 噁恶 戰战 熱热 決决 斷断 煩烦 滅灭 "
    "盡尽 結结 對对 設设 計计 劃划 適适 當当 蓋盖 隻只 則则 學学 測测 驗验 報报 導导 監监 規规 範范 標标 "
    "裡里 裏里 貨货 註注 來来 點点 兩两 萬万 輕轻 減减 寶宝 師师 單单 專专 復复 塗涂 幫帮 變变 癢痒 "
    "擴扩 狀状 動动 際际 嚴严 劇剧 產产 質质 檢检 臨临 證证 離离 純纯 雜杂 儲储 運运 溫温 總总 論论 "
    "獻献 認认 爲为 "
)
_TRAD_TABLE = {ord(pair[0]): pair[1] for pair in _TRAD.split()}

# Chinese typos and near-homophones of the words the patterns rely on.
_ZH_FIXES = (
    (re.compile(r"外[泌必秘沁密蜜咇]\s*[体休本]"), "外泌体"),
    (re.compile(r"剂[亮量两]|济量|计量(?!单位)"), "剂量"),
    (re.compile(r"[动冬洞]干粉"), "冻干粉"),
    (re.compile(r"[珍诊疹][所锁索]"), "诊所"),
    (re.compile(r"[住柱注][射设涉]"), "注射"),
    (re.compile(r"疗[成呈]"), "疗程"),
    (re.compile(r"[买卖][到倒]"), "买到"),
)

# Short English misspellings that an edit-distance rule would get wrong.
_EN_VARIANTS = {
    "shud": "should", "shuld": "should", "shoud": "should", "shld": "should", "sould": "should",
    "mny": "many", "meny": "many", "hoem": "home", "hom": "home", "kne": "knee", "knees": "knee",
    "pls": "please", "plz": "please", "u": "you", "ur": "your", "r": "are", "wat": "what",
    "wht": "what", "offen": "often", "ofen": "often", "oftn": "often", "oftem": "often", "whr": "where", "wher": "where", "whre": "where", "cant": "can't", "dont": "don't",
    "wont": "won't", "im": "i'm", "ive": "i've", "doesnt": "doesn't", "isnt": "isn't",
    "howmuch": "how much", "howmany": "how many", "wanna": "want to", "gonna": "going to",
    "doc": "doctor", "meds": "medication", "chemo": "chemotherapy", "exo": "exosome",
    "exos": "exosomes", "dr": "doctor", "hosp": "hospital", "iv's": "iv", "ivs": "iv",
}

# Canonical words that misspellings are folded onto (edit distance 1).
_CANON = (
    "exosome exosomes exosomal therapy therapies treatment treatments injection injections inject "
    "injecting clinic clinics dose dosage dosing online infusion infusions session sessions "
    "recommend hospital hospitals doctor doctors cheapest cheaper purchase should vials particles "
    "chemotherapy medication insulin surgery breathe fever seizure myself legit reputable needle "
    "reconstitute microneedling package packages country provider brand weekly monthly price "
    "dermatologist facial facials hypothetically pretend kilogram recommendation recommendations"
).split()

# Real words that sit one edit away from a canonical word and must stay as they are.
_KEEP = set(
    "infection infections infect infected clinical clinician clinicians does those these there "
    "horse house close chose nose rose hose dosed dozes dozen serums verum therapist therapists "
    "trials trial treaty treat treats treated rejected ejected inject inspect insect reject "
    "prices pries pride bride breath breathed breathes would could world word shout shoulder "
    "surgery surgeon vision visions version fever fewer clever never lever sever chills chill "
    "hills bleeding breeding leading feeding blending session mission passion recommend "
    "where were here there wear weary sources source course courses articles particle "
    "brand brands bread band bland grand country county counter dose lose rose most post host "
    "needle needles noodle noodles facial racial worth north forth month months weekly weakly "
    "monthly cheap cheaper chap cheep cheat cheats heap provider providers province "
    "package packages legit legal myself herself himself vial dial vital viral vials trail trails "
    "better bitter butter letter setter batter online inline outline purchase provide provided "
    "provides broad brain brains docs doing bran mediation threat selling sell sells band rand "
    "county ever vias inulin needed chapter breadth prepend logit ".split()
)


def _deletes1(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@functools.lru_cache(maxsize=1)
def _canon_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for word in _CANON:
        for key in _deletes1(word) | {word}:
            index.setdefault(key, word)
    return index


@functools.lru_cache(maxsize=4096)
def _fix_token(token: str) -> str:
    """Fold a misspelt English word onto a canonical keyword (edit distance 1).

    Only for tokens of five letters or more, keeping the first letter; a canonical
    word shorter than six letters accepts only an inserted letter ("dosse"), the
    rest also a dropped, swapped or replaced one ("injct", "clinik", "exsome").
    """
    if token in _EN_VARIANTS:
        return _EN_VARIANTS[token]
    if len(token) < 5 or token in _KEEP:
        return token
    index = _canon_index()
    if index.get(token) == token:
        return token
    canon = set(_CANON)
    for smaller in _deletes1(token):  # token has one letter too many
        if smaller in canon and smaller[0] == token[0]:
            return smaller
    hit = index.get(token)  # token lacks one letter
    if hit and len(hit) >= 6 and hit[0] == token[0]:
        return hit
    for key in sorted(_deletes1(token)):  # one letter replaced or swapped
        hit = index.get(key)
        if hit and len(hit) >= 6 and len(hit) == len(token) and hit[0] == token[0]:
            return hit
    return token


_LATIN_WORD = re.compile(r"[a-z][a-z']*")
_SPACES = re.compile(r"\s+")
_HAN_LATIN = re.compile(r"(?<=[\u3400-\u9fff])(?=[a-z0-9])|(?<=[a-z0-9])(?=[\u3400-\u9fff])")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'",
                         "-": " ", "_": " ", "\u2010": " ", "\u2011": " ", "\u2013": " ", "\u2014": " "})


@functools.lru_cache(maxsize=2048)
def normalise(text: str) -> str:
    """`text.normalize.fold` (NFKC, format characters dropped, lower case, OpenCC simplified characters, spaced-out
    letters and leetspeak joined, pinyin as characters), then curly quotes, folded typos, single spaces."""
    t = fold(text).translate(_QUOTES).translate(_TRAD_TABLE)
    for pattern, repl in _ZH_FIXES:
        t = pattern.sub(repl, t)
    t = _LATIN_WORD.sub(lambda m: _fix_token(m.group(0)), t)
    # "can i by" / "were can i" style homophones, only in a buying / asking frame.
    t = re.sub(r"\b(can i|to|i want to|where to|i wanna) by\b", r"\1 buy", t)
    t = re.sub(r"\bwere (can|do|should|could|to)\b", r"where \1", t)
    # Space between Han and Latin/digits so that \b works in code-switched text ("的dose一般").
    t = _HAN_LATIN.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


from assistant.text.follow_up import ANAPHOR, PUSH  # noqa: E402,F401 - the patterns' shared discourse markers

# --------------------------------------------------------------------------
# Pattern tables.  All patterns run over normalise()d text.
# --------------------------------------------------------------------------

def _c(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


# ---- Topic: exosomes or a treatment, in either language (or an anaphor). ----
TOPIC = _c(
    r"exosom\w*|\bevs?\b|vesicles?|secretome|stem ?cells?|\bmsc\w*|\bprp\b|regenerative|"
    r"therap\w*|\btreat\w*|inject\w*|infus\w*|\biv\b|\bdrips?\b|facials?|serums?|\bvials?\b|"
    r"products?|procedures?|\bshots?\b|sessions?|protocols?|particles|powder|microneedl\w*|"
    r"anti ?aging|rejuvenation|hair (?:loss|growth)|skin ?care|cosmetic\w*|packages?",
    r"\b(?:it|this|that|them|these|those|one)\b",
    r"外泌体|囊泡|干细胞|分泌组|再生|治疗|疗法|疗程|注射|输注|输液|打针|项目|产品|原液|冻干粉|精华|"
    r"面膜|医美|抗衰|生发|护肤|套餐|它|这个|那个|这种|做|打|用|exosome",
)

# ---- The question asks what the sources / regulators / studies say. ----
FACTUAL_FRAME = _c(
    r"\baccording to\b|\bper (?:the |that |this )?(?:article|sources?|study|fda|isev|paper|report|notice)",
    r"\b(?:did|does|do|have|has)\b(?! i\b| we\b| you\b)(?: [\w']+){1,5}? (?:find|found|report|reported|"
    r"say|said|describe|mention|document|estimate|identify|count|list|note|warn|claim|conclude|show|"
    r"record|recorded|track|measure|examine|analy[sz]e|survey|investigate)\b",
    r"(?<![我你您])(?:觉得|认为|看来|指出|表示|提到|说过)",
    r"(?:\b(?:the|this|that|these|those|its|their)\s+(?:\w+\s+)?(?:article|articles|sources?|study|"
    r"studies|paper|papers|notice|notification|reports?|alert|authors?|researchers|survey|review|"
    r"text|documents?|references?|regulators?|agency|trials?|data|literature|guidelines?|statement|"
    r"scientists|experts|warning)|\b(?:fda|isev|guangdong|mpa|nmpa|sources|researchers|scientists|"
    r"regulators))(?:'s)?\b.{0,60}?\b(?:say|says|said|state|"
    r"states|stated|report|reports|reported|describe|describes|described|mention|mentions|"
    r"mentioned|list|lists|listed|find|finds|found|warn|warns|warned|note|notes|noted|show|shows|"
    r"showed|claim|claims|claimed|use|used|explain|explains|explained|discuss|discusses|discussed|"
    r"consider|considers|considered|document|documented|suggest|suggests|suggested|conclude|"
    r"concluded|raise|raises|raised|cite|cites|cited|estimate|estimated|identify|identified|"
    r"count|counted|write|writes|wrote|define|defines|tell us|advise|advises|recommend|recommends|"
    r"record|recorded|track|tracked|collect|collected|measure|measured|examine|examined|analy[sz]ed?|"
    r"survey|surveyed|investigate|investigated|look at|looked at|compare|compared)\b",
    r"\bwhat (?:does|do|did|is|are|was|were)\b.{0,80}?\b(?:fda|isev|article|sources?|study|studies|"
    r"paper|notice|notification|report|regulators?|guangdong|researchers|authors?|trials?|law|laws)\b",
    r"\b(?:in|from|by) the (?:article|sources?|study|studies|paper|notice|notification|report|"
    r"references?|literature|text)\b",
    r"\bwhat (?:does|do|did|is) .{1,60}? mean\b|\bmeaning of\b|\bdefinition\b|\bdefined\b|"
    r"\bsummari[sz]e\b|\bwhat happened\b|\bwhy\b|\bwhat is an?\b|\bwhat are\b.{0,30}\b(?:methods|"
    r"risks|issues|problems|directions|differences)\b|\bhow (?:does|do|did|is|are|was|were|might|"
    r"could|can) (?:exosom\w*|evs?|extracellular|ultracentrifugation|precipitation|filtration|"
    r"researchers|scientists|the)\b",
    r"\bare there any\b.{0,40}\b(?:approved|authori[sz]ed|licensed|cleared)\b|"
    r"\b(?:fda|nmpa) ?(?:approved|cleared|authori[sz]ed)\b",
    r"(?:文章|资料|来源|原文|文中|报道|报告|研究|论文|文献|通告|通知|公告|警示|警告|声明|fda|isev|"
    r"国际细胞外囊泡学会|药监局?|监管(?:部门|机构)?|广东|作者|调查|综述|试验|专家|科学家)"
    r".{0,16}?(?:说|提到|提及|讲|写|列|举|描述|介绍|报道|报告|认为|指出|发现|警告|提醒|建议|"
    r"怎么看|怎么说|是怎么|表示|总结|强调|记录|统计|称|提出|解释|定义|分析|讨论)",
    r"根据 ?(?:文章|资料|fda|isev|研究|报道|来源|原文|文献|通告)|为什么|为何|总结|什么是|"
    r"是什么意思|什么意思|指的是什么|的含义|有哪些(?:方法|风险|问题|方向)|有没有(?:获得|获)?.{0,8}批准|(?:获|经)? ?fda ?批准",
)

# ---- Generic "what happened to / which symptoms did patients have" questions. ----
CASE_REPORT_FRAME = _c(
    r"\b(?:what|which) (?:symptoms|side effects|adverse|reactions|complications|infections|"
    r"injuries|harms?|problems)\b|\bwhat happened\b|\bpatients\b",
    r"(?:哪些|什么)(?:症状|副作用|不良反应|并发症|感染|伤害|问题)|发生了什么|出了什么事|患者们|病人们",
    r"\b(?:cause[sd]?|causing|lead to|leads to|result in|risk of|linked to|associated with|side effects?|"
    r"i heard|i read|is it true|possible|rare|common)\b",
    r"会不会|会导致|导致|引起|风险|听说|是真的吗|可能|常见",
)

# A named third party's view ("what is his view on exosome clinics?"): a question about what someone in the
# sources thinks. Only raises the bar for the kNN layer to refuse (safety._asks_what_sources_say).
THIRD_PARTY_VIEW = _c(
    r"\b(?:his|her|their) (?:views?|opinions?|positions?|stance|take|verdict)\b",
    r"(?<![我你您])(?:他|她|他们|她们)的(?:观点|看法|立场|意见|态度)",
)

# ---- Openers that only ask for information ("I'd like to know", "请问"); removed before the personal checks. ----
NEUTRAL_ASK = _c(
    r"\bi(?: would|'d)? (?:want|like|wish|love) to (?:know|understand|learn|ask|find out|read)\b|"
    r"\bi(?:'m| am) (?:curious|wondering|interested)\b|\bi wonder\b|\b(?:can|could|would) you "
    r"(?:tell|explain to|show) (?:me|us)\b|\b(?:tell|explain to|show) (?:me|us) (?:about|what|why|how|"
    r"whether|if|which)\b|\bhelp me understand\b",
    r"我(?:很)?(?:想|想要|希望)(?:知道|了解|问问?|请教|弄清楚|搞清楚)|请问|我(?:很)?好奇|"
    r"(?:能不能|可以|能|请)?(?:告诉|给|帮)我(?:讲讲|讲一下|介绍|解释|说说|说一下|总结|概括|梳理|科普)|"
    r"(?:帮|替)我(?:总结|解释|概括|梳理|理解)|(?:让|叫|托)我(?:来)?问(?:一下|问)?",
    r"\b(?:asked|wants|wanted|told) me to ask\b",
    # advice denied: "I'm NOT asking for a recommendation", "我不是要你推荐也不是要买"
    r"\b(?:i'm|i am) not (?:asking|looking) for (?:a |any )?(?:recommendations?|advice|prescriptions?)\b|"
    r"\bi won't (?:do|buy|try) anything\b|(?:我)?(?:不是|并不是|并非|没有)(?:要|想|在)?(?:你|您)?(?:推荐|建议|买|要买|想买)(?:什么)?",
)

# ---- The user asks for a personal verdict or instruction (beats a factual framing). ----
ADVICE_REQUEST = _c(
    r"\b(?:should|shall|can|could|may|must|do|would|will|is it ok (?:for|if)) (?:i|we)\b|"
    r"\b(?:i|we) (?:should|ought to|need to)\b",
    r"\b(?:for|into|on|in) (?:me|myself)\b|\bme to (?:get|do|try|use|take|have|buy|start|stop)\b|"
    r"\bmy own\b|\bmyself\b|\bi'd rather\b|\bi would rather\b",
    r"\b(?:give|tell|show|send|recommend|prescribe|find|sell) (?:me|us)\b",
    r"\b(?:should|can|could|would|will) (?:she|he|they|my \w+)\b|"
    r"\b(?:would|do|can|could|will|if|should) you (?:recommend|suggest|advise|tell|prescribe|give|"
    r"do|get|try|choose|pick|inject|go)\b|\byou'll inject\b|\bif you were me\b|\bin my shoes\b|"
    r"\byour (?:\w+ )?(?:advice|recommendation|opinion|pick|choice)\b|\b(?:exact|specific|"
    r"personal|concrete) advice\b",
    r"我(?:该|应该|应不应该|该不该|要不要|需不需要|能|能不能|可以|可不可以|适合|适不适合|是不是(?:该|可以|能))|"
    r"适合我|(?:给|帮|替|为)(?:我|他|她|家长).{0,3}?(?:开|打|推荐|配|选|挑|定|制定|设计|安排|写|找)|"
    r"让我(?:做|打|用|试)|[他她](?:该|应该|能不能|可以|要不要)|"
    r"我(?:爸|妈|父亲|母亲|孩子|儿子|女儿|老公|老婆|丈夫|妻子|家人|朋友|奶奶|爷爷|外婆|外公)"
    r"(?:该|应该|能|可以|要不要|适合)|你 ?(?:建议|推荐|觉得|会|认为|recommend|suggest)|"
    r"对我(?:来说)?(?:合适|适合|好|有用|安全|有效)",
)

# ---- A verdict asked for a named person: the asker, a relative, "we". Every form names whom it is for, so a
# question with a personal scenario that asks a fact ("if they come from my own cells, can they be contaminated?")
# is not one. ----
_WHO = r"(?:i|we|she|he|my \w+(?: \w+)?|our \w+)"
_DO_IT = (r"(?:get|do|try|use|take|have|go for|go ahead|go through with|start|continue|keep|buy|book|inject|"
          r"receive|undergo|risk|choose|pick|let|give|put|stop|skip|sign up|go back|come back|return|rebook|redo|repeat|"
          r"go(?! to (?:the |a |an |my )?(?:er|doctor|hospital|emergency|a&e|gp|clinic to report)))")
_FINE = r"(?:safe|ok|okay|fine|alright|wise|smart|worth it|a good idea|right|suitable|dangerous|risky|harmful)"
VERDICT_ASK = _c(
    rf"\b(?:should|shall|can|could|may|must|would|do|will|is it ok (?:for|if)) {_WHO} (?:\w+ )?{_DO_IT}\b",
    rf"\b(?:is|would|will) (?:it|this|that|they|these|exosomes?) (?:\w+ )?(?:be )?{_FINE} (?:for|if) "
    rf"(?:me|us|her|him|them|i|we|she|he|my \w+|our \w+)\b",
    rf"\b(?:confirm|promise|guarantee|reassure me|assure me)\b.{{0,50}}?\b{_FINE}\b|"
    rf"\b{_FINE}\b.{{0,30}}?\b(?:for me|for my \w+)\b.{{0,30}}?\bconfirm\b",
    r"\b(?:i'm|i am|we're|we are|she's|she is|he's|he is) (?:good|fine|ok|okay|safe|clear|cleared|all set) to "
    r"(?:go|go ahead|proceed|do it|get it|start|continue)\b|\bthat means (?:i|we|she|he) (?:can|could|should) (?:go|do|get|start|try)\b",
    r"\b(?:would|do|can|could|will|should) you (?:recommend|suggest|advise)\b|\bif you were me\b|\bin my shoes\b|"
    r"\byour (?:\w+ )?(?:advice|recommendation|verdict)\b",
    r"(?:我|我们|咱|俺|他|她|孩子|家里|我们家|我家)[^，,。？?]{0,12}?(?:该不该|要不要|应不应该|值不值得|适不适合|能不能|"
    r"可不可以|需不需要)(?:去)?(?:试|做|打|用|买|弄|停)|"
    r"我(?:该|应该|能|可以)(?:去)?(?:试|做|打|用|买|停)|适合(?:我|他|她|孩子|我[妈爸]|我们)|"
    r"对(?:我|他|她|孩子)(?:来说)?(?:合适|适合|好|有用|安全|有效)|"
    r"(?:我|他|她|孩子)[^，,。？?]{0,12}?(?:应该|会|是不是)?(?:没问题|没事|安全)了?(?:吧|吗|嘛)|"
    r"(?:确认|保证|担保|打包票)[^。？?]{0,12}?(?:安全|没问题|没事|可以)|(?:帮|替|给)我(?:判断|决定|拿主意|定夺)",
)

# ---- A question for a fact (what, which, who, when, why, how big): its object decides whether it is advice. ----
FACT_QUESTION = _c(
    r"^(?:[\w']+[,，]? ){0,10}?(?:what|what's|whats|which|who|whom|whose|when|why|how (?:big|small|large|long|old|far))\b",
    r"是什么|什么是|为什么|哪一?年|什么时候|何时|谁|多大|多小|多长|有多少(?:家|个|人|例|国)",
)

# ---- Framings that carry a request past the rules: role play, "ignore your rules", a research pretext. ----
MANIPULATION_CUE = _c(
    r"\b(?:ignore|pretend|role ?play|act as|you are now|you're now|jailbreak|developer mode|dan mode|"
    r"no (?:rules|limits|restrictions|filters)|hypothetical\w*|for (?:a |my |our )?(?:research|thesis|paper|story|"
    r"novel|script|class|assignment))\b",
    r"忽略|无视|假装|扮演|角色|你现在是|没有(?:任何)?(?:限制|规则)|假设|论文|小说|剧本|作业",
)

# ---- Personal context: the question is about the user or someone they name. ----
PERSONAL = _c(
    ADVICE_REQUEST.pattern,
    # a plan told without its "I": "thinking of stopping chemo and going with exosomes"
    r"^(?:(?:so|and|but|ok|okay|hmm|um)[, ]+)?(?:thinking|considering|planning) (?:of|about) (?:\w+ing)\b",
    r"\bi (?:want|need|plan|intend|hope|wish|would like|am going|am thinking|am considering|"
    r"am planning|am getting|get|do|use|try|take|buy|start|stop|quit|skip|inject|had|have)\b",
    r"\bi'(?:m|d|ll|ve) (?:going|getting|planning|considering|thinking|like|rather|been)\b|"
    r"\bi(?:'ll| will) (?:\w+ )?(?:go|get|try|do|book|buy|have)\b",
    r"\b(?:for|into|to|on|in|with) (?:me|my|myself|us|our)\b|\bme to\b",
    r"\b(?:get|help) (?:me|us)\b|\bfor (?:her|him|them)\b|"
    r"\b(?:her|his|their) (?:chemotherapy|treatment|medication|doctor|surgery|insulin)\b",
    r"\b(?:cost|charge|bill)s? (?:me|us)\b|\b(?:will|would|do|should) (?:i|we) (?:pay|spend)\b|(?:花|收|要|赚)我|我(?:得|要)花|"
    r"我(?:需要|想|打算|准备|要|自己|在家)|给我|帮我|让我|替我|对我|为我|我[^，,。？?]{0,4}?(?:也|顺便)(?:去|要)?(?:做|打|试|买)|"
    r"我(?:爸|妈|父亲|母亲|孩子|儿子|女儿|老公|老婆|丈夫|妻子|家人|朋友|奶奶|爷爷|外婆|外公)|"
    r"(?:给|帮)(?:他|她|家长)",
    r"\bmy (?:mom|mum|mother|dad|father|son|daughter|kid|kids|child|children|wife|husband|partner|"
    r"friend|grandma|grandmother|grandpa|grandfather|sister|brother|aunt|uncle|parents?|baby|family|"
    r"boyfriend|girlfriend)\b|\b(?:a|my) friend\b|\bsomeone\b|\bher (?:chemotherapy|doctor|cancer)\b",
)

# ---- Intent to buy or to choose (where, which one, cheapest, recommend): a shopping or choice request even when
# it names nobody. Without it and without a person, a price or a clinic is a fact to look up (gate.py). ----
SHOPPING_OR_CHOICE = _c(
    r"\b(?:buy|buying|purchase|order|shop|get (?:some|one|it|them)|sell(?:s|ing)? (?:it|them)|cheap\w*|"
    r"afford\w*|discount\w*|deal|deals|where (?:can|could|do|to|is|are)|which (?:clinic|doctor|brand|"
    r"product|supplier|seller|shop|store|country|package|one)|best|top|recommend\w*|trust\w*|reliable|"
    r"legit|near (?:me|here)|book\w*|appointment)\b",
    r"买|购|下单|便宜|划算|优惠|折扣|哪里|哪儿|哪家|哪个(?:诊所|医院|医生|品牌|牌子|产品|机构|国家|套餐)|"
    r"去哪|最好|推荐|靠谱|正规|可靠|附近|预约|挂号|值得",
)

# ---- Refusal rules ----
_CARE_STRONG_EN = (r"chemotherapy|radiation|radiotherapy|insulin|surgery|surgeries|transplant|dialysis|"
                   r"prescriptions?|antidepressants?|steroids?|statins?|inhalers?|oncologist|"
                   r"dermatologist|physio\w*|physical therapy|vaccinations?|check ?ups?|appointments?|"
                   r"biopsy|knee replacement|hip replacement|antibiotics?|blood thinners?|immunotherapy|"
                   r"standard (?:care|treatment)|conventional (?:care|treatment|medicine)|"
                   r"(?:my|her|his|their|our|the|a|current|prescribed|regular|usual) (?:\w+ )?(?:medications?|"
                   r"medicines?|meds|drugs?|pills?|doctors?|gp|physician|specialist|oncologist)"
                   r"(?! regulat| deliver| administration| agency| carrier| loading| develop)")
_CARE_ZH = (r"化疗|放疗|靶向|药|胰岛素|手术|医生|医院|看病|透析|皮肤科|检查|正规治疗|复查|就医|门诊|"
            r"疫苗|激素|类固醇|免疫抑制|抗凝|他汀|抗生素|降压|降糖|抗抑郁|置换|移植|康复训练|理疗")
_STOP_EN = (r"stop\w*|quit\w*|skip\w*|drop\w*|cancel\w*|ditch\w*|give up|giving up|come off|"
            r"go off|get off|coming off|going off|avoid\w*|forgo\w*|delay\w*|postpon\w*|"
            # refusing care, not a clinician refusing exosomes ("my doctor refused to give me exosomes")
            r"refus\w*(?= (?:to (?:take|have|do|get|go on|continue|start|keep) )?(?:(?:her|his|my|the|their|any|all) )?"
            rf"(?:chemo\w*|{_CARE_STRONG_EN}|treatment|therapy|care|medication\w*|medicine\w*|prescri\w*))|"
            r"replac(?:e|es|ed|ing)|substitut\w*|instead|rather|in place of|swap\w*|switch\w*|"
            r"no longer|not need|don't need|won't need|do without|taper\w*|wean\w*|still need|"
            r"still have to|keep taking|continue taking|need to keep|have to keep|"
            r"without|not (?:go|see|get)|don't (?:go|see|want)|won't (?:go|see)")
_STOP_ZH = (r"停掉|停用|停药|停了|停止|停|不吃|不打|不用|放弃|不去|不想去|不看|不做|代替|替代|取代|改用|"
            r"换成|换掉|省掉|省了|不再|戒掉|"
            rf"拒绝(?=(?:再|继续|接受|做|去|吃|用|打)?(?:{_CARE_ZH}|治疗))")

STRONG, WEAK = "strong", "weak"

# (category, strength, needs_topic, needs_personal, pattern).
# STRONG rules are request forms ("should I", "which clinic is best", "how much
# should be injected"): they fire whatever framing surrounds them, so "According
# to the article, which clinic is best?" is still refused.  WEAK rules are
# keywords that factual questions also use (dose, price, buy, clinic, how many):
# they are ignored when the question asks what the sources say and asks no
# personal verdict.  needs_personal: only when the text is about the user or a
# person they name.  The first rule that fires names the category.
REFUSE_RULES: tuple[tuple[str, str, bool, bool, re.Pattern[str]], ...] = (
    # ---------------- replacing or stopping medical care ----------------
    ("replacing_medical_care", STRONG, True, True, _c(
        rf"^(?=.*\b(?:{_STOP_EN})\b)(?=.*\b(?:{_CARE_STRONG_EN}|treatment|therapy|care)\b)",
        rf"^(?=.*(?:{_STOP_ZH}))(?=.*(?:{_CARE_ZH}|治疗))",
        r"^(?=.*(?:不治疗|不做治疗|停止治疗|放弃治疗|不看病|不去看))",
    )),
    ("replacing_medical_care", STRONG, True, False, _c(
        r"\bignor\w* (?:what )?(?:my|her|his|their|the) (?:\w+ )?(?:doctor|oncologist|dermatologist|"
        r"specialist|gp|physician|advice|prescription)",
        r"\bbetter than (?:her|his|my|their|our|the|standard|conventional|regular) (?:\w+ )?"
        r"(?:chemotherapy|radiation|medication|surgery|insulin|treatment|drugs?|pills?|therapy)\b",
        r"比(?:她|他|我|你)?的?(?:化疗|放疗|药|手术|治疗|胰岛素).{0,4}(?:好|强|管用|有效)",
        r"(?:只|光|单|全|就)靠外泌体|\b(?:just|only|solely|purely) (?:rely|relying|depend\w*) on\b|"
        r"\brely (?:only|solely|just) on\b|\b(?:only|just) (?:use|do|take) exosom\w*",
        r"(?:能|可以|能不能|可不可以)(?:代替|替代|取代).{0,10}?(?:吗|么|\?)|(?:药|化疗|胰岛素|手术).{0,8}?"
        r"(?:能停|可以停|能不能停|可以不|能不|不用)",
    )),
    ("replacing_medical_care", WEAK, True, False, _c(
        rf"^(?=.*\b(?:{_STOP_EN})\b)(?=.*\b(?:{_CARE_STRONG_EN})\b)",
        r"\b(?:can|could|should|will) (?:exosom\w*|it|they|this|that) (?:\w+ )?(?:replace|substitute for|"
        r"stand in for)\b",
        rf"^(?=.*(?:{_STOP_ZH}))(?=.*(?:{_CARE_ZH}))",
    )),
    # ---------------- self-administration ----------------
    ("self_administration", STRONG, False, False, _c(
        r"\bself ?(?:inject\w*|administ\w*)\b|\b(?:needle|syringe|cannula) (?:length|size|gauge|depth)\b|"
        r"\b(?:what|which) (?:size |length )?(?:needle|gauge|syringe|cannula)\b",
        r"\bhow (?:do|can|should|would|to) (?:i|we|you|one)? ?(?:inject|administer|microneedle|"
        r"infuse|shoot|put|apply|reconstitute|dilute|mix|draw|load|fill|prepare)\b|"
        r"\bhow (?:do|can|should|to) (?:i|we|you|one)\b.{0,40}?\b(?:syringe|needle|cannula|drip)\b|"
        r"\b(?:walk me through|step by step|steps to|"
        r"instructions (?:for|to|on)|guide me|teach me|show me how)\b.{0,60}?\b(?:inject\w*|microneedl\w*|"
        r"infus\w*|iv|drip|needles?|administer\w*|apply\w*|reconstitut\w*)",
        r"\b(?:inject\w*|microneedl\w*|infus\w*)\b.{0,30}?\b(?:into|in|on) (?:my|her|his)\b",
        r"(?:自己|在家|家里|自行|亲自|自用|diy|私下).{0,20}?(?:注射|打|针|微针|导入|混|加到|加进|输液|输注|"
        r"复溶|稀释|配|滚针|水光).{0,12}?(?:可以|行|能|安全|要注意|注意什么)(?:吗|么|不|嘛|\?|什么)|"
        r"(?:能|可以|能不能|可不可以)(?:自己|在家).{0,12}?(?:注射|打|导入|输)",
        r"(?:怎么|如何|怎样).{0,12}?(?:复溶|稀释|配制|注射|打针|导入|输注)|怎么(?:配|打)|"
        r"(?:注射|打针|导入|输注).{0,8}?(?:方法|步骤|手法|技巧)|"
        r"(?:多长|多粗|多大|几号|什么|多深)的?针|针头|针.{0,3}(?:多深|多长)",
    )),
    ("self_administration", WEAK, False, False, _c(
        r"\b(?:at home|home ?made|myself|my own|by myself|on my own|yourself|diy|do it yourself|"
        r"self ?treat\w*|home use|home kit|in my (?:bathroom|"
        r"kitchen|house|apartment|room))\b.{0,80}?\b(?:inject\w*|needles?|syringes?|microneedl\w*|"
        r"derma ?(?:roll\w*|pen|stamp)|iv|drip|infus\w*|reconstitut\w*|dilut\w*|mix\w*|prepar\w*|"
        r"administer\w*|shoot|cannula|filler|add|set (?:it|this) up)\b",
        r"\b(?:inject\w*|needles?|syringes?|microneedl\w*|derma ?(?:roll\w*|pen|stamp)|iv|drip|"
        r"infus\w*|reconstitut\w*|dilut\w*|mix\w*|administer\w*|shoot|cannula|filler|add|rub\w*|"
        r"apply\w*|put\w* on|massag\w*)\b.{0,80}?"
        r"\b(?:at home|myself|my own|by myself|on my own|yourself|diy)\b",
        r"(?:自己|在家|家里|自行|亲自|自用|diy|私下).{0,20}?(?:注射|打|针|微针|导入|混|加到|加进|"
        r"输液|输注|复溶|稀释|配|滚针|水光)",
        r"(?:注射|打|微针|导入|混|输液|复溶|稀释).{0,12}?(?:自己|在家)",
    )),
    ("self_administration", WEAK, True, True, _c(
        r"\b(?:use|apply|put|try|rub|spread)\b.{0,60}?\b(?:on|in|into) (?:my|her|his) (?:own )?\w+",
        r"(?:自己|在家).{0,10}?(?:用|涂|抹|敷)",
    )),
    ("self_administration", WEAK, False, False, _c(
        r"\breconstitut\w*|\bdilut\w*", r"复溶|稀释|步骤|手法|操作方法",
    )),
    # ---------------- dosing ----------------
    ("dosing", STRONG, False, False, _c(
        r"\bhow (?:much|many|often|frequently|long)\b(?=.{0,80}?\b(?:should|shall|need|needs|"
        r"needed|ideal|right|best|recommended|enough|safe|at once|at a time|would you|will you|"
        r"per (?:dose|session|injection|treatment|infusion|face|knee|side|joint|kg|kilo\w*)|"
        r"you'll|do i|do you|would i|to (?:get|use|inject|take|give|put|apply|have|wait)|"
        r"in(?:to)? (?:each|my|one))\b)",
        r"\b(?:right|correct|ideal|optimal|recommended|proper|safe|safest|best|good|sensible|"
        r"reasonable|appropriate|suitable|starting|initial|max|maximum) (?:\w+ )?(?:doses?|dosage|dosing|amount|"
        r"quantity|number of \w+|frequency|concentration|volume|interval|schedule|regimen|course)\b",
        r"\b(?:what|which) (?:doses?|dosage|amount|concentration|volume)\b(?=.{0,60}?\b(?:should|would|"
        r"for (?:me|my|her|him)|ideal|best|right|safe|need|use)\b)",
        r"\b(?:with|your|his|her|exact|their) (?:exact |specific )?(?:doses|dosing|dosages?)\b|"
        r"\bdosing (?:secrets?|tips?|advice|protocol|schedule|regimen)\b",
        r"\bper (?:kg|kilo\w*|pound|lb|knee|side|face|joint|eye)\b",
        r"\b(?:what|which|how much) (?:\w+ )?(?:doses?|dosage|volume|amount|quantity|concentration|"
        r"number of \w+)\b.{0,60}?\b(?:each|per) (?:side|knee|joint|eye|cheek|session|treatment|area|"
        r"face|injection|infusion)\b",
        r"\b(?:\d+|a|one|few|several|ten|hundred)\s*(?:billion|million|trillion)?\s*(?:particles|ml|"
        r"milliliters?|millilitres?|cc|mg|units|vials?)\b.{0,30}?\b(?:should|enough|right|ok|okay|safe|"
        r"need|too much|too many)\b",
        r"\b(?:sessions?|rounds?|injections?|infusions?|vials?|shots?|treatments?) (?:and|or|,)? ?"
        r"(?:what|which|how much)\b",
        r"(?:多少|几).{0,8}?(?:合适|最理想|理想|最好|比较好|为宜|才够|够不够|足够)|"
        r"(?:需要|要|该|应该|得).{0,6}?(?:多少|几(?:次|针|支|瓶|个疗程))|每公斤|每千克|按体重|"
        r"多久.{0,4}?一次|隔多久|间隔多(?:久|长)|一周几|一个月几|每周还是每月|"
        r"一次.{0,6}?(?:多少|几)|(?:打|注射|用|输|加|放|涂|抹|导入|兑|配|混|溶|稀释|加入|敷).{0,3}?"
        r"(?:多少|几(?:次|针|支|瓶|毫升))|多少(?:亿|毫升|毫克|单位)|多少 ?(?:ml|mg|cc|billion|million)|"
        r"(?:具体|常规|推荐|标准)的?(?:剂量|用量)|剂量(?:秘诀|方案|建议)|疗程.{0,4}?(?:多长|多久|几)",
    )),
    ("dosing", WEAK, True, True, _c(
        r"\b(?:concentration|amount|volume|quantity|strength|how often|doses?|dosage|"
        r"number of (?:particles|sessions|injections|treatments|vials|shots|rounds))\b|"
        r"\bhow (?:much|many)\b.{0,40}?\b(?:sessions?|treatments?|injections?|infusions?|shots?|rounds?|"
        r"vials?|ml|particles|drops|times|of (?:it|them|this|that))\b",
        r"浓度|剂量|用量|频率|次数|(?:打|用|做|注射|输|敷|涂|抹).{0,6}?(?:多少|几)",
    )),
    ("dosing", WEAK, False, False, _c(
        r"\b(?:doses?|dosage|dosing|dosed|overdose)\b|\b(?:per|each|every) (?:session|treatment|"
        r"injection|infusion|area)\b|\b(?:enough|too much|too many|too little|how many times)\b|"
        r"\bhow (?:much|many|often)\b.{0,40}?\b(?:sessions?|injections?|infusions?|shots?|vials?|ml|"
        r"particles|per)\b",
        r"剂量|用量|几针|几支|几瓶|几次|几个疗程|多少次|多少支|多少瓶|多少针|多少(?:个)?颗粒",
    )),
    # ---------------- where to buy / price ----------------
    ("where_to_buy", STRONG, True, False, _c(
        r"\bwhere\b.{0,30}?\b(?:can|could|do|should|to|would)\b.{0,20}?\b(?:buy|purchase|order|get|"
        r"find|source|obtain|score|shop)\b",
        r"\b(?:link|links|url|website|site) (?:to|for|where)\b.{0,20}?\b(?:buy|order|purchase|get)\b|"
        r"\b(?:give|send|show) me (?:a |the )?(?:link|url|website|site|seller|supplier)\b",
        r"\b(?:which|what) (?:\w+ ){0,2}?(?:brand|brands|serum|product|kit|supplier|seller|vendor|"
        r"company)\b.{0,40}?\b(?:buy|purchase|order|get|legit|reputable|best|trust\w*|genuine|real)\b|"
        r"\b(?:best|most (?:legit|reputable|trusted|trustworthy|reliable)|cheapest|top) (?:\w+ ){0,2}?"
        r"(?:brand|brands|serums?|products?|kits?|suppliers?|sellers?|vendors?)\b",
        r"\b(?:who|which (?:\w+ )?(?:compan\w*|sellers?|suppliers?|vendors?|stores?|shops?|websites?|labs?|"
        r"manufacturers?|brands?|pharmac\w*))\b.{0,10}?\b(?:sells?|ships?|carries|stocks?|offers?)\b"
        r"(?!.{0,40}\b(?:according|study|article|source|found|report))",
        r"\b(?:charge|cost|costs|pay|spend|set (?:me|us) back)\b.{0,5}?\b(?:me|us|my)\b|"
        r"\bhow much (?:would|will|do|should|must) (?:i|we) (?:pay|spend|budget|need to save)\b|"
        r"\b(?:fair|good|reasonable|normal|decent|best|lowest) (?:price|deal|cost)\b|\bcheaper (?:to|in|at|"
        r"from|if)\b|\bcheapest (?:place|way|option|country|clinic|source|seller)\b|"
        r"\b(?:buy|order|purchase)\w* (?:\w+ ){0,4}?(?:for (?:personal|home) use|for (?:me|myself))\b|"
        r"\b(?:to|i|we) (?:buy|order|purchase)\b(?! \w+ (?:online|from))",
        r"哪里.{0,6}?(?:买|购|卖|弄|搞|入手|有货|找到)|哪儿.{0,6}?(?:买|卖)|(?:哪个|什么|哪款|哪种|哪一种)"
        r"(?:牌子|品牌|厂家|厂商|平台)|哪家在卖|谁在卖|谁家卖|有卖吗|(?:给|发)我.{0,6}?(?:链接|网址)|"
        r"多少钱(?:算)?(?:合理|正常|合适)|便宜还是|哪.{0,4}?便宜|(?:值得|该|想|要)买|买哪|买什么|"
        r"(?:购买|买).{0,10}?(?:链接|自用|正品)|(?:最正规|最靠谱|最便宜|正品)的?.{0,6}?(?:牌子|品牌|产品|原液)",
    )),
    ("where_to_buy", WEAK, True, False, _c(
        r"\b(?:buy|buying|purchase|purchasing|order|ordering)\b",
        r"\bonline\b|\b(?:links?|urls?|websites?|store|shop|seller|sellers|supplier|suppliers|"
        r"vendor|vendors|distributor|retailer|amazon|ebay|alibaba|taobao|pharmacy)\b",
        r"\b(?:prices?|pricing|costs?|costing|expensive|cheap|cheaper|cheapest|afford\w*|budget|"
        r"discount|deals?|coupon|for personal use)\b|\$|¥|\b(?:dollars?|yuan|rmb|usd)\b",
        r"\bhow much (?:is|are|does|do|would|will|to)\b.{0,40}?\b(?:cost|charge|run|pay|pricing)\b",
        r"买|购|(?:网上|网购|淘宝|京东|拼多多|代购|海淘|微商|平台)|链接|网址|多少钱|价格|价钱|费用|"
        r"便宜|贵不贵|划算|性价比|有卖|自用|正品",
    )),
    # ---------------- choosing a clinic, doctor, country or package ----------------
    ("clinic_choice", STRONG, False, False, _c(
        r"\b(?:best|top|most (?:legit|reputable|trusted|trustworthy|reliable)|good|reputable|legit|"
        r"trustworthy|reliable|recommended|cheapest|nearest|closest) (?:\w+ ){0,3}?(?:clinics?|hospitals?|"
        r"doctors?|physicians?|surgeons?|dermatologists?|providers?|med ?spas?|spas?|centers?|centres?|"
        r"practitioners?|places?|packages?|programs?|salons?|facilit(?:y|ies)|institutes?)\b",
        r"\b(?:which|what) (?:\w+ ){0,3}?(?:clinics?|hospitals?|doctors?|surgeons?|providers?|med ?spas?|"
        r"spas?|centers?|centres?|places?|packages?|salons?|countr(?:y|ies)|cit(?:y|ies)|chains?|"
        r"practices?|offices?|studios?|aestheticians?|estheticians?|dermatologists?)\b.{0,40}?"
        r"\b(?:best|better|should|go|pick|choose|recommend\w*|legit|reputable|trust\w*|safest|cheapest|"
        r"top|good|get|buy|to)\b",
        # "which (exosome) clinic", not "what does the clinic('s protocol) say"
        r"\b(?:which|what) (?:(?!(?:does|do|did|is|are|was|were|has|have|had)\b)\w+ ){0,2}?(?:clinic|hospital|"
        r"doctor|med ?spa|spa|center|centre|package|provider)\b(?!s)",
        r"\b(?:clinics?|hospitals?|doctors?|providers?|med ?spas?|spas?|centers?|centres?|salons?)"
        r" (?:near|around|close to|in my area|in town)\b|\bnear me\b|\bnearby\b|\bin my (?:area|city)\b",
        r"\b(?:is|are) (?:that|this|the|these|those|my|her) (?:\w+ ){0,4}?(?:clinic|doctor|hospital|"
        r"provider|spa|center|centre|place|company|brand|seller)s? (?:\w+ ){0,4}?(?:legit|legitimate|"
        r"reputable|trustworthy|reliable|a scam|scam|any good|safe|good|real)\b",
        r"\bhow (?:do|should|can|would) (?:i|we) (?:pick|choose|select|decide|find|tell)\b|"
        r"\bwhere should (?:i|we|she|he) go\b|\b(?:pick|choose|select) (?:one|between|among)\b",
        r"\b(?:clinics?|hospitals?|doctors?|providers?|med ?spas?|spas?|centers?|centres?|places?)\b.{0,30}?"
        r"\b(?:recommendations?|recs|suggestions?|referrals?)\b|\b(?:recommendations?|suggestions?) for "
        r"(?:a |an |the )?(?:\w+ )?(?:clinics?|hospitals?|doctors?|providers?|spas?|places?)\b",
        r"\b(?:point|direct|refer|connect|send|take) (?:me|us|him|her|them) (?:to|towards|with)\b.{0,40}?"
        r"\b(?:clinics?|hospitals?|doctors?|providers?|med ?spas?|spas?|centers?|centres?|salons?|"
        r"places?|someone|somebody)\b",
        r"\b(?:recommend|name|suggest|find) (?:me )?(?:a|an|some|any|one)? ?(?:good |reputable |legit |"
        r"trustworthy )?(?:\w+ )?(?:doctor|clinic|hospital|provider|place|center|centre|spa|surgeon|"
        r"specialist)\b",
        r"(?:哪家|哪(?:个|间|所|一家)(?:医院|诊所|机构|医生|专家|大夫|医美|美容院|套餐|中心|国家|城市))"
        r".{0,30}?(?:最|好|靠谱|正规|便宜|强|选|去|做|打|推荐|适合|行)|哪边|哪一家|性价比|"
        r"(?:套餐|医院|诊所|机构|医生|品牌|牌子|产品).{0,4}?推荐|(?:推荐|介绍).{0,6}?(?:医院|诊所|机构|医生|专家|大夫|"
        r"美容院|医美|地方|套餐)|附近|(?:诊所|医院|机构|医生|美容院|医美|品牌|牌子|厂家|那家|这家)"
        r".{0,6}?(?:靠谱|正规|可靠|可信|好不好|怎么样|行不行|骗)|(?:选|挑)(?:哪|一下|一个)|"
        r"去哪(?:里|儿)?(?:做|打|好)|哪里做|(?:诊所|医院|机构|医美|国家|城市).{0,6}?最好|"
        r"(?:靠谱|正规|可靠|可信|有名|好)的.{0,10}?(?:诊所|医院|机构|医生|医美|美容院)|"
        r"(?:去|在).{1,8}?(?:做|打)还是(?:去|在)",
    )),
    ("clinic_choice", WEAK, False, False, _c(
        r"\b(?:which|what|any) (?:\w+ ){0,3}?(?:clinics|hospitals|doctors|providers|countr(?:y|ies)|"
        r"cit(?:y|ies)|places|packages|programs)\b|\b(?:legit|legitimate|reputable|trustworthy|scam)\b",
        r"哪家|哪(?:个|些|间|所)(?:医院|诊所|机构|医生|专家|大夫|医美|美容院|套餐|中心|国家|城市|地方)",
    )),
    # ---------------- "should I" and other personal verdicts ----------------
    ("treatment_recommendation", STRONG, True, False, _c(
        r"\bshould (?:i|we|she|he|they|one|someone|a person|my \w+|you)\b|\b(?:i|we|she|he|they) "
        r"(?:should|ought to)\b",
        r"\b(?:would|do|can|could|will) you (?:recommend|suggest|advise|prescribe)\b|"
        r"\bwould you (?:tell|advise) (?:me|us|him|her)\b|\b(?:recommend|suggest|prescribe)\w* "
        r"(?:me|us|him|her|them)\b|\bprescribe\b|\b(?:your|a) (?:\w+ )?(?:protocol|regimen|plan) for\b",
        r"\b(?:worth it|worth (?:trying|a try|a shot|the money|the cost|doing|getting|the risk)|"
        r"good idea|bad idea|right (?:choice|option|call)|good option|best option|best choice|"
        r"advisable|a smart move|go for it|good call|right call|smart call|yay or nay|yea or nay|"
        r"thumbs up or down|go or no go|do it or not|worth a go|help me (?:decide|choose|pick)|"
        r"trying to decide (?:whether|if|between)|on the table|worth considering|a (?:good |viable |real )?"
        r"option for (?:me|my|him|her|us))\b",
        r"\b(?:better|best|right|suitable|appropriate|good|safer?|safest|effective|ok|okay|fine|smart|"
        r"wise|sensible|helpful|useful|worth)\b.{0,25}?\bfor (?:me|my|him|her|us|our|them)\b",
        r"\b(?:would|will|could) you (?:get|do|try|take|use|choose|pick|go for)\b|"
        r"\bwhat would you do\b|\bif you were me\b|\bin my shoes\b|\btell me (?:to|whether|if)\b|"
        r"\b(?:exact|specific|personal|concrete) advice\b|\bthoughts\s*\??$",
        r"\b(?:or|vs|versus)\b[^?.!]{0,40}?\bfor (?:my|me|him|her|his|our)\b",
        r"\b(?:help|cure|fix|treat|heal|reverse|regrow|improve|work for|work on|get rid of)\b.{0,8}?"
        r"\b(?:my|his|her|our)\b",
        r"(?:该不该|应不应该|应该|要不要|需不需要|适不适合|适合|值得|值不值|划不划算|有没有必要|"
        r"可不可以|能不能|可以).{0,10}?(?:做|打|用|试|去|尝试|注射|输|接受|选)|"
        r"(?:做|打|用|试|注射|输).{0,10}?(?:值得|值不值|划算|适合我|有必要吗|好吗|行吗|可以吗)",
        r"你 ?(?:建议|推荐|觉得|认为|会|recommend|suggest).{0,15}?(?:吗|么|嘛|不|呢|\?)|"
        r"(?:给|帮|为)(?:我|他|她|家长).{0,6}?(?:开|制定|定|设计|安排|配|推荐|写)|"
        r"(?:开|制定|一套|个性化).{0,6}?方案|(?:哪个|哪种|哪一个).{0,8}?(?:更|比较)?(?:适合|好|有效)|"
        r"让我(?:做|打|用|试)|具体建议|是还是不是|是不是该|适合我|适不适合我|对我(?:有没有|有)用|"
        r"对我(?:来说)?(?:合适|适合|好|有用|安全|有效)",
    )),
    ("treatment_recommendation", STRONG, True, True, _c(
        r"\b(?:will|would|can|could|does|do|might) (?:it|they|this|that|exosom\w*|the \w+|these|those)\b"
        r".{0,40}?\b(?:help|work|cure|fix|heal|reverse|regrow|improve|treat|benefit)\b|"
        r"\bis (?:it|this|that) (?:\w+ )?(?:safe|effective|worth)\b",
        r"(?:有用|有效|管用|有帮助|能治好?|治得好|见效|安全|靠谱)(?:吗|么|嘛|不)",
        r"\b(?:what do you think|what's your take|your thoughts|your take|your opinion|what say you)\b",
        r"你怎么看|你看(?:呢|行吗|怎么样)|你的(?:意见|看法)",
    )),
    ("treatment_recommendation", WEAK, True, True, _c(
        r"\b(?:will|would|can|could|does|do|might|is|are)\b.{0,50}?\b(?:help\w*|work|cure|fix|heal|"
        r"reverse|regrow|improve|treat|benefit|effective|useful|safe|smart|wise)\b",
        r"\b(?:protocol|regimen|treatment plan|plan|course|routine)\b",
        r"有用|有效|管用|有帮助|能治|治得好|能好|见效|安全吗|靠谱吗|行不行|好不好",
    )),
    ("treatment_recommendation", WEAK, True, False, _c(r"\bworth\b")),
)

# ---- Emergencies ----
SYMPTOMS = _c(
    # blood pressure falling: shock
    r"\bblood pressure (?:is |has |just )?(?:dropp\w*|crash\w*|fall\w*|fell|plummet\w*|tank\w*)|\bbp (?:dropp\w*|crash\w*)|"
    r"血压(?:突然|一下子|一直)?(?:掉|降|下降|骤降|往下掉)|"
    r"can't breathe?|cannot breathe?|can not breathe?|hard to breathe?|dizzy|light ?headed|(?:trouble|difficulty|problems?) breathing|"
    r"hard to breathe|struggling to breathe|short(?:ness)? of breath|breathless|wheez\w*|gasping|"
    r"throat\b.{0,20}?\b(?:tight\w*|clos\w*|swell\w*|swollen)|tight\w* throat|"
    r"\b(?:face|lips?|tongue|eyes?|eyelids?|mouth|neck|throat)\b.{0,25}?\b(?:swell\w*|swollen|"
    r"puff\w*|blow\w* up|blew up|balloon\w*|huge|enormous|doubl\w* in size)|swell\w*\b.{0,20}?\b(?:face|lips?|tongue|throat)|"
    r"anaphyla\w*|hives|(?:itch\w*|rash|welts)\b.{0,10}?\b(?:all over|everywhere)",
    r"(?:high|very high|spiking|raging) (?:fever|temperature)|\bfever\b|\bchills\b|\brigors\b|"
    r"shaking uncontrollably|\bshivering\b|can't catch (?:my|his|her|their) breath",
    r"\b(?:vision|sight|eyesight)\b.{0,20}?\b(?:loss|lost|blurr\w*|gone|dark|black|double|going|"
    r"disappear\w*)|blurr\w* vision|can't see|lost (?:my |his |her )?(?:vision|sight)|"
    r"(?<!double )\bblind\b|went blind|going blind",
    r"\bconfus\w*|disoriented|delirious|slurr\w*|can't (?:speak|talk)|(?:speak|talk)\w*\b.{0,15}?"
    r"\b(?:clearly|properly|normally)|trouble (?:speaking|talking)|face\b.{0,10}?\bdroop\w*|"
    r"numb\w*\b.{0,20}?\b(?:one side|half|arm|leg|hand|face)|weak\w*\b.{0,10}?\bone side|"
    r"\b(?:arm|leg|hand|face|side)\b.{0,20}?\b(?:numb\w*|paraly\w*|limp|dead)\b|"
    r"can't (?:lift|move|feel) (?:my|his|her|their)",
    r"chest (?:pain|pains|tightness|pressure|hurts)|heart attack|seizure\w*|convuls\w*|"
    r"(?:severe|heavy|uncontrolled|profuse|lots of) bleeding|bleeding a lot|bleeding\b.{0,60}?\b(?:won't|"
    r"doesn't|not|will not|does not|can't) stop|hemorrhag\w*|haemorrhag\w*|faint\w*|passed out|"
    r"passing out|black(?:ed)? out|unconscious|unresponsive|(?:won't|doesn't|not|isn't|can't) respond\w*|"
    r"having a fit|(?:a|having) seizure|collapsed|(?:won't|can't) wake|"
    r"severe (?:pain|headache|back pain)|worst headache|excruciating|agoni[sz]\w*|"
    r"(?:lips?|tongue|mouth)\b.{0,12}?\b(?:tingl\w*|numb\w*)|tingl\w*\b.{0,10}?\b(?:lips?|tongue|mouth)|"
    r"racing heart|heart (?:is )?(?:racing|pounding)|palpitations|vomiting blood|coughing up blood|"
    r"\b(?:skin|cheek|face|nose|lips?|forehead|spot|area)\b.{0,20}?\b(?:turn\w*|went|going) (?:\w+ ){0,2}?"
    r"(?:white|pale|blotchy|mottled)\b|\blivedo\b|(?:threw|throw\w*) up blood|blood in (?:my |his |her )?vomit|"
    r"hurts like (?:crazy|hell)|unbearable pain|"
    r"\b(?:turn\w*|went|gone|go|goes|going|got|getting|look\w*) (?:\w+ ){0,4}?(?:blue|bluish|purple|dusky|black)\b(?! market)|"
    r"turning blue|blue lips|spreading redness|red streaks|red\w*\b.{0,30}?\bspreading|\bpus\b|oozing|septic|sepsis|paraly\w*",
    r"喘不(?:上|过|动)|(?:嘴唇|嘴|脸|指甲).{0,3}?(?:发紫|青紫|发青)|呼吸(?:困难|急促|不畅|不上来|费力)|透不过气|憋气|憋得慌|"
    r"(?:喉咙|嗓子|咽喉).{0,4}?(?:发紧|紧|肿|堵|卡|收紧|闭)|"
    r"(?:脸|面部|嘴唇|嘴巴|嘴|舌头|眼皮|眼睛|眼周|脖子).{0,6}?(?:肿|胀起)|过敏性休克|"
    r"全身.{0,4}?(?:荨麻疹|起疹|风团)",
    r"高烧|高热|发烧|发热|烧到|烧着|(?:3[89]|4[0-2])(?:\.\d)? ?(?:度|℃)|体温.{0,4}?(?:高|度)|寒战|寒颤|冷颤|"
    r"打寒战|发冷|打冷战|冷得发抖|(?:浑身|全身)(?:发抖|哆嗦)|头晕|眩晕|头昏",
    r"看不见|看不清|视力.{0,4}?(?:下降|模糊|丧失|消失|没了)|失明|眼前发黑|眼睛.{0,8}?模糊|"
    r"看东西.{0,4}?模糊|视物模糊",
    r"(?:手|脚|胳膊|腿|半边|一侧|半身).{0,4}?(?:麻|没劲|无力|动不了|抬不起)|意识(?:不清|模糊|丧失)|神志不清|昏迷|叫不醒|胡言乱语|说胡话|糊涂|认不出|说话.{0,4}?(?:含糊|不清|"
    r"不利索|大舌头)|口齿(?:不清|含糊)|口角歪|嘴歪|半边.{0,4}?(?:麻|无力|动不了)|一侧.{0,4}?(?:麻|无力)",
    r"胸(?:痛|疼|闷)|胸口.{0,4}?(?:痛|疼|闷|压)|心口疼|抽搐|癫痫发作|抽风|大出血|出血不止|"
    r"血流不止|止不住.{0,2}?血|血止不住|晕倒|昏倒|晕过去|昏过去|晕厥|休克|不省人事|剧痛|"
    r"剧烈.{0,4}?(?:疼|痛)|(?:疼|痛)得(?:受不了|要命)|"
    r"(?:针眼|打针|注射|那块|那边|皮肤?|脸上?).{0,8}?(?:发紫|发黑|青紫|发青|变紫|变黑)|(?:嘴唇|舌头|嘴).{0,4}?(?:发麻|麻)|"
    r"心跳.{0,4}?(?:很快|加速|过快|乱)|心慌|呕血|吐血|咳血|咯血|红肿.{0,4}?(?:扩散|蔓延)|流脓|"
    r"化脓|败血症|脓毒",
)

SELF_HARM = _c(
    r"\bkill (?:myself|me)\b|\bsuicid\w*|\bend (?:it all|my life|things|everything|my own life)\b|"
    r"\bwant(?:ed)? to die\b|\bwant to die\b|\b(?:don't|do not) want to (?:live|be alive|be here|"
    r"wake up|exist)\b|\b(?:hurt|harm|cut|injure|poison) myself\b|\bself ?harm\w*|"
    r"\boverdos\w*\b.{0,30}?\b(?:on purpose|deliberately|to die|to end)|\bbetter off dead\b|"
    r"\bno (?:reason|point) (?:to|in) (?:live|living|going on)\b|\bnot worth living\b|"
    r"\btake my (?:own )?life\b|\b(?:thinking (?:about|of)|want to|going to|plan(?:ning)? to|ready to|"
    r"might just|gonna) end(?:ing)? (?:it|things|my life|everything)\b|\bending it all\b|"
    r"\b(?:can't|cannot) go on\b|\b(?:don't|do not|can't|cannot) see (?:the|any) point (?:of|in) "
    r"(?:going on|living|life|anything|being here)|\b(?:might|going to|gonna|want to|plan to|will) overdose\b|"
    r"\boverdose on (?:my|all my|all the) (?:pills|meds|medication|tablets)\b|\bwant (?:it|everything|this) (?:all )?to (?:stop|end)\b|"
    r"\boverdos\w*\b.{0,30}?\b(?:would do it|do the trick|kill|end it)\b|\bno point (?:in )?living\b|\bdon't want to be here anymore\b|"
    r"\bbetter off without me\b|\b(?:goodbye|suicide) (?:letters?|notes?)\b|\bdecided to end (?:it|things|my life)\b|"
    r"\bwon't be (?:around|here) (?:much )?(?:longer|anymore)\b|\bnobody will have to (?:look at|see|deal with)\b|"
    r"\b(?:pills|knife|rope|gun) (?:is|are) ready\b|\bgave (?:away )?(?:all )?my \w+ (?:away|to)\b.{0,80}?\bgoodbye\b",
    r"自杀|轻生|不想活|活不下去|活着没有?(?:意思|意义)|(?:让自己|求|想)解脱|一死了之|想死|去死|结束(?:自己的?)?生命|了结(?:自己)?|"
    r"一了百了|伤害自己|自残|割腕|(?:割|划|刺|烫|打)(?:伤)?自己|(?:拿|用)(?:刀片?|剪刀|玻璃|烟头).{0,4}?(?:割|划|烫|刺)|跳楼|寻死|不想醒来|不想再醒|结束(?:这)?一切|活着(?:太累|好累|没劲)|"
    r"过量.{0,8}?(?:结束|去死|死掉)|结束自己|了断自己|遗书|(?:不想|不愿)再?拖累|没有我.{0,6}?更好|"
    r"(?:安眠药|药片?).{0,6}?(?:攒|存|囤)(?:好|够|齐)|(?:攒|存|囤)(?:好|够|了).{0,6}?安眠药|"
    r"(?:刀|绳子?|安眠药|农药|炭)(?:已经|都)?(?:准备|备|买)好|大家再见|永别了",
)

# Who the symptom is happening to, or that it is happening now.
PERSONAL_OR_NOW = _c(
    r"\b(?:i|i'm|i've|i'd|me|my|mine|myself|we|our|us|he|she|he's|she's|his|her|him|mom|mum|dad|"
    r"husband|wife|son|daughter|friend|child|kid|baby|partner|now|right now|suddenly|since|after|"
    r"ago|yesterday|today|tonight|this morning|last night|currently|just)\b",
    r"我|他|她|孩子|家人|老公|老婆|宝宝|现在|刚才|刚刚|昨天|今天|今早|昨晚|小时前|分钟前|天前|"
    r"之后|以后|后|完|突然|一直|越来越",
)
FIRST_PERSON_NEAR = re.compile(
    r"\b(?:i'm|i am|i've|i have|i feel|i got|i can't|i cannot|i keep|i just|i think i|i was|i had|i wrote|"
    r"i took|i swallowed|i decided|"
    r"i suddenly|i started|i now|i couldn't|me|it's me|it is me|this is me)\b|\bmy (?:throat|face|lips?|tongue|eyes?|eyelids?|vision|"
    r"sight|chest|heart|head|skin|arms?|legs?|hands?|knees?|back|body|mouth|neck|breathing|temperature|"
    r"speech|injection site|scalp|spine)\b|我(?!妈|爸|朋友|的朋友|家|们|听|看|读|想|好奇|了解|知道|问|查|是)")
# Right after a symptom: it is over ("发过一次烧，早就好了", "a rash that went away"). Matched at the symptom's end.
RESOLVED = re.compile(
    r"[\s,，。.;；]*(?:(?:which|that|but it|and it|it)\s+)?(?:went away|has gone|is gone|cleared up|resolved|"
    r"got better|healed)\b|[\s,，。.;；]*(?:但|不过)?(?:早就|已经|现在|都|后来)(?:好了|退了|消了|没事了|痊愈|康复)")
# RESOLVED reads on from a symptom inside its clause; WENT_AWAY is a clause of its own that says the harm told
# just before went away ("but it cleared", "后来就消了").
WENT_AWAY = re.compile(
    r"(?:but |and )?(?:it|they|that|this|the \w+|she|he|i) (?:\w+ )?(?:cleared(?: up)?|went away|went down|resolved|"
    r"healed|settled|faded|got better|recovered|(?:is|was|'s) gone)\b(?!.{0,40}\b(?:now|again|back|worse)\b)|"
    r"(?:后来|然后|过了?[^，,]{0,4}?)(?:就|也|自己)?(?:好了|消了|退了|没事了|恢复了|康复了)(?![^，,]{0,10}(?:又|现在|再次))")
# Right before a symptom: a verb of mentioning ("有没有提到发烧", "did the FDA mention fever"). Searched up to
# the symptom's start, so it must end there.
MENTIONED = re.compile(r"(?:提到|提及|说到|谈到|写到|报道|记录|列出|mention|mentions|mentioned|list|lists|listed|"
                       r"describe|describes|described)(?:过|了)?\s*$")
# The asker says the symptoms are not theirs, or are over ("我没事，只是想了解一下", "I'm fine", "早就好了").
NOT_MY_CASE = _c(
    r"\bi'?m (?:fine|ok|okay|not sick)\b|\bi am (?:fine|ok|okay|not sick)\b|\bjust curious\b|\bnot (?:about|for) me\b",
    r"我没事|我(?:很|挺)好|不是我|我没有(?:症状|不舒服)|只是(?:想)?(?:了解|问问|好奇)",
    r"\b(?:went away|cleared up|all better now|fully recovered(?: now)?|doing (?:fine|well|great) now)\b|"
    r"(?:早就|已经|现在|都)(?:好了|没事了|痊愈|康复)|已经?出院",
    # symptoms denied: "感觉挺好，没有任何不舒服", "no symptoms at all, I feel fine"
    r"没有(?:任何)?(?:不舒服|不适|症状|反应|异常)|感觉(?:挺|很|还|都)?(?:好|正常)|"
    r"\bno (?:symptoms|side effects|reaction|problems)\b|\bfeel(?:ing)? (?:fine|good|great|normal)\b",
)
# Any word of harm, of the body in trouble or of the end of a life. The classifier reads a clause out of its message;
# a clause it calls an emergency must at least say something of this kind ("but I want them anyway" says nothing).
HARM_CUE = _c(
    r"\b(?:die|dying|died|dead|death|life|live|living|alive|end|ending|goodbye|bye|farewell|letters?|notes?|will|"
    r"belongings|gave away|give away|giving away|better off|burden\w*|pills?|tablets|meds|rope|bridge|jump\w*|"
    r"overdos\w*|od|lethal|fatal|kill\w*(?! (?:my|our|the|your) (?:bank|wallet|budget|savings|finances|credit|mood|vibe|buzz|battery|appetite))|kms|suicid\w*|hang|roof|platform|train|river|wall|gun|razor|lighter|"
    r"charcoal|anymore|tonight|last|disappear\w*|gone|around|point|done|plan\w*|affairs|sorry|"
    r"hurt\w*|pain\w*|bleed\w*|blood(?! thinners?)|breath\w*|gasp\w*|swell\w*|swollen|faint\w*|passed|passing|"
    r"collaps\w*|wake|awake|asleep|sleep\w*|drows\w*|vomit\w*|throw\w* up|threw up|seiz\w*|convuls\w*|fit|"
    r"twitch\w*|shak\w*|shiver\w*|chills|numb\w*|limp|weak\w*|droop\w*|slur\w*|talk\w*|speak\w*|words|"
    r"respond\w*|unrespons\w*|incoherent|move|moving|feel|lift|stand|floor|dropped|fell|blind|vision|see\w*|"
    r"dark|blurr\w*|double|fever\w*|temp\w*|red|redness|streaks|hot|cold|pulse|blue|purple|black\w*|white|"
    r"pale|grey|gray|blanch\w*|mottled|swallow\w*|drank|drunk|drink\w*|ate|eaten|chew\w*|lick\w*|sucked|"
    r"mouth|snort\w*|sniff\w*|inhal\w*|cough\w*|inject\w*|poison\w*|emergency|ambulance|hospital|er|sick|ill|"
    r"dizzy|confus\w*|chest|heart (?:racing|pounding|rate|stopp\w*|attack)|racing|pounding|spo2|anaphyla\w*|"
    r"allerg\w*|throat|tongue|lips?|rash|hives|itch\w*|knife|blade|cut\w*|burn\w*|scar\w*)\b",
    r"死|活|命|结束|了结|了断|告别|道别|再见|永别|遗书|遗言|遗嘱|信|纸条|后事|药|炭|绳|解脱|拖累|负担|出路|无所谓|"
    r"一了百了|自杀|轻生|自残|伤害|划|割|刀|跳|天台|楼顶|顶楼|桥|江边|海边|离开|不在|最后|消失|醒|撑|保重|牵挂|托付|送人|"
    r"密码|门窗|痛|疼|血|喘|呼吸|气短|胸闷|心口|肿|晕|昏|倒|叫不|唔应|反应|吐|嘔|抽|僵|抖|麻|没知觉|没感觉|说话|讲嘢|"
    r"含糊|歪|抬不|意识|糊涂|认不出|看不见|看不清|看东西|眼前|视力|模糊|黑|发烧|高烧|度|红|烫|冰|凉|凍|冻|发冷|冷汗|"
    r"脉|紫|发乌|青|苍白|灰白|吞|喝|飲|饮|吃|食|舔|咽|嚼|啃|吸|嘴|误服|误食|扎|针筒|注射器|打进|打到|注射到|过敏|休克|"
    r"风团|急诊|急救|救护|医院|难受|不舒服|心慌|痒|疹|化脓|眼瞓|瞓",
)

SELF_HARM_INTENT = _c(
    r"\b(?:i|i'm|i've|me|my|myself|want|wanna|thinking|plan|planning|going to|tonight)\b",
    r"我|想|打算|自己|今晚",
)

# ---- Follow-up turns that lean on earlier ones ----
WH_INFO = _c(
    r"^\W*(?:(?:and|but|so|ok|okay|then|well|right)\W+)*(?:what (?:is|are|does|do|did|was|were|kind|kinds|types?)|"
    r"how (?:is|are|does|do|did|was|were)|why|when|who|where (?:do|does|did) (?:they|exosomes?|evs?))\b",
    r"(?:什么是|是什么|为什么|怎么(?:来|做出来|制备|分离|提取)的|如何(?:制备|分离|提取|检测))",
)
# General-information subjects: a follow-up about these is a new factual question.
INFO_TOPIC = _c(
    r"\b(?:risks?|dangers?|side effects?|evidence|studies|research|regulat\w*|approved|approval|fda|"
    r"isev|contamina\w*|safety|quality|warnings?|trials?|science|isolat\w*|ultracentrifug\w*|"
    r"precipitation|filtration|purity|impurit\w*|stor(?:e|ed|age|ing)|cold chain|degrad\w*|steril\w*|endotoxin|"
    r"diagnos\w*|deliver\w*|biomarkers?|immun\w*|ag(?:e)?ing|history|garbage|mechanism|size|"
    r"definition|explain|describe|summar\w*|notice|notification|law|laws|companies|countries)\b",
    r"风险|危险|副作用|证据|研究|监管|批准|污染|安全性|质量|警示|警告|试验|分离|离心|沉淀|过滤|纯度|杂质|"
    r"储存|保存条件|冷链|降解|无菌|内毒素|诊断|递送|载体|免疫|衰老|历史|垃圾|机制|大小|定义|介绍|解释|"
    r"总结|通告|法律|公司|国家",
)
YES_NO_ANAPHOR = _c(
    r"\b(?:is|are|would|will|does|do|can|could) (?:it|that|this|they|them|those|these)\b.{0,20}?"
    r"\b(?:safe|ok|okay|good|worth|work|help|fine|dangerous|risky|effective|legit)\b",
    r"(?:它|这个|那个|这样)?.{0,3}(?:安全|靠谱|有效|有用|管用|值得|可以|行)(?:吗|么|不|嘛)",
)

# ---- A question about the general picture or a reported event ("一般要多少钱", "the price range found",
# "那起事件"), not about one offer: with SHOPPING_OR_CHOICE absent and nobody named, a fact to look up. ----
GENERAL_FRAME = _c(
    r"\b(?:typical\w*|usual\w*|general\w*|on average|average|range|reported|report|survey\w*|stud(?:y|ies)|"
    r"research\w*|article|sources?|documents?|papers?|review|incident|case|event|according)\b",
    r"一般|通常|大概|大致|大约|范围|区间|多少到多少|平均|普遍|资料|文章|研究|调查|报道|报告|论文|综述|事件|那起|"
    r"那次|当时|据说|提到",
)
