"""Midstream stage: facilities are approved, firms enter, volunteers organise, operators set their service.

Approvals are the departments' sign-off decisions (``approvals.py``); entry is the
market's rule (``market.py``); service decisions belong to the operators
(``operators.py``). This module fixes their order. Docs: docs/ODD.md §3, steps 7–10.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .operators import Firm, GovernmentProvider, MutualAidGroup, Roster, SocialOrganization

if TYPE_CHECKING:
    from .model import Model


def approve_enter_and_staff(model: Model, unmet_market_reach: np.ndarray, pay_expected: np.ndarray) -> None:
    """Approvals progress, firms enter where last month's unmet paying demand (``unmet_market_reach``)
    promises a profit, volunteers organise, then every operator sets its service, expecting ``pay_expected``
    of its outcome-linked pay to be honoured."""
    model.approvals.collect()
    model.market.enter(unmet_market_reach, pay_expected)
    model.market.evolve_costs()
    model.this_month.volunteer_hours = MutualAidGroup.organise(
        model, model.mutual_aid, model.config.volunteers, model.config.linkage.three_way_linkage)
    roster = Roster.of([list(model.agents_by_type.get(kind, []))
                        for kind in (Firm, SocialOrganization, GovernmentProvider, MutualAidGroup)], model.facilities)
    rules = model.operator_rules
    trust = roster.gain_trust(rules)
    fit = roster.learn_needs(model, rules, trust)
    roster.set_service(model, rules, trust, fit, pay_expected)
