"""The effect's time path after a policy is introduced (``run.design: introduction``): an event study.

In the introduction design every scenario of a comparison forks from the same
spun-up world per seed, and its levers arrive at reported month 0. So the paired
difference (scenario − reference, same seed) month by month is the policy's effect
that many months after its introduction: how long a remedy takes to pay off, and
whether it has settled by the months the summary averages.

Tables (tidy, one row per scenario, outcome and month, or per scenario and outcome):

* ``events.csv``: ``month`` (months since introduction, 1 = the first month under the
  policy), ``difference`` (mean over seeds), ``sd``, ``ci_low``, ``ci_high`` (95% t-interval
  over seeds) and ``n_pairs``;
* ``events_settling.csv``: the effect over the last ``run.outcome_window`` months and the
  window before, their difference (``drift``) and its standard error over seeds,
  ``settled`` (the run's convergence rule applied to the effect: not settled when the drift
  is larger than ``DRIFT_Z`` standard errors *and* than ``run.convergence_tolerance`` of the
  effect's size), and ``months_to_90pct``: the first month from which the mean effect stays at
  90% or more of its final-window effect (same sign): how long the remedy takes to pay off;

and the figure ``events.png``: months since introduction against the effect, mean and 95% band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..model import DRIFT_Z, OUTCOME_BY_KEY
from ..runs import files
from .analysis import mean_ci

EVENTS, SETTLING, FIGURE = "events.csv", "events_settling.csv", "events.png"


@dataclass
class EventStudy:
    """The effect path (``path``), the settling check (``settling``), the figure and plain-language notes."""

    path: pd.DataFrame
    settling: pd.DataFrame
    figure: Path | None
    notes: list[str]


Diffs = dict[tuple[str, str], pd.DataFrame]  # (scenario, outcome) → month × pair of runs: scenario − reference


def paired_steps(ref: tuple[pd.DataFrame, pd.DataFrame], other: tuple[pd.DataFrame, pd.DataFrame], outcome: str,
                 keys: list[str]) -> pd.DataFrame:
    """(month × pair) of ``other`` minus ``ref`` (each a runs and a steps table), pairing runs on ``keys``
    (the replicate, or the design point and replicate) where both are ok."""
    tables = []
    for runs, steps in (ref, other):
        ok = runs.loc[runs["status"] == "ok", keys]
        rows = steps.merge(ok, on=keys)
        tables.append(rows.set_index(["step", *keys])[outcome].unstack(keys))
    both = tables[0].columns.intersection(tables[1].columns)
    return pd.DataFrame(tables[1][both] - tables[0][both])


def compare_diffs(runs: pd.DataFrame, steps: pd.DataFrame, labels: list[str], outcomes: list[str],
                  points: list[int] | None = None) -> Diffs:
    """A comparison's scenarios each minus the first, paired by replicate (the same seed); ``points``: the design
    point of each label (default: the labels' order, as ``compare`` lays them out)."""
    ids = list(range(len(labels))) if points is None else points

    def point(p: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        return runs[runs["point_id"] == p], steps[steps["point_id"] == p]

    return {(label, outcome): paired_steps(point(ids[0]), point(p), outcome, ["replicate"])
            for p, label in zip(ids[1:], labels[1:], strict=True) for outcome in outcomes}


def effect_path(diffs: Diffs, reference: str) -> pd.DataFrame:
    """Each effect month by month after the introduction: mean and 95% CI over the pairs of runs."""
    rows = []
    for (label, outcome), diff in diffs.items():
        for month, values in zip(diff.index, diff.to_numpy(), strict=True):
            ci = mean_ci(values)
            rows.append({"scenario": label, "reference": reference, "outcome": outcome, "month": int(month),
                         "difference": ci["mean"], "sd": ci["sd"], "ci_low": ci["ci_low"],
                         "ci_high": ci["ci_high"], "n_pairs": ci["n"]})
    return pd.DataFrame(rows)


def settling(diffs: Diffs, reference: str, window: int, tolerance: float) -> pd.DataFrame:
    """Whether each effect has settled by the end of the run (the convergence rule, applied to the effect)."""
    return pd.DataFrame([{"scenario": label, "reference": reference, "outcome": outcome, "window": window,
                          "months": len(diff), **_settled(diff, window, tolerance)}
                         for (label, outcome), diff in diffs.items()])


def _settled(diff: pd.DataFrame, window: int, tolerance: float) -> dict:
    """Last-window effect, the window before, the drift between them (per seed, then its mean and SE)."""
    mean_path = diff.mean(axis=1).to_numpy()
    if len(diff) < 2 * window or diff.shape[1] < 2:
        return {"effect": float(np.nanmean(mean_path[-window:])) if len(mean_path) else math.nan,
                "previous_effect": math.nan, "drift": math.nan, "se": math.nan, "settled": None,
                "months_to_90pct": _months_to_90pct(mean_path, window)}
    last, before = diff.iloc[-window:].mean(), diff.iloc[-2 * window:-window].mean()
    drift = last - before
    se = float(drift.std(ddof=1) / math.sqrt(drift.count()))
    size = max(abs(float(last.mean())), abs(float(before.mean())))
    moved = abs(float(drift.mean())) > DRIFT_Z * se and abs(float(drift.mean())) > tolerance * size
    return {"effect": float(last.mean()), "previous_effect": float(before.mean()), "drift": float(drift.mean()),
            "se": se, "settled": not moved, "months_to_90pct": _months_to_90pct(mean_path, window)}


def _months_to_90pct(mean_path: np.ndarray, window: int) -> float:
    """First month from which the mean effect stays at ≥ 90% of its final-window size, with its sign (NaN when
    the final effect is zero or the path never stays there)."""
    if len(mean_path) < window:
        return math.nan
    final = float(np.mean(mean_path[-window:]))
    if not final:
        return math.nan
    reached = mean_path / final >= 0.9
    if not reached[-1]:
        return math.nan
    # the last month that was *not* there, plus one: from then on the effect stays there
    below = np.flatnonzero(~reached)
    return float(below[-1] + 2 if len(below) else 1)


def notes(table: pd.DataFrame) -> list[str]:
    """What an analyst must know from a settling table: effects that have not settled, and how long to run."""
    out = []
    short = table[table["settled"].isna()]
    if len(short):
        out.append(f"the effects' settling cannot be checked: it needs two outcome windows "
                   f"({2 * int(short['window'].iloc[0])} months) and two seeds; run longer or with more replicates")
    moving = table[table["settled"].eq(False)]  # a column of True, False and None (not checkable)
    for _, r in moving.iterrows():
        steps_run = int(r["months"])
        out.append(f"{r['scenario']}: the effect on {r['outcome']} has not settled after {steps_run} months "
                   f"({r['previous_effect']:+.4g} → {r['effect']:+.4g} between the last two {r['window']}-month "
                   f"windows); read it as a transient, or run longer (e.g. --set run.steps={2 * steps_run})")
    return out


def plot_path(path: pd.DataFrame, out: Path, xlabel: str = "months since introduction", title: str | None = None,
              event: int | None = None, labels: Mapping[str, str] | None = None) -> Path | None:
    """Months since introduction vs effect: one panel per outcome, a line and 95% band per scenario.

    The findings reuse it for an effect whose event comes later in the run (a subsidy cut): ``xlabel`` and
    ``title`` then say so, ``event`` draws the event's month, ``labels`` names the outcomes."""
    if path.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(path["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 3.4), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        for scenario, rows in path[path["outcome"] == outcome].groupby("scenario", sort=False):
            line = ax.plot(rows["month"], rows["difference"], label=str(scenario), lw=1.4)[0]
            ax.fill_between(rows["month"], rows["ci_low"], rows["ci_high"], color=line.get_color(), alpha=0.2, lw=0)
        ax.axhline(0.0, color="0.4", lw=0.8)
        if event is not None:
            ax.axvline(event, color="0.4", lw=0.8, ls="--")
        if path.loc[path["outcome"] == outcome, "difference"].isna().all():
            ax.text(0.5, 0.6, "undefined in these runs\n(see the outcome's missing_when)", ha="center",
                    transform=ax.transAxes, fontsize=8, color="0.3")
        known = OUTCOME_BY_KEY.get(outcome)
        named = (labels or {}).get(outcome) or (known.label if known is not None and known.label else outcome)
        ax.set_title(named, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("effect (scenario − reference)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title or f"Effect after the policy's introduction, vs {path['reference'].iloc[0]} (mean, 95% CI "
                          "over paired runs)", fontsize=10)
    fig.tight_layout()
    target = out / FIGURE
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def event_study(folder: Path, labels: list[str], outcomes: list[str], window: int, tolerance: float) -> EventStudy:
    """From a comparison's runs and steps tables in ``folder``: write events.csv, events_settling.csv, events.png."""
    runs, steps = pd.read_parquet(folder / "runs.parquet"), pd.read_parquet(folder / "steps.parquet")
    return write_event_study(folder, compare_diffs(runs, steps, labels, outcomes), labels[0], window, tolerance)


def write_event_study(folder: Path, diffs: Diffs, reference: str, window: int, tolerance: float) -> EventStudy:
    """The effect paths, their settling and the figure, written into ``folder``."""
    path = effect_path(diffs, reference)
    settled = settling(diffs, reference, window, tolerance)
    files.write_text(folder / EVENTS, path.to_csv(index=False))
    files.write_text(folder / SETTLING, settled.to_csv(index=False))
    return EventStudy(path, settled, plot_path(path, folder), notes(settled))


def saved_notes(folder: Path) -> list[str] | None:
    """The notes of the event study saved in ``folder``, or None if it holds none."""
    target = folder / SETTLING
    if not target.is_file():
        return None
    table = pd.read_csv(target)
    table["settled"] = table["settled"].astype(object).where(table["settled"].notna(), None)
    return notes(table)
