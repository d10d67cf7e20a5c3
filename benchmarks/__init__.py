"""Migration 0012 benchmark: see README.md."""
