"""The Assistant: validate the question, gate it for safety, retrieve, quote, render."""
from __future__ import annotations

import os
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import safety, safety_knn, safety_patterns
from .answer import ABSTAIN_BELOW, Answer, Quote, evidence_strength, render, select_sentences, verify_quote
from .corpus import Corpus, load_corpus
from .embeddings import DEFAULT_MODEL, Embedder, load_embedder
from .errors import CorpusError, InvalidQuestionError
from .isev import isev_warnings
from .language import detect_language
from .retriever import Passage, Retriever

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 50
HistoryTurn = str | Mapping[str, str]


def default_corpus_dir() -> Path:
    return Path(os.environ.get("EXOQA_CORPUS_DIR", PROJECT_ROOT / "corpus"))


def default_index_dir(model: str, corpus_dir: Path | None = None) -> Path:
    """The shipped corpus's index lives in index/<model>; any other corpus keeps its own in <corpus>/.exoqa-index/."""
    if "EXOQA_INDEX_DIR" in os.environ:
        return Path(os.environ["EXOQA_INDEX_DIR"])
    slug = "e5-small" if model == DEFAULT_MODEL else "".join(c if c.isalnum() else "-" for c in model)[-60:]
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
    if corpus_dir.resolve() != (PROJECT_ROOT / "corpus").resolve():
        return corpus_dir / ".exoqa-index" / slug
    return PROJECT_ROOT / "index" / slug


def normalize_question(question: object) -> str:
    """Documented normalisation: NFC, tabs/newlines become spaces, outer whitespace trimmed.

    Rejected: non-text, empty, over 2,000 characters, other control characters.
    """
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidQuestionError("the question is not valid UTF-8 text") from None
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    text = unicodedata.normalize("NFC", question).replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    if not text:
        raise InvalidQuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(f"the question is {len(text)} characters; the limit is {MAX_QUESTION_CHARS}")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise InvalidQuestionError("the question contains control characters or invalid text")
    return text


def user_turns(history: object) -> list[str]:
    """Earlier user turns, oldest first, from `history`.

    Accepts plain strings (each a user turn) or chat messages `{"role": ..., "content": ...}`; only user
    turns matter for retrieval and safety, so assistant turns are dropped. Only the last
    MAX_HISTORY_TURNS turns are kept. Malformed history is an InvalidQuestionError.
    """
    if history is None:
        return []
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
            turns.append(normalize_question(turn))
    return turns


def isev_warnings_for(corpus: Corpus) -> tuple:
    """The ISEV warnings come from the shipped article; a corpus of other documents borrows them from it."""
    try:
        return isev_warnings(corpus)
    except CorpusError:
        if corpus.directory is not None and Path(corpus.directory).resolve() == (PROJECT_ROOT / "corpus").resolve():
            raise
        return isev_warnings(load_corpus(PROJECT_ROOT / "corpus"))


_ELLIPTIC = re.compile(r"^(?:what|how) about\b|^(?:and|also|then|so|but)\b|^(?:那|那么|还有|另外|此外|那它)|呢[?？]?$",
                       re.IGNORECASE)


def leans_on_history(question: str) -> bool:
    """True for a follow-up that cannot be retrieved alone ("what about the risks?", "它安全吗", "那价格呢?")."""
    return bool(_ELLIPTIC.search(question) or safety_patterns.ANAPHOR.search(question))


class Assistant:
    def __init__(self, corpus: Corpus, retriever: Retriever) -> None:
        self.corpus = corpus
        self.retriever = retriever
        self.warnings = isev_warnings_for(corpus)
        # The safety gate's example bank is embedded with the default model: share it rather than load it twice.
        self._gate_shares_model = safety_knn.share_embedder(retriever.embedder)

    @classmethod
    def load(cls, corpus_dir: Path | None = None, index_dir: Path | None = None, model: str = DEFAULT_MODEL,
             allow_download: bool = False, rebuild: str = "auto", embedder: Embedder | None = None) -> Assistant:
        corpus_dir = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
        corpus = load_corpus(corpus_dir)
        embedder = embedder or load_embedder(model, allow_download=allow_download)
        retriever = Retriever.open(corpus, embedder, index_dir or default_index_dir(model, corpus_dir),
                                   rebuild=rebuild)
        return cls(retriever.corpus, retriever)  # the fallback index brings its own corpus snapshot

    def search(self, query: str, k: int = 5) -> list[Passage]:
        if not isinstance(k, int) or not 1 <= k <= 100:
            raise InvalidQuestionError("k must be an integer from 1 to 100")
        return self.retriever.search(normalize_question(query), k)

    def ask(self, question: str, history: Sequence[HistoryTurn] | None = ()) -> Answer:
        """Answer `question`; `history` holds the earlier turns (strings or {"role", "content"} messages)."""
        started = time.perf_counter()
        text = normalize_question(question)
        history = user_turns(history)
        language = detect_language(text)
        query = " ".join([history[-1], text]) if history and leans_on_history(text) else text
        timings: dict[str, float] = {}
        gate_vector = retrieval_vector = None
        if self._gate_shares_model:
            # The gate and retrieval embed the same expanded text over the shipped corpus: one embedding serves
            # both. A follow-up joined to its history, or another corpus's languages, need a batch of two.
            t0 = time.perf_counter()
            texts = list(dict.fromkeys([safety_knn.gate_text(text), self.retriever.query_text(query)]))
            vectors = self.retriever.embedder.embed_queries(texts)
            gate_vector, retrieval_vector = vectors[0], vectors[-1:]
            timings["embed_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        gate = safety.classify(text, history, query_vector=gate_vector)
        timings["safety_ms"] = (time.perf_counter() - t0) * 1e3
        quotes: list[Quote] = []
        lead = None
        decision = gate.decision
        if gate.decision == "emergency":
            lead = safety.emergency_message(language, gate.category)
        elif gate.decision == "refuse":
            lead = safety.refusal_message(language, gate.category)
        else:
            fused, sentence_sim = self.retriever.score(query, timings, query_vector=retrieval_vector)
            t0 = time.perf_counter()
            chosen = select_sentences(self.retriever.index.sentences, self.retriever.index.passage_sentences,
                                      fused, sentence_sim, self.retriever.sentence_lexical_scores(query))
            if evidence_strength(chosen) < ABSTAIN_BELOW[language]:
                decision = "no_answer"
            else:
                quotes = [Quote(n, s.text, s.source_id, s.start, s.end, score)
                          for n, (s, score) in enumerate(chosen, 1)]
            timings["select_ms"] = (time.perf_counter() - t0) * 1e3
        for quote in quotes:
            if not verify_quote(self.corpus, quote):  # the invariant; never show an unverified quote
                raise AssertionError(f"quote {quote.n} is not verbatim at its offsets")
        t0 = time.perf_counter()
        reply = render(language, lead, quotes, self.corpus, self.warnings, abstained=decision == "no_answer")
        timings["render_ms"] = (time.perf_counter() - t0) * 1e3
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        cited = dict.fromkeys(q.source_id for q in quotes)
        sources = [{k: self.corpus[sid].card()[k] for k in ("source_id", "title", "url", "role", "license")}
                   for sid in cited]
        return Answer(text, language, decision, reply, quotes, sources, self.warnings, timings, gate.category)

    def sources(self) -> list[dict]:
        return [s.card() for s in self.corpus.sources]
