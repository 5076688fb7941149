"""Scenario comparison: two or more scenarios on the same seeds, each minus the first, with 95% CIs.

A comparison is a sweep with one design point per scenario and common random
numbers (every scenario sees the same seeds), so differences are paired.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import ParamsLike, load_config
from ..errors import UserError
from ..model import KEY_OUTCOMES, OUTCOME_KEYS, SUMMARY_KEYS
from ..runs import CacheLike
from .analysis import paired_differences
from .engine import run_sweep
from .events import event_study
from .spec import SweepPlan, plan_from_configs


def default_out(scenarios: list[str]) -> Path:
    return Path("results") / "compare" / "-vs-".join(Path(s).stem for s in scenarios)


def compare(scenarios: list[str], replicates: int = 10, seed: int = 0, params: ParamsLike = None,
            outcomes: list[str] | None = None, out: str | Path | None = None, backend: str | None = None,
            workers: int | None = None, scheduler: str | None = None, batch_size: int | None = None,
            timeout: float | None = None, max_attempts: int | None = None, cache: CacheLike = True) -> pd.DataFrame:
    """Run every scenario on the same ``replicates`` seeds; return each one's paired difference from the first.

    Writes ``compare.csv`` and the runs table into ``out`` (default
    ``results/compare/<a>-vs-<b>…``); finished runs there are reused. In the introduction design
    (``run.design``) it also writes the event study: the effect month by month after the policy's
    introduction (``events.csv``, ``events_settling.csv``, ``events.png``; ``sweeps/events.py``).
    """
    if len(scenarios) < 2:
        raise UserError("compare: give at least two scenarios")
    if replicates < 2:
        raise UserError(f"replicates: expected at least 2 for a confidence interval, found {replicates}")
    chosen = outcomes or [o for o in KEY_OUTCOMES if o in SUMMARY_KEYS]
    unknown = [o for o in chosen if o not in SUMMARY_KEYS]
    if unknown:
        raise UserError(f"outcome: {', '.join(unknown)}: unknown outcome")
    plan = plan_from_configs(list(scenarios), params, replicates, seed)
    introduction = _introduction(plan, scenarios)
    if introduction:  # keep the chosen outcomes month by month for the event study
        plan = plan_from_configs(list(scenarios), params, replicates, seed, [o for o in chosen if o in OUTCOME_KEYS])
    plan.backend = backend or ("dask" if scheduler else "processes")
    plan.workers = workers or plan.workers
    target = Path(out) if out else default_out(list(scenarios))
    run_sweep(plan, target, scheduler=scheduler, batch_size=batch_size, timeout=timeout, max_attempts=max_attempts,
              cache=cache).require_results()
    table = paired_differences(pd.read_parquet(target / "runs.parquet"), list(scenarios), chosen)
    table.to_csv(target / "compare.csv", index=False)
    if introduction:
        run = load_config(plan.tasks[0].cfg).run
        event_study(target, list(scenarios), plan.step_outcomes, run.outcome_window, run.convergence_tolerance)
    return table


def _introduction(plan: SweepPlan, scenarios: list[str]) -> bool:
    """Whether the comparison is of policies introduced into one world (all scenarios in that design)."""
    designs = {scenarios[t.point_id]: load_config(t.cfg).run.design for t in plan.tasks if t.replicate == 0}
    if len(set(designs.values())) > 1:
        raise UserError("compare: the scenarios mix run.design values (" + ", ".join(
            f"{s}: {d}" for s, d in designs.items()) + "); set one for all, e.g. --set run.design=introduction")
    return set(designs.values()) == {"introduction"}
