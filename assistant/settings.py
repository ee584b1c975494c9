"""Every tunable of exoqa in one typed object, passed in rather than read from module globals.

Defaults are the values the figures in the README were measured with. Change them from Python
(`Settings(rrf_k=5)`, `settings.replace(...)`), from the environment (`EXOQA_RRF_K=5`: the field name in upper
case after `EXOQA_`), or from the command line (`exoqa --set rrf_k=5 ask ...`). Fields marked "index" change what
is embedded, so the index is rebuilt when they differ from the manifest's.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ExoqaError

ENV_PREFIX = "EXOQA_"


class SettingsError(ExoqaError, ValueError):
    """A setting has an unknown name or a value of the wrong type or range."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # --- chunking (index) -----------------------------------------------------------------------------------
    passage_max_tokens: int = Field(224, ge=16, le=480, description=(
        "index: passage budget in the embedding model's own tokens (e5-small reads at most 512)"))
    # e5's tokenizer packs Chinese about twice as densely as English (median 0.56 vs 1.12 tokens per cl100k token
    # on this corpus), so the same content length needs about half the budget. 224 / 110 reproduce the passages of
    # the former 200-cl100k-token budget (88 passages; dev recall@5 0.942, MRR 0.792; single budgets of 100-250
    # model tokens gave 0.85-0.88).
    passage_max_tokens_zh: int = Field(110, ge=16, le=480, description=(
        "index: passage budget for Chinese sources, in the model's tokens"))

    # --- retrieval ------------------------------------------------------------------------------------------
    search_k: int = Field(5, ge=1, le=100, description="passages `search` returns by default")
    rrf_k: float = Field(3.0, gt=0, description="reciprocal rank fusion constant of the passage fusion")
    weight_dense_passage: float = Field(1.0, ge=0, description="fusion weight of the passage-vector ranking")
    weight_dense_sentence: float = Field(1.0, ge=0, description="fusion weight of the best-sentence-vector ranking")
    weight_lexical: float = Field(1.5, ge=0, description="fusion weight of the BM25 ranking")
    # Besides its rank, each ranking adds this share of its standardised score, split 0.5 / 0.2 / 0.3
    # (docs/pubmedqa.md): ranks decide, scores settle what ranks leave close.
    score_share: float = Field(0.3, ge=0, description="share of standardised scores added to the rank fusion")
    lexical_k1: float = Field(0.9, gt=0, description="BM25 k1 of the passages (Anserini's default)")
    lexical_b: float = Field(0.4, ge=0, le=1, description="BM25 b of the passages (Anserini's default)")
    # corpus/translations/: each sentence and passage is also scored by its translation (corpus/translations.py)
    translation_layer: bool = Field(True, description=(
        "index: score sentences and passages by the better of the original and exoqa's translation, and show "
        "the translation as a gloss under a quote in the other language"))
    # For a corpus without translations (exoqa ingest): the question's terms translated word by word with
    # CC-CEDICT (text/cedict.py) are searched too, at this fraction of the question's own BM25 weight.
    dictionary_translation: bool = Field(True, description=(
        "without a translation layer, also search CC-CEDICT translations of the question's words"))
    dictionary_weight: float = Field(0.3, ge=0, le=1, description=(
        "BM25 weight of the dictionary-translated terms relative to the question's own"))
    vector_index: Literal["auto", "flat", "hnsw", "ivfpq"] = Field(
        "auto", description="index: FAISS index kind; auto follows the number of vectors (retrieval/vector_index.py)")
    backend: str = Field("faiss", pattern=r"^(faiss|postgres(ql)?://.*)$", description=(
        "where the index lives: faiss (files beside the corpus) or a postgresql:// URL (retrieval/postgres.py)"))

    # --- quotes ---------------------------------------------------------------------------------------------
    max_quotes: int = Field(3, ge=1, le=10, description="quotes per answer")
    passages_considered: int = Field(5, ge=1, le=50, description="top passages whose sentences may be quoted")
    min_quote_chars: int = Field(8, ge=1, description="shorter sentences are never quoted")
    sentence_rrf_k: float = Field(3.0, gt=0, description="RRF constant for ordering candidate quotes")
    quote_cue_weight: float = Field(1.0, ge=0, description=(
        "bonus, in rank-1 units, for a candidate quote with the kind of answer asked for (a date for 'when')"))
    quote_question_penalty: float = Field(0.2, ge=0, description=(
        "penalty, in rank-1 units, for a candidate quote that is itself a question (a tie-break: the article "
        "asks many of its points as rhetorical questions)"))
    quote_restatement_penalty: float = Field(2.0, ge=0, description=(
        "penalty, in rank-1 units, for a source's question that restates the user's question"))
    # Below this evidence strength (the chosen quotes' best e5 cosine) the sources do not cover the question.
    # Tuned on eval/article_qa_dev.jsonl (all kept) against eval/off_topic_dev.jsonl.
    abstain_below_en: float = Field(0.82, ge=-1, le=1, description="abstention threshold, English questions")
    abstain_below_zh: float = Field(0.85, ge=-1, le=1, description="abstention threshold, Chinese questions")

    def passage_budget(self, language: str) -> int:
        return self.passage_max_tokens_zh if language == "zh" else self.passage_max_tokens

    # --- safety (thresholds on the classifier's probabilities; chosen by cross-validation on the bank:
    # scripts/train_safety_classifier.py prints them) ------------------------------------------------------------
    safety_emergency_threshold: float = Field(0.5, gt=0, lt=1, description=(
        "refer to emergency care when a clause or the turn is an emergency with at least this probability"))
    safety_refuse_threshold: float = Field(0.5, gt=0, lt=1, description=(
        "refuse a turn that is a personal request with at least this probability"))
    safety_clause_screen: float = Field(0.02, ge=0, lt=1, description=(
        "judge each clause of a several-clause turn when the whole turn's emergency probability reaches this"))
    safety_clause_emergency_threshold: float = Field(0.8, gt=0, lt=1, description=(
        "refer when one clause alone is an emergency with at least this probability (a clause lacks its context)"))
    safety_refuse_sources_threshold: float = Field(0.8, gt=0, lt=1, description=(
        "refuse a text that asks what the sources say and names no person only at this refusal probability"))

    @property
    def fusion_weights(self) -> tuple[float, float, float]:
        return (self.weight_dense_passage, self.weight_dense_sentence, self.weight_lexical)

    @property
    def score_weights(self) -> tuple[float, float, float]:
        return (self.score_share * 0.5, self.score_share * 0.2, self.score_share * 0.3)

    def abstain_below(self, language: str) -> float:
        return self.abstain_below_zh if language == "zh" else self.abstain_below_en

    def replace(self, **changes: object) -> Settings:
        return self.parse({**self.model_dump(), **changes})

    @classmethod
    def parse(cls, values: Mapping[str, object]) -> Settings:
        """Settings from a mapping (strings are converted); SettingsError names what is wrong."""
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(cls.model_fields)}")
        try:
            return cls.model_validate(dict(values), strict=False)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"invalid setting: {problems}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then EXOQA_<NAME> environment variables, then `overrides`."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {name: environ[ENV_PREFIX + name.upper()] for name in cls.model_fields
                                     if ENV_PREFIX + name.upper() in environ}
        return cls.parse({**values, **overrides})


def parse_assignments(assignments: list[str] | None) -> dict[str, str]:
    """{"name": "value"} from ["name=value", ...] (the CLI's --set); SettingsError for a malformed one."""
    values: dict[str, str] = {}
    for assignment in assignments or ():
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip():
            raise SettingsError(f"--set needs name=value, got {assignment!r}")
        values[name.strip()] = value.strip()
    return values
