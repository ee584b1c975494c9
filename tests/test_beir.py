"""`exoqa eval` on BEIR datasets: a real index and retriever over a small corpus in BEIR files, the run written as
TREC and scored from that file, paired significance between two runs, and the PubMedQA conversion."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from assistant.evaluation import beir
from benchmarks import pubmedqa_beir
from ui.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [  # ids a BEIR dataset may have but an exoqa source id may not (upper case, '#'), and one in Chinese
    {"_id": "MED-1", "title": "Lactase", "text": "Lactase is the enzyme that breaks down lactose, the sugar in milk."},
    {"_id": "MED-2", "title": "Insulin", "text": "Insulin is a hormone made by the pancreas that lowers blood sugar."},
    {"_id": "doc#3", "title": "Penicillin", "text": "Penicillin was the first antibiotic, discovered by Alexander "
                                                    "Fleming in 1928 from a mould."},
    {"_id": "4", "title": "", "text": "外泌体是细胞分泌的微小囊泡，可以在细胞之间传递蛋白质和核酸。"},
    {"_id": "5", "title": "Vitamin C", "text": "Scurvy is caused by a lack of vitamin C and was common among "
                                              "sailors on long voyages."},
]
QUERIES = {"q1": "Which enzyme digests the sugar in milk?", "q2": "What hormone lowers blood glucose?",
           "q3": "Who discovered the first antibiotic?", "q4": "外泌体在细胞之间传递什么?",
           "q5": "What disease did sailors get without vitamin C?", "q6": "x" * 2500,  # too long for exoqa
           "q7": "never judged"}
QRELS = [("q1", "MED-1", 2), ("q2", "MED-2", 2), ("q2", "MED-1", 0), ("q3", "doc#3", 1), ("q4", "4", 1),
         ("q5", "5", 2), ("q5", "MED-2", 1), ("q6", "5", 1)]


def _write_dataset(directory: Path, qrels=QRELS, documents=DOCUMENTS) -> Path:
    (directory / "qrels").mkdir(parents=True)
    (directory / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents),
                                            encoding="utf-8")
    (directory / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n" for q, t in QUERIES.items()),
        encoding="utf-8")
    (directory / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{r}\n" for q, d, r in qrels), encoding="utf-8")
    return directory


def _read_run(path: Path) -> dict[str, list[tuple[str, int, float]]]:
    run: dict[str, list[tuple[str, int, float]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        query_id, q0, doc_id, rank, score, tag = line.split(" ")
        assert q0 == "Q0" and tag
        run.setdefault(query_id, []).append((doc_id, int(rank), float(score)))
    return run


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """The dataset, `exoqa eval DIR` once, and its outputs."""
    work = tmp_path_factory.mktemp("beir")
    dataset = _write_dataset(work / "tiny")
    code = main(["eval", str(dataset), "--out", str(work / "a"), "--no-progress"])
    assert code == 0
    return work, dataset


def test_eval_writes_a_trec_run_of_the_datasets_ids(evaluated):
    work, dataset = evaluated
    run = _read_run(work / "a" / "run.trec")
    assert set(run) == {"q1", "q2", "q3", "q4", "q5"}  # judged queries only; q6 was too long (below)
    ids = {d["_id"] for d in DOCUMENTS}
    for query_id, ranked in run.items():
        assert [rank for _, rank, _ in ranked] == list(range(1, len(ranked) + 1))
        scores = [score for _, _, score in ranked]
        assert all(a > b for a, b in zip(scores, scores[1:]))  # strictly: trec_eval re-sorts by score
        assert {doc for doc, _, _ in ranked} <= ids and len(ranked) == len({doc for doc, _, _ in ranked})
    for query_id, wanted in [("q1", "MED-1"), ("q2", "MED-2"), ("q3", "doc#3"), ("q4", "4"), ("q5", "5")]:
        assert run[query_id][0][0] == wanted, (query_id, run[query_id][:3])  # the real retriever finds each one
    assert (dataset / ".exoqa-index").is_dir()


def test_report_figures_are_those_of_the_run_file(evaluated):
    work, _ = evaluated
    report = json.loads((work / "a" / "report.json").read_text(encoding="utf-8"))
    run = _read_run(work / "a" / "run.trec")
    relevant = {}
    for q, d, r in QRELS:
        relevant.setdefault(q, {})[d] = r
    assert set(report["per_query"]) == set(relevant)  # every judged query, q6 included
    for query_id in relevant:  # RR@10 and Success@1 recomputed by hand from the file
        docs = [doc for doc, _, _ in run.get(query_id, [])]
        first = next((rank for rank, doc in enumerate(docs[:10], 1) if relevant[query_id].get(doc, 0) > 0), None)
        assert report["per_query"][query_id]["RR@10"] == pytest.approx(1 / first if first else 0.0)
        assert report["per_query"][query_id]["Success@1"] == float(first == 1)
    assert report["per_query"]["q6"] == {name: 0.0 for name in beir.DEFAULT_MEASURES}
    assert [s["query_id"] for s in report["skipped"]] == ["q6"] and "2000" in report["skipped"][0]["error"]
    for name in beir.DEFAULT_MEASURES:
        assert report["measures"][name] == pytest.approx(np.mean([row[name] for row in report["per_query"].values()]))
    # graded relevance: q5's nDCG@10 is 1 only if the grade-2 document comes before the grade-1 one
    q5 = [doc for doc, _, _ in run["q5"]]
    ideal = (2**2 - 1) + (2**1 - 1) / np.log2(3)
    gains = sum((2 ** {"5": 2, "MED-2": 1}.get(doc, 0) - 1) / np.log2(rank + 1) for rank, doc in enumerate(q5[:10], 1))
    assert report["per_query"]["q5"]["nDCG@10"] == pytest.approx(gains / ideal)
    assert "| nDCG@10 |" in (work / "a" / "report.md").read_text(encoding="utf-8")


def test_second_eval_reuses_the_index_and_gives_the_same_run(evaluated, capfd):
    work, dataset = evaluated
    assert main(["eval", str(dataset), "--out", str(work / "again"), "--no-progress", "--run-tag", "again"]) == 0
    assert "rebuilding" not in capfd.readouterr().err
    first = {q: [doc for doc, _, _ in r] for q, r in _read_run(work / "a" / "run.trec").items()}
    again = {q: [doc for doc, _, _ in r] for q, r in _read_run(work / "again" / "run.trec").items()}
    assert first == again
    assert (work / "again" / "run.trec").read_text().split("\n")[0].endswith(" again")


def test_compare_reports_paired_tests_over_per_query_values(evaluated, capsys):
    work, dataset = evaluated
    run = _read_run(work / "a" / "run.trec")
    reversed_run = {q: [(doc, float(len(r) - n)) for n, (doc, _, _) in enumerate(reversed(r))] for q, r in run.items()}
    beir.write_trec_run(reversed_run, work / "reversed.trec", tag="reversed")
    out = work / "compare"
    code = main(["eval", "--compare", str(work / "a" / "run.trec"), str(work / "reversed.trec"),
                 "--qrels", str(dataset), "--out", str(out), "--measures", "Success@1", "RR@10"])
    assert code == 0
    printed = capsys.readouterr().out
    comparison = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert comparison["queries"] == 6 and "| Success@1 |" in printed and (out / "compare.md").exists()

    queries = sorted({q for q, _, _ in QRELS})
    relevant = {(q, d) for q, d, r in QRELS if r > 0}
    a = np.array([float(bool(run.get(q)) and (q, run[q][0][0]) in relevant) for q in queries])
    b = np.array([float(bool(reversed_run.get(q)) and (q, reversed_run[q][0][0]) in relevant) for q in queries])
    row = comparison["measures"]["Success@1"]
    assert (row["mean_a"], row["mean_b"]) == (pytest.approx(a.mean()), pytest.approx(b.mean()))
    assert row["p_t_test"] == pytest.approx(stats.ttest_rel(b, a).pvalue)
    differing = int((a != b).sum())
    assert (row["b_worse"], row["b_better"], row["ties"]) == (int((b < a).sum()), int((b > a).sum()),
                                                              len(queries) - differing)
    # 6 queries: every sign flip is enumerated, so the randomisation p is exact: only the two all-one-sign
    # patterns of the differing queries reach the observed mean difference
    assert row["p_randomisation"] == pytest.approx(2 / 2**differing)


def test_compare_of_a_run_with_itself_finds_no_difference(evaluated):
    work, dataset = evaluated
    run = work / "a" / "run.trec"
    comparison = beir.compare_runs(run, run, beir.read_qrels(dataset))
    for row in comparison["measures"].values():
        assert row["difference"] == 0 and row["p_t_test"] == 1.0 and row["p_randomisation"] == 1.0


def test_unusable_datasets_and_options_exit_2_with_a_reason(tmp_path, capsys):
    bad_qrels = _write_dataset(tmp_path / "bad-qrels", qrels=[("q99", "MED-1", 1)])
    assert main(["eval", str(bad_qrels), "--out", str(tmp_path / "o")]) == 2
    assert "q99" in capsys.readouterr().err
    spaced = _write_dataset(tmp_path / "spaced", documents=[{"_id": "a b", "text": "x"}])
    assert main(["eval", str(spaced), "--out", str(tmp_path / "o")]) == 2
    assert "whitespace" in capsys.readouterr().err
    good = _write_dataset(tmp_path / "good")
    assert main(["eval", str(good), "--measures", "NotAMeasure@3", "--out", str(tmp_path / "o")]) == 2
    assert "NotAMeasure@3" in capsys.readouterr().err
    assert main(["eval", "--compare", "a.trec", "b.trec"]) == 2
    assert "--qrels" in capsys.readouterr().err
    assert main(["eval", "--compare", str(tmp_path / "missing.trec"), str(tmp_path / "missing.trec"),
                 "--qrels", str(good)]) == 2
    assert "missing.trec" in capsys.readouterr().err
    assert not (tmp_path / "good" / ".exoqa-index").exists()  # checked before anything was indexed


def test_pubmedqa_converts_to_a_beir_dataset(tmp_path):
    instances = json.loads(pubmedqa_beir.SAMPLE.read_text(encoding="utf-8"))
    assert pubmedqa_beir.main(["--data", str(pubmedqa_beir.SAMPLE), "--out", str(tmp_path / "pq")]) == 0
    dataset = beir.load_dataset(tmp_path / "pq")
    assert len(dataset.documents) == len(dataset.queries) == len(dataset.qrels) == len(instances)
    for document in dataset.documents:
        assert document["text"] == "\n".join(instances[document["_id"]]["CONTEXTS"]) and document["title"] == ""
    for query_id, judged in dataset.qrels.items():
        (pmid,) = judged
        assert judged[pmid] == 1 and query_id == f"q{pmid}"
        assert dataset.queries[query_id] == instances[pmid]["QUESTION"]


def test_beir_example_in_docs_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("EXOQA_CORPUS_DIR", "EXOQA_INDEX_DIR")}
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "beir_eval.py"), str(tmp_path)],
                            cwd=tmp_path, env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    runs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["run"] for r in runs] == ["hybrid", "no-bm25"]
    for r in runs:
        assert Path(r["file"]).exists() and 0.5 < r["measures"]["Success@5"] <= 1.0
    assert "randomisation p" in result.stdout and (tmp_path / "compare" / "compare.json").exists()
