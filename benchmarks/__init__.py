"""exoqa's benchmark suite: `python -m benchmarks.run [--quick]` (see docs/performance.md)."""
