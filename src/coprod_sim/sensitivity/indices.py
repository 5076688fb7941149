"""From the runs of a study to sensitivity indices: values per point and replicate, checks, averages, indices.

Order of work for each analysed series (an outcome, or a paired effect
"scenario − base" on the same seeds):

1. a matrix of values, design point × replicate (repeated points share runs);
2. every cell must be a finite number, else the analysis stops and names the
   runs, unless the spec says ``missing: drop_points`` (then whole Sobol
   blocks / Morris trajectories / points are left out, and N says so);
3. the seed-noise share of variance (within-point / total) is reported;
4. replicates are averaged, and SALib computes the indices of the averages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import UserError
from ..sweeps import SweepPlan
from ..sweeps.salib import analyze, rows, sobol_prefix
from .spec import Study

COLUMNS = ["method", "outcome", "factor", "index", "value", "ci_low", "ci_high", "N", "replicates"]
MAX_LISTED = 8


@dataclass
class Series:
    """One analysed quantity: its values (design point × replicate) and the runs behind each cell."""

    label: str
    outcome: str
    values: np.ndarray
    why_missing: dict[tuple[int, int], str]


def values_of(plan: SweepPlan, runs: pd.DataFrame, outcome: str) -> tuple[np.ndarray, dict[tuple[int, int], str]]:
    """Point × replicate matrix of one outcome (NaN where no usable value) and what each missing cell is."""
    out = np.full((len(plan.points), plan.replicates), np.nan)
    # place rows by run_key, not by their recorded point id: a run reused from an earlier design (same
    # config and seed) keeps the id it had there
    where = {t.run_key: (t.point_id, t.replicate) for t in plan.tasks}
    runs = runs[runs["run_key"].isin(where)]
    pid = np.asarray([where[k][0] for k in runs["run_key"]], dtype=int)
    rep = np.asarray([where[k][1] for k in runs["run_key"]], dtype=int)
    ok = (runs["status"] == "ok").to_numpy(bool)
    values = runs[outcome].to_numpy(float) if outcome in runs else np.full(len(runs), np.nan)
    out[pid[ok], rep[ok]] = values[ok]
    why = {(int(p), int(r)): f"failed: {e}" for p, r, e in zip(pid[~ok], rep[~ok], runs["error"][~ok], strict=True)}
    recorded = set(zip(pid.tolist(), rep.tolist(), strict=True))
    for point, src in plan.repeats.items():
        out[point] = out[src]
        why.update({(point, r): why[(src, r)] for r in range(plan.replicates) if (src, r) in why})
        recorded |= {(point, r) for r in range(plan.replicates) if (src, r) in recorded}
    for p, r in zip(*np.nonzero(~np.isfinite(out)), strict=True):
        key = (int(p), int(r))
        if key not in why:
            why[key] = f"{outcome} = {out[key]}" if key in recorded else "not recorded (lost or not yet run)"
    return out, why


def series_of(study: Study, tables: dict[str, pd.DataFrame]) -> list[Series]:
    """Every series the study analyses: the outcomes (levels) and, per effect, scenario − base per seed."""
    out = []
    base = {o: values_of(study.plan, tables[""], o) for o in study.outcomes}
    if study.levels:
        out += [Series(o, o, *base[o]) for o in study.outcomes]
    for scenario, plan in study.effect_plans.items():
        for o in study.outcomes:
            values, why = values_of(plan, tables[scenario], o)
            both = {**{k: f"{study.base_label} run {v}" for k, v in base[o][1].items()},
                    **{k: f"{scenario} run {v}" for k, v in why.items()}}
            out.append(Series(f"{o} [{short(scenario)} − {study.base_label}]", o, values - base[o][0], both))
    return out


def short(scenario: str) -> str:
    return scenario.rsplit("/", 1)[-1].removesuffix(".yaml")


# ------------------------------------------------------------------ missing values
def block_size(study: Study) -> int:
    """Design points that must be dropped together: a Sobol base sample's block, a Morris trajectory (one row
    per group, not per factor, when the design has groups)."""
    if study.design_type not in ("sobol", "morris"):
        return 1
    return rows(study.design_type, len(study.group_names), 1, study.second_order)


def kept_points(study: Study, series: Series) -> np.ndarray:
    """Boolean mask of usable design points; stops with the runs named unless the spec allows dropping."""
    bad = ~np.all(np.isfinite(series.values), axis=1)
    if not bad.any():
        return ~bad
    cells = sorted(k for k in series.why_missing if bad[k[0]])
    listed = "; ".join(f"point {p} replicate {r} ({series.why_missing[(p, r)]})" for p, r in cells[:MAX_LISTED])
    more = f"; … and {len(cells) - MAX_LISTED} more" if len(cells) > MAX_LISTED else ""
    head = (f"{series.label}: {len(cells)} of {series.values.size} runs have no finite value, at "
            f"{int(bad.sum())} of {len(bad)} design points: {listed}{more}")
    if study.missing != "drop_points":
        raise UserError(f"{head}. Indices not computed (SALib would silently return wrong ones). Re-run the study to "
                        "retry lost runs (add --retry-failed for failed ones), or set analysis.missing: drop_points "
                        "to analyse without those design points.")
    if study.design_type == "fast":
        raise UserError(f"{head}. A FAST design cannot lose points; re-run the missing runs or use a Sobol design.")
    size = block_size(study)
    blocks = bad.reshape(-1, size).any(axis=1) if size > 1 else bad
    return ~np.repeat(blocks, size)


# ------------------------------------------------------------------ noise and indices
def noise_share(values: np.ndarray) -> tuple[float, float]:
    """Seed noise as a share of the variance of single runs, and of the replicate means that are analysed."""
    if values.shape[1] < 2 or values.shape[0] < 2:
        return float("nan"), float("nan")
    within = float(np.mean(np.var(values, axis=1, ddof=1)))
    total = float(np.var(values.ravel(), ddof=1))
    means = float(np.var(values.mean(axis=1), ddof=1))
    single = within / total if total > 0 else float("nan")
    averaged = within / values.shape[1] / means if means > 0 else float("nan")
    return min(single, 1.0), min(averaged, 1.0)  # estimates can exceed 1 when there is little else


def morris_noise_floor(values: np.ndarray, levels: int) -> float:
    """The μ* that seed noise alone would give an inert factor (approximately; NaN with one replicate).

    An elementary effect is a difference of two replicate means over a step Δ of the unit range, so
    noise alone contributes |N(0, 2 σ²_within / R)| / Δ, whose mean is √(2/π) · √(2 σ²_within / R) / Δ.
    Common seeds correlate the two runs, so the true floor is lower: a factor below it is not shown
    to matter, not shown to be inert.
    """
    if values.shape[1] < 2:
        return float("nan")
    within = float(np.mean(np.var(values, axis=1, ddof=1)))
    delta = levels / (2 * (levels - 1))
    return float(np.sqrt(2 / np.pi) * np.sqrt(2 * within / values.shape[1]) / delta)


def base_size(study: Study, kept: np.ndarray) -> int:
    """N of the analysed sample after dropping: base samples, trajectories or points."""
    if study.design_type in ("sobol", "morris"):
        return int(kept.sum()) // block_size(study)
    return study.samples if study.design_type == "fast" else int(kept.sum())


def indices_for(study: Study, series: Series, kept: np.ndarray, rows: slice | None = None) -> pd.DataFrame:
    """Indices of one series from the replicate means of the kept points (``rows``: a prefix, for convergence)."""
    x = study.unit()
    kept = kept.copy()
    if rows is not None:
        kept[rows.stop:] = False
    y = series.values.mean(axis=1)
    found = analyze(study.method, study.factors, x[kept], y[kept], second_order=study.second_order,
                    levels=int(study.plan.design.get("levels", 4)), conf_level=study.conf_level,
                    resamples=study.resamples, seed=study.plan.root_seed, groups=study.groups)
    table = pd.DataFrame(found)
    table.insert(0, "outcome", series.label)
    table.insert(0, "method", study.method)
    table["N"] = base_size(study, kept)
    table["replicates"] = study.plan.replicates
    return table[COLUMNS]


def convergence_for(study: Study, series: Series, kept: np.ndarray) -> pd.DataFrame:
    """Sobol indices and CI widths on the first N/8, N/4, N/2 and N base samples (one set of runs).

    The Sobol design for N is a prefix of the design for 2N, so these are the
    indices a study of that size would have given, and doubling N later reuses
    every run done so far.
    """
    frames = []
    n = study.samples
    sizes = sorted({n // 2 ** k for k in range(4) if n // 2 ** k >= 4})
    for size in sizes:
        prefix = slice(0, sobol_prefix(size, len(study.group_names), study.second_order))
        if kept[prefix].sum() < 4 * block_size(study):
            continue
        frames.append(indices_for(study, series, kept, prefix))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    table["ci_width"] = table["ci_high"] - table["ci_low"]
    return table
