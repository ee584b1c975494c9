"""Build corpus/ from the shared source files (run once by a maintainer; corpus/ is committed).

Each shared file is `key: value` metadata, a blank line, then text sections that
start with `===== ... =====` lines. The body is copied byte for byte; only the
metadata is normalised to the fields exoqa needs. Sources known only by reference
get a metadata-only file with no body.

    python scripts/import_corpus.py ../shared/corpus-sources corpus
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

# file stem -> normalised fields (the rest is copied from the file's own header)
SOURCES = {
    "00_article_zh": dict(
        id="article-zh", ref="", role="article", language="zh", completeness="partial",
        license="Copyright of its author; used as the project's given source material",
    ),
    "11_asadpour-widera-2023-gray-zone": dict(
        id="asadpour-2023", ref="11", role="study", language="en", completeness="abstract",
        license="CC BY 4.0",
    ),
    "13_fda-2019-exosome-safety-notification": dict(
        id="fda-2019-exosome-notice", ref="13", role="regulator", language="en", completeness="partial",
        license="Public domain (U.S. government work)",
    ),
    "13b_fda-2020-consumer-alert-regenerative-medicine": dict(
        id="fda-2020-consumer-alert", ref="13 (related)", role="regulator", language="en",
        completeness="partial", license="Public domain (U.S. government work)",
    ),
    "13c_fda-reporting-adverse-events-regenerative-medicine": dict(
        id="fda-2020-adverse-event-reporting", ref="13 (related)", role="regulator", language="en",
        completeness="partial", license="Public domain (U.S. government work)",
    ),
    "13d_fda-2021-patient-consumer-info-regenerative-medicine-therapies": dict(
        id="fda-2021-consumer-info", ref="13 (related)", role="regulator", language="en",
        completeness="partial", license="Public domain (U.S. government work)",
    ),
    "14_guangdong-mpa-2022-exosome-cosmetics": dict(
        id="guangdong-mpa-2022", ref="14", role="regulator", language="zh", completeness="partial",
        license="Chinese government notice (quoted with attribution; copyright status not verified)",
    ),
    "17_tan-2024-clinical-applications-stem-cell-exosomes": dict(
        id="tan-2024", ref="17", role="review", language="en", completeness="abstract",
        license="CC BY 4.0",
    ),
    "18_ha-2020-msc-exosomes-skin-regeneration": dict(
        id="ha-2020", ref="18 (candidate, low confidence)", role="review", language="en",
        completeness="abstract", license="CC BY 4.0",
    ),
    "18_alt_oh-2018-ipsc-exosomes-skin-fibroblasts": dict(
        id="oh-2018", ref="18 (candidate)", role="study", language="en", completeness="abstract",
        license="CC BY 4.0",
    ),
}

# The article's other references, from corpus-sources/README.md: named and linked, never quoted.
METADATA_ONLY = [
    dict(id="mit-tr-2024", ref="9", role="news", language="en", year="2024",
         title="Exosomes are touted as a trendy cure-all. We don't know if they work.",
         authors="MIT Technology Review", venue="MIT Technology Review", url="", doi="",
         note="identification: medium confidence"),
    dict(id="widera-profile", ref="10", role="profile", language="en", year="",
         title="Darius Widera, University of Reading (profile)", authors="University of Reading",
         venue="wideralab.org", url="http://wideralab.org/", doi="", note="identification: high (person)"),
    dict(id="ref12-unidentified", ref="12", role="study", language="en", year="",
         title="Not identified: brain-cell-derived exosomes as a \"double-edged sword\"", authors="",
         venue="", url="", doi="", note="reference not identified"),
    dict(id="fujita-2024", ref="15", role="statement", language="en", year="2024",
         title="The urgent need for clear and concise regulations on exosome-based interventions",
         authors="Fujita M, Hatta T, Ikka T, Onishi T", venue="Stem Cell Reports 2024;19(11):1517-1519",
         url="https://doi.org/10.1016/j.stemcr.2024.09.008", doi="10.1016/j.stemcr.2024.09.008",
         note="identification: medium confidence"),
    dict(id="isev-2020", ref="16", role="statement", language="en", year="2020",
         title="Patient information and safety notice: extracellular vesicles/exosomes and unproven therapies",
         authors="ISEV Regulatory Affairs Task Force", venue="International Society for Extracellular Vesicles, 8 Aug 2020",
         url="https://www.isev.org/patient-information-and-safety-notice--extracellular-vesicles-exosomes-and-unproven-therapies",
         doi="", note="identification: high; the article renders the notice in Chinese (see article-zh)"),
    dict(id="chen-2024-nature-aging", ref="19", role="study", language="en", year="2024",
         title="Small extracellular vesicles from young plasma reverse age-related functional declines by improving mitochondrial energy metabolism",
         authors="Chen et al.", venue="Nature Aging 2024", url="https://doi.org/10.1038/s43587-024-00612-4",
         doi="10.1038/s43587-024-00612-4", note="identification: high"),
    dict(id="ref20-unidentified", ref="20", role="review", language="en", year="",
         title="Not identified: a review of exosome drug-delivery advantages", authors="", venue="",
         url="", doi="", note="reference not identified"),
    dict(id="liu-2024-nat-nanotechnol", ref="21", role="study", language="en", year="2024",
         title="Inhalable extracellular vesicle delivery of IL-12 mRNA to treat lung cancer and promote systemic immunity",
         authors="Liu M, Hu S, Yan N, Popowski KD, Cheng K", venue="Nature Nanotechnology 2024;19:565-575",
         url="https://doi.org/10.1038/s41565-023-01580-3", doi="10.1038/s41565-023-01580-3",
         note="identification: high"),
]

FIELDS = ["id", "ref", "title", "authors", "venue", "year", "url", "doi", "language", "role",
          "license", "completeness", "provenance", "note"]


def parse_shared(path: Path) -> tuple[dict[str, str], str]:
    raw = path.read_text(encoding="utf-8")
    header, _, body = raw.partition("\n\n")
    meta = {}
    for line in header.splitlines():
        key, _, value = line.partition(": ")
        meta[key.strip()] = value.strip()
    if not body.lstrip("\n").startswith("====="):
        body = "===== text =====\n\n" + body  # 13c has no section line; section lines are editorial
    return meta, body


def render(meta: dict[str, str], body: str) -> str:
    lines = [f"{key}: {' '.join(str(meta.get(key, '')).split())}" for key in FIELDS]
    return "\n".join(lines) + "\n\n" + body


def main(shared_dir: str, corpus_dir: str) -> None:
    out = Path(corpus_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stem, fixed in SOURCES.items():
        meta, body = parse_shared(Path(shared_dir) / f"{stem}.txt")
        year = re.match(r"\d{4}", meta.get("year", ""))
        merged = {
            **meta,
            **fixed,
            "year": year.group(0) if year else "",
            "url": meta.get("url", "").split(" ")[0].rstrip(";"),
            "doi": "" if meta.get("doi", "none").startswith("none") else meta["doi"].split(" ")[0].rstrip(";"),
            "provenance": f"shared/corpus-sources/{stem}.txt; {meta.get('retrieved_from', '')}",
            "note": f"completeness: {meta.get('completeness', '')} licence detail: {meta.get('license', '')}",
        }
        if not merged["url"].startswith("http"):
            merged["url"] = ""
        (out / f"{fixed['id']}.txt").write_text(render(merged, body), encoding="utf-8")
    for item in METADATA_ONLY:
        meta = {**item, "license": "not redistributed (metadata only)", "completeness": "metadata-only",
                "provenance": "reference list reconstructed in shared/corpus-sources/README.md"}
        (out / f"{item['id']}.txt").write_text(render(meta, ""), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
