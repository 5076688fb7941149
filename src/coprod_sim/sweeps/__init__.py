"""Sweeps: many runs over a design of parameter values, resumable, on one machine or a Dask cluster.

``spec`` checks a YAML spec and expands it into runs; ``design`` draws the
design points; ``backends`` executes batches (serial, processes, dask);
``engine`` keeps every finished run on disk and consolidates the tables;
``analysis`` reads them back with confidence intervals.
"""

from .analysis import SweepResults, load_results, load_sweep, mean_ci, paired_differences, plot_sweep, point_summary
from .comparison import compare
from .engine import SweepFailed, SweepReport, estimate, run_sweep, sweep
from .spec import BACKENDS, RunTask, SweepPlan, build_plan, derive_seed, load_spec, plan_from_configs

__all__ = [
           "BACKENDS",
           "RunTask",
           "SweepFailed",
           "SweepPlan",
           "SweepReport",
           "SweepResults",
           "build_plan",
           "compare",
           "derive_seed",
           "estimate", "load_results",
           "load_spec",
           "load_sweep",
           "mean_ci",
           "paired_differences",
           "plan_from_configs",
           "plot_sweep",
           "point_summary",
           "run_sweep",
           "sweep",
]
