"""Safety gate run before retrieval: answer, refuse personal medical advice, or send to emergency care.

`classify()` judges a question, in the light of the earlier user turns of the
same conversation, in two layers: general intent patterns
(assistant.safety_patterns) over normalised text decide first (order:
emergency, then refuse, then answer); then an embedding nearest-neighbour vote
over a labelled example bank (assistant.safety_knn) may escalate what the
patterns let through (answer -> refuse / emergency), never the other way.
`refusal_message()` and `emergency_message()` give the short Markdown replies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from assistant import safety_knn
from assistant import safety_patterns as P

ANSWER, REFUSE, EMERGENCY = "answer", "refuse", "emergency"
EMERGENCY_SYMPTOMS, SELF_HARM, FACTUAL = "emergency_symptoms", "self_harm", "factual"
REFUSE_CATEGORY_NAMES = tuple(dict.fromkeys(rule[0] for rule in P.REFUSE_RULES))

_REASONS = {
    EMERGENCY_SYMPTOMS: "Describes acute symptoms that need emergency care.",
    SELF_HARM: "Expresses suicidal or self-harm intent.",
    "treatment_recommendation": "Asks whether a treatment is right for a specific person.",
    "dosing": "Asks for a dose, amount, frequency or number of sessions.",
    "where_to_buy": "Asks where to buy a product, or about prices or sellers.",
    "clinic_choice": "Asks which clinic, doctor, country, brand or package to choose.",
    "self_administration": "Asks how to prepare or administer a product oneself.",
    "replacing_medical_care": "Asks about replacing or stopping medical care.",
    FACTUAL: "Factual question about what the sources say.",
}


# When the nearest-neighbour vote may overrule the patterns' "answer": the winning decision's share of
# the weighted vote (k=7, softmax over cosine at temperature 0.01), and how close the nearest example
# must be.  Chosen by 5-fold cross-validation on the bank, then checked on the dev set, the multi-turn
# tests and eval/safety_paraphrases_dev.jsonl (tests/test_safety_knn.py asserts the figures).
KNN_REFUSE_SHARE = 0.6
KNN_REFUSE_SHARE_SOURCES_FRAMED = 0.9  # the question asks what the sources say, and nothing personal
KNN_EMERGENCY_SHARE = 0.5  # lower: a missed emergency costs more than a needless referral
KNN_MIN_SIMILARITY = 0.88  # short filler turns ("it's for a novel") sit further than this from every example


@dataclass(frozen=True)
class SafetyDecision:
    decision: str  # "answer" | "refuse" | "emergency"
    category: str
    reason: str


def _decision(decision: str, category: str, reason: str | None = None) -> SafetyDecision:
    return SafetyDecision(decision, category, reason or _REASONS[category])


# --------------------------------------------------------------------------
# Single-turn judgement
# --------------------------------------------------------------------------

def _emergency_category(text: str) -> str | None:
    """EMERGENCY_SYMPTOMS / SELF_HARM when the (normalised) text reports one, else None."""
    factual = bool(P.FACTUAL_FRAME.search(text) or P.CASE_REPORT_FRAME.search(text))
    harm = P.SELF_HARM.search(text)
    if harm and P.SELF_HARM_INTENT.search(text) and not (factual and not P.FIRST_PERSON_NEAR.search(text)):
        return SELF_HARM
    for match in P.SYMPTOMS.finditer(text):
        if P.RESOLVED.match(text, match.end(), match.end() + 12):
            continue  # "发过一次烧，早就好了", "a fever that went away": over, not now
        if factual and P.MENTIONED.search(text, max(0, match.start() - 12), match.start()):
            continue  # "文章里有没有提到发烧", "did the FDA mention fever": what the sources say, not a case
        # A first person right before the symptom ("my throat", "I can't breathe", "我喘不上气")
        # wins over any factual framing around it.
        window = text[max(0, match.start() - 30):match.end() + 12]
        if P.FIRST_PERSON_NEAR.search(window):
            return EMERGENCY_SYMPTOMS
        if not factual and P.PERSONAL_OR_NOW.search(text):
            return EMERGENCY_SYMPTOMS
    return None


def _refuse_category(text: str, topic: bool) -> str | None:
    """The category of the first refusal rule that fires, or None.

    Weak (keyword) rules are skipped when the question asks what the sources
    say and asks no personal verdict; needs_personal rules need the question to
    be about the user or someone they name.
    """
    asked = P.NEUTRAL_ASK.sub(" ", text)
    request = bool(P.ADVICE_REQUEST.search(asked))
    factual = bool(P.FACTUAL_FRAME.search(text)) and not request
    personal = request or bool(P.PERSONAL.search(asked))
    for name, strength, needs_topic, needs_personal, pattern in P.REFUSE_RULES:
        if (strength == P.WEAK and factual) or (needs_topic and not topic) \
                or (needs_personal and not personal):
            continue
        if pattern.search(text):
            return name
    return None


def _judge_one(text: str, topic_context: bool) -> SafetyDecision:
    emergency = _emergency_category(text)
    if emergency:
        return _decision(EMERGENCY, emergency)
    topic = topic_context or bool(P.TOPIC.search(text))
    category = _refuse_category(text, topic)
    if category:
        return _decision(REFUSE, category)
    return _decision(ANSWER, FACTUAL)


# --------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------

def _is_dependent(text: str) -> bool:
    """True when a turn leans on earlier ones: short, anaphoric or a push/framing line."""
    words = len(re.findall(r"[a-z0-9']+", text)) + len(re.findall(r"[\u4e00-\u9fff]", text)) / 2
    return bool(words <= 8 or P.PUSH.search(text) or P.ANAPHOR.search(text))


def _is_standalone_information(text: str) -> bool:
    """A follow-up that asks for general information rather than a personal verdict."""
    if P.PERSONAL.search(P.NEUTRAL_ASK.sub(" ", text)) or P.YES_NO_ANAPHOR.search(text):
        return False
    return bool(P.FACTUAL_FRAME.search(text) or P.INFO_TOPIC.search(text) or P.WH_INFO.search(text))


def _follow_up(text: str, memory: SafetyDecision | None) -> bool:
    """Does this turn carry on a refused (or emergency) request held in `memory`?"""
    return (memory is not None and _is_dependent(text)
            and not _is_standalone_information(text))


# --------------------------------------------------------------------------
# Nearest-neighbour escalation
# --------------------------------------------------------------------------

Judge = Callable[[str], "safety_knn.KnnVerdict | None"]  # raw turn text -> vote (None: no kNN layer)


def _asks_what_sources_say(text: str) -> bool:
    """The (normalised) question asks what the sources say and asks nothing personal."""
    asked = P.NEUTRAL_ASK.sub(" ", text)
    return bool(P.FACTUAL_FRAME.search(text) or P.THIRD_PARTY_VIEW.search(text)) and not P.PERSONAL.search(asked)


def _asks_sources_without_a_case(text: str) -> bool:
    """What the sources say about symptoms, asked by someone who reports none of their own: the patterns found
    no emergency, and the neighbours (questions that describe symptoms) must not make one."""
    own_case = P.FIRST_PERSON_NEAR.search(text) and not P.NOT_MY_CASE.search(text)
    return bool(P.FACTUAL_FRAME.search(text)) and not own_case


def _escalate(pattern: SafetyDecision, text: str, verdict: safety_knn.KnnVerdict | None) -> SafetyDecision:
    """The patterns' "answer", raised to refuse / emergency when the neighbours agree strongly enough.

    A pattern refusal is never turned into an emergency by the vote: in cross-validation that
    found no emergency the patterns missed, and it sent refusals to emergency care."""
    if verdict is None or pattern.decision != ANSWER or verdict.similarity < KNN_MIN_SIMILARITY:
        return pattern
    if verdict.decision == EMERGENCY:
        if verdict.share >= KNN_EMERGENCY_SHARE and not _asks_sources_without_a_case(text):
            return _decision(EMERGENCY, verdict.category, _knn_reason(verdict.category))
    elif verdict.decision == REFUSE:
        needed = KNN_REFUSE_SHARE_SOURCES_FRAMED if _asks_what_sources_say(text) else KNN_REFUSE_SHARE
        if verdict.share >= needed:
            return _decision(REFUSE, verdict.category, _knn_reason(verdict.category))
    return pattern


def _knn_reason(category: str) -> str:
    return _REASONS[category].rstrip(".") + " (judged by its nearest labelled examples)."


def _judge_turn(raw: str, text: str, topic_context: bool, judge: Judge | None) -> SafetyDecision:
    pattern = _judge_one(text, topic_context)
    if judge is None or pattern.decision != ANSWER:
        return pattern
    return _escalate(pattern, text, judge(raw))


def _knn_judge(question: str, query_vector) -> Judge:
    """Vote for a turn's raw text, reusing the caller's vector for the current question."""
    knn = safety_knn.default_knn()
    if query_vector is not None:
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != knn.vectors.shape[1]:
            raise ValueError(f"query_vector has {vector.shape[0]} dimensions; the safety bank has "
                             f"{knn.vectors.shape[1]} ({safety_knn.bank_model_id()})")
        knn.remember(question, vector)
    return knn.judge


# --------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------

def classify(question: str, history: Sequence[str] = (), query_vector=None) -> SafetyDecision:
    """Judge `question` given the earlier user turns `history` (oldest first).

    `query_vector`: the caller's normalised query embedding of safety_knn.gate_text(question)
    from the bank's model (safety_knn.bank_model_id(), the default e5-small),
    so the gate does not embed it again; without it the gate embeds the
    question itself.  Earlier turns are embedded (or taken from a small cache of
    recent questions) only when the current turn leans on them.

    An emergency in the current turn always wins.  Otherwise the earlier turns
    are replayed to remember the last refusal or emergency still "open": a
    dependent follow-up ("just hypothetically?", "yes or no", "那我该不该做？")
    inherits it, while a self-contained or general-information question
    ("what about the risks?") is judged on its own.
    """
    return _classify(question, history, _knn_judge(question or "", query_vector))


def classify_patterns(question: str, history: Sequence[str] = ()) -> SafetyDecision:
    """The pattern layer alone (no embedding): what classify() decides before any kNN escalation."""
    return _classify(question, history, None)


def _classify(question: str, history: Sequence[str], judge: Judge | None) -> SafetyDecision:
    text = P.normalise(question or "")
    raw_turns = [h or "" for h in history]
    turns = [P.normalise(h) for h in raw_turns]
    # Earlier turns only matter to a turn that leans on them; judge them with the kNN only then.
    history_judge = judge if _is_dependent(text) else None

    memory: SafetyDecision | None = None  # last refusal / emergency not yet left behind
    seen_topic = False
    for raw, turn in zip(raw_turns, turns):
        decision = _judge_turn(raw, turn, seen_topic, history_judge)
        if decision.decision != ANSWER and not (
                memory is not None and memory.decision == EMERGENCY and _follow_up(turn, memory)):
            memory = decision
        elif decision.decision == ANSWER and not _follow_up(turn, memory) and not _is_dependent(turn):
            memory = None  # a fresh, self-contained question leaves the old request behind
        seen_topic = seen_topic or bool(P.TOPIC.search(turn))

    current = _judge_turn(question or "", text, seen_topic, judge)
    if current.decision == EMERGENCY:
        return current
    if memory is not None and memory.decision == EMERGENCY and _follow_up(text, memory):
        return _decision(EMERGENCY, memory.category,
                         "Follow-up to an emergency; repeat the emergency advice.")
    if current.decision == REFUSE:
        return current
    if _follow_up(text, memory):
        return _decision(REFUSE, memory.category,
                         "Follow-up that pushes for the advice refused earlier in the conversation.")
    return current


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

_REFUSAL_FOCUS = {
    "en": {
        "treatment_recommendation": "whether a treatment is right for you or someone you know",
        "dosing": "doses, amounts or how often to have a treatment",
        "where_to_buy": "where to buy exosome products or what they should cost",
        "clinic_choice": "which clinic, doctor, brand or package to choose",
        "self_administration": "how to prepare or inject a product yourself",
        "replacing_medical_care": "stopping or replacing treatment your doctor has prescribed",
    },
    "zh": {
        "treatment_recommendation": "某种疗法是否适合您或您的家人",
        "dosing": "剂量、用量或治疗频率",
        "where_to_buy": "在哪里购买外泌体产品或价格",
        "clinic_choice": "选择哪家诊所、哪位医生、哪个品牌或套餐",
        "self_administration": "如何自行配制或注射产品",
        "replacing_medical_care": "停用或替代医生给您的治疗",
    },
}

_REFUSAL = {
    "en": (
        "**I can't give personal medical advice about {focus}.**\n\n"
        "exoqa only shares what its sources say; it is not a doctor and cannot judge your situation.\n\n"
        "- Talk to a licensed clinician who knows your health history before any treatment decision.\n"
        "- If you are offered an exosome treatment, ask whether it is part of a registered clinical "
        "trial, ask for the trial's registration number, and look it up in a public clinical-trial registry.\n"
        "- The sources report that no exosome therapy has been approved, and they warn about "
        "contamination and other safety risks of products sold outside trials.\n\n"
        "I'm happy to answer factual questions about what the sources say."
    ),
    "zh": (
        "**抱歉，我不能就{focus}给出个人医疗建议。**\n\n"
        "exoqa 只转述资料中的内容，不是医生，也无法判断您的具体情况。\n\n"
        "- 做任何治疗决定前，请咨询了解您病史的正规执业医生。\n"
        "- 如果有人向您推荐外泌体治疗，请问清它是否属于已注册的临床试验，索要试验注册号，"
        "并在公开的临床试验注册平台上核实。\n"
        "- 资料显示，目前没有获批的外泌体疗法，并提醒试验之外销售的产品存在污染等安全风险。\n\n"
        "如果您想了解资料里怎么说，欢迎继续提问。"
    ),
}

_EMERGENCY_FIRST_LINE = {
    "en": "**Seek emergency care now: call 120 in mainland China, 911 in the US, or your local emergency number.**",
    "zh": "**请立即寻求急救：中国大陆请拨打120，美国请拨打911，其他地区请拨打当地急救电话。**",
}

_EMERGENCY_BODY = {
    "en": (
        "- Do not wait to see whether it gets better, and do not drive yourself.\n"
        "- Tell the emergency team what was given, when, and where; bring the product or its label if you can.\n\n"
        "exoqa cannot assess symptoms. Once you are safe, a doctor can report the reaction to the regulator."
    ),
    "zh": (
        "- 不要等着看症状会不会好转，也不要自己开车去医院。\n"
        "- 告诉急救人员用了什么、什么时候、在哪里用的；如有可能，带上产品或包装标签。\n\n"
        "exoqa 无法评估症状。脱离危险后，可请医生向监管部门报告这次不良反应。"
    ),
}

_SELF_HARM_BODY = {
    "en": (
        "- If you are thinking about ending your life or hurting yourself, please reach out right now: "
        "in the US call or text 988 (Suicide & Crisis Lifeline); in mainland China call the 12356 "
        "psychological assistance hotline; elsewhere, your local crisis line.\n"
        "- Reach someone you trust now and stay with them; you don't have to go through this alone."
    ),
    "zh": (
        "- 如果您有结束生命或伤害自己的念头，请现在就求助：中国大陆可拨打12356心理援助热线；"
        "美国可拨打或发短信至988；其他地区请联系当地心理危机热线。\n"
        "- 请马上联系一位您信任的人，让他陪在您身边；您不必独自面对。"
    ),
}


def _lang(lang: str) -> str:
    return "zh" if str(lang).lower().startswith("zh") else "en"


def refusal_message(lang: str, category: str) -> str:
    """Kind Markdown refusal in "zh" or "en"; no dose, price, clinic, brand, URL or other digits."""
    lang = _lang(lang)
    focus = _REFUSAL_FOCUS[lang].get(category)
    if focus is None:
        focus = "您的个人治疗" if lang == "zh" else "your personal treatment"
    return _REFUSAL[lang].format(focus=focus)


def emergency_message(lang: str, category: str) -> str:
    """Markdown whose first line sends the user to emergency care (plus a crisis line for self-harm)."""
    lang = _lang(lang)
    body = _SELF_HARM_BODY[lang] if category == SELF_HARM else _EMERGENCY_BODY[lang]
    return f"{_EMERGENCY_FIRST_LINE[lang]}\n\n{body}"
