"""Sensitivity analysis: which factors (levers, uncertain assumptions) drive which outcomes, with intervals.

``spec`` reads a study spec (a sweep spec plus ``model`` and ``analysis``);
``study`` runs its design through the sweep engine and writes indices, figures
and a report; ``indices`` turns runs into SALib indices (checks, replicate
means, seed noise, convergence); ``targets`` holds the analytic Ishigami target
for checking the machinery; ``exports`` hands the factors to SALib and EMA
Workbench. SALib's samplers are wrapped in ``coprod_sim.sweeps.salib``.

The public function ``coprod_sim.sensitivity(...)`` shares its name with this
package: once the package is imported, Python makes ``coprod_sim.sensitivity``
the package, so the package is callable and calling it runs a study.
"""

import sys
import types
from typing import Any

from .exports import Factor, Problem, problem
from .result import SensitivityReport
from .spec import Study, load_study
from .study import default_out, design_warnings, estimate_study, sensitivity
from .targets import analytic_indices

__all__ = ["Factor", "Problem", "SensitivityReport", "Study", "analytic_indices", "default_out", "design_warnings",
           "estimate_study", "load_study", "problem", "sensitivity"]


class _CallablePackage(types.ModuleType):
    """``coprod_sim.sensitivity(spec, ...)`` works whether the name resolves to the function or to this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> SensitivityReport:
        return sensitivity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
