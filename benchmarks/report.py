"""Markdown tables from the benchmark JSON files (for docs/performance.md).

    .venv/bin/python -m benchmarks.report [results dir]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import RESULTS_DIR


def _ms(entry: dict) -> str:
    return f"{entry['p50']:.1f} / {entry['p95']:.1f}" if entry.get("n") else "-"


def suite_tables(data: dict) -> list[str]:
    m = data["machine"]
    lines = [f"Machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}; "
             f"load average at start {m['loadavg_at_start']} (shared with other work). Command: `{data['command']}`.",
             "", "| whole process | wall p50 / p95 ms | CPU p50 / p95 ms | peak RSS MiB |", "|---|---|---|---|",
             f"| cold `exoqa ask` (fresh process, answer printed) | {_ms(data['cold_ask']['wall_ms'])} | "
             f"{_ms(data['cold_ask'].get('cpu_ms', {}))} | {data['cold_ask']['peak_rss_mib']} |"]
    serve = data["cold_serve"]
    if "skipped" in serve:
        lines.append(f"| `exoqa serve` until first answer | skipped: {serve['skipped']} | | |")
    else:
        lines.append(f"| `exoqa serve` start until first answer | {_ms(serve['first_answer_ms'])} | "
                     f"{_ms(serve.get('cpu_ms', {}))} | {serve['peak_rss_mib']} |")
    warm, base, ratio = data["warm_ask"], data["baseline"], data["stage_over_baseline"]
    lines += ["", f"Warm `ask`, in process, {warm['total_ms']['n']} asks (dev questions x repeats); "
              "ratio = stage p50 / baseline total p50:", "",
              "| stage | p50 / p95 ms | x baseline |", "|---|---|---|"]
    for stage in ("safety_ms", "embed_ms", "dense_ms", "lexical_ms", "fusion_ms", "select_ms", "render_ms",
                  "all_but_embed_ms", "total_ms"):
        lines.append(f"| {stage[:-3].replace('_', ' ')} | {_ms(warm[stage])} | {ratio[stage]:.3f} |")
    lines += [f"| **baseline** (same e5, flat FAISS top-5 passages, nothing else) | {_ms(base['total_ms'])} "
              f"(embed {_ms(base['embed_ms'])}, search {_ms(base['search_ms'])}) | 1 |", "",
              "| index build | characters | chunks | seconds | chars/s | chunks/s |", "|---|---|---|---|---|---|"]
    for b in data.get("build", []):
        lines.append(f"| {b['corpus']} | {b['characters']:,} | {b['chunks']:,} | {b['seconds']} | "
                     f"{b['chars_per_s']:,} | {b['chunks_per_s']} |")
    if "skipped" in data.get("build_pubmedqa", {}):
        lines.append(f"| PubMedQA | skipped: {data['build_pubmedqa']['skipped']} | | | | |")
    return lines


def scale_tables(data: dict) -> list[str]:
    lines = [f"Command: `{data['command']}`; load average at start {data['machine']['loadavg_at_start']}.", "",
             "| chunks | kind | build s | index MiB | query p50 / p95 ms | recall@10 | settings |",
             "|---|---|---|---|---|---|---|"]
    for size, entry in data["sizes"].items():
        for kind, v in entry["vectors"].items():
            auto = " (auto)" if kind == entry["auto_kind"] else ""
            lines.append(f"| {int(size):,} | {kind}{auto} | {v['build_s']} | {v['index_mib']} | "
                         f"{_ms(v['default']['query_ms'])} | {v['default']['recall@10']:.3f} | default |")
            for s in v["settings"]:
                knobs = ", ".join(f"{k}={val}" for k, val in s.items() if k not in ("query_ms", "recall@10"))
                if knobs:
                    lines.append(f"| | | | | {_ms(s['query_ms'])} | {s['recall@10']:.3f} | {knobs} |")
        if "bm25" in entry:
            bm = entry["bm25"]
            lines.append(f"| {int(size):,} | BM25 (bm25s) | {bm['build_s']} | | {_ms(bm['query_ms'])} | | "
                         f"{bm['docs_per_s']:,} docs/s |")
        if "hybrid" in entry:
            h = entry["hybrid"]
            lines.append(f"| {int(size):,} | hybrid retrieval after embedding ({h['index']}, "
                         f"{h['candidates']} candidates) | | | {_ms(h['query_ms'])} | | |")
        if "peak_rss_mib" in entry:
            lines.append(f"| {int(size):,} | process peak RSS so far | | {entry['peak_rss_mib']} | | | |")
    return lines


def load_tables(data: dict) -> list[str]:
    lines = [f"Command: `{data['command']}`; load average at start {data['machine']['loadavg_at_start']}.", "",
             "| workers | concurrency | requests | req/s | latency p50 / p95 ms | RSS sum MiB | PSS sum MiB |",
             "|---|---|---|---|---|---|---|"]
    for r in data["runs"]:
        lines.append(f"| {r['workers']} | {r['concurrency']} | {r['requests_ok']} ok, {r['failures']} failed | "
                     f"{r['requests_per_s']} | {_ms(r['latency_ms'])} | {r['rss_sum_mib']} | {r['pss_sum_mib']} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    directory = Path((argv or sys.argv[1:] or [RESULTS_DIR])[0])
    for name, render in (("full.json", suite_tables), ("scale.json", scale_tables), ("load.json", load_tables)):
        path = directory / name
        if path.exists():
            print(f"### {name}\n")
            print("\n".join(render(json.loads(path.read_text(encoding="utf-8")))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
