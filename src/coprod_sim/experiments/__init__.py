"""Experiments built on runs and sweeps: the pattern-oriented validation of DESIGN.md §7 (``patterns``)."""
