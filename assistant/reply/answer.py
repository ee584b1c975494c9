"""What an ask returns: the Answer, its Quotes (verbatim spans of the corpus) and the check that they are."""
from __future__ import annotations

from dataclasses import dataclass, field

from assistant.corpus.chunking import Span
from assistant.corpus.sources import Corpus
from assistant.reply.isev import IsevWarning
from assistant.safety.policy import Decision


@dataclass(frozen=True)
class Quote(Span):
    """A quoted sentence: its span, its number in the reply and its dense similarity to the question.

    `gloss` is exoqa's translation of the sentence into the reader's language when the source is in the other one
    (never source text; None when there is none)."""

    n: int
    score: float
    gloss: str | None = None

    def to_dict(self) -> dict:
        return {"n": self.n, "text": self.text, "source_id": self.source_id, "start": self.start,
                "end": self.end, "score": round(self.score, 6), "gloss": self.gloss}


@dataclass
class Answer:
    question: str
    language: str
    decision: Decision
    text: str
    quotes: list[Quote]
    sources: list[dict]
    warnings: tuple[IsevWarning, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    safety_category: str = ""
    passages: list = field(default_factory=list)  # the top retrieved passages (empty when nothing was retrieved)

    def to_dict(self) -> dict:
        return {
            "question": self.question, "language": self.language, "decision": str(self.decision),
            "safety_category": self.safety_category, "text": self.text,
            "quotes": [q.to_dict() for q in self.quotes], "sources": self.sources,
            "warnings": [w.to_dict() for w in self.warnings],
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


def verify_quote(corpus: Corpus, quote: Span) -> bool:
    """The invariant of every quote: the source text at [start:end] is exactly the quote's text."""
    return quote.source_id in corpus and corpus[quote.source_id].text[quote.start:quote.end] == quote.text
