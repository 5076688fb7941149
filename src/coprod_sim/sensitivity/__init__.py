"""Sensitivity analysis: which factors (levers, uncertain assumptions) drive which outcomes, with intervals.

``spec`` reads a study spec (a sweep spec plus ``model`` and ``analysis``);
``study`` runs its design through the sweep engine and writes indices, figures
and a report; ``indices`` turns runs into SALib indices (checks, replicate
means, seed noise, convergence); ``targets`` holds the analytic Ishigami target
for checking the machinery. SALib itself is wrapped in ``coprod_sim.sweeps.salib``.
"""

from .spec import Study, load_study
from .study import SensitivityReport, default_out, design_warnings, estimate_study, sensitivity
from .targets import analytic_indices

__all__ = ["SensitivityReport", "Study", "analytic_indices", "default_out", "design_warnings", "estimate_study",
           "load_study", "sensitivity"]
