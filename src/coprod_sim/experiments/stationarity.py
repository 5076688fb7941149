"""Is the reading stationary? Each scenario's headline outcomes in the reporting window against a window
twice as late.

A scenario of ``T`` reported months (``run.steps``) reports the mean over its last ``w`` months
(``run.outcome_window``), after ``run.spin_up`` unrecorded months. If the district has settled by then,
running on to month ``2T`` changes nothing but noise: the window ``2T − w + 1 … 2T`` must agree with the
reporting window ``T − w + 1 … T``. Every seed runs once to ``2T`` (a longer run does not change its first
``T`` months), so the two windows are paired by seed.

A scenario–outcome pair *drifts* when (a) the drift between the windows, paired by seed, is statistically
significant (paired t-test, Holm's correction over the scenario's outcomes, family-wise 5%) and larger
than the 95% confidence half-width of the reporting window's mean over seeds (Student t), so it is neither
noise nor small beside the seed-to-seed spread; or (b) for the two key outcomes, the drift is larger
than an absolute tolerance (0.02 of need met, 0.05 of mean satisfaction), significant or not. Otherwise
the windows *agree*. A flagged scenario is checked again on fresh seeds (:func:`recheck_flagged`), and a
pair drifts only when both checks flag it. For a pair that drifts, :func:`settling_months` finds from which
reading month on it would agree, so the docs can say how long to run. ``experiments/stationarity.py`` runs
it for every shipped scenario and writes ``docs/stationarity.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ..config import load_config
from ..model import HEADLINE_KEYS, drift_check
from ..sweeps import analysis
from ..sweeps.engine import sweep

ABSOLUTE_TOLERANCE = {"quality.needs_met_share": 0.02, "quality.satisfaction_mean": 0.05}
# the headline outcomes, and the operator mix in full: a headline count of operators can drift because a kind
# the headline list leaves out (state-owned firms, which enter thin markets and have their losses covered)
# displaces it
CHECKED_OUTCOMES = (*HEADLINE_KEYS, "operators.state_owned_active")


class Settling(NamedTuple):
    """Where a drifting pair reads settled: the reading month (None if not within the horizon) and, at that
    month (or the horizon's last), the level read and the level twice as late, as seed means."""

    month: int | None
    level: float
    late: float


def window_means(steps: pd.DataFrame, outcome: str, last_month: int, window: int) -> pd.Series:
    """Each run's mean of an outcome over months ``last_month − window + 1 … last_month`` (months where it
    is undefined left out), indexed by replicate."""
    inside = steps[(steps["step"] > last_month - window) & (steps["step"] <= last_month)]
    return inside.groupby("replicate")[outcome].mean()  # pandas skips NaN


def screen_flag_rate(steps: pd.DataFrame, outcome: str, months: int, window: int, tolerance: float) -> float:
    """Share of runs whose own convergence screen (``drift_check``, as in summary.json) flags the outcome at
    month ``months``: at a stationary state, the screen's rate of chance flags."""
    flags = [drift_check({outcome: run.sort_values("step").loc[lambda r: r["step"] <= months, outcome]}, window,
                         tolerance).get(outcome, {}).get("flagged", False)
             for _, run in steps.groupby("replicate")]
    return float(np.mean(flags)) if flags else np.nan


def compare_windows(steps: pd.DataFrame, outcomes: Sequence[str], months: int, window: int,
                    tolerance: float = 0.1) -> pd.DataFrame:
    """One row per outcome: the reporting window (ending at ``months``) against the window ending at
    ``2·months``, over the runs (replicates) in ``steps``; ``agrees`` applies the rule of this module;
    ``screen_flags`` is the share of runs whose own screen flags the outcome at ``months`` (``tolerance`` is
    ``run.convergence_tolerance``)."""
    rows = []
    for outcome in outcomes:
        report = window_means(steps, outcome, months, window)
        late = window_means(steps, outcome, 2 * months, window)
        both = pd.concat({"report": report, "late": late}, axis=1).dropna()
        level = analysis.mean_ci(both["report"])
        drift = analysis.mean_ci(both["late"] - both["report"])
        p = _paired_p_value(both["late"] - both["report"])
        rows.append({"outcome": outcome, "n": level["n"], "report_mean": level["mean"],
                     "report_ci": level["ci_high"] - level["mean"], "late_mean": level["mean"] + drift["mean"],
                     "drift": drift["mean"], "drift_ci_low": drift["ci_low"], "drift_ci_high": drift["ci_high"],
                     "p_value": p, "tolerance": ABSOLUTE_TOLERANCE.get(outcome, np.nan),
                     "screen_flags": screen_flag_rate(steps, outcome, months, window, tolerance)})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy())
    significant = (table["p_holm"] < 0.05) & (table["drift"].abs() > table["report_ci"])
    too_large = table["drift"].abs() > table["tolerance"]  # False where there is no tolerance (NaN)
    table["agrees"] = (table["n"] > 1) & ~significant & ~too_large
    return table


def _paired_p_value(differences: pd.Series) -> float:
    """Two-sided p-value of a paired t-test that the mean difference is 0 (1 when every difference is 0)."""
    d = differences.to_numpy(dtype=float)
    if len(d) < 2:
        return np.nan
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values (family-wise error control); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def check_scenario(scenario: str | Path, seeds: int, out: str | Path, outcomes: Sequence[str] = CHECKED_OUTCOMES,
                   backend: str | None = None, workers: int | None = None, root_seed: int = 0) -> pd.DataFrame:
    """Run ``seeds`` replicates of a scenario to twice its length and compare its two windows.

    The runs are a sweep (resumable: finished runs in ``out`` are reused); the table has a ``scenario``
    column and, per outcome, the figures of :func:`compare_windows`.
    """
    run = load_config(scenario).run
    months, window = run.steps, run.outcome_window
    steps = _monthly(scenario, "stationarity", 2 * months, outcomes, seeds, root_seed, out, backend, workers)
    table = compare_windows(steps, outcomes, months, window, run.convergence_tolerance)
    table.insert(0, "scenario", Path(str(scenario)).stem)
    table.insert(1, "months", months)
    return table


def _monthly(scenario: str | Path, purpose: str, months: int, outcomes: Sequence[str], seeds: int, root_seed: int,
             out: str | Path, backend: str | None, workers: int | None) -> pd.DataFrame:
    """The monthly outcomes of ``seeds`` runs of a scenario to ``months`` reported months: a sweep, resumable in
    ``out`` (finished runs are reused)."""
    spec = {"name": f"{purpose}-{Path(str(scenario)).stem}", "base": str(scenario),
            "design": {"type": "explicit", "points": [{"run.steps": months}]},
            "replicates": seeds, "seed": root_seed, "outputs": {"summary": ["steps"], "steps": list(outcomes)}}
    report = sweep(spec, out=out, backend=backend, workers=workers)
    if report.failed or not report.complete:
        raise RuntimeError(f"{purpose}: of the {scenario} runs to {months} months, {report.failed} failed and "
                           f"{report.lost} were lost; see {out} (run again to retry)")
    return pd.read_parquet(Path(out) / "steps.parquet")


def recheck_flagged(table: pd.DataFrame, seeds: int, out: str | Path, backend: str | None = None,
                    workers: int | None = None, configs: Mapping[str, str | Path] | None = None) -> pd.DataFrame:
    """Check each scenario with a flagged pair again on ``seeds`` fresh seeds (root seed 1).

    With a dozen scenarios each tested at a family-wise 5%, one may flag a pair by chance though all are
    stationary; a second, independent check separates chance from drift. Adds ``confirmed``: True where
    both checks flag the pair, False where the fresh seeds agree, missing where nothing was flagged.
    ``configs`` maps the table's scenario names to config files (default: shipped scenarios of that name).
    """
    table = table.copy()
    table["confirmed"] = pd.Series(dtype=object)
    flagged = table[~table["agrees"] & (table["n"] > 1)]
    for scenario in flagged["scenario"].unique():
        again = check_scenario((configs or {}).get(scenario, scenario), seeds, Path(out) / f"{scenario}-fresh-seeds", backend=backend,
                               workers=workers, root_seed=1).set_index("outcome")["agrees"]
        rows = flagged.index[flagged["scenario"] == scenario]
        table.loc[rows, "confirmed"] = ~again.loc[table.loc[rows, "outcome"]].to_numpy()
    return table


def settling_months(scenario: str | Path, outcomes: Sequence[str], seeds: int, out: str | Path, horizon: int = 4,
                    backend: str | None = None, workers: int | None = None,
                    root_seed: int = 2) -> dict[str, Settling]:
    """For pairs that drift: per outcome, the first reading month ``m`` = T, 2T, … ``horizon``·T at which the
    window ending at ``m`` agrees with the window ending at ``2m`` (the rule of :func:`compare_windows`), so
    that a run of ``run.steps`` ≥ ``m`` reads it settled; None if it has not settled within the horizon.

    The runs go to ``2·horizon·T`` months on seeds neither check used (root seed 2), resumable in ``out``.
    """
    run = load_config(scenario).run
    months, window = run.steps, run.outcome_window
    steps = _monthly(scenario, "settling", 2 * horizon * months, outcomes, seeds, root_seed, out, backend, workers)
    return {outcome: settled_reading(steps, outcome, months, window, horizon, run.convergence_tolerance)
            for outcome in outcomes}


def settled_reading(steps: pd.DataFrame, outcome: str, months: int, window: int, horizon: int,
                    tolerance: float = 0.1) -> Settling:
    """The first reading month ``m`` = ``months``, 2·``months``, … ``horizon``·``months`` whose window agrees
    with the window ending at ``2m`` (:func:`compare_windows`), with the two levels; month None if none does
    (the levels are then the last reading's). ``steps`` must reach ``2·horizon·months``."""
    for reading in range(months, horizon * months + 1, months):
        row = compare_windows(steps, [outcome], reading, window, tolerance).iloc[0]
        if row["agrees"]:
            return Settling(reading, row["report_mean"], row["late_mean"])
    return Settling(None, row["report_mean"], row["late_mean"])


def drifting(table: pd.DataFrame) -> pd.DataFrame:
    """The pairs of a stationarity table that drift: flagged at the first check and again on fresh seeds
    (``confirmed``, an object column of True, False or missing, also as read back from its CSV)."""
    return table[table["confirmed"].eq(True)]


def add_settling_months(table: pd.DataFrame, seeds: int, out: str | Path, horizon: int = 4,
                        backend: str | None = None, workers: int | None = None,
                        configs: Mapping[str, str | Path] | None = None) -> pd.DataFrame:
    """Adds ``settles_by`` (:func:`settling_months`: missing if not within ``horizon`` times the scenario's
    length) and the levels read there and twice as late (``settled_level``, ``settled_late``) to each pair that
    drifts (``confirmed``); missing elsewhere."""
    table = table.copy()
    table["settles_by"] = pd.Series(dtype="Int64")
    table["settled_level"] = table["settled_late"] = np.nan
    for name, rows in drifting(table).groupby("scenario", sort=False):
        scenario = str(name)
        found = settling_months((configs or {}).get(scenario, scenario), list(rows["outcome"]), seeds,
                                Path(out) / f"{scenario}-settling", horizon=horizon, backend=backend, workers=workers)
        for i, outcome in rows["outcome"].items():
            table.loc[i, ["settles_by", "settled_level", "settled_late"]] = list(found[outcome])
    return table
