"""Experiments built on runs and sweeps: the source papers' claims with computed verdicts (``claims`` says
what is tested, ``findings`` runs and judges it, ``findings_report`` writes docs/findings.md), the
pattern-oriented validation of DESIGN.md §7 (``patterns``), the check that every scenario is read at a
stationary state (``stationarity``) and the calibration of the satisfaction scale to the Dongguan survey
(``calibration``)."""
