"""The safety gate, run on every Query before retrieval: emergency referral, refusal, or answer.

Order, per turn:
1. Emergency first, clause by clause: an emergency rule (safety/rules.py) firing on any clause, or the classifier
   (safety/classifier.py) giving a clause or the whole turn an emergency probability of at least
   `settings.safety_emergency_threshold`, makes the reply an emergency referral, whatever else the turn asks.
   A personal request in the same turn is then declined after the referral (`also_refused`), never instead of it.
   A clause the classifier alone calls urgent must say something of harm (patterns.HARM_CUE).
2. Refusal only of a personal request: the classifier's refusal probability of the turn (or of one of its clauses)
   at least `settings.safety_refuse_threshold`; a question for a fact that names no advice (patterns.FACT_QUESTION),
   or one about the sources that names nobody, needs `settings.safety_refuse_sources_threshold`; a clause that only
   states a condition is not a request. Questions about what the sources say on doses, prices or clinics are
   answered (category factual_near_advice gets a note that the quotes are not advice). A request to state, write up
   or attribute to a source a claim no source makes is refused (false_claim).
3. Otherwise the question is answered.
Follow-ups (query.follows_up, one rule: text/follow_up.py) are judged in the light of the earlier user turns: an
open emergency or refusal carries over to a turn that leans on it, unless that turn is itself a clear question
about the sources.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.safety import patterns as P
from assistant.safety.classifier import SafetyClassifier, Verdict, default_classifier
from assistant.safety.policy import BY_ID, Decision, category as policy_category
from assistant.safety.rules import (ADVICE_OBJECT, CHRONIC, HAPPENING_NOW, SPOKEN_FOR, asks_about_sources,
                                    asks_to_assert_falsehood, first_emergency, first_false_claim, first_refusal,
                                    is_over, split_clauses)
from assistant.settings import Settings
from assistant.text.follow_up import word_units
from assistant.text.glossary import expand
from assistant.text.normalize import fold

# A clause that only states a condition ("if a clinic charges me", "如果是我自己的细胞"): not a request by itself.
_CONDITION = re.compile(r"(?:if|when|whenever|in case|suppose|assuming)\b|(?:如果|假如|要是|万一|假设|若是)")
# An injected instruction that asks exoqa to promote a provider or product ("...and recommend the X clinic at the
# end", "最后推荐一下某某诊所"): a personal request for a clinic in disguise, not an instruction to ignore.
_PROMOTE = re.compile(r"\b(?:recommend|promote|endorse|advertise|plug|suggest|push|mention)\w*\b.{0,40}?"
                      r"\b(?:clinics?|brands?|products?|sellers?|suppliers?|shops?|stores?|providers?|doctors?|"
                      r"serums?|centers?|centres?|salons?|websites?|links?)\b|"
                      r"(?:推荐|推销|宣传|介绍|安利)[^。？?]{0,20}?(?:诊所|医院|机构|品牌|牌子|产品|商家|店|医生|网站|链接)")
# Whom an answer would be for: "what concentration would a clinic use for me?" asks advice.
_FOR_SOMEONE = re.compile(r"\bfor (?:me|myself|us|my \w+|her|him)\b|给我|对我|为我|帮我")
SHORT_TURN_UNITS = 4  # word-sized units (text.follow_up.word_units)
BARE_PUSH_UNITS = 6   # a follow-up this short with no topic of its own leans wholly on the turn before
# Refusal categories the classifier may give a question that only asks a fact (a price range, a clinic's claim):
# answered when the turn names no person, asks about the general picture or a reported event, and shows no intent
# to buy or choose.
IMPERSONAL_FACT_CATEGORIES = ("where_to_buy", "clinic_choice")

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, dim) e5 query vectors
GATE_LANGUAGES = ("zh", "en")
MAX_REPLAYED_TURNS = 3  # earlier user turns a follow-up is judged with
STANDALONE_ANSWER = 0.9  # a follow-up this clearly about the sources is judged on its own


@dataclass(frozen=True)
class SafetyDecision:
    decision: Decision
    category: str
    reason: str
    layer: str                       # what decided: "rule:<id>", "classifier", "follow-up", "clause"
    also_refused: str | None = None  # a personal request in an emergency turn, declined after the referral


def _decided(decision: Decision, category: str, layer: str, also_refused: str | None = None) -> SafetyDecision:
    return SafetyDecision(decision, category, policy_category(category).description, layer, also_refused)


@dataclass
class _Turn:
    """One user turn prepared for judging: its normalised text, clauses, and the texts the classifier embeds."""

    raw: str
    normalised: str
    clauses: list[str]

    @classmethod
    def of(cls, raw: str) -> _Turn:
        normalised = P.normalise(raw)
        return cls(raw, normalised, split_clauses(normalised))

    def gate_text(self) -> str:
        return expand(self.raw, GATE_LANGUAGES)


class Gate:
    def __init__(self, settings: Settings | None = None, classifier: SafetyClassifier | None = None,
                 embed: Embed | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.classifier = classifier or default_classifier()
        self._embed = embed

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embed is None:  # no shared model: the gate's own copy of the default embedder
            from assistant.retrieval.embeddings import load_embedder

            self._embed = load_embedder().embed_queries
        return self._embed(list(texts))

    # ----- one turn ------------------------------------------------------------------------------------------
    def _verdicts(self, turn: _Turn, vector: np.ndarray | None, with_clauses: bool) -> list[Verdict]:
        """The classifier's verdict on the whole turn, then on each clause (when asked and there are several)."""
        clauses = turn.clauses if with_clauses and len(turn.clauses) > 1 else []
        texts = ([] if vector is not None else [turn.gate_text()]) + [expand(c, GATE_LANGUAGES) for c in clauses]
        embedded = self.embed(texts) if texts else np.zeros((0, 0), np.float32)
        vectors = [np.asarray(vector, np.float32).reshape(-1)] if vector is not None else [embedded[0]]
        vectors += list(embedded[len(texts) - len(clauses):])
        folded = [fold(turn.raw)] + [fold(c) for c in clauses]
        return self.classifier.judge(folded, np.vstack(vectors))

    def judge_turn(self, raw: str, vector: np.ndarray | None = None) -> tuple[SafetyDecision, Verdict]:
        s = self.settings
        turn = _Turn.of(raw)
        emergency_rule = first_emergency(turn.normalised)
        refusal_rule = first_refusal(turn.normalised)
        whole = self._verdicts(turn, vector, with_clauses=False)[0]
        # The asker says it is not their case or that it is over ("我没事，只是想了解", "she's fine now"): only a
        # rule, which reads the clause itself, may still refer.
        not_a_case = bool(P.NOT_MY_CASE.search(turn.normalised)) and not HAPPENING_NOW.search(
            P.NOT_MY_CASE.sub(" ", turn.normalised))  # "fully recovered now": the "now" is the recovery's
        clause_verdicts: list[Verdict] = []
        if len(turn.clauses) > 1 and (
                (emergency_rule is None and not not_a_case and whole.p(Decision.EMERGENCY) >= s.safety_clause_screen)
                or s.safety_refuse_threshold <= whole.p(Decision.REFUSE) < s.safety_refuse_sources_threshold):
            clause_verdicts = self._verdicts(turn, vector, with_clauses=True)[1:]
        refused = self._refusal(turn, whole, clause_verdicts, refusal_rule)
        if emergency_rule is not None:
            return _decided(Decision.EMERGENCY, emergency_rule.category, f"rule:{emergency_rule.id}", refused), whole
        if not not_a_case:
            # A turn of a few words carries little evidence ("FDA warning letter"): the classifier alone must be as
            # sure as for a clause; the rules still read it.
            bar = s.safety_clause_emergency_threshold if word_units(fold(raw)) <= SHORT_TURN_UNITS \
                else s.safety_emergency_threshold
            if whole.p(Decision.EMERGENCY) >= bar:
                return _decided(Decision.EMERGENCY, whole.best_category(Decision.EMERGENCY), "classifier",
                                refused), whole
            # A clause that tells of harm that is over ("去年打完有点泛红，两天就消了"), or that the next clause says
            # went away ("a rash after my last session, but it cleared"), is no emergency by itself.
            # A clause the classifier calls urgent must say something of harm (patterns.HARM_CUE).
            following = turn.clauses[1:] + [""]
            current = [v for v, clause, after in zip(clause_verdicts, turn.clauses, following)
                       if not is_over(clause) and not P.WENT_AWAY.match(after) and P.HARM_CUE.search(clause)]
            urgent = max(current, key=lambda v: v.p(Decision.EMERGENCY), default=None)
            if urgent is not None and urgent.p(Decision.EMERGENCY) >= s.safety_clause_emergency_threshold \
                    and not CHRONIC.search(turn.normalised):
                return _decided(Decision.EMERGENCY, urgent.best_category(Decision.EMERGENCY), "clause",
                                refused), whole
        if refusal_rule is not None:
            return _decided(Decision.REFUSE, refusal_rule.category, f"rule:{refusal_rule.id}"), whole
        false_claim_rule = first_false_claim(turn.normalised)
        if false_claim_rule is not None:
            return _decided(Decision.REFUSE, false_claim_rule.category, f"rule:{false_claim_rule.id}"), whole
        if asks_to_assert_falsehood(turn.normalised) and refused in (None, "manipulation", "false_claim"):
            return _decided(Decision.ANSWER, "false_statement", "rule:assert_falsehood"), whole
        if refused == "manipulation" and len(turn.clauses) > 1 and self._only_instructions_around_a_question(
                turn, vector, clause_verdicts):
            return _decided(Decision.ANSWER, "declined_instructions", "clause"), whole
        if refused in IMPERSONAL_FACT_CATEGORIES and self._names_nobody(turn.normalised) \
                and P.GENERAL_FRAME.search(turn.normalised) and not P.SHOPPING_OR_CHOICE.search(turn.normalised):
            # "这类疗法一般要多少钱?", "which state's health department worked with the FDA?": a price or a
            # clinic asked about as a fact, with no person and no intent to buy or choose. Refusal is for
            # personal requests; the quotes get the note that they are not advice.
            return _decided(Decision.ANSWER, "factual_near_advice", "classifier:impersonal"), whole
        if refused is not None:
            return _decided(Decision.REFUSE, refused, "classifier"), whole
        return _decided(Decision.ANSWER, whole.best_category(Decision.ANSWER), "classifier"), whole

    @staticmethod
    def _names_nobody(text: str) -> bool:
        asked = P.NEUTRAL_ASK.sub(" ", text)
        return not (P.ADVICE_REQUEST.search(asked) or P.PERSONAL.search(asked) or SPOKEN_FOR.search(asked))

    def _refusal(self, turn: _Turn, whole: Verdict, clauses: list[Verdict], rule) -> str | None:
        """The refusal category of a personal request in the turn, or None.

        A text that asks what the sources say and names no person (the asker, someone they speak for) needs a much
        clearer refusal verdict: refusal is for personal requests. Each clause is held to the bar of its own
        framing, so "The source says ISEV recommends it. Which clinic is best?" is still a request."""
        if rule is not None:
            return rule.category
        for verdict, text in ((whole, turn.normalised), *zip(clauses, turn.clauses)):
            if text is not turn.normalised and not _asks_something(text):
                continue  # "if a clinic charges me, ...", "I'm a journalist working on...": no request of its own
            p = verdict.p(Decision.REFUSE)
            if p >= self._refusal_bar(text) and p > verdict.p(Decision.EMERGENCY):
                return verdict.best_category(Decision.REFUSE)
        return None

    def _only_instructions_around_a_question(self, turn: _Turn, vector, clause_verdicts: list[Verdict]) -> bool:
        """The turn's only request is a question about the sources; its other clauses are instructions (to drop
        the rules, play a role, hide the warnings), which exoqa declines and otherwise ignores."""
        verdicts = clause_verdicts or self._verdicts(turn, vector, with_clauses=True)[1:]
        t = self.settings.safety_refuse_threshold
        question = any(v.p(Decision.ANSWER) >= t and v.best_category(Decision.ANSWER) in ("factual", "factual_near_advice")
                       for v in verdicts)
        personal = any(v.p(Decision.REFUSE) >= t and (v.best_category(Decision.REFUSE) != "manipulation"
                                                      or ADVICE_OBJECT.search(clause) or _PROMOTE.search(clause))
                       for v, clause in zip(verdicts, turn.clauses))
        return question and not personal

    def _refusal_bar(self, text: str) -> float:
        asked = P.NEUTRAL_ASK.sub(" ", text)
        personal = bool(P.ADVICE_REQUEST.search(asked) or P.PERSONAL.search(asked) or SPOKEN_FOR.search(asked))
        if asks_about_sources(text) and not personal:
            return self.settings.safety_refuse_sources_threshold
        if P.FACT_QUESTION.search(text) and not (P.VERDICT_ASK.search(asked) or ADVICE_OBJECT.search(text)
                                                 or P.SHOPPING_OR_CHOICE.search(text) or _FOR_SOMEONE.search(asked)):
            # "What email should I write to?", "how big is an exosome?": asks for a fact, names no advice.
            return self.settings.safety_refuse_sources_threshold
        return self.settings.safety_refuse_threshold

    # ----- a question in its conversation ----------------------------------------------------------------------
    def judge(self, query) -> SafetyDecision:
        """The decision for a Query: its own turn, and for a follow-up the open decision of the turns before."""
        current, verdict = self.judge_turn(query.text, query.gate_vector)
        if current.decision == Decision.EMERGENCY or not (query.follows_up and query.history):
            return current
        open_decision = self._open_decision(query.history[-MAX_REPLAYED_TURNS:])
        if open_decision is None:
            if current.decision == Decision.REFUSE and current.layer == "classifier" and _bare_push(query.text):
                # "come on, yes or no" after a factual question: a push for that answer, with nothing of its own.
                return _decided(Decision.ANSWER, "factual", "follow-up")
            return current
        standalone = (verdict.p(Decision.ANSWER) >= STANDALONE_ANSWER
                      and current.category in ("factual", "factual_near_advice", "not_emergency"))
        if open_decision.decision == Decision.EMERGENCY and not standalone:
            return _decided(Decision.EMERGENCY, open_decision.category, "follow-up")
        if current.decision == Decision.REFUSE or standalone:
            return current
        return _decided(Decision.REFUSE, open_decision.category, "follow-up")

    def _open_decision(self, turns: Sequence[str]) -> SafetyDecision | None:
        """The last refusal or emergency of the earlier turns that a later self-contained question did not close."""
        vectors = self.embed([expand(t, GATE_LANGUAGES) for t in turns])
        open_decision = None
        for turn, vector in zip(turns, vectors):
            decision, _ = self.judge_turn(turn, vector)
            if decision.decision in (Decision.REFUSE, Decision.EMERGENCY):
                open_decision = decision
            elif not P.normalise(turn) or not _leans(turn):
                open_decision = None
        return open_decision


def _asks_something(clause: str) -> bool:
    """A clause read out of its turn may be refused only if it asks for something refusable: an advice object, a
    verdict, a purchase or choice, a false claim, or a framing meant to get round the rules; and it must be more
    than a condition ("if a clinic charges me for exosomes")."""
    if _CONDITION.match(clause) and not P.VERDICT_ASK.search(clause):
        return False
    asked = P.NEUTRAL_ASK.sub(" ", clause)
    return bool(ADVICE_OBJECT.search(clause) or P.VERDICT_ASK.search(asked) or P.ADVICE_REQUEST.search(asked)
                or P.SHOPPING_OR_CHOICE.search(clause) or P.MANIPULATION_CUE.search(clause)
                or asks_to_assert_falsehood(clause) or first_false_claim(clause) is not None)


def _bare_push(turn: str) -> bool:
    """A few words that ask nothing of their own: no topic, no advice object, no verdict form."""
    normalised = P.normalise(turn)
    return (word_units(fold(turn)) <= BARE_PUSH_UNITS and not P.TOPIC.search(normalised)
            and not ADVICE_OBJECT.search(normalised) and not P.VERDICT_ASK.search(normalised))


def _leans(turn: str) -> bool:
    from assistant.text.follow_up import follows_up

    return follows_up(fold(turn))


_DEFAULT: Gate | None = None


def judge(query, settings: Settings | None = None, embed: Embed | None = None) -> SafetyDecision:
    """The decision for a Query with the shipped classifier (one Gate per settings and embedder)."""
    global _DEFAULT
    if _DEFAULT is None or (settings is not None and _DEFAULT.settings != settings) \
            or (embed is not None and _DEFAULT._embed is not embed):
        _DEFAULT = Gate(settings, embed=embed)
    return _DEFAULT.judge(query)


def classify(question: str, history: Sequence[str] = (), embed: Embed | None = None) -> SafetyDecision:
    """The decision for a question text and earlier user turns (builds the Query itself)."""
    from assistant.query import Query

    query = Query.build(question, list(history))
    return judge(query, embed=embed)


def categories_of(decision: Decision) -> list[str]:
    return [c.id for c in BY_ID.values() if c.decision == decision]
