"""PNG plots of an evaluation report (matplotlib, headless Agg backend)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from assistant.atomic import replacing

# PNGs carry no creation time, so the same figures give the same bytes.
_METADATA = {"Software": None}
_MAIN_STAGES = ("total_ms", "search_ms", "embed_ms", "lexical_ms")


def _save(figure, path: Path) -> Path:
    path = Path(path)
    figure.tight_layout()
    with replacing(path) as handle:
        figure.savefig(handle, format="png", dpi=100, metadata=_METADATA)
    plt.close(figure)
    return path


def recall_curve(curves: Mapping[str, Sequence[float]], path: Path) -> Path:
    """recall@k for k = 1..K, one line per language (and "all")."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ks = range(1, len(values) + 1)
        axes.plot(ks, values, marker="o", linewidth=2.5 if name == "all" else 1.5, label=name)
    axes.set(xlabel="k (passages retrieved)", ylabel="recall@k", ylim=(0, 1.02), title="Retrieval recall@k")
    axes.set_xticks(range(1, max(len(v) for v in curves.values()) + 1))
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def latency_histogram(samples: Mapping[str, Sequence[float]], path: Path) -> Path:
    """Histogram of per-question latency for the main stages present."""
    stages = [s for s in _MAIN_STAGES if samples.get(s)] or sorted(samples)[:4]
    figure, axes = plt.subplots(figsize=(6, 4))
    for stage in stages:
        axes.hist(samples[stage], bins=30, alpha=0.55, label=stage.removesuffix("_ms"))
    axes.set(xlabel="milliseconds", ylabel="questions", title="Latency per question")
    axes.legend()
    return _save(figure, path)


def confusion_matrix(matrix: Mapping[str, Mapping[str, int]], path: Path) -> Path:
    """Safety gate: expected label (rows) × decision (columns), with counts."""
    rows = list(matrix)
    columns = list(next(iter(matrix.values())))
    values = [[matrix[r][c] for c in columns] for r in rows]
    figure, axes = plt.subplots(figsize=(6, 3.6))
    axes.imshow(values, cmap="Blues")
    axes.set_xticks(range(len(columns)), columns)
    axes.set_yticks(range(len(rows)), rows)
    axes.set(xlabel="decision", ylabel="expected", title="Safety confusion matrix")
    peak = max(max(row) for row in values) or 1
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            axes.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    return _save(figure, path)
