"""Experiments built on runs and sweeps: the pattern-oriented validation of DESIGN.md §7 (``patterns``),
the check that every scenario is read at a stationary state (``stationarity``) and the calibration of the
satisfaction scale to the Dongguan survey (``calibration``)."""
