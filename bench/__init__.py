"""Benchmarks of the City Influence Index pipeline: `python -m bench.run [--quick]`."""
