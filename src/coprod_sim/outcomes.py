"""Outcomes measured from what residents receive, each step, as flat dotted keys.

Nothing here feeds back into the model: outcomes observe the state that the
agents' decisions produced (DESIGN.md §4). ``summary`` averages the last
``run.outcome_window`` months, the usual steady-state reading of a
stochastic simulation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .agents import Facility, Firm, SocialOrganization
from .domain import OPERATOR_KINDS, SERVICE_TYPES
from .rules import gini

if TYPE_CHECKING:
    from .model import CoProductionModel

# Outcomes every run reports (issue 2); the per-type and per-kind breakdowns
# add ``.<service>`` / ``.<operator kind>`` to the quantity keys.
HEADLINE_KEYS: tuple[str, ...] = (
    "quantity.capacity",
    "quantity.services_delivered",
    "quantity.active_facilities",
    "quantity.coverage",
    "quality.needs_met_share",
    "quality.match",
    "quality.operator_quality",
    "quality.satisfaction_mean",
    "quality.response_time",
    "equity.center_periphery_gap",
    "equity.migrant_gap",
    "equity.access_gini",
    "cost.public_spending",
    "cost.per_need_met",
    "governance.resources_released_share",
    "governance.approval_delay_mean",
    "governance.buck_passed",
    "operators.firms_active",
    "operators.social_orgs_active",
)


def measure(model: CoProductionModel, use: dict) -> dict[str, float]:
    """All outcomes of one step as a flat dict (dotted keys → float)."""
    out: dict[str, float] = {"step": float(model.steps)}
    out.update(_quantity(model, use))
    out.update(_quality(model, use))
    out.update(_equity(model, use))
    out.update(_cost(model, use, out["quantity.services_delivered"]))
    out.update(_governance(model))
    out.update(_operators(model))
    return out


def _quantity(model: CoProductionModel, use: dict) -> dict[str, float]:
    res = model.residents
    cap = use["capacity"] + use["voluntary"]
    used = use["used_public"] + use["used_market"]
    serving = cap > 0
    out = {
        "quantity.capacity": float(cap.sum()),
        "quantity.services_delivered": float(used.sum()),
        "quantity.active_facilities": float(serving.sum()),
    }
    needers = res.cell_needers
    covered = (needers * use["reach"]).sum(axis=0)
    cov_k = np.divide(covered, needers.sum(axis=0), out=np.zeros(len(SERVICE_TYPES)), where=needers.sum(axis=0) > 0)
    out["quantity.coverage"] = float(covered.sum() / max(needers.sum(), 1e-12))
    n_s, n_k = len(SERVICE_TYPES), len(OPERATOR_KINDS)
    by_service = [np.bincount(use["service"], weights=w, minlength=n_s) for w in (cap, used)]
    kind = use["kind_code"]
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


def _quality(model: CoProductionModel, use: dict) -> dict[str, float]:
    res = model.residents
    need_k = res.cell_need.sum(axis=0)
    served_k = (use["served_public"] + use["served_market"]).sum(axis=0)
    cap = use["capacity"] + use["voluntary"]
    cap_k = np.bincount(use["service"], weights=cap, minlength=len(SERVICE_TYPES))
    # match: similarity of the supply mix to the need mix (1 − dissimilarity index)
    # times how well operators fit residents' particular needs
    mix = 1.0 - 0.5 * np.abs(cap_k / max(cap_k.sum(), 1e-12) - need_k / max(need_k.sum(), 1e-12)).sum()
    fit = float(np.average(use["fit"], weights=cap)) if cap.sum() > 0 else 0.0
    quality = float(np.average(use["quality"], weights=cap)) if cap.sum() > 0 else 0.0
    sat = res.satisfaction
    out = {
        "quality.needs_met_share": float(served_k.sum() / max(need_k.sum(), 1e-12)),
        "quality.match": float(mix * fit),
        "quality.supply_mix_match": float(mix),
        "quality.operator_fit": fit,
        "quality.operator_quality": quality,
        "quality.performance_mean": float(res.performance.mean()),
        "quality.satisfaction_mean": float(sat.mean()),
        "quality.response_time": model.issues.mean_response_time,
    }
    counts = np.bincount(sat, minlength=6)[1:6] / max(len(sat), 1)
    for level in range(5):
        out[f"quality.satisfaction_share.{level + 1}"] = float(counts[level])
    for k, s in enumerate(SERVICE_TYPES):
        out[f"quality.needs_met_share.{s}"] = float(served_k[k] / need_k[k]) if need_k[k] > 0 else 0.0
    return out


def _equity(model: CoProductionModel, use: dict) -> dict[str, float]:
    """Gaps as differences of group means; group weights are fixed per run (``Residents.group_weights``)."""
    w = model.residents.group_weights  # columns: central, periphery, registered, migrant (each sums to 1)
    met = use["met"] @ w
    public = use["met_public"] @ w
    sat = model.residents.satisfaction.astype(float) @ w
    return {
        "equity.center_periphery_gap": float(met[0] - met[1]),
        "equity.migrant_gap": float(met[2] - met[3]),
        "equity.access_gini": gini(use["met"]),
        "equity.public_access_gini": gini(use["met_public"]),
        "equity.public_center_periphery_gap": float(public[0] - public[1]),
        "equity.satisfaction_center_periphery_gap": float(sat[0] - sat[1]),
    }


def _cost(model: CoProductionModel, use: dict, delivered: float) -> dict[str, float]:
    fund = model.fund
    spent = float(sum(fund.step_spent.values()))
    out = {
        "cost.public_spending": spent,
        "cost.per_need_met": spent / delivered if delivered > 0 else 0.0,
        "cost.fund_balance": float(fund.balance.sum()),
        "cost.operator_exits": float(sum(model.exits.values())),
    }
    entered = sum(model.entries.values())
    out["cost.operator_survival"] = 1.0 - sum(model.exits.values()) / entered if entered else 1.0
    for category in ("contracts_and_vouchers", "services", "capital", "coordination", "interest_binding", "soe_deficit"):
        out[f"cost.public_spending.{category}"] = float(fund.step_spent.get(category, 0.0))
    return out


def _governance(model: CoProductionModel) -> dict[str, float]:
    depts = [d for d in model.departments if d.funds]
    budget = sum(d.budget for d in depts)
    released = sum(d.release * d.budget for d in depts)
    delays = model.approval_delays
    waiting = [model.steps - f.created for f in model.agents_by_type.get(Facility, []) if not f.active]
    return {
        "governance.resources_released_share": released / budget if budget > 0 else 0.0,
        "governance.approval_delay_mean": float(np.mean(delays)) if delays else 0.0,
        # censoring-aware: pending approvals count with the time they have waited so far
        "governance.approval_wait_mean": float(np.mean(delays + waiting)) if delays or waiting else 0.0,
        "governance.approvals_pending": float(len(waiting)),
        "governance.buck_passed": float(model.issues.buck_passed),
        "governance.issues_open": float(len(model.issues.age)),
        "governance.reports": float(model.reports_this_step),
        "governance.participation_mean": float(model.residents.participation.mean()),
    }


def _operators(model: CoProductionModel) -> dict[str, float]:
    firms = model.agents_by_type.get(Firm, [])
    sos = model.agents_by_type.get(SocialOrganization, [])
    return {
        "operators.firms_active": float(sum(1 for f in firms if not f.state_owned and any(x.active for x in f.facilities))),
        "operators.state_owned_active": float(sum(1 for f in firms if f.state_owned and any(x.active for x in f.facilities))),
        "operators.social_orgs_active": float(sum(1 for s in sos if any(x.active for x in s.facilities))),
        "operators.volunteer_hours": float(model.volunteer_hours.sum()),
    }


class Recorder:
    """Keeps one row of outcomes per step (the time series)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def record(self, model: CoProductionModel, use: dict) -> None:
        self.rows.append(measure(model, use))

    def summary(self, window: int) -> dict[str, float]:
        """Mean of each outcome over the last ``window`` steps."""
        rows = self.rows[-window:]
        if not rows:
            return {}
        keys = [k for k in rows[0] if k != "step"]
        out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
        out["steps"] = float(rows[-1]["step"])
        return out
