"""Outcomes: declared once, measured each month from what residents received, collected the Mesa way.

``OUTCOMES`` declares every outcome a run reports (key, unit, meaning, tier,
label and where it is shown), in the order of the time-series columns; sweeps,
the CLI, the run figures, the app and the ``datacollector`` all take their
names and lists from it, so no code has to run the model to learn them and no
display keeps a list of its own. Nothing here feeds back into the model: outcomes observe
the state the agents' decisions produced (DESIGN.md §4).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mesa import DataCollector

from ..domain import KIND_INDEX, OPERATOR_KINDS, OPERATOR_LABELS, SERVICE_TYPES
from .consume import performance_by_type
from .fund import CONCESSION_CATEGORIES, SPENDING_CATEGORIES, SPENDING_LABELS
from .rules import gini

if TYPE_CHECKING:
    from .consume import Consumption
    from .model import Model

KEY, HEADLINE, DETAIL = "key", "headline", "detail"
# Where an outcome is shown (``Outcome.show``): ``figure:<panel>``, a line in that panel of a run's PNG figures
# (runs/plots.py); ``chart:<panel>``, a line in that chart of the browser app (app/figures.py); ``monitor``, a
# row of the app's monitor table. Every display lists its outcomes with ``shown_in`` and keeps only how a
# panel looks; the CLI prints the ``key`` tier.
MONITOR = "monitor"
# units shown in thousands (k yuan), and decimals by unit, so a value reads the same in every display
_THOUSANDS = ("yuan", "yuan/month")
_DECIMALS = {"share": 3, "0–1": 3, "1–5": 2, "visits/month": 0, "yuan/visit": 2}


@dataclass(frozen=True)
class Outcome:
    """One reported outcome. ``tier``: ``key`` (the few a person reads first), ``headline`` (DESIGN.md §4's list) or
    ``detail``; ``label``: its short name in legends, monitors and the CLI; ``show``: where it is shown (see ``MONITOR``)."""

    key: str
    unit: str
    description: str
    tier: str = DETAIL
    missing_when: str = ""  # when the outcome is undefined (NaN in tables, null in JSON); empty: never
    label: str = ""
    show: tuple[str, ...] = ()

    @property
    def display_unit(self) -> str:
        return f"k {self.unit}" if self.unit in _THOUSANDS else self.unit

    @property
    def heading(self) -> str:
        """Label with its unit, as a monitor row or a table column shows it."""
        return f"{self.label or self.key} ({self.display_unit})"

    def format(self, value: float | None, signed: bool = False) -> str:
        """The value in its display unit and precision; ``–`` when undefined."""
        if value is None or not np.isfinite(float(value)):
            return "–"
        scale = 1e-3 if self.unit in _THOUSANDS else 1.0
        return f"{float(value) * scale:{'+' if signed else ''}.{_DECIMALS.get(self.unit, 1)}f}"


def _breakdown(family: str, unit: str, what: str, by: tuple[str, ...], missing_when: str = "",
               labels: dict[str, str] | None = None, show: tuple[str, ...] = (),
               also: dict[str, tuple[str, ...]] | None = None) -> list[Outcome]:
    """One outcome per part of a family; ``also`` adds places where a particular part is shown too."""
    return [Outcome(f"{family}.{name}", unit, f"{what}: {name.replace('_', ' ')}", missing_when=missing_when,
                    label=(labels or {}).get(name, ""), show=(*show, *(also or {}).get(name, ())))
            for name in by]


NO_GROUP = "one of the two groups compared is empty (e.g. no peripheral communities, or no migrants)"


def _catalogue() -> tuple[Outcome, ...]:
    """Every outcome, in column order (``measure`` returns them in this order; a test checks it)."""
    per_service = [o for s in SERVICE_TYPES for o in (
        Outcome(f"quantity.capacity.{s}", "visits/month", f"capacity offered for {s}"),
        Outcome(f"quantity.services_delivered.{s}", "visits/month", f"visits used of {s}"),
        Outcome(f"quantity.coverage.{s}", "share", f"capacity of {s} within reach per unit of need within reach, "
                "capped at 1, averaged over residents who need it", missing_when=f"nobody needs {s}"))]
    per_kind = [o for k in OPERATOR_KINDS for o in (
        Outcome(f"quantity.capacity.{k}", "visits/month", f"capacity offered by {k} operators"),
        Outcome(f"quantity.services_delivered.{k}", "visits/month", f"visits delivered by {k} operators"),
        Outcome(f"quantity.active_facilities.{k}", "facilities", f"facilities with capacity run by {k} operators",
                label=OPERATOR_LABELS[k], show=("chart:facilities",)))]
    return (
        Outcome("quantity.capacity", "visits/month", "capacity offered, paid and voluntary", HEADLINE,
                label="Capacity", show=("figure:quantity",)),
        Outcome("quantity.services_delivered", "visits/month", "visits used", HEADLINE,
                label="Visits delivered", show=("figure:quantity",)),
        Outcome("quantity.active_facilities", "facilities", "facilities with capacity", HEADLINE),
        Outcome("quantity.coverage", "share", "capacity within reach per unit of need within reach (distance-decayed, "
                "capped at 1), averaged over residents' needs of each type", HEADLINE,
                label="Coverage", show=("chart:needs", MONITOR)),
        *per_service, *per_kind,
        Outcome("quality.needs_met_share", "share", "visits delivered ÷ visits needed", KEY,
                label="Needs met", show=("figure:quality", "chart:needs", MONITOR)),
        Outcome("quality.match", "0–1", "supply mix follows the need mix × operators fit particular needs", HEADLINE,
                label="Supply–need match", show=("figure:quality", "chart:needs")),
        Outcome("quality.supply_mix_match", "0–1", "1 − dissimilarity of the supply mix and the need mix"),
        Outcome("quality.operator_fit", "0–1", "capacity-weighted fit of operators to residents' particular needs",
                missing_when="no facility offers any capacity"),
        Outcome("quality.operator_quality", "0–1", "capacity-weighted quality of operators", HEADLINE,
                missing_when="no facility offers any capacity", label="Operator quality", show=("figure:quality",)),
        Outcome("quality.performance_mean", "0–1", "residents' quality- and fit-weighted share of need met"),
        Outcome("quality.satisfaction_mean", "1–5", "mean satisfaction on the 5-point scale", KEY,
                label="Satisfaction, mean", show=("chart:satisfaction", MONITOR)),
        Outcome("quality.response_time", "months", "discovery to closure of the multi-department issues closed this month",
                HEADLINE, missing_when="no issue closed in the window"),
        *_breakdown("quality.satisfaction_share", "share", "share of residents at satisfaction level",
                    ("1", "2", "3", "4", "5")),
        *_breakdown("quality.needs_met_share", "share", "share of need met", SERVICE_TYPES,
                    missing_when="nobody needs the type"),
        *_breakdown("quality.satisfaction_mean", "1–5", "mean rating by surveyed residents who need", SERVICE_TYPES,
                    missing_when="no surveyed resident needs the type this month"),
        *_breakdown("quality.satisfied_share", "share", "share rating 4 or 5 among surveyed residents who need",
                    SERVICE_TYPES, missing_when="no surveyed resident needs the type this month"),
        Outcome("equity.center_periphery_gap", "share", "need met: central − peripheral residents", KEY,
                missing_when=NO_GROUP, label="Centre − periphery gap in needs met",
                show=("figure:equity", "chart:equity", MONITOR)),
        Outcome("equity.migrant_gap", "share", "need met: registered − migrant residents", HEADLINE, missing_when=NO_GROUP,
                label="Registered − migrant gap", show=("figure:equity", "chart:equity")),
        Outcome("equity.access_gini", "0–1", "Gini coefficient of residents' share of need met", HEADLINE,
                label="Access Gini", show=("figure:equity", "chart:equity")),
        Outcome("equity.public_access_gini", "0–1", "Gini coefficient of need met by public services"),
        Outcome("equity.public_center_periphery_gap", "share", "need met by public services: central − peripheral",
                missing_when=NO_GROUP),
        Outcome("equity.satisfaction_center_periphery_gap", "1–5", "mean satisfaction: central − peripheral",
                missing_when=NO_GROUP),
        Outcome("cost.public_spending", "yuan/month", "every public cost: cash paid out of the public fund plus "
                "concessions at their value (rent and tax forgone)", KEY,
                label="Public spending", show=("figure:cost", MONITOR)),
        Outcome("cost.cash_outlays", "yuan/month", "paid out of the public fund", label="Cash outlays",
                show=("figure:cost",)),
        Outcome("cost.concessions", "yuan/month", "public costs without a payment, at their value: rent forgone on "
                "premises lent rent-free, tax revenue forgone through tax relief", label="Concessions (rent, tax forgone)",
                show=("figure:cost", "chart:spending")),
        Outcome("cost.per_need_met", "yuan/visit", "public spending (cash and concessions) per visit delivered", HEADLINE,
                missing_when="no visit is delivered"),
        Outcome("cost.fund_balance", "yuan", "money released but not yet spent"),
        Outcome("cost.budget_lapsed", "yuan/month", "unspent money recovered at the fiscal year's end (not spending)"),
        Outcome("cost.operator_exits", "operators/month", "firms, state-owned firms and social organisations that exited"),
        Outcome("cost.operator_survival", "share", "share of the firms, state-owned firms and social organisations at the "
                "month's start that did not exit", missing_when="there were no such operators"),
        *_breakdown("cost.public_spending", "yuan/month", "public spending on", SPENDING_CATEGORIES,
                    labels=SPENDING_LABELS, show=("chart:spending",), also={"coordination": (MONITOR,)}),
        *_breakdown("cost.public_spending", "yuan/month", "public cost forgone", CONCESSION_CATEGORIES,
                    labels=SPENDING_LABELS, show=()),
        Outcome("governance.resources_released_share", "share", "budget share departments release", HEADLINE,
                label="Budget released", show=("figure:governance", "chart:budget", MONITOR)),
        Outcome("governance.approval_delay_mean", "months", "approval delay of the facilities approved this month", HEADLINE,
                missing_when="no facility was approved in the window", label="Approval delay", show=("figure:governance",)),
        Outcome("governance.approval_wait_mean", "months", "approval wait of the facilities approved this month and of "
                "those still waiting (with their wait so far)", missing_when="no facility was approved or waiting",
                label="Approval wait", show=("chart:approvals", MONITOR)),
        Outcome("governance.approval_wait_median", "months", "median months from application to approval "
                "(Kaplan–Meier over the applications of the last five years, those still waiting censored): the "
                "measure to quote", HEADLINE, label="Approval wait (median)",
                missing_when="fewer than half of the applications have been approved"),
        Outcome("governance.approval_waiting_after_12", "share", "share of applications still waiting after 12 "
                "months (Kaplan–Meier)", missing_when="no application has been followed for 12 months"),
        Outcome("governance.approval_waiting_after_24", "share", "share of applications still waiting after 24 "
                "months (Kaplan–Meier)", missing_when="no application has been followed for 24 months"),
        Outcome("governance.approvals_pending", "facilities", "facilities waiting for approval",
                label="Approvals pending", show=("chart:approvals", MONITOR)),
        Outcome("governance.public_closures", "facilities/month", "public facilities closed for want of funding"),
        Outcome("governance.cases_coordinated", "cases/month", "approvals and issues the leading group coordinated",
                label="Cases coordinated by the leading group", show=(MONITOR,)),
        Outcome("governance.buck_passed", "times/month", "times a department passed an issue on", HEADLINE),
        Outcome("governance.issues_open", "issues", "multi-department issues open"),
        Outcome("governance.reports", "reports/month", "unmet needs reported through the channel"),
        Outcome("governance.participation_mean", "probability", "residents' mean propensity to voice and volunteer"),
        Outcome("operators.firms_active", "operators", "private firms with an active facility", HEADLINE),
        Outcome("operators.state_owned_active", "operators", "state-owned firms with an active facility"),
        Outcome("operators.social_orgs_active", "operators", "social organisations with an active facility", HEADLINE,
                label="Social organizations active", show=(MONITOR,)),
        Outcome("operators.volunteer_hours", "hours/month", "residents' volunteer hours"),
    )


OUTCOMES: tuple[Outcome, ...] = _catalogue()
OUTCOME_KEYS: tuple[str, ...] = tuple(o.key for o in OUTCOMES)
HEADLINE_KEYS: tuple[str, ...] = tuple(o.key for o in OUTCOMES if o.tier in (KEY, HEADLINE))
KEY_OUTCOMES: tuple[str, ...] = tuple(o.key for o in OUTCOMES if o.tier == KEY)
OUTCOME_BY_KEY: dict[str, Outcome] = {o.key: o for o in OUTCOMES}


def shown_in(place: str) -> tuple[Outcome, ...]:
    """The outcomes a display shows at ``place`` (``"figure:quality"``, ``"chart:needs"``, ``MONITOR``), in catalogue order."""
    return tuple(o for o in OUTCOMES if place in o.show)


def places(prefix: str) -> tuple[str, ...]:
    """The panels of one display (``"figure"`` → ``("quantity", "quality", …)``), in the order they first appear."""
    return tuple(dict.fromkeys(p.split(":", 1)[1] for o in OUTCOMES for p in o.show if p.startswith(prefix + ":")))
TOO_SHORT = "the run is shorter than two outcome windows"
# what summary.json adds to each outcome's mean over the outcome window
SUMMARY_ONLY: tuple[Outcome, ...] = (
    Outcome("steps", "months", "the last reported month"),
    Outcome("convergence.outcomes_drifting", "outcomes", "headline outcomes whose mean moved between the last two "
            "outcome windows by more than three standard errors and run.convergence_tolerance of its level",
            missing_when=TOO_SHORT),
    Outcome("convergence.max_drift_z", "standard errors", "largest move of a headline outcome between the last two "
            "outcome windows, in standard errors", missing_when=TOO_SHORT),
)
SUMMARY_KEYS: tuple[str, ...] = (*OUTCOME_KEYS, *(o.key for o in SUMMARY_ONLY))
# Two groups of outcomes take about a tenth of a month and nothing in the model reads them: the monthly survey's
# per-type ratings, and residents' access to public services (a per-resident sum in ``consume.use_services``,
# a Gini and a gap). A run measures a group only when its caller will read one of its outcomes
# (``Model.measure_only``; a sweep reads only its declared outputs). The survey draws from the observation
# stream, so skipping it changes nothing else. None of them is a headline outcome: the convergence check
# always has its series.
SURVEY_KEYS: tuple[str, ...] = tuple(f"quality.{item}.{s}" for item in ("satisfaction_mean", "satisfied_share")
                                     for s in SERVICE_TYPES)
PUBLIC_ACCESS_KEYS: tuple[str, ...] = ("equity.public_access_gini", "equity.public_center_periphery_gap")
OPTIONAL_GROUPS: tuple[tuple[str, ...], ...] = (SURVEY_KEYS, PUBLIC_ACCESS_KEYS)
OPTIONAL_OUTCOMES: frozenset[str] = frozenset(key for group in OPTIONAL_GROUPS for key in group)


def unmeasured(wanted: Collection[str] | None) -> frozenset[str]:
    """The optional outcomes a run whose caller reads only ``wanted`` (None: every outcome) need not measure:
    every group of which it reads none."""
    if wanted is None:
        return frozenset()
    return frozenset(key for group in OPTIONAL_GROUPS if not set(group) & set(wanted) for key in group)


def measure(model: Model, use: Consumption, skip: frozenset[str] = frozenset()) -> dict[str, float]:
    """The month's outcomes as a flat dict, in ``OUTCOME_KEYS`` order: all but those in ``skip``
    (:func:`unmeasured`)."""
    out: dict[str, float] = {}
    out.update(_quantity(model, use))
    out.update(_quality(model, use, survey=SURVEY_KEYS[0] not in skip))
    out.update(_equity(model, use, public_access=PUBLIC_ACCESS_KEYS[0] not in skip))
    out.update(_cost(model, out["quantity.services_delivered"]))
    out.update(_governance(model))
    out.update(_operators(model, use))
    return out


def _quantity(model: Model, use: Consumption) -> dict[str, float]:
    res = model.residents
    cap = use.capacity + use.voluntary
    used = use.used_public + use.used_market + use.used_voluntary
    serving = cap > 0
    out = {
        "quantity.capacity": float(cap.sum()),
        "quantity.services_delivered": float(used.sum()),
        "quantity.active_facilities": float(serving.sum()),
    }
    needers = res.cell_needers
    assert use.coverage is not None, "a measured month is observed (Model.observed)"
    covered = (needers * use.coverage).sum(axis=0)
    cov_k = np.divide(covered, needers.sum(axis=0), out=np.full(len(SERVICE_TYPES), np.nan), where=needers.sum(axis=0) > 0)
    out["quantity.coverage"] = float(covered.sum() / max(needers.sum(), 1e-12))
    n_s, n_k = len(SERVICE_TYPES), len(OPERATOR_KINDS)
    by_service = [np.bincount(use.service, weights=w, minlength=n_s) for w in (cap, used)]
    kind = use.kind_code
    by_kind = [np.bincount(kind, weights=w, minlength=n_k) for w in (cap, used, serving.astype(float))]
    for k, s in enumerate(SERVICE_TYPES):
        out[f"quantity.capacity.{s}"] = float(by_service[0][k])
        out[f"quantity.services_delivered.{s}"] = float(by_service[1][k])
        out[f"quantity.coverage.{s}"] = float(cov_k[k])
    for j, name in enumerate(OPERATOR_KINDS):
        out[f"quantity.capacity.{name}"] = float(by_kind[0][j])
        out[f"quantity.services_delivered.{name}"] = float(by_kind[1][j])
        out[f"quantity.active_facilities.{name}"] = float(by_kind[2][j])
    return out


def _quality(model: Model, use: Consumption, survey: bool = True) -> dict[str, float]:
    res = model.residents
    need_k = res.cell_need.sum(axis=0)
    served_k = (use.served_public + use.served_market + use.served_voluntary).sum(axis=0)
    cap = use.capacity + use.voluntary
    cap_k = np.bincount(use.service, weights=cap, minlength=len(SERVICE_TYPES))
    # match: similarity of the supply mix to the need mix (1 − dissimilarity index)
    # times how well operators fit residents' particular needs
    mix = 1.0 - 0.5 * np.abs(cap_k / max(cap_k.sum(), 1e-12) - need_k / max(need_k.sum(), 1e-12)).sum()
    fit = float(np.average(use.fit, weights=cap)) if cap.sum() > 0 else np.nan
    quality = float(np.average(use.quality, weights=cap)) if cap.sum() > 0 else np.nan
    sat = res.satisfaction
    out = {
        "quality.needs_met_share": float(served_k.sum() / max(need_k.sum(), 1e-12)),
        "quality.match": float(mix * fit),
        "quality.supply_mix_match": float(mix),
        "quality.operator_fit": fit,
        "quality.operator_quality": quality,
        "quality.performance_mean": float(res.performance.mean()),
        "quality.satisfaction_mean": float(sat.mean()),
        "quality.response_time": _mean(model.this_month.response_times),
    }
    counts = np.bincount(sat, minlength=6)[1:6] / max(len(sat), 1)
    for level in range(5):
        out[f"quality.satisfaction_share.{level + 1}"] = float(counts[level])
    for k, s in enumerate(SERVICE_TYPES):
        out[f"quality.needs_met_share.{s}"] = float(served_k[k] / need_k[k]) if need_k[k] > 0 else np.nan
    if survey:
        out.update(_survey(model, use))
    return out


def _survey(model: Model, use: Consumption) -> dict[str, float]:
    """Ratings of each service type by a random sample of residents (seed 004's survey design).

    A respondent rates each type it needs, by the same expectation–disconfirmation rule as its
    overall rating, with its type's quality-weighted share met as performance (less the month's
    issue burden) and the expectation it held this month. Drawn from the observation stream.
    """
    res = model.residents
    sat = res.satisfaction_params
    n = min(sat.survey_respondents, res.n)
    out: dict[str, float] = {}
    rng = model.observation_rng
    who = rng.choice(res.n, size=n, replace=False) if n else np.zeros(0, dtype=np.int64)
    performance = np.clip(performance_by_type(model, use, who) - res.issue_burden[who, None], 0.0, 1.0)
    expectation = res.rated_expectation[who, None]
    latent = res.rate(performance, expectation, rng.normal(0.0, sat.noise_sd, performance.shape))
    rating = res.rating_scale(latent)
    uses = res.need[who] > res.population.coverage_need_threshold  # a respondent rates the types it needs
    users = uses.sum(axis=0)
    # ratings are whole numbers, so their sums are exact: every type's mean in one pass over the sample
    mean, satisfied = (np.divide(counted.sum(axis=0), users, out=np.full(len(SERVICE_TYPES), np.nan), where=users > 0)
                       for counted in (np.where(uses, rating, 0), uses & (rating >= 4)))
    out.update({f"quality.satisfaction_mean.{s}": value for s, value in zip(SERVICE_TYPES, mean.tolist(), strict=True)})
    out.update({f"quality.satisfied_share.{s}": value for s, value in zip(SERVICE_TYPES, satisfied.tolist(), strict=True)})
    return out


def _equity(model: Model, use: Consumption, public_access: bool = True) -> dict[str, float]:
    """Gaps as differences of group means; group weights are fixed per run (``Residents.group_weights``)."""
    res = model.residents
    w = res.group_weights  # columns: central, periphery, registered, migrant (each sums to 1, or 0 if empty)
    present = res.group_sizes > 0
    met, sat = (np.where(present, values @ w, np.nan) for values in (use.met, res.satisfaction.astype(float)))
    out = {"equity.center_periphery_gap": float(met[0] - met[1]), "equity.migrant_gap": float(met[2] - met[3]),
           "equity.access_gini": gini(use.met)}
    if public_access and use.met_public is not None:  # the month computed it when its run measures it
        public = np.where(present, use.met_public @ w, np.nan)
        out["equity.public_access_gini"] = gini(use.met_public)
        out["equity.public_center_periphery_gap"] = float(public[0] - public[1])
    out["equity.satisfaction_center_periphery_gap"] = float(sat[0] - sat[1])
    return out


def _cost(model: Model, delivered: float) -> dict[str, float]:
    fund = model.fund
    cash = float(sum(fund.step_spent.values()))
    forgone = float(sum(fund.step_forgone.values()))
    spent = cash + forgone
    out = {
        "cost.public_spending": spent,
        "cost.cash_outlays": cash,
        "cost.concessions": forgone,
        "cost.per_need_met": spent / delivered if delivered > 0 else np.nan,
        "cost.fund_balance": float(fund.balance.sum()),
        "cost.budget_lapsed": fund.step_lapsed,
        "cost.operator_exits": float(model.this_month.exits),
    }
    outside = model.this_month.outside_operators
    out["cost.operator_survival"] = 1.0 - model.this_month.exits / outside if outside else np.nan
    for category in SPENDING_CATEGORIES:
        out[f"cost.public_spending.{category}"] = float(fund.step_spent.get(category, 0.0))
    for category in CONCESSION_CATEGORIES:
        out[f"cost.public_spending.{category}"] = float(fund.step_forgone.get(category, 0.0))
    return out


def _approval_survival(model: Model, waiting_since: np.ndarray) -> dict[str, float]:
    survival = model.approvals.survival(waiting_since)
    return {"approval_wait_median": survival["median"], "approval_waiting_after_12": survival["after_12"],
            "approval_waiting_after_24": survival["after_24"]}


def _governance(model: Model) -> dict[str, float]:
    depts = [d for d in model.departments if d.funds]
    budget = sum(d.budget for d in depts)
    released = sum(d.release * d.budget for d in depts)
    delays = model.this_month.approval_delays
    created = model.facilities.created[model.facilities.waiting()]
    waiting = (model.month - created).tolist()
    return {
        "governance.resources_released_share": released / budget if budget > 0 else 0.0,
        "governance.approval_delay_mean": _mean(delays),
        # censoring-aware: facilities still waiting count with the time they have waited so far
        "governance.approval_wait_mean": _mean(delays + waiting),
        **{f"governance.{key}": value for key, value in _approval_survival(model, created).items()},
        "governance.approvals_pending": float(len(waiting)),
        "governance.public_closures": float(model.this_month.closures),
        "governance.cases_coordinated": float(model.leading_group.cases_coordinated),
        "governance.buck_passed": float(model.issues.buck_passed),
        "governance.issues_open": float(len(model.issues.age)),
        "governance.reports": float(model.this_month.reports),
        "governance.participation_mean": float(model.residents.participation.mean()),
    }


def _operators(model: Model, use: Consumption) -> dict[str, float]:
    """Operators with at least one active facility, by kind."""
    def active(kind: str) -> float:
        return float(np.unique(use.operator_id[use.kind_code == KIND_INDEX[kind]]).size)

    return {
        "operators.firms_active": active("firm"),
        "operators.state_owned_active": active("state_owned"),
        "operators.social_orgs_active": active("social_org"),
        "operators.volunteer_hours": float(model.this_month.volunteer_hours.sum()),
    }


def _standard_error(x: np.ndarray) -> float:
    """Standard error of the mean of a monthly series, with the effective sample size of its lag-1
    autocorrelation ρ (n(1 − ρ)/(1 + ρ), ρ clipped to [0, 0.95])."""
    n = len(x)
    deviations = x - x.mean()
    sum_squares = float(deviations @ deviations)
    if sum_squares == 0.0:
        return 0.0
    rho = float(np.clip(deviations[:-1] @ deviations[1:] / sum_squares, 0.0, 0.95))
    return float(np.sqrt(sum_squares / (n - 1))) / np.sqrt(max(1.0, n * (1.0 - rho) / (1.0 + rho)))


def _mean(values: list[int]) -> float:
    """Mean of this month's events; undefined (NaN) in a month without any."""
    return float(np.mean(values)) if values else np.nan


# A single district's outcome moves from year to year by more than its within-year noise suggests (slow
# fluctuations in the number of facilities, firms' costs), so a drift of 2 lag-1-corrected standard errors
# is common at a stationary state. At 3 standard errors and 10% of the level (run.convergence_tolerance),
# about 3% of outcomes are flagged by chance at the stationary reading (docs/stationarity.md measures it).
DRIFT_Z = 3.0


def drift_check(series: Mapping[str, Sequence[float]], window: int, tolerance: float) -> dict[str, dict[str, Any]]:
    """For each monthly series: its mean over the last window and the window before, the drift between
    them, the drift's standard error and whether it is flagged.

    The standard error of each window's mean allows for the series' lag-1 autocorrelation (effective
    sample size n(1 − ρ)/(1 + ρ)). A drift is flagged when it is larger than ``DRIFT_Z`` standard errors
    and than ``tolerance`` of the outcome's level. Empty when the series are shorter than two windows.
    """
    out = {}
    for key, values in series.items():
        x = np.asarray(values, dtype=float)
        if len(x) < 2 * window:
            return {}
        last, before = x[-window:], x[-2 * window:-window]
        last, before = last[np.isfinite(last)], before[np.isfinite(before)]
        if len(last) < 2 or len(before) < 2:
            continue
        drift = float(last.mean() - before.mean())
        se = float(np.hypot(_standard_error(last), _standard_error(before)))
        level = max(abs(float(last.mean())), abs(float(before.mean())))
        out[key] = {"mean": float(last.mean()), "previous_mean": float(before.mean()), "drift": drift, "se": se,
                    "flagged": bool(abs(drift) > DRIFT_Z * se and abs(drift) > tolerance * level)}
    return out


# ------------------------------------------------------------------ collection
def _this_month(model: Model, key: str) -> float:
    return model.outcomes[key]


class OutcomeCollector(DataCollector):
    """Mesa's DataCollector with one model reporter per outcome, so Mesa tools (``batch_run``,
    ``get_model_vars_dataframe``) see every outcome per month.

    All outcomes of a month are measured together (``measure``), so ``collect``
    appends that month's row in one pass instead of calling ~90 reporters
    (measured: 90 µs a month, 6% of a 1,000-resident step).
    """

    def __init__(self) -> None:
        super().__init__(model_reporters={key: partial(_this_month, key=key) for key in OUTCOME_KEYS})
        self.unmeasured: frozenset[str] = frozenset()  # optional outcomes not measured (``unmeasured``)

    def collect(self, model: Model) -> None:
        self._collection_steps.append(model.time)
        row = model.outcomes
        for key, values in self.model_vars.items():
            values.append(row.get(key, np.nan))

    @property
    def months(self) -> list[int]:
        """The months collected so far (the ``step`` column of the time series)."""
        return [int(t) for t in self._collection_steps]

    def timeseries(self) -> pd.DataFrame:
        """One row per month collected: ``step``, then every outcome measured, in ``OUTCOME_KEYS`` order."""
        measured = {k: v for k, v in self.model_vars.items() if k not in self.unmeasured}
        return pd.DataFrame({"step": np.array(self.months, dtype=np.int64), **measured})

    def summary(self, window: int, tolerance: float) -> dict[str, Any]:
        """Mean of each outcome measured over the last ``window`` months, the month the run ended (``steps``) and
        the convergence diagnostic's verdict (see :meth:`convergence`)."""
        if not self._collection_steps:
            return {}
        with warnings.catch_warnings():  # an outcome undefined in every month of the window stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            out = {k: float(np.nanmean(v[-window:])) for k, v in self.model_vars.items() if k not in self.unmeasured}
        out["steps"] = float(self._collection_steps[-1])
        diagnosis = self.convergence(window, tolerance)
        z = [abs(d["drift"]) / d["se"] for d in diagnosis.values() if d["se"] > 0 and np.isfinite(d["drift"])]
        out["convergence.outcomes_drifting"] = float(sum(d["flagged"] for d in diagnosis.values())) if diagnosis else np.nan
        out["convergence.max_drift_z"] = float(max(z)) if z else np.nan
        return out

    def convergence(self, window: int, tolerance: float) -> dict[str, dict[str, Any]]:
        """Has the run settled? :func:`drift_check` of each headline outcome's monthly series."""
        return drift_check({key: self.model_vars[key] for key in HEADLINE_KEYS}, window, tolerance)
