"""The benchmark suite in one command.

    .venv/bin/python -m benchmarks.run            # full figures -> benchmarks/results/full.json (~10 min)
    .venv/bin/python -m benchmarks.run --quick    # tiny sizes, 1-2 repeats -> benchmarks/results/quick.json

Whole-process figures (fresh `exoqa ask`, `exoqa serve` until its first answer, their peak RSS), warm
in-process figures per stage over the dev questions next to a plain baseline in the same process, index
build throughput, and a small scale study (the big one is `python -m benchmarks.scale`).
Every latency is the median and p95 over repeats, in milliseconds.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .common import PROJECT_ROOT, RESULTS_DIR, machine, peak_rss_mib, summary, write_json
from .inputs import dev_questions, embed_queries, shipped

PUBMEDQA = PROJECT_ROOT.parent / "shared" / "benchmarks" / "pubmedqa" / "ori_pqal.json"
SAMPLE_QUESTION = "外泌体是怎么提取分离的?"
STAGES = ("safety_ms", "embed_ms", "dense_ms", "lexical_ms", "fusion_ms", "select_ms", "render_ms", "total_ms")


# ----- whole processes -------------------------------------------------------------------------------------
def _child_env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}


def cold_ask(repeats: int) -> dict:
    """`exoqa ask` as a fresh process each time: wall time, CPU time and peak RSS (from wait4's rusage)."""
    wall, cpu, rss = [], [], []
    command = [sys.executable, "-m", "ui.cli", "ask", SAMPLE_QUESTION, "--json"]
    for _ in range(repeats):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=_child_env(), stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            wall.append((time.perf_counter() - t0) * 1e3)
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise RuntimeError(f"exoqa ask failed: {err.read().decode(errors='replace')[-500:]}")
            json.loads(out.read())  # a real answer, not just a clean exit
        rss.append(round(usage.ru_maxrss / 1024, 1))
        cpu.append((usage.ru_utime + usage.ru_stime) * 1e3)
    # CPU time is the work done; wall time also counts waiting for cores that other processes hold.
    return {"wall_ms": summary(wall), "cpu_ms": summary(cpu), "peak_rss_mib": max(rss)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post_ask(port: int, question: str, timeout: float = 30.0) -> tuple[int, dict | None]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", method="POST",
                                     data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def serve_available() -> bool:
    try:
        import ui.server  # noqa: F401
    except ImportError:
        return False
    return True


def cold_serve(repeats: int, limit_s: float = 120.0) -> dict:
    """`exoqa serve` from process start until its first answered question, and the server's peak RSS."""
    if not serve_available():
        return {"skipped": "exoqa serve is not available (no ui.server module)"}
    ready, cpu, rss = [], [], []
    for _ in range(repeats):
        port = _free_port()
        t0 = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)],
                                   cwd=PROJECT_ROOT, env=_child_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            while True:
                status, body = _post_ask(port, SAMPLE_QUESTION)
                if status == 200 and body and body.get("decision"):
                    ready.append((time.perf_counter() - t0) * 1e3)
                    cpu.append(_proc_cpu_ms(process.pid))
                    break
                if process.poll() is not None or time.perf_counter() - t0 > limit_s:
                    raise RuntimeError(f"exoqa serve gave no answer within {limit_s:.0f} s (last HTTP {status})")
                time.sleep(0.05)
            for question in dev_questions()[:10]:  # some real traffic before reading the peak
                _post_ask(port, question)
            rss.append(_proc_peak_rss_mib(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"first_answer_ms": summary(ready), "cpu_ms": summary(cpu), "peak_rss_mib": max(rss)}


def _proc_cpu_ms(pid: int) -> float:
    """User + system CPU time a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e3 / os.sysconf("SC_CLK_TCK")


def _proc_peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# ----- warm, in process ------------------------------------------------------------------------------------
def warm_ask(assistant, questions: list[str], repeats: int) -> dict:
    for question in questions[:5]:
        assistant.ask(question)
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    others = []
    for _ in range(repeats):
        for question in questions:
            timings = assistant.ask(question).timings_ms
            for stage in STAGES:
                samples[stage].append(timings.get(stage, 0.0))
            others.append(timings["total_ms"] - timings.get("embed_ms", 0.0))
    result = {stage: summary(values) for stage, values in samples.items()}
    result["all_but_embed_ms"] = summary(others)
    return result


def baseline(assistant, questions: list[str], repeats: int, k: int = 5) -> dict:
    """The plain pipeline with the same model and vectors: embed the question, flat FAISS top-k passages,
    return them (no safety gate, glossary, BM25, fusion or sentence selection)."""
    import faiss

    passages = assistant.retriever.index.passage_vectors
    spans = assistant.retriever.index.passages
    flat = faiss.IndexFlatIP(passages.d)
    flat.add(passages.reconstruct_n(0, len(spans)))  # the originals' rows (their translations' rows follow)
    embedder = assistant.retriever.embedder
    embed, search, total = [], [], []
    for _ in range(repeats):
        for question in questions:
            t0 = time.perf_counter()
            vector = embedder.embed_queries([question])
            t1 = time.perf_counter()
            _, ids = flat.search(vector, k)
            [spans[int(i)].text for i in ids[0]]
            t2 = time.perf_counter()
            embed.append((t1 - t0) * 1e3)
            search.append((t2 - t1) * 1e3)
            total.append((t2 - t0) * 1e3)
    return {"embed_ms": summary(embed), "search_ms": summary(search), "total_ms": summary(total)}


def ratios(warm: dict, base: dict) -> dict:
    """Each exoqa stage's median as a multiple of the baseline's median total."""
    reference = base["total_ms"]["p50"]
    return {stage: round(warm[stage]["p50"] / reference, 3) for stage in (*STAGES, "all_but_embed_ms")}


# ----- index build -----------------------------------------------------------------------------------------
def build_throughput(corpus, label: str) -> dict:
    from assistant.retrieval.embeddings import load_embedder
    from assistant.retrieval.retriever import build_index, plan_index
    from assistant.settings import Settings

    embedder = load_embedder()
    chunks = len(plan_index(corpus, embedder, Settings.from_env()).texts)
    characters = sum(len(s.text) for s in corpus.quotable_sources)
    with tempfile.TemporaryDirectory(prefix="exoqa-bench-") as scratch:
        t0 = time.perf_counter()
        build_index(corpus, embedder, Path(scratch) / "index", progress=False)
        seconds = time.perf_counter() - t0
    return {"corpus": label, "characters": characters, "chunks": chunks, "seconds": round(seconds, 2),
            "chars_per_s": round(characters / seconds), "chunks_per_s": round(chunks / seconds, 1)}


def small_corpus(corpus, sources: int = 2, characters: int = 2_000):
    from assistant.corpus.sources import Corpus

    return Corpus.from_documents([{"id": s.id, "title": s.title, "language": s.language,
                                   "text": s.text[:characters]} for s in corpus.quotable_sources[:sources]])


def pubmedqa_corpus(limit: int | None = None):
    from assistant.corpus.sources import Corpus

    records = json.loads(PUBMEDQA.read_text(encoding="utf-8"))
    documents = [{"id": f"pmid-{pmid}", "title": item["QUESTION"], "language": "en",
                  "text": "\n\n".join(item["CONTEXTS"])} for pmid, item in list(records.items())[:limit]]
    return Corpus.from_documents(documents)


# ----- the suite -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="exoqa benchmark suite")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1-2 repeats (CI smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default benchmarks/results/<mode>.json)")
    parser.add_argument("--no-serve", action="store_true", help="skip the exoqa serve measurements")
    parser.add_argument("--pubmedqa-limit", type=int, default=1000, help="abstracts to index in full mode")
    args = parser.parse_args(argv)
    quick = args.quick
    out = args.out or RESULTS_DIR / ("quick.json" if quick else "full.json")
    repeats_process, repeats_warm = (1, 1) if quick else (5, 5)
    result: dict = {"mode": "quick" if quick else "full", "machine": machine(),
                    "command": " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])}

    from assistant import Assistant
    from assistant.retrieval.embeddings import load_embedder

    questions = dev_questions()[:8] if quick else dev_questions()
    print("cold start: exoqa ask", flush=True)
    result["cold_ask"] = cold_ask(repeats_process)
    write_json(out, {**result, "complete": False})  # what is measured so far survives an interrupted run
    print("cold start: exoqa serve", flush=True)
    result["cold_serve"] = {"skipped": "--no-serve"} if args.no_serve else cold_serve(1 if quick else 3)

    write_json(out, {**result, "complete": False})  # what is measured so far survives an interrupted run
    print("warm ask per stage, and the baseline", flush=True)
    t0 = time.perf_counter()
    assistant = Assistant.load(rebuild="never")
    result["load_in_process_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    result["warm_ask"] = warm_ask(assistant, questions, repeats_warm)
    result["baseline"] = baseline(assistant, questions, repeats_warm)
    result["stage_over_baseline"] = ratios(result["warm_ask"], result["baseline"])
    result["in_process_peak_rss_mib"] = peak_rss_mib()

    write_json(out, {**result, "complete": False})  # what is measured so far survives an interrupted run
    print("index build throughput", flush=True)
    corpus, index_dir, sentences = shipped()
    if quick:  # two sources cut short: checks the path, not the speed
        result["build"] = [build_throughput(small_corpus(corpus), "2 shipped sources, 2,000 characters each")]
    else:
        result["build"] = [build_throughput(corpus, "shipped corpus")]
    if quick:
        result["build_pubmedqa"] = {"skipped": "quick mode"}
    elif not PUBMEDQA.exists():
        result["build_pubmedqa"] = {"skipped": f"{PUBMEDQA.name} not found beside the project (shared/benchmarks)"}
    else:
        result["build"].append(build_throughput(pubmedqa_corpus(args.pubmedqa_limit),
                                                f"PubMedQA, first {args.pubmedqa_limit} abstracts"))

    write_json(out, {**result, "complete": False})  # what is measured so far survives an interrupted run
    print("scale study (small sizes; the full one is python -m benchmarks.scale)", flush=True)
    from . import scale

    query_vectors = embed_queries(questions, assistant.retriever.embedder)
    sizes = [2_000] if quick else [10_000]
    result["scale"] = scale.run(sizes, ["flat", "hnsw", "ivfpq"], 1, index_dir, query_vectors, questions, sentences)
    write_json(out, {**result, "complete": True})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
