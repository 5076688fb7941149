"""Upstream stage: money is released and public facilities are planned (docs/ODD.md §3, steps 3–6).

The street office's own budget enters the fund; each department chooses how
much of its budget to release; the leading group (if any) assesses the
departments; the street office commissions the facilities it can pay for.
The decisions are the agents' (``government.py``); this module fixes their order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Model
    from .settle import Settlement


def release_and_plan(model: Model, settled: Settlement) -> None:
    """Budgets are released, departments assessed, facilities commissioned, in this order; ``settled`` is
    what last month's payments taught the planner."""
    office = model.street_office
    office.receive_budget()
    for department in model.departments:
        department.release_budget(office.perceived_gap_share)
    # the pressure set here moves releases next month: departments have already chosen
    model.leading_group.assess_departments(office.perceived_gap_share)
    model.leading_group.coordinate_cases(office.perceived_gap_share)
    # capital is paid from the month's fresh money, before any service claim
    office.plan_facilities(settled.running_paid_share)
