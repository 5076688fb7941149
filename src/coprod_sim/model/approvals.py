"""Department sign-offs of pending facilities (seed 001: sequential approvals taking 1–3 years).

A facility waits for the departments on its approval chain (``Facility.pending``).
Each month the first department in the chain decides whether to sign off — all of
them at once, in a joint review, on the cases the leading group coordinates. Each
due sign-off is the department's decision (``rules.approval_hazard``): it weighs the
control it keeps by holding the case against the case's merit and, on a coordinated
case, the accountability the group attaches to delay; conflict among the departments
still pending slows all reviews; a facility opens when no sign-off is pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config.params import ApprovalsParams, GovernmentParams
from ..domain import BUILDING_PERMIT_DEPARTMENTS, DEPARTMENT_LABELS, DEPARTMENT_NAMES, SERVICE_TYPES
from .rules import approval_hazard

if TYPE_CHECKING:
    from .model import Model

# Applications made in the last SURVIVAL_COHORT_MONTHS months form the cohort whose time to approval is
# estimated each month: long enough to see waits of two years and more, short enough to stay stationary.
SURVIVAL_COHORT_MONTHS = 60


class ApprovalChains:
    """Which departments must sign off a new facility, by service type and premises (``approvals.*``).

    Every department signs off the service types its entry lists; the building-permit departments do so only
    for new buildings. The list is in department order, the order of the sequential chain (seed 001).
    """

    def __init__(self, params: ApprovalsParams):
        self._chains: dict[tuple[str, bool], list[int]] = {}
        for service in SERVICE_TYPES:
            for new_building in (False, True):
                self._chains[service, new_building] = [
                    i for i, name in enumerate(DEPARTMENT_NAMES)
                    if service in getattr(params, name)
                    and (new_building or name not in BUILDING_PERMIT_DEPARTMENTS)]

    def departments(self, service: str, new_building: bool) -> list[int]:
        """The departments, by index, whose sign-off a facility of ``service`` needs."""
        return list(self._chains[service, new_building])


def time_to_approval(waited: np.ndarray, approved: np.ndarray) -> dict[str, float]:
    """Kaplan–Meier estimate of the months from application to approval, counting the applications still
    waiting as right-censored at the time they have waited so far (the completed-only mean leaves them out and
    is biased low where chains are long): the median, and the shares still waiting after 12 and 24 months
    (missing where no application has been followed that long).

    Computed here in a few array operations because it runs every month; the tests check it against
    ``scipy.stats.ecdf`` on censored data.
    """
    out = {"median": np.nan, "after_12": np.nan, "after_24": np.nan}
    if not len(waited):
        return out
    times, which = np.unique(waited, return_inverse=True)
    events = np.bincount(which, weights=approved.astype(float), minlength=len(times))
    leaving = np.bincount(which, minlength=len(times))
    at_risk = len(waited) - np.cumsum(leaving) + leaving
    survival = np.cumprod(1.0 - events / at_risk)
    below = times[survival <= 0.5]
    out["median"] = float(below[0]) if len(below) else np.nan
    for months, key in ((12, "after_12"), (24, "after_24")):
        if times[-1] >= months:
            seen = times <= months
            out[key] = float(survival[seen][-1]) if seen.any() else 1.0
    return out


class Approvals:
    """The departments' sign-off decisions on pending facilities."""

    def __init__(self, model: Model, government: GovernmentParams):
        self.model = model
        self.government = government  # review rate, conflict among pending departments, the price of control
        # applications decided so far: month applied and months waited until approval (for the survival measure)
        self.approved_created: list[int] = []
        self.approved_waited: list[int] = []

    def collect(self) -> None:
        """Pending facilities collect sign-offs: one department at a time (a sequential chain), except the
        cases the leading group coordinates this month, whose departments review together and are accountable.

        A coordinated review can fail, and the case then waits (and needs coordinating again).
        """
        model = self.model
        joint = model.leading_group.coordinated_facilities
        waiting = model.facilities.of(model.facilities.waiting())
        if not waiting:
            return
        resistance = np.array([d.resistance for d in model.departments])
        due = [(f, d) for f in waiting for d in (f.pending if f in joint else f.pending[:1])]
        depts = np.array([d for _, d in due], dtype=np.int64)
        still_pending = np.array([len(f.pending) - 1 for f, _ in due], dtype=float)
        accountability = np.array([model.leading_group.accountability if f in joint else 0.0 for f, _ in due])
        gov = self.government
        h = approval_hazard(gov.approval_hazard, resistance[depts], accountability, gov.control_cost,
                            gov.approval_conflict * still_pending)
        granted = model.rng.random(len(due)) < h
        for (f, d), ok in zip(due, granted, strict=True):
            if ok:
                f.pending.remove(d)
            elif model.explain and resistance[d] > 0.5:
                model.log(f"{DEPARTMENT_LABELS[DEPARTMENT_NAMES[d]]} delayed the "
                          f"{SERVICE_TYPES[f.service].replace('_', ' ')} permit (resistance {resistance[d]:.2f})")
        for f in waiting:
            if not f.pending:
                f.active = True
                f.approval_delay = model.month - f.created
                model.this_month.approval_delays.append(f.approval_delay)
                self.approved_created.append(f.created)
                self.approved_waited.append(f.approval_delay)

    def survival(self, waiting_since: np.ndarray) -> dict[str, float]:
        """Time to approval of the applications made in the last ``SURVIVAL_COHORT_MONTHS`` months, approved or
        still waiting (:func:`time_to_approval`); ``waiting_since``: the months the applications still waiting
        were made."""
        model, since = self.model, self.model.month - SURVIVAL_COHORT_MONTHS
        keep = [i for i, created in enumerate(self.approved_created) if created >= since]  # older ones left the cohort
        self.approved_created = [self.approved_created[i] for i in keep]
        self.approved_waited = [self.approved_waited[i] for i in keep]
        waiting = (model.month - waiting_since[waiting_since >= since]).tolist()
        waited = np.array(self.approved_waited + waiting, dtype=float)
        approved = np.arange(len(waited)) < len(self.approved_waited)
        return time_to_approval(waited, approved)
