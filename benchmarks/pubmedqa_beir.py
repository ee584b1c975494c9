"""PubMedQA-L as a BEIR dataset: the worked example of `exoqa eval` on a corpus in a standard format.

Each of the 1,000 expert-labelled instances gives one document (its abstract: the CONTEXTS joined, id = the PubMed
id) and one query (its QUESTION, id = "q" + the PubMed id) whose only relevant document is its own abstract, as in
benchmarks/pubmedqa.py. The QUESTION is the article's title turned into a question, so no title is written.

    .venv/bin/python benchmarks/pubmedqa_beir.py --out pubmedqa-beir          # from ../shared/benchmarks/pubmedqa
    .venv/bin/python benchmarks/pubmedqa_beir.py --data benchmarks/data/pubmedqa_sample.json --out sample-beir
    .venv/bin/exoqa eval pubmedqa-beir --out runs/default                     # run.trec, report.json, report.md

Writes corpus.jsonl, queries.jsonl and qrels/test.tsv (docs/integrations.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "pubmedqa" / "ori_pqal.json"
SAMPLE = ROOT / "benchmarks" / "data" / "pubmedqa_sample.json"


def load_instances(path: Path, limit: int | None = None) -> dict[str, dict]:
    """{pmid: instance} from ori_pqal.json (or a sample in the same format), in file order."""
    if not path.exists():
        raise SystemExit(f"pubmedqa_beir: data file not found: {path}\n"
                         f"Pass --data path/to/ori_pqal.json, or --data {SAMPLE.relative_to(ROOT)} for the sample.")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise SystemExit(f"pubmedqa_beir: {path} is not a PubMedQA json object keyed by PubMed id")
    items = list(data.items())[:limit] if limit else list(data.items())
    for pmid, instance in items:
        if not isinstance(instance.get("QUESTION"), str) or not isinstance(instance.get("CONTEXTS"), list):
            raise SystemExit(f"pubmedqa_beir: instance {pmid} lacks QUESTION or CONTEXTS")
    return dict(items)


def _jsonl(rows) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def convert(instances: dict[str, dict], out_dir: Path) -> dict[str, int]:
    """Write the BEIR files for `instances` into `out_dir`; returns the counts."""
    out_dir = Path(out_dir)
    (out_dir / "qrels").mkdir(parents=True, exist_ok=True)
    (out_dir / "corpus.jsonl").write_text(
        _jsonl({"_id": pmid, "title": "", "text": "\n".join(i["CONTEXTS"])} for pmid, i in instances.items()),
        encoding="utf-8")
    (out_dir / "queries.jsonl").write_text(
        _jsonl({"_id": f"q{pmid}", "text": i["QUESTION"]} for pmid, i in instances.items()), encoding="utf-8")
    (out_dir / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{pmid}\t{pmid}\t1\n" for pmid in instances), encoding="utf-8")
    return {"documents": len(instances), "queries": len(instances), "judgments": len(instances)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="ori_pqal.json or a sample of it")
    parser.add_argument("--out", type=Path, default=Path("pubmedqa-beir"), help="dataset directory to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N instances")
    args = parser.parse_args(argv)
    counts = convert(load_instances(args.data, args.limit), args.out)
    print(f"{counts['documents']} documents, {counts['queries']} queries, {counts['judgments']} judgments "
          f"-> {args.out}/corpus.jsonl, queries.jsonl, qrels/test.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
