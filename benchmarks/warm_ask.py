"""Warm `ask` latency over the dev questions, for comparing two versions of the code on one machine.

    .venv/bin/python benchmarks/warm_ask.py                 # this checkout
    cd /path/to/other/worktree && /path/to/.venv/bin/python /path/to/benchmarks/warm_ask.py --label before

Run the two alternately with nothing else on the machine; it prints p50 / p95 over two passes of the 274
questions of eval/article_qa_dev.jsonl and eval/safety_dev.jsonl, after 20 warm-up asks, and the p50 of the query
embedding inside those asks (what every ask must spend) with the ratio of the two.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the checkout in the current directory, not necessarily this file's

from assistant import Assistant  # noqa: E402

FILES = ("eval/article_qa_dev.jsonl", "eval/safety_dev.jsonl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    assistant = Assistant.load(rebuild="never")
    questions = [json.loads(line)["question"] for name in FILES
                 for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    for question in questions[:20]:
        assistant.ask(question)
    times, embeds = [], []
    for _ in range(args.passes):
        for question in questions:
            started = time.perf_counter()
            answer = assistant.ask(question)
            times.append((time.perf_counter() - started) * 1e3)
            embeds.append(answer.timings_ms["embed_ms"])
    times.sort()
    p50, embed_p50 = statistics.median(times), statistics.median(embeds)
    # the bar of issue 13: a warm ask within 1.5x of the query embedding it cannot do without
    print(f"{args.label}: {len(times)} asks, p50 {p50:.1f} ms, p95 {times[int(0.95 * len(times))]:.1f} ms; "
          f"query embedding alone p50 {embed_p50:.1f} ms, ratio {p50 / embed_p50:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
