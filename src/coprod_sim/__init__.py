"""coprod-sim: agent-based simulation of community-service co-production (Mesa).

The public Python API (docs/python.md)::

    import coprod_sim

    result = coprod_sim.run("baseline", params={"government.resistance": 0.3}, seed=1)
    result.summary["quality.needs_met_share"]; result.timeseries; result.manifest

    model = coprod_sim.Model(rng=1, scenario="party_led", **{"leading_group.authority": 0.5})
    model.run_model(); model.datacollector.get_model_vars_dataframe()

    report = coprod_sim.sweep("experiments/example_sweep.yaml", out="results/sweeps/example")
    tables = coprod_sim.load_results(report.out)

    study = coprod_sim.sensitivity("experiments/sensitivity_ishigami.yaml")  # indices.csv, report.md

    why = coprod_sim.explain("in_leading_group", replicates=4)  # attribution.csv, attribution.md, figures

Names are imported on first use, so ``import coprod_sim`` (and the CLI) start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from .attribution import Attribution, explain
    from .config import load_config, shipped_scenarios
    from .errors import ConfigError, CoprodError, UserError
    from .model import HEADLINE_KEYS, OUTCOME_KEYS, OUTCOMES, Model
    from .runs import RunAborted, RunResult, run
    from .sensitivity import Problem, SensitivityReport, problem, sensitivity
    from .sweeps import SweepFailed, SweepReport, SweepResults, compare, load_results, sweep

# public name → module that defines it
_API: dict[str, str] = {
    "run": "runs", "RunResult": "runs", "RunAborted": "runs",
    "Model": "model", "OUTCOMES": "model", "OUTCOME_KEYS": "model", "HEADLINE_KEYS": "model",
    "sweep": "sweeps", "compare": "sweeps", "SweepReport": "sweeps", "SweepResults": "sweeps",
    "SweepFailed": "sweeps",
    "load_results": "sweeps",
    "sensitivity": "sensitivity", "SensitivityReport": "sensitivity", "problem": "sensitivity",
    "Problem": "sensitivity",
    "explain": "attribution", "Attribution": "attribution",
    "load_config": "config", "shipped_scenarios": "config",
    "ConfigError": "errors", "CoprodError": "errors", "UserError": "errors",
}
__all__ = [
    "HEADLINE_KEYS", "OUTCOMES", "OUTCOME_KEYS", "Attribution", "ConfigError", "CoprodError", "Model", "Problem",
    "RunAborted", "RunResult", "SensitivityReport", "SweepFailed", "SweepReport", "SweepResults", "UserError",
    "__version__", "compare", "explain", "load_config", "load_results", "problem", "run", "sensitivity",
    "shipped_scenarios", "sweep",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'coprod_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
