"""benchmarks/pubmedqa.py on the committed 30-abstract sample: real index, real model, cached between runs."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "benchmarks" / "data" / "pubmedqa_sample.json"


def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pubmedqa.py"), *args],
                          capture_output=True, text=True, timeout=1800, cwd=ROOT,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})


def test_benchmark_scores_every_method_and_reuses_its_cached_index(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "figures.json"
    first = _run("--data", str(SAMPLE), "--cache", str(cache), "--json", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["questions"] == report["documents"] == 30
    methods = report["methods"]
    assert {"BM25 only (exoqa LexicalIndex)", "exoqa hybrid (retriever.score)"} <= set(methods)
    for figures in [*methods.values(), *report["fusion_variants"].values()]:
        assert 0 <= figures["R@1"] <= figures["R@5"] <= figures["R@10"] <= 1
    # each question is its own abstract's title: on 30 abstracts every method finds it near the top
    for name, figures in methods.items():
        assert figures["R@5"] >= 0.9, name
    assert methods["exoqa hybrid (retriever.score)"]["median_ms"] > 0
    assert "| exoqa hybrid (retriever.score) |" in first.stdout
    assert report["index_cached"] is False and Path(report["index_dir"]).is_relative_to(cache)

    second = _run("--data", str(SAMPLE), "--cache", str(cache), "--json", str(out), "--no-variants")
    assert second.returncode == 0, second.stderr[-2000:]
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again["index_cached"] is True and "index loaded from cache" in second.stdout
    assert {n: {k: v for k, v in f.items() if k != "median_ms"} for n, f in again["methods"].items()} == \
        {n: {k: v for k, v in f.items() if k != "median_ms"} for n, f in methods.items()}


def test_missing_data_file_is_a_clear_error(tmp_path):
    result = _run("--data", str(tmp_path / "nope.json"), "--cache", str(tmp_path / "c"))
    assert result.returncode != 0 and "data file not found" in result.stderr and "Traceback" not in result.stderr
