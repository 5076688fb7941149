"""Department sign-offs of pending facilities (seed 001: sequential approvals taking 1–3 years).

A facility waits for the departments on its approval chain (``Facility.pending``).
Each month the first department in the chain decides whether to sign off — all of
them at once, in a joint review, on the cases the leading group coordinates. Each
due sign-off is granted with the monthly hazard of ``rules.approval_hazard``: a
department's resistance holds it back, conflict among the departments still
pending delays all of them; a facility opens when no sign-off is pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config.params import GovernmentParams
from ..domain import DEPARTMENT_LABELS, DEPARTMENT_NAMES, SERVICE_TYPES
from .facility import Facility
from .rules import approval_hazard

if TYPE_CHECKING:
    from .model import Model


class Approvals:
    """The departments' sign-off decisions on pending facilities."""

    def __init__(self, model: Model, government: GovernmentParams):
        self.model = model
        self.government = government  # the base sign-off hazard and the conflict among pending departments

    def collect(self) -> None:
        """Pending facilities collect sign-offs: one department at a time (a sequential chain), except the
        cases the leading group coordinates this month, whose departments review together under its sanction.

        A coordinated review can fail, and the case then waits (and needs coordinating again).
        """
        model = self.model
        joint = model.leading_group.coordinated_facilities
        waiting = [f for f in model.agents_by_type.get(Facility, []) if not f.active]
        if not waiting:
            return
        resistance = np.array([d.resistance for d in model.departments])
        due = [(f, d) for f in waiting for d in (f.pending if f in joint else f.pending[:1])]
        depts = np.array([d for _, d in due], dtype=np.int64)
        still_pending = np.array([len(f.pending) - 1 for f, _ in due], dtype=float)
        sanction = np.array([model.leading_group.sanction if f in joint else 0.0 for f, _ in due])
        gov = self.government
        h = approval_hazard(gov.approval_hazard, resistance[depts], sanction, gov.approval_conflict * still_pending)
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
