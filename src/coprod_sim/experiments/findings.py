"""Findings: the source papers' claims put to the model, each with a verdict computed from intervals.

An experiment is a set of *arms* (configurations: shipped scenarios combined, or with a lever moved), run on
the same seeds (common random numbers) through the sweep engine, and a set of *contrasts* between arms
(weighted sums of arms, computed replicate by replicate, so each has a paired 95% interval). A claim is
written as *predictions*: a contrast's sign on an outcome, or a level's band. The verdict is computed by one
stated rule (``VERDICT_RULE``), never typed: the same tables always give the same verdict.

Why an explicit design over the baseline: every arm is the fragmented baseline plus the changes the arm names
(a scenario file's entries, dotted), so a reader sees in the design table exactly what differs, and the sweep
engine gives resume, supervision, every backend and recorded seeds for free.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import load_config, read_yaml, shipped_scenarios
from ..sweeps import sweep
from ..sweeps.analysis import mean_ci
from ..sweeps.events import compare_diffs, effect_path, settling

# an effect is stated as precise when its 95% interval's half-width is at most this share of the effect
PRECISION = 0.2
VERDICT_RULE = (
    "A prediction is *supported* when the 95% interval of its contrast lies entirely on the predicted side of "
    "zero (for a level: entirely inside the target band), *contradicted* when it lies entirely on the other "
    "side (outside the band), and *not distinguishable* otherwise. A claim is **supported** when all its "
    "predictions are supported; **supported under conditions** when some are (the conditions are those of "
    "the supported ones); **not supported by this model** when none is.")
CONTRAST_COLUMNS = ["experiment", "contrast", "outcome", "outcome_label", "estimate", "ci_low", "ci_high", "n_pairs"]
SUPPORTED, CONTRADICTED, UNCLEAR = "supported", "contradicted", "not distinguishable"


def number(value: float, scale: float | None = None) -> str:
    """Whole numbers with separators from 1,000 up; below, three significant figures of ``scale`` (the
    largest number of the cell), so an estimate and its bounds share their decimals."""
    if not math.isfinite(value):
        return "–"
    scale = abs(value) if scale is None else scale
    if scale >= 1000:
        return f"{value:,.0f}"
    decimals = 2 - math.floor(math.log10(scale)) if scale > 0 else 3
    return f"{value:.{max(decimals, 0)}f}"


def signed_number(value: float, scale: float) -> str:
    """A number with its sign, to ``scale``'s decimals (``number``): an effect is read with its direction."""
    return ("+" if value >= 0 else "") + number(value, scale)


def interval_cell(estimate: Any, low: Any, high: Any, effect: bool = True) -> str:
    """An estimate with its 95% interval; for an effect, `*` when the interval excludes zero and `†` when it
    does but its half-width exceeds ``PRECISION`` of the effect (the sign is known, the size is not).
    Takes table cells as they come (numpy or pandas scalars)."""
    estimate, low, high = float(estimate), float(low), float(high)
    if not math.isfinite(estimate):
        return "–"
    scale = max(abs(estimate), abs(low), abs(high)) if math.isfinite(low) and math.isfinite(high) else None
    text = (f"{'+' if effect and estimate >= 0 else ''}{number(estimate, scale)} "
            f"[{number(low, scale)}, {number(high, scale)}]")
    if not effect or not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return text
    return text + (" *" if (high - low) / 2 <= PRECISION * abs(estimate) else " *†")


def scenario_changes(name: str) -> dict[str, Any]:
    """A shipped scenario's entries as dotted parameters (its ``scenario:`` block is a description, not a change)."""
    data = read_yaml(shipped_scenarios()[name])
    return {f"{group}.{key}": value for group, entries in data.items() if group != "scenario"
            for key, value in entries.items()}


def combine(*changes: Mapping[str, Any]) -> dict[str, Any]:
    """Several arms' changes at once; two that set one parameter differently cannot be combined silently."""
    out: dict[str, Any] = {}
    for change in changes:
        for key, value in change.items():
            if key in out and out[key] != value:
                raise ValueError(f"{key}: set to {out[key]!r} and to {value!r}; the combination is ambiguous")
            out[key] = value
    return out


@dataclass(frozen=True)
class Contrast:
    """A weighted sum of arms (weights sum to zero for an effect), computed replicate by replicate."""

    label: str
    weights: Mapping[str, float]

    @classmethod
    def difference(cls, label: str, arm: str, reference: str) -> Contrast:
        return cls(label, {arm: 1.0, reference: -1.0})


@dataclass(frozen=True)
class Prediction:
    """What the claim says about one contrast (sign +1 a rise, −1 a fall) or one arm's level (a band)."""

    contrast: str  # a contrast's label, or an arm's name for a level
    outcome: str
    sign: int = 0
    band: tuple[float, float] | None = None
    condition: str = ""  # the condition this prediction tests, named in a conditional verdict
    screened: str = ""  # the assumptions screen's series of the same effect (robustness.py), if it has one


@dataclass(frozen=True)
class Derived:
    """An outcome computed from a run's summary outcomes (e.g. counted minus uncounted service types)."""

    name: str
    compute: Callable[[pd.DataFrame], pd.Series]
    needs: tuple[str, ...]


@dataclass(frozen=True)
class TimePath:
    """Outcomes kept month by month and read as the paired effect of every arm against the first, month by
    month (the event study of ``sweeps/events.py``): how an effect builds up or fades after the month the arms
    start to differ (``event_month``). ``shown``: the months the doc's table prints (the figure has them all)."""

    outcomes: tuple[str, ...]
    event_month: int
    event: str  # what happens at event_month, as the figure and the table name it
    shown: tuple[int, ...]
    # outcomes averaged over a span of months, for predictions about the path rather than its end:
    # name → (outcome kept month by month, first month, last month)
    windows: Mapping[str, tuple[str, int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    question: str
    quotes: tuple[tuple[str, str], ...]  # (seed file, the claim in English) as the doc quotes them
    claim: str  # the claim in one sentence, as the verdict judges it
    why: str  # the model's mechanism that produces the result (ODD sections)
    arms: Mapping[str, Mapping[str, Any]]  # name → dotted changes from the baseline (first: the reference)
    outcomes: Mapping[str, str]  # outcome → label, in the tables
    contrasts: tuple[Contrast, ...]
    predictions: tuple[Prediction, ...]
    arm_size: Mapping[str, float] = field(default_factory=dict)  # arm → population multiple (district scale)
    derived: tuple[Derived, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)  # every arm's run settings and context (win over Size)
    time_path: TimePath | None = None
    slot: int | None = None  # fixes its seeds when added after others (default: its place in the catalogue)
    screen_note: str = ""  # how the screened effects differ from the predictions' contrasts (robustness.py)
    pilot: int | None = None  # its own pilot size, when the default's would be too few (``pilot_size``)
    pilot_why: str = ""  # why, as the design line says it


@dataclass
class Size:
    """How large each run is: the default scenario size, or a small one (``--quick``, tests)."""

    residents: int = 22500
    community_size: int = 2500
    quick: bool = False

    def params(self) -> dict[str, Any]:
        base = {"population.residents": self.residents, "space.community_size": self.community_size}
        if self.quick:
            base |= {"run.steps": 24, "run.outcome_window": 6, "run.spin_up": 12}
        return base


def seed_slots(experiments: list[Experiment]) -> dict[str, int]:
    """Each experiment's place for its seeds: its ``slot`` if it has one, else its place among those without
    one, so adding an experiment anywhere in the catalogue changes no other experiment's seeds."""
    unslotted = [e.name for e in experiments if e.slot is None]
    return {e.name: e.slot if e.slot is not None else unslotted.index(e.name) for e in experiments}


def pilot_size(exp: Experiment, asked: int, cap: int) -> int:
    """The pilot's paired replicates: those asked for, or the experiment's own pilot if it needs more (a time
    path read month by month has one month's noise, not a window's mean), never above the cap."""
    return min(max(asked, exp.pilot), cap) if exp.pilot else asked


def run_settings(exp: Experiment, size: Size) -> dict[str, Any]:
    """What every arm of ``exp`` shares: the size's settings, then the experiment's own (a longer run, a
    context such as rising costs), which win: an experiment that needs 72 months needs them at --quick too."""
    return {**size.params(), **exp.settings}


def size_text(exp: Experiment, size: Size) -> str:
    """The runs' size as the doc's design line states it, from the settings the runs were given."""
    run = load_config("baseline", run_settings(exp, size)).run
    months = f"{run.steps} reported months after a {run.spin_up}-month spin-up"
    return f"{size.residents:,} residents, " + (f"short quick runs ({months})" if size.quick else months)


def design_points(exp: Experiment, size: Size) -> list[dict[str, Any]]:
    """One explicit design point per arm; an arm at a multiple of the population keeps the density, so the
    district's area grows with it (the realistic-district arms)."""
    points = []
    for arm, changes in exp.arms.items():
        point = dict(changes)
        multiple = exp.arm_size.get(arm, 1.0)
        if multiple != 1.0:
            point["population.residents"] = round(size.residents * multiple)
        points.append(point)
    return points


def run_experiment(exp: Experiment, size: Size, replicates: int, seed: int, out: Path,
                   backend: str | None = None) -> tuple[pd.DataFrame, float]:
    """Run (or resume) an experiment's arms through the sweep engine; return its runs table and wall time."""
    windows = exp.time_path.windows if exp.time_path else {}
    computed = {d.name for d in exp.derived} | set(windows)  # computed here from the runs, not recorded by them
    needs = [o for o in dict.fromkeys([*exp.outcomes, *(n for d in exp.derived for n in d.needs)]) if o not in computed]
    steps = list(exp.time_path.outcomes) if exp.time_path else []
    spec = {"base": str(shipped_scenarios()["baseline"]), "replicates": replicates, "seed": seed,
            "seed_scheme": "common", "set": run_settings(exp, size), "outputs": {"summary": needs, "steps": steps},
            "design": {"type": "explicit", "points": design_points(exp, size)}}
    start = time.perf_counter()
    report = sweep(spec, out=out / "runs", backend=backend)
    report.require_results()
    runs = pd.read_parquet(Path(report.out) / "runs.parquet")
    runs = runs[runs["status"] == "ok"].copy()
    for derived in exp.derived:
        runs[derived.name] = derived.compute(runs)
    if windows:
        runs = window_means(runs, pd.read_parquet(Path(report.out) / "steps.parquet"), windows)
    runs["arm"] = [list(exp.arms)[p] for p in runs["point_id"]]
    return runs, time.perf_counter() - start


def window_means(runs: pd.DataFrame, steps: pd.DataFrame,
                 windows: Mapping[str, tuple[str, int, int]]) -> pd.DataFrame:
    """Each run's mean of an outcome over a span of months (``TimePath.windows``), as a column of the runs
    table, so a contrast and its verdict can be about part of the time path (e.g. the two years after a cut)."""
    out = runs.copy()
    keys = pd.MultiIndex.from_frame(out[["point_id", "replicate"]])
    for name, (outcome, first, last) in windows.items():
        span = steps[steps["step"].between(first, last)]
        out[name] = span.groupby(["point_id", "replicate"])[outcome].mean().reindex(keys).to_numpy()
    return out


def contrast_table(exp: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Each contrast on each outcome: mean over replicates of the weighted sum of arms, with its 95% interval.

    Only replicates where every arm of the contrast ran give a value: a pair is a pair."""
    rows = []
    wide = {o: runs.pivot_table(index="replicate", columns="arm", values=o, aggfunc="first") for o in exp.outcomes}
    for contrast in exp.contrasts:
        arms = list(contrast.weights)
        for outcome, label in exp.outcomes.items():
            table = wide[outcome].reindex(columns=arms).dropna()
            values = table.to_numpy() @ np.array([contrast.weights[a] for a in arms])
            ci = mean_ci(values)
            rows.append({"experiment": exp.name, "contrast": contrast.label, "outcome": outcome,
                         "outcome_label": label, "estimate": ci["mean"], "ci_low": ci["ci_low"],
                         "ci_high": ci["ci_high"], "n_pairs": ci["n"]})
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def level_table(exp: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Each arm's level of each outcome: mean over replicates with its 95% interval."""
    rows = []
    for arm in exp.arms:
        for outcome, label in exp.outcomes.items():
            ci = mean_ci(runs.loc[runs["arm"] == arm, outcome])
            rows.append({"experiment": exp.name, "arm": arm, "outcome": outcome, "outcome_label": label,
                         "mean": ci["mean"], "ci_low": ci["ci_low"], "ci_high": ci["ci_high"], "n": ci["n"]})
    return pd.DataFrame(rows)


def time_path_tables(exp: Experiment, size: Size, runs_folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The event study of an experiment with a time path: each arm minus the first, month by month, with 95%
    intervals over paired replicates (``events.effect_path``), and whether each effect has settled by the end
    of the runs (``events.settling``, the run's convergence rule applied to the effect)."""
    assert exp.time_path is not None
    runs, steps = (pd.read_parquet(runs_folder / name) for name in ("runs.parquet", "steps.parquet"))
    arms, reference = list(exp.arms), next(iter(exp.arms))
    diffs = compare_diffs(runs, steps, arms, list(exp.time_path.outcomes))
    run = load_config("baseline", run_settings(exp, size)).run
    return (effect_path(diffs, reference),
            settling(diffs, reference, run.outcome_window, run.convergence_tolerance))


def judge(prediction: Prediction, low: float, high: float) -> str:
    """The verdict rule for one prediction (``VERDICT_RULE``)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return UNCLEAR
    if prediction.band is not None:
        lo, hi = prediction.band
        if lo <= low and high <= hi:
            return SUPPORTED
        return CONTRADICTED if high < lo or low > hi else UNCLEAR
    if (low > 0 and prediction.sign > 0) or (high < 0 and prediction.sign < 0):
        return SUPPORTED
    if (low > 0 and prediction.sign < 0) or (high < 0 and prediction.sign > 0):
        return CONTRADICTED
    return UNCLEAR


def prediction_table(exp: Experiment, contrasts: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for p in exp.predictions:
        if p.band is not None:
            row = levels[(levels["arm"] == p.contrast) & (levels["outcome"] == p.outcome)].iloc[0]
            estimate, low, high = row["mean"], row["ci_low"], row["ci_high"]
            expected = f"within [{p.band[0]:g}, {p.band[1]:g}]"
        else:
            row = contrasts[(contrasts["contrast"] == p.contrast) & (contrasts["outcome"] == p.outcome)].iloc[0]
            estimate, low, high = row["estimate"], row["ci_low"], row["ci_high"]
            expected = "rise" if p.sign > 0 else "fall"
        rows.append({"experiment": exp.name, "contrast": p.contrast, "outcome": p.outcome,
                     "outcome_label": exp.outcomes[p.outcome], "expected": expected, "condition": p.condition,
                     "estimate": estimate, "ci_low": low, "ci_high": high, "verdict": judge(p, low, high)})
    return pd.DataFrame(rows)


def replicates_needed(predictions: pd.DataFrame, replicates: int) -> int:
    """Paired replicates that would make every prediction whose interval excludes zero precise (half-width at
    most ``PRECISION`` of the effect): the half-width shrinks as 1/sqrt(n). Predictions whose interval holds
    zero ask for nothing: they are reported as not distinguishable at the count used."""
    rows = predictions[predictions["expected"].isin(["rise", "fall"])]
    half = (rows["ci_high"] - rows["ci_low"]) / 2
    decided = ((rows["ci_low"] > 0) | (rows["ci_high"] < 0)) & np.isfinite(half)
    if not decided.any():
        return replicates
    ratio = (half[decided] / (PRECISION * rows.loc[decided, "estimate"].abs())).max()
    return max(replicates, math.ceil(replicates * ratio ** 2))


def claim_verdict(predictions: pd.DataFrame) -> str:
    """The claim's verdict from its predictions' verdicts (``VERDICT_RULE``); contradicted predictions are
    named too, since a reader should not have to find them in the table."""
    def named(mask: pd.Series) -> str:
        rows = predictions[mask]
        return "; ".join(dict.fromkeys(c or f"{o} of {k}" for c, o, k in
                                       zip(rows["condition"].fillna(""), rows["outcome_label"], rows["contrast"],
                                           strict=True)))

    held, against = predictions["verdict"] == SUPPORTED, predictions["verdict"] == CONTRADICTED
    contradicted = f" (contradicted: {named(against)})" if against.any() else ""
    if held.all():
        return "supported"
    if held.any():
        return f"supported under conditions: {named(held)}{contradicted}"
    return f"not supported by this model{contradicted}"


def factorial_contrasts(factors: tuple[str, ...], arm_of: Callable[[frozenset[str]], str]) -> tuple[Contrast, ...]:
    """Main effects (mean with the factor on minus mean without, over the other factors' combinations) and
    two-way interactions (how much more a factor does when the other is on than when it is off) of a full
    2^k factorial whose arm for the set of factors on is ``arm_of(on)``."""
    cells = [frozenset(c) for r in range(len(factors) + 1) for c in itertools.combinations(factors, r)]
    half = len(cells) / 2
    mains = [Contrast(f"main effect: {f}", {arm_of(c): (1 if f in c else -1) / half for c in cells})
             for f in factors]
    quarter = len(cells) / 4
    pairs = [Contrast(f"interaction: {f} × {g}",
                      {arm_of(c): (1 if (f in c) == (g in c) else -1) / quarter for c in cells})
             for f, g in itertools.combinations(factors, 2)]
    return (*mains, *pairs)
