"""What an adapter returns for a question: exoqa's safety decision first, evidence only when exoqa answers.

Every adapter goes through `Assistant.ask`, the one path a question takes, so an embedding app gets the same
decision as the chat:

- decision "answer": the evidence — the top retrieved passages (unit="passages") or the verbatim sentences exoqa
  quotes (unit="quotes", each with its gloss when the source is in the other language), each with the source's
  metadata and offsets (`corpus[source_id].text[start:end] == text`).
- any other decision ("refuse", "emergency", "no_answer"): no evidence, one notice whose text is exoqa's own
  reply (the referral or refusal in the question's language, with the ISEV warnings), so an app that passes
  documents straight to a model passes the refusal, and an app that reads `metadata["decision"]` can honour it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.core import Assistant
from assistant.reply.answer import Answer
from assistant.safety.policy import Decision

Unit = Literal["passages", "quotes"]
UNITS = ("passages", "quotes")
SOURCE_FIELDS = ("title", "url", "license", "role", "language", "year")


@dataclass(frozen=True)
class Evidence:
    """One document for a framework: its id, text, metadata and score (None for a notice)."""

    id: str
    text: str
    metadata: dict
    score: float | None


@dataclass(frozen=True)
class GatedResult:
    answer: Answer
    evidence: list[Evidence]

    @property
    def decision(self) -> str:
        return str(self.answer.decision)

    @property
    def answered(self) -> bool:
        return self.answer.decision == Decision.ANSWER


def _decision_fields(answer: Answer) -> dict:
    return {"decision": str(answer.decision), "safety_category": answer.safety_category,
            "question_language": answer.language}


def _span_evidence(assistant: Assistant, answer: Answer, unit: Unit) -> list[Evidence]:
    spans = answer.quotes if unit == "quotes" else answer.passages
    out = []
    for span in spans:
        card = assistant.corpus[span.source_id].card()
        metadata = {"kind": unit[:-1], "source_id": span.source_id, "start": span.start, "end": span.end,
                    **{key: card.get(key, "") for key in SOURCE_FIELDS},
                    "gloss": getattr(span, "gloss", None), "score": float(span.score),
                    "citation": getattr(span, "n", None), **_decision_fields(answer)}
        out.append(Evidence(f"{span.source_id}:{span.start}-{span.end}", span.text, metadata, float(span.score)))
    return out


def gated_retrieve(assistant: Assistant, question: str, k: int | None = None, unit: Unit = "passages"
                   ) -> GatedResult:
    """Ask `question`; the evidence when exoqa answers, else one notice carrying its reply and decision.

    `k` is the number of passages (settings.search_k by default); quotes are as many as the reply has."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    answer = assistant.ask(question, k=k)
    if answer.decision == Decision.ANSWER:
        return GatedResult(answer, _span_evidence(assistant, answer, unit))
    notice = Evidence(f"exoqa-notice:{answer.decision}", answer.text, {"kind": "notice", **_decision_fields(answer)},
                      None)
    return GatedResult(answer, [notice])
