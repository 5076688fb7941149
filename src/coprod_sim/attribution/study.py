"""Effect attribution: which of a scenario's changes carry its effect, by Shapley values over paired runs.

Layout of an attribution folder ``DIR``::

    DIR/manifest.json, runs.parquet, shards/   the sweep of subset configs × seeds (docs/sweeps.md; resumable)
    DIR/attribution.csv                        one row per outcome and component (plus its total and interactions)
    DIR/attribution_by_seed.csv                each seed's Shapley value and solo effect of each component
    DIR/attribution.md, DIR/figures/*.png      the plain-words reading and a waterfall per outcome
    DIR/explain.json                           what was attributed: scenario, base, components, method, seeds

In the introduction design (``run.design: introduction``) the policy arrives at reported month 0, so the runs keep
the attributed outcomes month by month and the attribution also has a time path::

    DIR/events.csv, events_settling.csv, events.png   the total effect month by month (``sweeps/events.py``)
    DIR/attribution_events.csv                 each component's Shapley value month by month after the introduction
    DIR/attribution_windows.csv                the same over the first and the last outcome window
    DIR/figures/events_<outcome>.png           months since introduction against each component's Shapley value

The design is explicit: one design point per subset of the components (each switched to the
scenario's value, the others left at the base's), every point on the same seeds (common random
numbers), so each seed gives a complete set function and its own Shapley values. Every run goes
through :func:`coprod_sim.sweeps.engine.run_sweep`: backends, resume, supervision and run keys are
those of ``coprod-sim sweep``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..config import ConfigError, ParamsLike, ScenarioLike, load_config
from ..errors import UserError
from ..model import KEY_OUTCOMES, OUTCOME_KEYS, SUMMARY_KEYS
from ..runs import CacheLike
from ..sweeps.analysis import mean_ci
from ..sweeps.engine import run_sweep
from ..sweeps.events import compare_diffs, write_event_study
from ..sweeps.spec import build_plan
from .components import Component, components, differing
from .report import write_outputs
from .result import COLUMNS, COMPONENT, INTERACTIONS, INTERACTIONS_NAME, TOTAL, TOTAL_NAME, Attribution, ExplainPlan
from .shapley import (
    EXACT_LIMIT,
    Shapley,
    design_masks,
    members,
    sample_orders,
    shapley_exact,
    shapley_permutations,
    solo_effects,
)

ORDER_STREAM = (0x0DE5, 0x0DE5, 0x0DE5)  # spawn key of the permutation sampler's stream; never a run's key
DEFAULT_PERMUTATIONS = 64


def _label(scenario: ScenarioLike) -> str:
    return Path(scenario).stem if isinstance(scenario, (str, Path)) else "scenario"


def plan_explain(scenario: ScenarioLike, against: ScenarioLike = "baseline", params: ParamsLike = None,
                 groups: Mapping[str, Sequence[str]] | None = None, replicates: int = 10, seed: int = 0,
                 permutations: int = DEFAULT_PERMUTATIONS, exact_limit: int = EXACT_LIMIT,
                 outcomes: Sequence[str] | None = None) -> ExplainPlan:
    """Resolve both configs, find and group the changes, and lay out the subset configs × seeds as a sweep.

    In the introduction design the runs keep ``outcomes`` (default: the key outcomes) month by month, for the
    attribution's time path; the scenario and its base must then share the design."""
    if replicates < 2:
        raise UserError(f"replicates: expected at least 2 for a confidence interval, found {replicates}")
    if permutations < 2:
        raise UserError(f"permutations: expected at least 2 for a standard error, found {permutations}")
    label, base_label = _label(scenario), _label(against)
    scenario_cfg, base_cfg = load_config(scenario, params), load_config(against, params)
    if scenario_cfg.run.design != base_cfg.run.design:
        raise UserError(f"explain: {label} and {base_label} differ in run.design ({scenario_cfg.run.design}, "
                        f"{base_cfg.run.design}): the design is how a run is read, not a policy to attribute; set one "
                        "for both, e.g. --set run.design=introduction")
    comps = components(differing(scenario_cfg, base_cfg), groups, f"{label} (against {base_label})")
    k = len(comps)
    orders = None
    if k > exact_limit:
        rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=ORDER_STREAM))
        orders = sample_orders(k, permutations, rng)
    masks = design_masks(k, orders)
    points = [{key: value for i in members(mask, k) for key, value in comps[i].changes.items()} for mask in masks]
    raw = {"name": f"explain-{label}-vs-{base_label}",
           "description": f"Shapley attribution of {label} against {base_label}: {k} components, "
                          f"{len(masks)} subsets",
           "base": base_cfg.to_dict(), "design": {"type": "explicit", "points": points},
           "replicates": replicates, "seed": seed, "seed_scheme": "common"}
    if scenario_cfg.run.design == "introduction":  # the time path after the policy's introduction
        raw["outputs"] = {"steps": [o for o in check_outcomes(outcomes) if o in OUTCOME_KEYS]}
    try:
        plan = build_plan(raw, f"<explain {label}>")
    except ConfigError as err:
        raise ConfigError([*err.problems, "a subset of the components makes an invalid config: switch the keys "
                           "named above together with --group NAME=key1,key2"]) from None
    full = next(t.cfg for t in plan.tasks if t.point_id == len(masks) - 1)
    assert full == scenario_cfg, "all components switched on must give the scenario's config"
    return ExplainPlan(label, base_label, comps, masks, orders, permutations, plan)


def default_out(plan: ExplainPlan) -> Path:
    return Path("results") / "explain" / f"{plan.scenario}-vs-{plan.base}"


def check_outcomes(outcomes: Sequence[str] | None) -> list[str]:
    """The outcomes to attribute: the ones asked for (each a summary outcome), else the key outcomes."""
    import difflib

    chosen = list(outcomes) if outcomes else list(KEY_OUTCOMES)
    for name in chosen:
        if name not in SUMMARY_KEYS:
            hint = difflib.get_close_matches(name, SUMMARY_KEYS, n=1)
            tip = f"; did you mean '{hint[0]}'?" if hint else "; `coprod-sim outcomes` lists them"
            raise UserError(f"outcome: {name}: unknown outcome{tip}")
    return chosen


# ------------------------------------------------------------------ analysis
def seed_values(runs: pd.DataFrame, outcome: str, n_points: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Values of an outcome by design point (rows) and seed (columns), over the seeds where every subset's
    run is ok and the outcome defined; and those seeds (replicate, seed)."""
    ok = runs[runs["status"] == "ok"]
    wide = ok.pivot(index="point_id", columns="replicate", values=outcome).reindex(range(n_points))
    wide = wide.dropna(axis=1, how="any")
    seeds = ok.drop_duplicates("replicate").set_index("replicate").loc[wide.columns, ["seed"]].reset_index()
    return wide.to_numpy(dtype=float), seeds


def _ci(values: np.ndarray, extra_se: float = 0.0) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds, widened (in quadrature) by a sampling standard error."""
    c = mean_ci(values)
    n = c["n"]
    if n < 2:
        return c["mean"], math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(c["sd"] ** 2 / n + extra_se ** 2)
    return c["mean"], c["mean"] - half, c["mean"] + half


def share_ci(part: np.ndarray, total: np.ndarray) -> tuple[float, float, float]:
    """A component's share of the total effect, ``mean(part) / mean(total)``, with the 95% t-interval of the
    ratio estimator (linearised: the standard error of ``(part − share · total) / mean(total)`` over seeds)."""
    n = len(part)
    if n < 2 or not total.mean():
        return math.nan, math.nan, math.nan
    share = float(part.mean() / total.mean())
    z = (part - share * total) / total.mean()
    half = float(stats.t.ppf(0.975, n - 1) * z.std(ddof=1) / math.sqrt(n))
    return share, share - half, share + half


def attribute(values: np.ndarray, plan: ExplainPlan) -> tuple[Shapley, np.ndarray]:
    """Shapley values and solo effects (components × seeds) from the design points' values (points × seeds)."""
    where = {mask: i for i, mask in enumerate(plan.masks)}

    def value(mask: int) -> np.ndarray:
        return values[where[mask]]

    found = shapley_exact(value, plan.k) if plan.orders is None else shapley_permutations(value, plan.orders)
    return found, solo_effects(value, plan.k)


def analyse(runs: pd.DataFrame, plan: ExplainPlan, outcomes: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The attribution table (outcome × component, plus each outcome's total and interactions) and the
    per-seed table."""
    rows, seed_rows = [], []
    for outcome in outcomes:
        values, seeds = seed_values(runs, outcome, len(plan.masks))
        n = values.shape[1]
        if n == 0:
            rows.append({"outcome": outcome, "kind": TOTAL, "component": TOTAL_NAME, "n_seeds": 0,
                         "method": plan.method})
            continue
        found, solo = attribute(values, plan)
        total = values[-1] - values[0]
        common = {"outcome": outcome, "n_seeds": n, "method": plan.method, "base_mean": float(values[0].mean()),
                  "scenario_mean": float(values[-1].mean())}
        for i, comp in enumerate(plan.components):
            rows.append(_component_row(comp, found.values[i], float(found.permutation_se[i]), solo[i], total, common))
            seed_rows += [{"outcome": outcome, "component": comp.name, "replicate": int(r), "seed": int(s),
                           "shapley": float(found.values[i][j]), "solo_effect": float(solo[i][j]),
                           "total_effect": float(total[j])}
                          for j, (r, s) in enumerate(zip(seeds["replicate"], seeds["seed"], strict=True))]
        mean, low, high = _ci(total)
        rows.append({**common, "kind": TOTAL, "component": TOTAL_NAME, "shapley": mean, "ci_low": low,
                     "ci_high": high, "share_of_effect": 1.0, "solo_effect": float(solo.sum(axis=0).mean())})
        rest = total - solo.sum(axis=0)
        mean, low, high = _ci(rest)
        rows.append({**common, "kind": INTERACTIONS, "component": INTERACTIONS_NAME, "shapley": mean, "ci_low": low,
                     "ci_high": high, **dict(zip(("share_of_effect", "share_ci_low", "share_ci_high"),
                                                 share_ci(rest, total), strict=True))})
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(seed_rows)


def _component_row(comp: Component, phi: np.ndarray, perm_se: float, solo: np.ndarray, total: np.ndarray,
                   common: dict[str, Any]) -> dict[str, Any]:
    mean, low, high = _ci(phi, perm_se)
    solo_mean, solo_low, solo_high = _ci(solo)
    inter, inter_low, inter_high = _ci(phi - solo, perm_se)
    share, share_low, share_high = share_ci(phi, total)
    return {**common, "kind": COMPONENT, "component": comp.name, "keys": " ".join(comp.keys), "shapley": mean,
            "ci_low": low, "ci_high": high, "share_of_effect": share, "share_ci_low": share_low,
            "share_ci_high": share_high, "solo_effect": solo_mean, "solo_ci_low": solo_low, "solo_ci_high": solo_high,
            "interaction": inter, "interaction_ci_low": inter_low, "interaction_ci_high": inter_high,
            "permutation_se": perm_se}


# ------------------------------------------------------------------ the time path (introduction design)
def month_cube(runs: pd.DataFrame, steps: pd.DataFrame, outcome: str, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The reported months, and an outcome's values by month, design point and seed (months × points × seeds,
    NaN where a run is not ok or the outcome undefined)."""
    ok = runs.loc[runs["status"] == "ok", ["point_id", "replicate"]]
    rows = steps.merge(ok, on=["point_id", "replicate"])
    months, replicates = np.sort(rows["step"].unique()), np.sort(ok["replicate"].unique())
    cube = np.full((len(months), n_points, len(replicates)), np.nan)
    cube[np.searchsorted(months, rows["step"]), rows["point_id"].to_numpy(),
         np.searchsorted(replicates, rows["replicate"])] = rows[outcome].to_numpy(dtype=float)
    return months, cube


def _path_rows(values: np.ndarray, plan: ExplainPlan, common: dict[str, Any]) -> list[dict[str, Any]]:
    """Each component's Shapley value and the total effect with 95% intervals, from values (points × seeds) over
    the seeds where every subset's value is defined."""
    values = values[:, np.isfinite(values).all(axis=0)]
    n = values.shape[1]
    if n == 0:
        return [{**common, "kind": TOTAL, "component": TOTAL_NAME, "n_seeds": 0}]
    found, _solo = attribute(values, plan)
    rows = []
    for i, comp in enumerate(plan.components):
        mean, low, high = _ci(found.values[i], float(found.permutation_se[i]))
        rows.append({**common, "kind": COMPONENT, "component": comp.name, "shapley": mean, "ci_low": low,
                     "ci_high": high, "n_seeds": n})
    mean, low, high = _ci(values[-1] - values[0])
    return [*rows, {**common, "kind": TOTAL, "component": TOTAL_NAME, "shapley": mean, "ci_low": low,
                    "ci_high": high, "n_seeds": n}]


def analyse_path(runs: pd.DataFrame, steps: pd.DataFrame, plan: ExplainPlan, outcomes: Sequence[str],
                 window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who carries the effect when: each component's Shapley value month by month after the policy's
    introduction, and over the first and the last ``window`` months (the last is the summary's window, so its
    values are the attribution's own). Shapley values are linear in the outcome, so a window's are the mean of
    its months'; they are computed from the window's mean values, over the seeds defined in all its months."""
    path, windows = [], []
    for outcome in outcomes:
        months, cube = month_cube(runs, steps, outcome, len(plan.masks))
        for month, values in zip(months, cube, strict=True):
            path += _path_rows(values, plan, {"outcome": outcome, "month": int(month)})
        if len(months) < window:
            continue
        for name, part in (("first", slice(0, window)), ("last", slice(len(months) - window, None))):
            span = {"first_month": int(months[part][0]), "last_month": int(months[part][-1])}
            windows += _path_rows(cube[part].mean(axis=0), plan, {"outcome": outcome, "window": name, **span})
    return pd.DataFrame(path), pd.DataFrame(windows)


def _time_path(target: Path, runs: pd.DataFrame, plan: ExplainPlan, result: Attribution) -> None:
    """In the introduction design: the total effect's event study (``sweeps/events.py``) and who carries it when."""
    outcomes = plan.sweep.step_outcomes
    if not outcomes:
        return
    steps = pd.read_parquet(target / "steps.parquet")
    run = load_config(plan.sweep.tasks[0].cfg).run
    # the base is the empty subset (point 0), the scenario the full one (the last point)
    diffs = compare_diffs(runs, steps, [plan.base, plan.scenario], outcomes, points=[0, len(plan.masks) - 1])
    result.events = write_event_study(target, diffs, plan.base, run.outcome_window, run.convergence_tolerance)
    result.path, result.windows = analyse_path(runs, steps, plan, outcomes, run.outcome_window)


# ------------------------------------------------------------------ public entry point
def explain(scenario: ScenarioLike, against: ScenarioLike = "baseline", replicates: int = 10, seed: int = 0,
            params: ParamsLike = None, groups: Mapping[str, Sequence[str]] | None = None,
            outcomes: Sequence[str] | None = None, permutations: int = DEFAULT_PERMUTATIONS,
            out: str | Path | None = None, backend: str | None = None, workers: int | None = None,
            scheduler: str | None = None, batch_size: int | None = None, timeout: float | None = None,
            max_attempts: int | None = None, retry_failed: bool = False, cache: CacheLike = True) -> Attribution:
    """Attribute ``scenario``'s paired effect over ``against`` to its components by Shapley values
    (docs/explain.md).

    Each component (a parameter the scenario changes, or a named group of them in ``groups``) is
    switched on and off; every subset runs on the same ``replicates`` seeds. Exact over all subsets
    for up to 8 components, ``permutations`` sampled orders beyond. Writes ``attribution.csv``,
    ``attribution.md``, a waterfall figure per outcome and the runs into ``out`` (default
    ``results/explain/<scenario>-vs-<base>``); finished runs there are reused. In the introduction design it
    also writes the time path: the total effect's event study and each component's Shapley value month by month
    after the policy's introduction (``attribution_events.csv``, ``attribution_windows.csv``, figures). ``cache``: where runs of the
    introduction design keep their spun-up worlds (True: the default folder; a folder; False: none).

    Raises:
        ConfigError: a scenario or parameter is invalid.
        UserError: no parameter differs, an unknown outcome or group key, or too few replicates.
        SweepFailed: no run gave results; ``.report`` says what was recorded.
    """
    chosen = check_outcomes(outcomes)
    plan = plan_explain(scenario, against, params, groups, replicates, seed, permutations, outcomes=chosen)
    target = Path(out) if out is not None else default_out(plan)
    report = run_sweep(plan.sweep, target, backend or ("dask" if scheduler else None), workers, scheduler,
                       batch_size, retry_failed, timeout, max_attempts, cache).require_results()
    runs = pd.read_parquet(target / "runs.parquet")
    table, by_seed = analyse(runs, plan, chosen)
    result = Attribution(target, plan, table, by_seed, "", report=report)
    _time_path(target, runs, plan, result)
    write_outputs(result)
    return result
