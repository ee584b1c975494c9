"""Safety gate run before retrieval: answer, refuse personal medical advice, or send to emergency care.

`classify()` judges a question, in the light of the earlier user turns of the
same conversation, with general intent patterns (assistant.safety_patterns)
over normalised text.  Order: emergency, then refuse, then answer.
`refusal_message()` and `emergency_message()` give the short Markdown replies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

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


def classify(question: str, history: Sequence[str] = ()) -> SafetyDecision:
    """Judge `question` given the earlier user turns `history` (oldest first).

    An emergency in the current turn always wins.  Otherwise the earlier turns
    are replayed to remember the last refusal or emergency still "open": a
    dependent follow-up ("just hypothetically?", "yes or no", "那我该不该做？")
    inherits it, while a self-contained or general-information question
    ("what about the risks?") is judged on its own.
    """
    text = P.normalise(question or "")
    turns = [P.normalise(h or "") for h in history]

    memory: SafetyDecision | None = None  # last refusal / emergency not yet left behind
    seen_topic = False
    for turn in turns:
        decision = _judge_one(turn, seen_topic)
        if decision.decision != ANSWER and not (
                memory is not None and memory.decision == EMERGENCY and _follow_up(turn, memory)):
            memory = decision
        elif decision.decision == ANSWER and not _follow_up(turn, memory) and not _is_dependent(turn):
            memory = None  # a fresh, self-contained question leaves the old request behind
        seen_topic = seen_topic or bool(P.TOPIC.search(turn))

    current = _judge_one(text, seen_topic)
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
