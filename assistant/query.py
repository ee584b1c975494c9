"""One question, analysed once: the Query that the safety gate, the retriever and the reply all read.

Built by `Query.build` at the start of every ask: the cleaned text, its folded form for intent matching, its
language, the earlier user turns, whether it leans on them, the text retrieval looks up (the previous turn joined
on for a follow-up), that text expanded with the glossary's other-language terms, and the query vectors. When
the gate and retrieval read the same expanded text (the shipped corpus, a self-contained question) one embedding
serves both.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.errors import InvalidQuestionError
from assistant.text.follow_up import follows_up
from assistant.text.glossary import expand
from assistant.text.language import detect_language
from assistant.text.normalize import clean_question, fold

MAX_HISTORY_TURNS = 50
MAX_HISTORY_TURN_CHARS = 20_000  # an earlier turn may be long (a pasted reply); the question itself may not
GATE_LANGUAGES = ("zh", "en")  # the safety gate's examples are embedded with both languages' glossary terms
HistoryTurn = str | Mapping[str, str]


def user_turns(history: object) -> tuple[str, ...]:
    """Earlier user turns, oldest first, from strings (each a user turn) or {"role", "content"} messages.

    Assistant and system turns are dropped (only what the user said matters for retrieval and safety); only the
    last MAX_HISTORY_TURNS turns are kept. Malformed history is an InvalidQuestionError.
    """
    if history is None:
        return ()
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestionError("history must be a list of earlier turns")
    turns: list[str] = []
    for position, turn in enumerate(history[-MAX_HISTORY_TURNS:]):
        if isinstance(turn, Mapping):
            role, content = turn.get("role"), turn.get("content")
            if role not in ("user", "assistant", "system"):
                raise InvalidQuestionError(f"history[{position}].role must be 'user', 'assistant' or 'system'")
            if not isinstance(content, str):
                raise InvalidQuestionError(f"history[{position}].content must be text")
            if role != "user":
                continue
            turn = content
        elif not isinstance(turn, str):
            raise InvalidQuestionError(f"history[{position}] must be text or a {{role, content}} message")
        if turn.strip():
            turns.append(clean_question(turn, what=f"history turn {position}", limit=MAX_HISTORY_TURN_CHARS))
    return tuple(turns)


@dataclass(frozen=True)
class Query:
    text: str                    # the question as cleaned (normalize.clean_question): shown and retrieved
    folded: str                  # normalize.fold(text): what intent matching reads
    language: str                # "zh" | "en": the reply's language
    history: tuple[str, ...]     # earlier user turns, oldest first (cleaned)
    follows_up: bool             # the turn leans on the one before it (text.follow_up)
    context: str                 # what retrieval looks up: the previous turn joined on for a follow-up
    expanded: str                # `context` with glossary terms in the corpus's languages: embedded and matched
    gate_text: str               # `text` with glossary terms in both languages: what the gate embeds
    vector: np.ndarray | None = field(default=None, repr=False)       # (1, dim) embedding of `expanded`
    gate_vector: np.ndarray | None = field(default=None, repr=False)  # (dim,) embedding of `gate_text`
    embed_ms: float = 0.0

    @classmethod
    def build(cls, question: object, history: object = (), corpus_languages: Collection[str] = GATE_LANGUAGES,
              embedder=None, embed_gate: bool = True) -> Query:
        """Analyse `question` (InvalidQuestionError if it cannot be asked); embed it when `embedder` is given."""
        text = clean_question(question)
        turns = user_turns(history)
        folded = fold(text)
        leans = bool(turns) and follows_up(folded)
        context = f"{turns[-1]} {text}" if leans else text
        expanded = expand(context, corpus_languages)
        gate_text = expand(text, GATE_LANGUAGES)
        query = cls(text, folded, detect_language(text), turns, leans, context, expanded, gate_text)
        return query.embedded(embedder, embed_gate) if embedder is not None else query

    def embedded(self, embedder, embed_gate: bool = True) -> Query:
        """This query with its vectors: one embedding when the gate and retrieval read the same text."""
        started = time.perf_counter()
        texts = list(dict.fromkeys([self.expanded, *([self.gate_text] if embed_gate else [])]))
        vectors = embedder.embed_queries(texts)
        gate_vector = vectors[texts.index(self.gate_text)] if embed_gate else None
        return _replace(self, vector=vectors[:1], gate_vector=gate_vector,
                        embed_ms=(time.perf_counter() - started) * 1e3)


def _replace(query: Query, **changes) -> Query:
    import dataclasses

    return dataclasses.replace(query, **changes)
