"""Midstream stage: facilities are approved, firms enter, volunteers organise, operators set their service.

Approvals are the departments' sign-off decisions, drawn for all pending
(facility, department) pairs at once; entry and service decisions belong to the
operators (``operators.py``). Docs: docs/ODD.md §3, steps 7–10.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain import DEPARTMENT_LABELS, DEPARTMENT_NAMES, SERVICE_TYPES
from .facility import Facility
from .operators import Firm, GovernmentProvider, MutualAidGroup, SocialOrganization, learn_needs
from .rules import approval_hazard

if TYPE_CHECKING:
    from .model import Model


def approve_enter_and_staff(model: Model) -> None:
    """Approvals progress, firms enter, volunteers organise, then every operator sets its service."""
    collect_approvals(model)
    Firm.enter_markets(model)
    Firm.evolve_costs(model)
    MutualAidGroup.organise(model)
    operators = [op for kind in (Firm, SocialOrganization, GovernmentProvider, MutualAidGroup)
                 for op in model.agents_by_type.get(kind, [])]
    for op in operators:
        op.gain_trust()
    learn_needs(model, operators)
    # each operator changes only its own facilities, so the order does not matter
    for op in operators:
        op.set_service()


def collect_approvals(model: Model) -> None:
    """Pending facilities collect sign-offs: one department at a time (a sequential chain), except the
    cases the leading group coordinates this month, whose departments review together under its sanction.

    Each due sign-off is granted with the monthly hazard of ``rules.approval_hazard``, so a coordinated
    review can fail and the case waits (and needs coordinating again); a facility opens when no sign-off
    is pending.
    """
    gov = model.cfg["government"]
    joint = model.leading_group.coordinated_facilities
    waiting = [f for f in model.agents_by_type.get(Facility, []) if not f.active]
    if not waiting:
        return
    due = [(f, d) for f in waiting for d in (f.pending if f in joint else f.pending[:1])]
    depts = np.array([d for _, d in due], dtype=np.int64)
    still_pending = np.array([len(f.pending) - 1 for f, _ in due], dtype=float)
    sanction = np.array([model.leading_group.sanction if f in joint else 0.0 for f, _ in due])
    h = approval_hazard(gov["approval_hazard"], model.dept_resistance[depts], sanction,
                        gov["approval_conflict"] * still_pending)
    granted = model.rng.random(len(due)) < h
    for (f, d), ok in zip(due, granted, strict=True):
        if ok:
            f.pending.remove(d)
        elif model.explain and model.dept_resistance[d] > 0.5:
            model.log(f"{DEPARTMENT_LABELS[DEPARTMENT_NAMES[d]]} delayed the "
                      f"{SERVICE_TYPES[f.service].replace('_', ' ')} permit (resistance {model.dept_resistance[d]:.1f})")
    for f in waiting:
        if not f.pending:
            f.active = True
            f.approval_delay = model.month - f.created
            model.this_month.approval_delays.append(f.approval_delay)
