"""Shared helpers: percentiles, the machine description, atomic JSON output."""
from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def summary(samples_ms: list[float]) -> dict:
    """Median, p95, min and count of a list of milliseconds (rounded for a small JSON)."""
    values = np.asarray(samples_ms, dtype=np.float64)
    if values.size == 0:
        return {"n": 0}
    return {"p50": round(float(np.median(values)), 3), "p95": round(float(np.percentile(values, 95)), 3),
            "min": round(float(values.min()), 3), "n": int(values.size)}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal")), 0)
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 2 ** 20, 1),
            "python": platform.python_version(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def write_json(path: Path, data: dict) -> Path:
    """Write `data` to `path` atomically (temporary file in the same directory, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (VmHWM), in MiB."""
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def current_rss_mib() -> float:
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0
