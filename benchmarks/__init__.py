"""Benchmarks of this package against upstream releases, one scenario a module: see README.md."""
