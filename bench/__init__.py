"""Benchmarks: `make bench` runs every bench_*.py here (python -m bench [NAME ...])."""
