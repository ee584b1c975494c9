"""The ISEV 2020 patient warnings, attached to every reply.

The Chinese text is the article's own rendering of the notice, cut from the
corpus at load time (so it is verbatim). The English text is exoqa's summary,
labelled as such; ISEV's own wording is not in the corpus.
"""
from __future__ import annotations

from dataclasses import dataclass

from assistant.corpus.sources import Corpus
from assistant.errors import CorpusError

ARTICLE_ID = "article-zh"
NOTICE_ID = "isev-2020"
NOTICE_URL = ("https://www.isev.org/patient-information-and-safety-notice--extracellular-vesicles-exosomes-and-"
              "unproven-therapies")
_FIRST = "2020年,研究外泌体的细胞外囊泡国际学会(ISEV)"
_LAST = "细胞外囊泡国际学会(ISEV)的这些建议,现在依然有效。"
ENGLISH_SUMMARY = (
    "Summary in exoqa's own words (not ISEV's wording) of the ISEV 2020 patient information and safety notice, "
    "as the article reports it: researchers need very strict methods to isolate exosomes, and collecting them "
    "easily introduces contaminants, even from your own cells; no regulator has approved an exosome therapy; "
    "they are still in research and clinical trials, so talk to a qualified health professional; risks of "
    "unapproved exosome treatments include products contaminated with bacteria or viruses, no evidence that "
    "they help, and high prices. Warning signs: sold as a cure-all, only online or in the media, backed only by "
    "testimonials, claimed to be risk-free, unknown to your doctor, experimental but not offered in a registered "
    f"clinical trial, or without informed consent. Notice: {NOTICE_URL}"
)


@dataclass(frozen=True)
class IsevWarning:
    """One rendering of the ISEV warnings: `language` is the reader's language it is shown to; `verbatim` says
    whether it is source text (with offsets into `source_id`) or exoqa's own summary."""

    id: str
    language: str
    text: str
    source_id: str
    verbatim: bool
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "language": self.language, "text": self.text, "source_id": self.source_id,
                "verbatim": self.verbatim}


def warnings_for(warnings: tuple[IsevWarning, ...], language: str) -> list[IsevWarning]:
    """The warnings shown to a reader of `language` (all of them when none is in that language)."""
    return [w for w in warnings if w.language == language] or list(warnings)


def isev_warnings(corpus: Corpus) -> tuple[IsevWarning, ...]:
    if ARTICLE_ID not in corpus:
        raise CorpusError(f"the ISEV warnings come from source {ARTICLE_ID!r}, which the corpus lacks")
    text = corpus[ARTICLE_ID].text
    start = text.find(_FIRST)
    end = text.find(_LAST, start)
    if start < 0 or end < 0:
        raise CorpusError(f"the ISEV passage is missing from {ARTICLE_ID}")
    end += len(_LAST)
    return (
        IsevWarning("isev-2020-zh", "zh", text[start:end], ARTICLE_ID, True, start, end),
        IsevWarning("isev-2020-en-summary", "en", ENGLISH_SUMMARY, NOTICE_ID, False),
    )
