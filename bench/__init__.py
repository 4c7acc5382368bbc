"""Benchmarks of the integration against the fake clouds (run by scripts/bench)."""
