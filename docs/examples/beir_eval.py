"""exoqa on a BEIR dataset: convert a PubMedQA sample, score two settings, test the difference.

    .venv/bin/python docs/examples/beir_eval.py [WORK_DIR]      # offline; under a minute (indexes 8 abstracts)

The same with the command line (docs/integrations.md):
    benchmarks/pubmedqa_beir.py --data benchmarks/data/pubmedqa_sample.json --limit 8 --out WORK/pubmedqa-beir
    exoqa eval WORK/pubmedqa-beir --out WORK/hybrid
    exoqa --set weight_lexical=0 eval WORK/pubmedqa-beir --out WORK/no-bm25
    exoqa eval --compare WORK/hybrid/run.trec WORK/no-bm25/run.trec --qrels WORK/pubmedqa-beir --out WORK/compare
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks/ lives in the checkout, not in the package

from assistant import Settings, load_embedder  # noqa: E402
from assistant.evaluation import beir  # noqa: E402
from benchmarks.pubmedqa_beir import SAMPLE, convert, load_instances  # noqa: E402


def main(work: Path) -> None:
    dataset_dir = work / "pubmedqa-beir"
    convert(load_instances(SAMPLE, limit=8), dataset_dir)
    dataset = beir.load_dataset(dataset_dir)
    embedder = load_embedder()
    reports = {}
    for name, settings in (("hybrid", Settings()), ("no-bm25", Settings(weight_lexical=0.0))):
        reports[name] = beir.evaluate_dataset(dataset, embedder, work / name, settings=settings, tag=name,
                                              progress=False)
        print(json.dumps({"run": name, "file": reports[name]["run_file"], "measures": reports[name]["measures"]}))
    comparison = beir.compare_runs(work / "hybrid" / beir.RUN_FILE, work / "no-bm25" / beir.RUN_FILE, dataset.qrels)
    beir.write_comparison(comparison, work / "compare")
    print(beir.render_comparison(comparison), end="")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="exoqa-beir-")))
