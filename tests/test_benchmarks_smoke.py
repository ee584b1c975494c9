"""The benchmark suite's quick mode runs end to end (real CLI, real server, real model and index) and writes
sane JSON. It checks that the figures exist and are consistent, never how fast anything was."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def _is_summary(entry: dict) -> bool:
    return entry["n"] >= 1 and 0 < entry["min"] <= entry["p50"] <= entry["p95"]


def test_machine_and_command_are_recorded(report):
    assert report["mode"] == "quick" and "--quick" in report["command"] and report["complete"] is True
    assert report["machine"]["nproc"] >= 1 and report["machine"]["ram_gib"] > 0 and report["machine"]["cpu"]


def test_cold_start_of_cli_and_server(report):
    assert _is_summary(report["cold_ask"]["wall_ms"]) and report["cold_ask"]["peak_rss_mib"] > 10
    assert 0 < report["cold_ask"]["cpu_ms"]["p50"]
    serve = report["cold_serve"]
    if "skipped" not in serve:
        assert _is_summary(serve["first_answer_ms"]) and serve["peak_rss_mib"] > 10


def test_every_stage_is_timed_and_adds_up(report):
    warm = report["warm_ask"]
    for stage in ("safety_ms", "embed_ms", "dense_ms", "lexical_ms", "fusion_ms", "select_ms", "render_ms"):
        assert warm[stage]["n"] == warm["total_ms"]["n"] >= 8
        assert 0 <= warm[stage]["p50"] <= warm["total_ms"]["p95"]
    assert _is_summary(warm["total_ms"]) and _is_summary(report["baseline"]["total_ms"])
    assert report["baseline"]["embed_ms"]["p50"] <= report["baseline"]["total_ms"]["p50"]
    ratio = report["stage_over_baseline"]
    assert ratio["total_ms"] == pytest.approx(warm["total_ms"]["p50"] / report["baseline"]["total_ms"]["p50"],
                                              rel=1e-2)


def test_build_throughput_is_consistent(report):
    build = report["build"][0]
    assert build["chunks"] > 0 and build["characters"] > 0 and build["seconds"] > 0
    assert build["chars_per_s"] == pytest.approx(build["characters"] / build["seconds"], rel=0.05)


def test_scale_study_compares_kinds_against_exact_search(report):
    (size, entry), = report["scale"].items()
    vectors = entry["vectors"]
    assert set(vectors) == {"flat", "hnsw", "ivfpq"}
    assert vectors["flat"]["default"]["recall@10"] == 1.0  # exact search against itself
    for kind in vectors.values():
        assert 0 < kind["default"]["recall@10"] <= 1 and kind["index_mib"] > 0
        assert all(_is_summary(s["query_ms"]) for s in kind["settings"])
    assert _is_summary(entry["bm25"]["query_ms"]) and entry["bm25"]["docs_per_s"] > 0
