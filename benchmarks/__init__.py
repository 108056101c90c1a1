"""Benchmark scripts (measurements, not tests). ``python -m benchmarks`` runs them all and
prints one markdown table; each module also runs alone (``python -m benchmarks.<name>``).
"""
