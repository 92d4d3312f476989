"""Benchmark harness: `python -m benchmarks.run_proxy` (see benchmarks/README.md)."""
